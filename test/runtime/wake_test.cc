// Sleeping and waking (docs/runtime.md): the wake word, one doorbell per
// sleep, the race between a sender's record and a receiver falling asleep,
// and engines that sleep with no time limit yet miss nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "remora/runtime/worker.h"
#include "runtime/loopback_engines.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr uint16_t kType = 40;     // a raw ring record (no RPC)
constexpr uint16_t kEcho = 41;     // RPC methods
constexpr uint16_t kStop = 42;

class WakeTest : public ::testing::Test {
 protected:
  void make(uint32_t nodes) {
    auto c = LoopbackEngines::create(nodes);
    ASSERT_OK(c);
    net_ = std::move(*c);
  }
  Messenger& m(NodeId n) { return net_->engine(n).messenger(); }
  Status send(NodeId from, NodeId to) {
    const std::string text = "ding";
    return m(from).send(to, kType, std::as_bytes(std::span(text)));
  }
  std::unique_ptr<LoopbackEngines> net_;
};

TEST_F(WakeTest, LoopbackEnginesCanBeWoken) {
  make(3);
  for (NodeId n = 0; n < 3; ++n) {
    EXPECT_TRUE(net_->engine(n).can_be_woken()) << n;
    EXPECT_TRUE(m(n).peers_can_wake()) << n;
  }
  net_->engine(0).set_wakeups(false);
  EXPECT_FALSE(net_->engine(0).can_be_woken());
}

TEST_F(WakeTest, NoDoorbellWhileThePeerIsAwake) {
  make(2);
  for (int i = 0; i < 10; ++i) ASSERT_OK(send(0, 1));
  EXPECT_EQ(m(0).doorbells(), 0u);
  EXPECT_TRUE(net_->engine(1).channel().arm()) << "nothing rang";
}

TEST_F(WakeTest, OneDoorbellPerSleep) {
  make(2);
  ASSERT_TRUE(m(1).prepare_sleep());  // nothing in its rings yet
  ASSERT_OK(send(0, 1));
  ASSERT_OK(send(0, 1));
  EXPECT_EQ(m(0).doorbells(), 1u) << "the second record finds the same sleep";
  EXPECT_FALSE(net_->engine(1).channel().arm()) << "the doorbell is pending";
  m(1).awake();
  ASSERT_OK(send(0, 1));
  EXPECT_EQ(m(0).doorbells(), 1u) << "awake again: no doorbell";
  ASSERT_FALSE(m(1).prepare_sleep()) << "three records are waiting";
  m(1).awake();
}

TEST_F(WakeTest, ARecordThatLandedBeforeTheAnnouncementStopsTheSleep) {
  make(2);
  ASSERT_OK(send(0, 1));
  EXPECT_FALSE(m(1).prepare_sleep());
  m(1).awake();
  EXPECT_EQ(m(0).doorbells(), 0u);
  // Consumed, the ring is empty again and a sleep may begin.
  while (net_->engine(1).poll_once() > 0) {
  }
  EXPECT_TRUE(m(1).prepare_sleep());
  m(1).awake();
}

TEST_F(WakeTest, EverySleepGetsItsOwnDoorbell) {
  make(3);
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(m(2).prepare_sleep()) << round;
    ASSERT_OK(send(0, 2));
    ASSERT_OK(send(1, 2));
    m(2).awake();
    while (net_->engine(2).poll_once() > 0) {
    }
  }
  EXPECT_EQ(m(0).doorbells(), 5u);
  EXPECT_EQ(m(1).doorbells(), 5u);
}

// Node 1 serves in a loop that sleeps with no time limit whenever a poll
// finds nothing; node 0 calls it from a coroutine whose worker sleeps while
// the answer is due (no spinning). Every round trip crosses two sleeps, so
// a lost wake-up would end one of them by time, not by an event: no sleep
// may time out, and every call must succeed.
TEST_F(WakeTest, PingPongBetweenSleepersLosesNoWakeUp) {
  make(2);
  constexpr int kRounds = 3000;
  std::atomic<bool> stop{false};
  Engine& server = net_->engine(1);
  ASSERT_OK(server.rpc().register_handler(
      kEcho, [](NodeId, std::span<const std::byte> req, std::vector<std::byte>& resp) {
        resp.assign(req.begin(), req.end());
        return Status::OK();
      }));
  ASSERT_OK(server.rpc().register_handler(
      kStop, [&](NodeId, std::span<const std::byte>, std::vector<std::byte>&) {
        stop.store(true);
        return Status::OK();
      }));
  std::thread serve([&] {
    while (!stop.load())
      if (server.poll_once() == 0) server.nap(1h);
    for (int i = 0; i < 1000; ++i) server.poll_once();  // the stop answer goes out
  });

  WorkerOptions o;
  o.busy_spin = 0ns;
  o.max_block = 1h;
  auto w = Worker::create(net_->engine(0), o);
  ASSERT_OK(w);
  int answered = 0;
  (*w)->spawn([&](Context& ctx) -> Status {
    std::vector<std::byte> resp;
    for (int i = 0; i < kRounds; ++i) {
      const uint64_t v = static_cast<uint64_t>(i);
      resp.clear();
      REMORA_RETURN_IF_ERROR(ctx.call(1, kEcho, std::as_bytes(std::span(&v, 1)), 10s, &resp));
      if (resp.size() != sizeof(v)) return Status::Internal("short echo");
      ++answered;
    }
    std::vector<std::byte> none;
    return ctx.call(1, kStop, {}, 10s, &none);
  });
  const Status st = (*w)->run();
  if (!stop.load()) {  // a failure above: end the server's sleep by hand
    stop.store(true);
    net_->net().ring(1, 0);
  }
  serve.join();
  ASSERT_OK(st);
  EXPECT_EQ(answered, kRounds);
  EXPECT_GT(net_->engine(0).sleeps() + server.sleeps(), 0u) << "the test never slept";
  EXPECT_EQ(server.sleeps_timed_out(), 0u);
  EXPECT_EQ(net_->engine(0).sleeps_timed_out(), 0u);
}

}  // namespace
}  // namespace remora::testing
