// Worker scheduling over the loopback fabric: options, spawning, yields,
// errors and exceptions, stack reuse, stop flags, destruction.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "remora/msg/messenger.h"
#include "runtime/loopback_engines.h"
#include "runtime/runtime_test_util.h"
#include "runtime/runtime_wr.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

class WorkerTest : public ::testing::Test {
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

TEST(RuntimeWrTest, TagNeverCollidesWithMessengerAndRoundTrips) {
  using namespace runtime_detail;
  const uint32_t slots[] = {0, 1, 77, kMaxSlots};
  const uint32_t gens[] = {0, 1, kGenMask};
  const uint32_t idx[] = {0, 5, 0xffff};
  for (uint32_t s : slots)
    for (uint32_t g : gens)
      for (uint32_t i : idx) {
        const uint64_t id = encode_wr(s, g, i);
        EXPECT_FALSE(Messenger::owns(id));
        EXPECT_EQ(wr_owner(id), WrOwner::kRuntime);
        const RuntimeWr d = decode_wr(id);
        EXPECT_EQ(d.slot, s);
        EXPECT_EQ(d.gen, g);
        EXPECT_EQ(d.index, i);
      }
}

TEST_F(WorkerTest, CreateRefusesBadOptionsAndASecondWorker) {
  WorkerOptions small;
  small.stack_size = 4096;
  EXPECT_EQ(Worker::create(net_->engine(0), small).status().code(), Code::kInvalidArgument);
  WorkerOptions big;
  big.max_coroutines = 4096;
  big.scratch_per_coroutine = 4096;  // 4096 x 4160 B > 2 MiB
  EXPECT_EQ(Worker::create(net_->engine(0), big).status().code(), Code::kInvalidArgument);
  WorkerOptions none;
  none.max_coroutines = 0;
  EXPECT_EQ(Worker::create(net_->engine(0), none).status().code(), Code::kInvalidArgument);
  {
    auto w = make();
    ASSERT_TRUE(w);
    EXPECT_EQ(Worker::create(net_->engine(0)).status().code(), Code::kUnavailable);
  }
  EXPECT_OK(Worker::create(net_->engine(0)));  // the first one detached itself
}

TEST_F(WorkerTest, CoroutinesInterleaveAtYields) {
  auto w = make();
  constexpr uint32_t kCoroutines = 64, kSteps = 5;
  std::vector<std::pair<uint32_t, uint32_t>> log;  // (coroutine, step)
  for (uint32_t c = 0; c < kCoroutines; ++c)
    w->spawn([&log, c](Context& ctx) {
      for (uint32_t s = 0; s < kSteps; ++s) {
        log.emplace_back(c, s);
        ctx.yield();
      }
    });
  EXPECT_EQ(w->queued(), kCoroutines);
  ASSERT_OK(w->run());
  ASSERT_EQ(log.size(), kCoroutines * kSteps);
  // Round robin: every coroutine takes step s before any takes step s + 1.
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].first, i % kCoroutines);
    EXPECT_EQ(log[i].second, i / kCoroutines);
  }
  EXPECT_EQ(w->stats().spawned, kCoroutines);
  EXPECT_EQ(w->stats().finished, kCoroutines);
  EXPECT_EQ(w->stats().failed, 0u);
  EXPECT_EQ(w->stats().peak_live, kCoroutines);
  EXPECT_EQ(w->stats().switches, kCoroutines * (kSteps + 1));
}

TEST_F(WorkerTest, ErrorsAndExceptionsBecomeStatusAndOthersFinish) {
  auto w = make();
  int finished = 0;
  w->spawn([&](Context& ctx) -> Status {
    ctx.yield();
    return Status::NotFound("key 7");
  });
  w->spawn([&](Context& ctx) {
    ctx.yield();
    ctx.yield();
    throw std::runtime_error("boom");
  });
  w->spawn([](Context& ctx) {
    for (int k = 0; k < 3; ++k) ctx.yield();
    throw 42;
  });
  for (int i = 0; i < 8; ++i)
    w->spawn([&](Context& ctx) {
      for (int k = 0; k < 4; ++k) ctx.yield();
      ++finished;
    });
  Status st = w->run();
  EXPECT_EQ(st.code(), Code::kNotFound) << st.to_string();  // the first error
  EXPECT_NE(st.message().find("coroutine 0"), std::string::npos) << st.to_string();
  EXPECT_EQ(finished, 8);
  EXPECT_EQ(w->stats().failed, 3u);
  EXPECT_EQ(w->stats().finished, 11u);
}

