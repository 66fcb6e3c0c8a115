#include "remora/common/latency.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <numeric>

namespace remora {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

LatencySummary LatencyRecorder::summarize(double seconds) {
  LatencySummary s;
  s.count = ns_.size();
  s.seconds = seconds;
  if (ns_.empty()) return s;
  std::sort(ns_.begin(), ns_.end());
  auto pct = [&](double q) {
    size_t i = std::min(ns_.size() - 1, static_cast<size_t>(q * static_cast<double>(ns_.size())));
    return ns_[i] / 1000.0;
  };
  s.p50_us = pct(0.50);
  s.p99_us = pct(0.99);
  s.p999_us = pct(0.999);
  s.max_us = ns_.back() / 1000.0;
  s.mean_us = std::accumulate(ns_.begin(), ns_.end(), 0.0) / static_cast<double>(ns_.size()) / 1000.0;
  return s;
}

std::string LatencySummary::json_fields() const {
  return fmt::format(
      "\"count\":{},\"p50_us\":{:.3f},\"p99_us\":{:.3f},\"p999_us\":{:.3f},\"mean_us\":{:.3f},"
      "\"max_us\":{:.3f},\"ops_per_sec\":{:.1f}",
      count, p50_us, p99_us, p999_us, mean_us, max_us, ops_per_sec());
}

}  // namespace remora
