// sleep_for ordering (fake and real clock) and RPC calls from coroutines
// over the loopback fabric.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/loopback_engines.h"
#include "runtime/runtime_test_util.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr uint16_t kEcho = 7, kFail = 8;

std::vector<std::byte> bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::transform(s.begin(), s.end(), out.begin(), [](char c) { return std::byte(c); });
  return out;
}
std::string text(std::span<const std::byte> b) {
  std::string out(b.size(), '\0');
  std::transform(b.begin(), b.end(), out.begin(), [](std::byte c) { return char(c); });
  return out;
}

class TimerRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = LoopbackEngines::create(2);
    ASSERT_OK(c);
    net_ = std::move(*c);
  }
  std::unique_ptr<Worker> make(WorkerOptions o = {}) {
    auto w = Worker::create(net_->engine(0), std::move(o));
    EXPECT_OK(w);
    return w.ok() ? std::move(*w) : nullptr;
  }
  std::unique_ptr<LoopbackEngines> net_;
};

// Timers fire by deadline, ties in the order the sleeps began, never early.
TEST_F(TimerRpcTest, SleepersWakeInDeadlineOrderNeverEarly) {
  uint64_t now = 0;
  WorkerOptions o;
  o.now_ns = [&now] { return now; };
  auto w = make(o);
  const uint32_t ms[] = {30, 10, 20, 10, 0, 50, 20, 1};
  std::vector<uint32_t> order;
  std::vector<uint64_t> woke_at(std::size(ms));
  for (uint32_t i = 0; i < std::size(ms); ++i)
    w->spawn([&, i](Context& ctx) {
      ctx.sleep_for(std::chrono::milliseconds(ms[i]));
      order.push_back(i);
      woke_at[i] = now;
    });
  for (int step = 0; step < 60 && (w->live() || w->queued()); ++step) {
    turn(*w, 3);
    now += 1'000'000;  // the fake clock moves 1 ms per three turns
  }
  ASSERT_EQ(w->live(), 0u);
  const std::vector<uint32_t> want = {4, 7, 1, 3, 2, 6, 0, 5};
  EXPECT_EQ(order, want);
  for (uint32_t i = 0; i < std::size(ms); ++i) EXPECT_GE(woke_at[i], ms[i] * 1'000'000ull) << i;
  EXPECT_EQ(w->stats().timers_fired, std::size(ms) - 1);  // sleep_for(0) only yields
}

TEST_F(TimerRpcTest, RealClockSleepLastsAtLeastItsDuration) {
  auto w = make();
  std::vector<int> order;
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration slept{};
  w->spawn([&](Context& ctx) {
    ctx.sleep_for(30ms);
    order.push_back(30);
    slept = std::chrono::steady_clock::now() - t0;
  });
  w->spawn([&](Context& ctx) {
    ctx.sleep_for(5ms);
    order.push_back(5);
  });
  ASSERT_OK(w->run());
  EXPECT_EQ(order, (std::vector<int>{5, 30}));
  EXPECT_GE(slept, 30ms);
}

class RpcFromCoroutines : public TimerRpcTest {
 protected:
  void SetUp() override {
    TimerRpcTest::SetUp();
    ASSERT_OK(net_->engine(1).rpc().register_handler(
        kEcho, [](NodeId from, std::span<const std::byte> req, std::vector<std::byte>& resp) {
          resp.assign(req.rbegin(), req.rend());
          resp.push_back(std::byte('0' + from));
          return Status::OK();
        }));
    ASSERT_OK(net_->engine(1).rpc().register_handler(
        kFail, [](NodeId, std::span<const std::byte>, std::vector<std::byte>&) {
          return Status::NotFound("no such key");
        }));
  }
};

TEST_F(RpcFromCoroutines, ManyCoroutinesCallConcurrentlyAndGetTheirOwnAnswers) {
  auto w = make();
  constexpr int kCoroutines = 32, kCalls = 10;
  int answered = 0;
  size_t max_pending = 0;
  for (int c = 0; c < kCoroutines; ++c)
    w->spawn([&, c](Context& ctx) -> Status {
      for (int k = 0; k < kCalls; ++k) {
        const std::string req = "c" + std::to_string(c) + "k" + std::to_string(k);
        std::vector<std::byte> resp;
        max_pending = std::max(max_pending, ctx.engine().rpc().pending_calls());
        REMORA_RETURN_IF_ERROR(ctx.call(1, kEcho, bytes(req), 5s, &resp));
        std::string want(req.rbegin(), req.rend());
        if (text(resp) != want + "0") return Status::Corrupt(req + " answered " + text(resp));
        ++answered;
      }
      return Status::OK();
    });
  ASSERT_OK(drive(*w, {&net_->engine(1)}));
  EXPECT_EQ(answered, kCoroutines * kCalls);
  EXPECT_GT(max_pending, 1u) << "calls did not overlap";
}

TEST_F(RpcFromCoroutines, HandlerErrorsAndTimeoutsReachTheCaller) {
  auto w = make();
  Status failed, timed_out;
  w->spawn([&](Context& ctx) { failed = ctx.call(1, kFail, bytes("k"), 5s); });
  w->spawn([&](Context& ctx) { timed_out = ctx.call(1, kEcho, bytes("x"), 20ms); });
  // Node 1 serves the first call only after the second one timed out.
  ASSERT_EQ(drive(*w, {}, 200ms).code(), Code::kTimeout);
  EXPECT_EQ(timed_out.code(), Code::kTimeout) << timed_out.to_string();
  ASSERT_OK(drive(*w, {&net_->engine(1)}));
  EXPECT_EQ(failed.code(), Code::kNotFound) << failed.to_string();
  EXPECT_NE(failed.message().find("no such key"), std::string::npos);
}

TEST_F(RpcFromCoroutines, CalleeGoneWhileWaitingGivesPeerGone) {
  auto w = make();
  Status st;
  w->spawn([&](Context& ctx) { st = ctx.call(1, kEcho, bytes("x"), 30s); });
  w->spawn([&](Context& ctx) {
    ctx.sleep_for(2ms);
    net_->fabric(0).mark_peer_gone(1, "test");
  });
  ASSERT_OK(drive(*w, {}, 10s));  // node 1 never answers
  EXPECT_EQ(st.code(), Code::kPeerGone) << st.to_string();
}

// An RPC answer that arrives after its Worker was destroyed is ignored.
TEST_F(RpcFromCoroutines, AnswerAfterTheWorkerIsGoneIsIgnored) {
  bool resumed = false;
  {
    auto w = make();
    w->spawn([&](Context& ctx) {
      (void)ctx.call(1, kEcho, bytes("late"), 5s);
      resumed = true;
    });
    turn(*w, 2);
    EXPECT_EQ(net_->engine(0).rpc().pending_calls(), 1u);
  }
  for (int i = 0; i < 100 && net_->engine(0).rpc().pending_calls() > 0; ++i) {
    net_->engine(1).poll_once();
    net_->engine(0).poll_once();
  }
  EXPECT_EQ(net_->engine(0).rpc().pending_calls(), 0u);
  EXPECT_FALSE(resumed);
}

}  // namespace
}  // namespace remora::testing