TEST_F(WorkerTest, ExceptionMessageReachesTheSpawner) {
  auto w = make();
  w->spawn([](Context& ctx) {
    ctx.yield();
    throw std::runtime_error("boom");
  });
  Status st = w->run();
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("boom"), std::string::npos) << st.to_string();
}

TEST_F(WorkerTest, TenThousandShortCoroutinesReuseAFewStacks) {
  WorkerOptions o;
  o.max_coroutines = 64;
  auto w = make(o);
  constexpr uint32_t kCoroutines = 10000;
  uint64_t* word = reinterpret_cast<uint64_t*>(net_->data(1).data);
  std::vector<uint8_t> ran(kCoroutines, 0);
  for (uint32_t i = 0; i < kCoroutines; ++i)
    w->spawn([&, i](Context& ctx) -> Status {
      ++ran[i];
      ctx.yield();
      auto old = ctx.faa(1, LoopbackEngines::data_addr(1, 0), 1);
      return old.ok() ? Status::OK() : old.status();
    });
  ASSERT_OK(drive(*w));
  EXPECT_EQ(*word, kCoroutines);
  for (uint32_t i = 0; i < kCoroutines; ++i) ASSERT_EQ(ran[i], 1) << "coroutine " << i;
  EXPECT_EQ(w->stats().finished, kCoroutines);
  EXPECT_LE(w->stats().peak_live, 64u);
  EXPECT_GE(w->stats().stacks_mapped, 1u);
  EXPECT_LE(w->stats().stacks_mapped, 64u);
}

TEST_F(WorkerTest, CoroutinesMaySpawnCoroutines) {
  auto w = make();
  int leaves = 0;
  w->spawn([&](Context& ctx) {
    for (int i = 0; i < 10; ++i)
      ctx.worker().spawn([&](Context& child) {
        child.yield();
        ++leaves;
      });
  });
  ASSERT_OK(w->run());
  EXPECT_EQ(leaves, 10);
  EXPECT_EQ(w->stats().spawned, 11u);
}

TEST_F(WorkerTest, StopRequestFromAnotherThreadEndsPollingCoroutines) {
  auto w = make();
  int loops = 0;
  for (int i = 0; i < 4; ++i)
    w->spawn([&](Context& ctx) {
      while (!ctx.stop_requested()) {
        ++loops;
        ctx.sleep_for(200us);
      }
    });
  Worker* raw = w.get();
  std::thread stopper([raw] {
    std::this_thread::sleep_for(20ms);
    raw->request_stop();
  });
  Status st = drive(*w);
  stopper.join();
  EXPECT_OK(st);
  EXPECT_GT(loops, 4);
}

TEST_F(WorkerTest, ExternalStopFlagIsSeen) {
  std::atomic<bool> stop{true};
  WorkerOptions o;
  o.stop = &stop;
  auto w = make(o);
  bool seen = false;
  w->spawn([&](Context& ctx) { seen = ctx.stop_requested(); });
  ASSERT_OK(w->run());
  EXPECT_TRUE(seen);
}

struct Counted {
  explicit Counted(int* n) : n(n) {}
  ~Counted() { ++*n; }
  int* n;
};

TEST_F(WorkerTest, DestroyingAWorkerUnwindsSuspendedCoroutines) {
  int destroyed = 0, resumed = 0;
  auto queued = std::make_shared<int>(0);
  {
    WorkerOptions o;
    o.max_coroutines = 4;
    auto w = make(o);
    for (int i = 0; i < 3; ++i)
      w->spawn([&](Context& ctx) {
        Counted c(&destroyed);
        ctx.sleep_for(1h);
        ++resumed;
      });
    w->spawn([&](Context&) { Counted c(&destroyed); });
    w->spawn([queued](Context&) { ++*queued; });  // waits for a slot
    turn(*w, 1);
    EXPECT_EQ(w->live(), 3u);
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(w->queued(), 1u);  // starts at the next turn, which never comes
  }
  EXPECT_EQ(destroyed, 4);
  EXPECT_EQ(resumed, 0);
  EXPECT_EQ(*queued, 0);
  EXPECT_EQ(queued.use_count(), 1);  // the queued function was destroyed
}

}  // namespace
}  // namespace remora::testing
