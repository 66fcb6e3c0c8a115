// Remote operations from coroutines over the loopback fabric: exact
// results under concurrency, batches, errors routed to the right coroutine,
// stale completions, peers that go away mid-wait.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "runtime/loopback_engines.h"
#include "runtime/runtime_test_util.h"
#include "runtime/runtime_wr.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = LoopbackEngines::create(3);
    ASSERT_OK(c);
    net_ = std::move(*c);
    auto w = Worker::create(net_->engine(0));
    ASSERT_OK(w);
    w_ = std::move(*w);
  }
  static GAddr addr(NodeId n, uint32_t off) { return LoopbackEngines::data_addr(n, off); }
  static std::byte pattern(uint32_t c, uint32_t i) {
    return std::byte((c * 31 + i * 7 + 1) & 0xff);
  }

  std::unique_ptr<LoopbackEngines> net_;
  std::unique_ptr<Worker> w_;
};

// 64 coroutines keep FAAs, writes and reads in flight at once (completions
// are delayed so that they overlap); every result is exact.
TEST_F(OpsTest, SixtyFourCoroutinesReadWriteFaaExactly) {
  constexpr uint32_t kCoroutines = 64, kRounds = 20, kBlock = 256;
  net_->net().delay_completions(1, 3);
  std::vector<uint64_t> olds;
  size_t max_in_flight = 0;
  for (uint32_t c = 0; c < kCoroutines; ++c)
    w_->spawn([&, c](Context& ctx) -> Status {
      std::byte* buf = ctx.scratch().data();
      const GAddr block = addr(1, 4096 + c * kBlock);
      for (uint32_t r = 0; r < kRounds; ++r) {
        auto old = ctx.faa(1, addr(1, 0), 1);
        if (!old.ok()) return old.status();
        olds.push_back(*old);
        for (uint32_t i = 0; i < kBlock; ++i) buf[i] = pattern(c + r, i);
        REMORA_RETURN_IF_ERROR(ctx.write(1, block, buf, kBlock));
        std::memset(buf, 0, kBlock);
        max_in_flight = std::max(max_in_flight, ctx.engine().channel().in_flight());
        REMORA_RETURN_IF_ERROR(ctx.read(1, block, buf, kBlock));
        for (uint32_t i = 0; i < kBlock; ++i)
          if (buf[i] != pattern(c + r, i)) return Status::Corrupt("read back differs");
      }
      return Status::OK();
    });
  ASSERT_OK(drive(*w_));
  const uint64_t total = kCoroutines * kRounds;
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(net_->data(1).data), total);
  std::sort(olds.begin(), olds.end());
  std::vector<uint64_t> want(total);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_TRUE(olds == want) << "FAA old values are not 0..N-1 exactly once";
  EXPECT_GT(max_in_flight, kCoroutines / 2) << "operations did not overlap";
  EXPECT_EQ(w_->stats().ops_posted, 3u * total);
  EXPECT_EQ(w_->stats().stale_completions, 0u);
}

TEST_F(OpsTest, CasSucceedsOnlyAtTheExpectedValue) {
  uint64_t* word = reinterpret_cast<uint64_t*>(net_->data(2).data + 64);
  *word = 5;
  Result<uint64_t> miss = Status::Internal("unset"), hit = Status::Internal("unset");
  w_->spawn([&](Context& ctx) {
    miss = ctx.cas(2, addr(2, 64), 4, 9);
    hit = ctx.cas(2, addr(2, 64), 5, 9);
  });
  ASSERT_OK(drive(*w_));
  ASSERT_OK(miss);
  ASSERT_OK(hit);
  EXPECT_EQ(*miss, 5u);
  EXPECT_EQ(*hit, 5u);
  EXPECT_EQ(*word, 9u);
}

TEST_F(OpsTest, BatchedExecuteKeepsTheWholeBatchInFlight) {
  constexpr uint32_t kReads = 48;
  uint64_t* remote = reinterpret_cast<uint64_t*>(net_->data(2).data);
  for (uint32_t i = 0; i < kReads; ++i) remote[i] = 1000 + i * i;
  net_->net().delay_completions(2, 5);
  std::vector<Code> codes(kReads + 1, Code::kInternal);
  size_t in_flight_seen = 0;
  w_->spawn([&](Context& ctx) -> Status {
    auto* out = reinterpret_cast<uint64_t*>(ctx.scratch().data());
    std::vector<WorkRequest> batch;
    for (uint32_t i = 0; i < kReads; ++i)
      batch.push_back(WorkRequest{Op::kRead, 2, addr(2, i * 8), out + i, 8});
    batch.push_back(WorkRequest{Op::kFaa, 2, addr(2, 4096), out + kReads, 8, 0, 3});
    ctx.worker().spawn(
        [&](Context& peek) { in_flight_seen = peek.engine().channel().in_flight(); });
    REMORA_RETURN_IF_ERROR(ctx.execute(batch, codes));
    for (uint32_t i = 0; i < kReads; ++i)
      if (out[i] != 1000 + i * i) return Status::Corrupt("batch read " + std::to_string(i));
    return Status::OK();
  });
  ASSERT_OK(drive(*w_));
  EXPECT_EQ(in_flight_seen, kReads + 1u);
  for (Code c : codes) EXPECT_EQ(c, Code::kOk);
  EXPECT_EQ(remote[512], 3u);
}

