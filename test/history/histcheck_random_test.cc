// The checker on generated histories: random serial executions (which must
// pass) and the same executions with one stale read injected (which must
// fail), plus a large history as a performance sanity check.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "histcheck/checker.h"
#include "support/status_matchers.h"

namespace remora::histcheck {
namespace {

struct GenOptions {
  uint64_t txs = 10000;
  uint64_t objects = 50;
  unsigned max_ops = 4;
  bool overlap = true;  // intervals overlap around each linearization point
};

// Simulates a serial execution: transaction i takes effect at time 100 * i,
// reads the current versions and installs higher ones (random gaps). Its
// interval contains its point, so real-time order agrees with the serial
// order; a few attempts abort. Records are shuffled (node files interleave).
std::vector<HistoryRecord> serial_history(uint64_t seed, const GenOptions& o) {
  std::mt19937_64 rng(seed);
  auto rnd = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  std::vector<uint64_t> version(o.objects);
  for (uint64_t& v : version) v = rnd(3);  // initial versions (loaded data)
  std::vector<HistoryRecord> out;
  for (uint64_t i = 0; i < o.txs; ++i) {
    HistoryRecord r;
    r.tx = TxId{1, static_cast<uint16_t>(rnd(3)), static_cast<uint16_t>(rnd(4)), i};
    uint64_t point = 1000 + 100 * i;
    r.start_ns = point - (o.overlap ? rnd(400) : 40);
    r.end_ns = point + (o.overlap ? rnd(400) : 40);
    r.outcome = rnd(10) != 0 ? TxOutcome::kCommit : TxOutcome::kAbort;
    unsigned ops = 1 + static_cast<unsigned>(rnd(o.max_ops));
    std::vector<bool> used(o.objects, false);
    for (unsigned k = 0; k < ops; ++k) {
      uint64_t obj = rnd(o.objects);
      if (used[obj]) continue;
      used[obj] = true;
      uint64_t addr = 0x0001000100000000ull + 64 * obj;
      bool blind = rnd(8) == 0;
      if (!blind) r.reads.push_back({addr, version[obj]});
      if (!blind && rnd(2) == 0) continue;
      uint64_t next = version[obj] + 1 + rnd(3);
      r.writes.push_back({addr, next});
      if (r.committed()) version[obj] = next;
    }
    out.push_back(std::move(r));
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

TEST(HistcheckRandom, SerialHistoriesPass) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    GenOptions o;
    o.overlap = seed % 2 == 0;
    o.objects = 5 + seed * 5;
    Result<CheckResult> r = check_history(serial_history(seed, o));
    ASSERT_OK(r);
    EXPECT_TRUE(r->ok()) << "seed " << seed << "\n" << r->summary();
    EXPECT_GT(r->committed, 0u);
    EXPECT_GT(r->edges_rw, 0u);
  }
}

// With disjoint intervals the serial order is the real-time order, so a read
// of an overwritten version is always a violation.
TEST(HistcheckRandom, InjectedStaleReadFails) {
  int injected = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    GenOptions o;
    o.overlap = false;
    std::vector<HistoryRecord> h = serial_history(seed, o);
    // Find a committed read of a version that some committed transaction
    // later overwrote, and make it read the version before.
    std::map<uint64_t, std::vector<uint64_t>> written;  // object -> versions
    for (const HistoryRecord& r : h) {
      if (!r.committed()) continue;
      for (const auto& [a, v] : r.writes) written[a].push_back(v);
    }
    for (auto& [a, vs] : written) std::sort(vs.begin(), vs.end());
    bool done = false;
    for (HistoryRecord& r : h) {
      if (!r.committed() || done) continue;
      for (auto& [a, v] : r.reads) {
        auto& vs = written[a];
        auto it = std::lower_bound(vs.begin(), vs.end(), v);
        if (it == vs.end() || *it != v || it == vs.begin()) continue;
        v = *(it - 1);
        done = true;
        break;
      }
    }
    ASSERT_TRUE(done) << "seed " << seed;
    ++injected;
    Result<CheckResult> r = check_history(h);
    ASSERT_OK(r);
    EXPECT_FALSE(r->ok()) << "seed " << seed;
    EXPECT_FALSE(r->cycle.empty()) << r->summary();
  }
  EXPECT_EQ(injected, 20);
}

// Bounded size; prints the time, asserts no timing.
TEST(HistcheckRandom, LargeHistoryPerformanceSanity) {
  GenOptions o;
  o.txs = 300000;
  o.objects = 100000;
  std::vector<HistoryRecord> h = serial_history(99, o);
  auto t0 = std::chrono::steady_clock::now();
  Result<CheckResult> r = check_history(h);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_OK(r);
  EXPECT_TRUE(r->ok()) << r->summary();
  std::printf("[ info ] %lu attempts (%lu committed, %lu edges) checked in %.2f s\n",
              static_cast<unsigned long>(r->transactions), static_cast<unsigned long>(r->committed),
              static_cast<unsigned long>(r->edges()), s);
}

}  // namespace
}  // namespace remora::histcheck
