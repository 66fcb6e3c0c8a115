#include "histogram.h"

#include <cmath>

namespace remora::app {

namespace {
int bucket_of(uint64_t ns) {
  if (ns <= 1) return 0;
  const int b = static_cast<int>(std::log2(static_cast<double>(ns)) * Histogram::kPerOctave);
  return b < Histogram::kBuckets ? b : Histogram::kBuckets - 1;
}
}  // namespace

void Histogram::add(uint64_t ns) {
  ++n_[static_cast<size_t>(bucket_of(ns))];
  ++count_;
  sum_ns_ += ns;
}

void Histogram::add_bucket(int bucket, uint64_t n) {
  if (bucket < 0 || bucket >= kBuckets) return;
  n_[static_cast<size_t>(bucket)] += n;
  count_ += n;
  sum_ns_ += static_cast<uint64_t>(std::exp2((bucket + 0.5) / kPerOctave)) * n;
}

void Histogram::merge(const Histogram& o) {
  for (size_t i = 0; i < n_.size(); ++i) n_[i] += o.n_[i];
  count_ += o.count_;
  sum_ns_ += o.sum_ns_;
}

double Histogram::bucket_low_us(int bucket) { return std::exp2(static_cast<double>(bucket) / kPerOctave) / 1e3; }

double Histogram::percentile_us(double q) const {
  if (count_ == 0) return 0;
  const double want = q * static_cast<double>(count_);
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += n_[static_cast<size_t>(b)];
    if (seen > 0 && static_cast<double>(seen) >= want) return std::exp2((b + 0.5) / kPerOctave) / 1e3;
  }
  return std::exp2((kBuckets - 0.5) / kPerOctave) / 1e3;
}

nlohmann::json Histogram::json(bool with_buckets) const {
  nlohmann::json j;
  j["count"] = count_;
  j["mean_us"] = mean_us();
  j["p50_us"] = percentile_us(0.50);
  j["p99_us"] = percentile_us(0.99);
  j["p999_us"] = percentile_us(0.999);
  if (!with_buckets) return j;
  nlohmann::json h = nlohmann::json::array();
  for (int b = 0; b < kBuckets; ++b)
    if (n_[static_cast<size_t>(b)]) h.push_back({b, n_[static_cast<size_t>(b)]});
  j["hist"] = h;
  return j;
}

bool Histogram::merge_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("hist") || !j["hist"].is_array()) return false;
  for (const auto& e : j["hist"]) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !e[1].is_number_unsigned()) return false;
    add_bucket(e[0].get<int>(), e[1].get<uint64_t>());
  }
  return true;
}

}  // namespace remora::app