TEST_F(OpsTest, RefusedRequestFailsOnlyItsCoroutine) {
  constexpr uint32_t kCoroutines = 16, kBad = 5;
  std::vector<Status> got(kCoroutines);
  for (uint32_t c = 0; c < kCoroutines; ++c)
    w_->spawn([&, c](Context& ctx) -> Status {
      const uint32_t off = c == kBad ? (1u << 20) - 4 : c * 64;  // 4 bytes short of 64
      got[c] = ctx.read(1, addr(1, off), ctx.scratch().data(), 64);
      ctx.yield();
      if (got[c].ok()) got[c] = ctx.write(2, addr(2, c * 64), ctx.scratch().data(), 64);
      return got[c];
    });
  Status st = drive(*w_);
  EXPECT_EQ(st.code(), Code::kOutOfRange) << st.to_string();
  EXPECT_NE(st.message().find("coroutine 5"), std::string::npos) << st.to_string();
  for (uint32_t c = 0; c < kCoroutines; ++c) {
    if (c == kBad)
      EXPECT_EQ(got[c].code(), Code::kOutOfRange) << got[c].to_string();
    else
      EXPECT_OK(got[c]);
  }
  EXPECT_EQ(w_->stats().failed, 1u);
}

TEST_F(OpsTest, BatchWithOneBadRequestPostsNothing) {
  uint64_t* word = reinterpret_cast<uint64_t*>(net_->data(1).data);
  Status st;
  w_->spawn([&](Context& ctx) {
    auto* out = reinterpret_cast<uint64_t*>(ctx.scratch().data());
    WorkRequest batch[] = {{Op::kFaa, 1, addr(1, 0), out, 8, 0, 1},
                           {Op::kFaa, 1, addr(1, 3), out + 1, 8, 0, 1}};  // misaligned
    st = ctx.execute(batch);
  });
  ASSERT_OK(drive(*w_));
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.to_string();
  EXPECT_EQ(*word, 0u);
  EXPECT_EQ(w_->stats().ops_posted, 0u);
}

TEST_F(OpsTest, PeerGoneWhileWaitingEndsTheWaitWithPeerGone) {
  net_->net().delay_completions(1, 200);
  std::vector<Code> codes(2, Code::kInternal);
  Status single, batch;
  w_->spawn([&](Context& ctx) { single = ctx.read(1, addr(1, 0), ctx.scratch().data(), 8); });
  w_->spawn([&](Context& ctx) {
    WorkRequest b[] = {{Op::kRead, 2, addr(2, 0), ctx.scratch().data(), 8},
                       {Op::kRead, 1, addr(1, 8), ctx.scratch().data() + 8, 8}};
    batch = ctx.execute(b, codes);
  });
  w_->spawn([&](Context& ctx) {
    ctx.yield();
    ctx.yield();
    net_->fabric(0).mark_peer_gone(1, "test");
  });
  ASSERT_OK(drive(*w_));
  EXPECT_EQ(single.code(), Code::kPeerGone) << single.to_string();
  EXPECT_EQ(batch.code(), Code::kPeerGone) << batch.to_string();
  EXPECT_NE(batch.message().find("request 1 of 2"), std::string::npos) << batch.to_string();
  EXPECT_EQ(codes[0], Code::kOk);
  EXPECT_EQ(codes[1], Code::kPeerGone);
  // Later posts to the gone peer fail at once.
  Status after;
  w_->spawn([&](Context& ctx) { after = ctx.write(1, addr(1, 0), ctx.scratch().data(), 8); });
  ASSERT_OK(drive(*w_));
  EXPECT_EQ(after.code(), Code::kPeerGone);
}

// A completion whose generation or slot does not match a waiting coroutine
// is dropped; the coroutine resumes only on its own completion.
TEST_F(OpsTest, StaleCompletionsNeverResumeACoroutine) {
  net_->net().delay_completions(1, 20);
  uint64_t* remote = reinterpret_cast<uint64_t*>(net_->data(1).data);
  remote[0] = 0xfeed;
  uint64_t got = 0;
  bool resumed = false;
  w_->spawn([&](Context& ctx) {
    auto* out = reinterpret_cast<uint64_t*>(ctx.scratch().data());
    EXPECT_OK(ctx.read(1, addr(1, 0), out, 8));
    resumed = true;
    got = *out;
  });
  turn(*w_, 2);
  ASSERT_FALSE(resumed);
  using runtime_detail::encode_wr;
  const Completion fakes[] = {
      {encode_wr(0, 0, 0), Code::kOk, 1},  // slot 0, an older generation
      {encode_wr(0, 2, 0), Code::kOk, 1},  // a generation not begun yet
      {encode_wr(9, 1, 0), Code::kOk, 1},  // a slot that does not exist
  };
  w_->on_completions(fakes);
  turn(*w_, 2);
  EXPECT_FALSE(resumed);
  EXPECT_EQ(w_->stats().stale_completions, 3u);
  ASSERT_OK(drive(*w_));
  EXPECT_TRUE(resumed);
  EXPECT_EQ(got, 0xfeedu);
}

}  // namespace
}  // namespace remora::testing
