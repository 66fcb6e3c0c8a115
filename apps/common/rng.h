// Small, fast, seedable generators for workload drivers (not for crypto).
#pragma once

#include <cmath>
#include <cstdint>

namespace remora::app {

// xorshift64; a given seed gives the same sequence on every build.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {
    if (s_ == 0) s_ = 1;
  }
  uint64_t next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  double unit() { return static_cast<double>(next() >> 11) / static_cast<double>(1ull << 53); }
  // Uniform in [lo, hi].
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }

 private:
  uint64_t s_;
};

// Zipfian ranks in [0, n) with skew theta (YCSB's generator, Gray et al.
// "Quickly generating billion-record synthetic databases"): rank 0 is the
// most popular. Set-up is O(n) once; next() is O(1).
class Zipf {
 public:
  // REQUIRES: n >= 1, 0 < theta < 1.
  Zipf(uint64_t n, double theta) : n_(n), theta_(theta) {
    double zetan = 0;
    for (uint64_t i = 1; i <= n; ++i) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
    const double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
    zetan_ = zetan;
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan);
  }
  uint64_t next(Rng& r) const {
    const double u = r.unit();
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + std::pow(0.5, theta_)) return n_ > 1 ? 1 : 0;
    const auto k = static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return k < n_ ? k : n_ - 1;
  }

 private:
  uint64_t n_;
  double theta_, zetan_, alpha_, eta_;
};

}  // namespace remora::app
