// Histogram: latency counts in log-spaced buckets (8 per octave, <= 9 %
// relative error), constant memory however long the run; mergeable across
// threads and nodes (the bucket index is the wire form).
#pragma once

#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace remora::app {

class Histogram {
 public:
  static constexpr int kPerOctave = 8;
  static constexpr int kBuckets = 64 * kPerOctave;

  void add(uint64_t ns);
  void add_bucket(int bucket, uint64_t n);
  void merge(const Histogram& o);
  uint64_t count() const { return count_; }
  double mean_us() const { return count_ ? static_cast<double>(sum_ns_) / static_cast<double>(count_) / 1e3 : 0; }
  // The value (µs) below which a fraction q of the samples lie (bucket
  // midpoint, geometric); 0 when empty. REQUIRES: 0 <= q <= 1.
  double percentile_us(double q) const;
  // {"count","mean_us","p50_us","p99_us","p999_us","hist":[[bucket,n],...]}
  nlohmann::json json(bool with_buckets = true) const;
  // Adds the buckets of a json() object; false if malformed.
  bool merge_json(const nlohmann::json& j);
  // Lower bound (µs) of a bucket, for CDF plots.
  static double bucket_low_us(int bucket);

 private:
  std::array<uint64_t, kBuckets> n_{};
  uint64_t count_ = 0;
  uint64_t sum_ns_ = 0;
};

}  // namespace remora::app
