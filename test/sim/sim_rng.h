// SimRng and TraceHash: the simulator's only source of randomness and its
// record of what it decided (docs/simulation.md).
#pragma once

#include <cstdint>

namespace remora::sim {

// xoshiro256** seeded through splitmix64: small, fast, and the same
// sequence on every platform and build for a given seed.
class SimRng {
 public:
  explicit SimRng(uint64_t seed) {
    for (uint64_t& w : s_) w = splitmix(seed);
  }
  uint64_t next() {
    const uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, n); 0 for n == 0. The modulo bias is irrelevant here.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // [lo, hi]
  // true with probability p.
  bool chance(double p) { return p > 0 && static_cast<double>(next() >> 11) * 0x1p-53 < p; }
  // An independent generator for a sub-component, derived from this one.
  SimRng fork() { return SimRng(next()); }

  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Order-sensitive 64-bit digest of a run's events.
class TraceHash {
 public:
  void add(uint64_t v) {
    uint64_t x = h_ ^ v;
    h_ = SimRng::splitmix(x);
    ++events_;
  }
  void add(uint64_t a, uint64_t b) { add((a << 32) ^ b); }
  uint64_t value() const { return h_; }
  uint64_t events() const { return events_; }

 private:
  uint64_t h_ = 0x5eed5eed5eed5eedull;
  uint64_t events_ = 0;
};

}  // namespace remora::sim
