// A sender thread and a receiver thread move 200k records of random sizes
// through one ring; every record must arrive once, in order, intact.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "msg/loopback_cluster.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

using testing::LoopbackCluster;
constexpr uint64_t kRecords = 200'000;
constexpr uint16_t kType = 42;

// Payload: 8-byte record number, then bytes derived from it.
size_t fill(std::vector<std::byte>& buf, uint64_t n, size_t len) {
  buf.resize(len);
  std::memcpy(buf.data(), &n, sizeof(n));
  for (size_t i = sizeof(n); i < len; ++i) buf[i] = static_cast<std::byte>(n * 31 + i);
  return len;
}

bool check(uint64_t expected, std::span<const std::byte> p) {
  if (p.size() < sizeof(uint64_t)) return false;
  uint64_t n;
  std::memcpy(&n, p.data(), sizeof(n));
  if (n != expected) return false;
  for (size_t i = sizeof(n); i < p.size(); ++i)
    if (p[i] != static_cast<std::byte>(n * 31 + i)) return false;
  return true;
}

TEST(RingStressTest, TwoThreadsMove200kRecordsWithoutLossOrDuplicates) {
  auto c = LoopbackCluster::create(2, 1, 16384);
  ASSERT_OK(c);
  LoopbackCluster& cl = *c.value();
  // A bound against hangs, not a speed target: ASan on a loaded 2-core host
  // needs ~10 s; the suite limit (meson) is 60 s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  std::atomic<bool> failed{false};
  uint64_t full_count = 0;

  std::thread sender([&] {
    std::mt19937_64 rng(12345);
    std::uniform_int_distribution<size_t> size(8, cl.messenger(0).max_payload());
    std::vector<std::byte> buf;
    for (uint64_t n = 0; n < kRecords && !failed; ++n) {
      // Mostly small records, some up to the limit, to exercise PAD often.
      const size_t len = (n % 16 == 0) ? size(rng) : 8 + rng() % 120;
      fill(buf, n, len);
      Status s;
      while ((s = cl.messenger(0).send(1, kType, buf)).code() == Code::kFull) {
        ++full_count;
        cl.pump(0);
        if (std::chrono::steady_clock::now() > deadline) {
          failed = true;
          return;
        }
      }
      if (!s.ok()) {
        ADD_FAILURE() << s.to_string();
        failed = true;
      }
      cl.pump(0);
    }
  });

  uint64_t next = 0, bad = 0;
  while (next < kRecords && !failed) {
    auto r = cl.messenger(1).poll([&](NodeId from, uint16_t type, std::span<const std::byte> p) {
      if (from != 0 || type != kType || !check(next, p)) ++bad;
      ++next;
    });
    if (!r.ok()) {
      ADD_FAILURE() << r.status().to_string();
      failed = true;
    }
    cl.pump(1);
    if (std::chrono::steady_clock::now() > deadline) failed = true;
  }
  sender.join();
  EXPECT_FALSE(failed) << "received " << next << " of " << kRecords;
  EXPECT_EQ(next, kRecords);
  EXPECT_EQ(bad, 0u);
  auto none = cl.messenger(1).poll([&](NodeId, uint16_t, std::span<const std::byte>) { ++bad; });
  ASSERT_OK(none);
  EXPECT_EQ(bad, 0u);  // nothing beyond the last record
  EXPECT_EQ(cl.messenger(1).counters(0).consumed, cl.messenger(0).counters(1).sent);
  RecordProperty("sender_full_retries", static_cast<int>(full_count));
}

}  // namespace
}  // namespace remora
