// Latency samples and their summary (percentiles, mean, throughput).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remora {

struct LatencySummary {
  uint64_t count = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, mean_us = 0, max_us = 0;
  double seconds = 0;  // wall time the samples were taken over
  double ops_per_sec() const { return seconds > 0 ? count / seconds : 0; }
  // JSON fields without braces: "count":..,"p50_us":..,...
  std::string json_fields() const;
};

class LatencyRecorder {
 public:
  explicit LatencyRecorder(size_t reserve = 0) { ns_.reserve(reserve); }
  void add(uint64_t ns) { ns_.push_back(ns); }
  void merge(const LatencyRecorder& o) { ns_.insert(ns_.end(), o.ns_.begin(), o.ns_.end()); }
  size_t size() const { return ns_.size(); }
  // Sorts the samples; `seconds` is the wall time they were taken over.
  LatencySummary summarize(double seconds);

 private:
  std::vector<uint64_t> ns_;
};

uint64_t now_ns();  // CLOCK_MONOTONIC

}  // namespace remora
