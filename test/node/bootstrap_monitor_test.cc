// Bootstrap after connect_all(): barriers, heartbeats and failure detection
// against a peer played by the test (node 1; node 0 under test).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "node/bootstrap_test_util.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

class BootstrapMonitorTest : public BootstrapTest {
 protected:
  void connect(uint32_t peer_ms) {
    ASSERT_NO_FATAL_FAILURE(make(0, 2, 3000, peer_ms));
    auto l = listen_tcp("127.0.0.1", port(1));
    ASSERT_OK(l);
    start_connect();
    auto fd = accept_tcp(l->get(), 5000ms);
    ASSERT_OK(fd);
    peer_ = std::move(*fd);
    auto hello = read_within(peer_.get(), 5s);
    ASSERT_OK(hello);
    ASSERT_OK(write_control(peer_.get(), ControlType::kHello, hello_from(1)));
    ASSERT_OK(connect_result());
  }
  // Next message from node 0 that is not a heartbeat.
  Result<ControlMsg> next_non_heartbeat() {
    for (int i = 0; i < 100; ++i) {
      auto m = read_within(peer_.get(), 2s);
      if (!m.ok() || m->type != ControlType::kHeartbeat) return m;
    }
    return Status::Internal("only heartbeats");
  }
  static std::vector<uint8_t> u64(uint64_t v) {
    std::vector<uint8_t> b(8);
    std::memcpy(b.data(), &v, 8);
    return b;
  }
  Result<bool> reached_within(uint64_t k, std::chrono::milliseconds ms) {
    const auto deadline = Clock::now() + ms;
    for (;;) {
      auto r = boot_->barrier_reached(k);
      if (!r.ok() || *r || Clock::now() > deadline) return r;
      std::this_thread::sleep_for(5ms);
    }
  }
  void expect_gone(const std::string& words, bool clean) {
    ASSERT_TRUE(gone_.wait(3s)) << "node 1 never reported gone";
    std::lock_guard<std::mutex> g(gone_.mu);
    EXPECT_EQ(gone_.id, 1);
    EXPECT_EQ(gone_.clean, clean);
    EXPECT_NE(gone_.reason.find(words), std::string::npos) << gone_.reason;
    EXPECT_EQ(gone_.calls, 1);
  }

  Fd peer_;
};

TEST_F(BootstrapMonitorTest, BarrierCountsOnlyWellFormedBarrierMessages) {
  ASSERT_NO_FATAL_FAILURE(connect(2000));
  const uint64_t k = boot_->begin_barrier();
  EXPECT_EQ(k, 1u);
  auto m = next_non_heartbeat();
  ASSERT_OK(m);
  EXPECT_EQ(m->type, ControlType::kBarrier);
  EXPECT_EQ(m->payload, u64(k));
  ASSERT_OK(
      write_control(peer_.get(), ControlType::kBarrier, std::vector<uint8_t>{1, 0, 0}));  // ignored
  auto r = reached_within(k, 200ms);
  ASSERT_OK(r);
  EXPECT_FALSE(*r);
  ASSERT_OK(write_control(peer_.get(), ControlType::kBarrier, u64(k)));
  r = reached_within(k, 2000ms);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_TRUE(fabrics_[0]->peer_alive(1));
}

TEST_F(BootstrapMonitorTest, SilenceMarksThePeerGone) {
  ASSERT_NO_FATAL_FAILURE(connect(400));
  const auto t0 = Clock::now();
  ASSERT_NO_FATAL_FAILURE(expect_gone("no heartbeat for 400 ms", false));
  EXPECT_GE(Clock::now() - t0, 350ms);
  EXPECT_FALSE(fabrics_[0]->peer_alive(1));
  const uint64_t k = boot_->begin_barrier();
  EXPECT_EQ(boot_->barrier_reached(k).status().code(), Code::kPeerGone);
}

TEST_F(BootstrapMonitorTest, ByeThenCloseIsACleanLeave) {
  ASSERT_NO_FATAL_FAILURE(connect(2000));
  ASSERT_OK(write_control(peer_.get(), ControlType::kBye, {}));
  peer_ = Fd();
  ASSERT_NO_FATAL_FAILURE(expect_gone("left the cluster", true));
  EXPECT_FALSE(fabrics_[0]->peer_alive(1));
}

TEST_F(BootstrapMonitorTest, CloseWithoutByeIsAFailure) {
  ASSERT_NO_FATAL_FAILURE(connect(2000));
  peer_ = Fd();
  ASSERT_NO_FATAL_FAILURE(expect_gone("control connection lost", false));
}

TEST_F(BootstrapMonitorTest, GarbageOnTheControlConnectionIsAFailure) {
  ASSERT_NO_FATAL_FAILURE(connect(2000));
  ASSERT_OK(send_raw(peer_.get(), raw_header(0x0badf00d, kControlVersion, 3, 0)));
  ASSERT_NO_FATAL_FAILURE(expect_gone("bad control magic", false));
}

TEST_F(BootstrapMonitorTest, UnexpectedHelloIsIgnored) {
  ASSERT_NO_FATAL_FAILURE(connect(2000));
  ASSERT_OK(write_control(peer_.get(), ControlType::kHello, hello_from(1)));
  ASSERT_OK(write_control(peer_.get(), ControlType::kHeartbeat, {}));
  EXPECT_FALSE(gone_.wait(300ms)) << gone_.reason;
  EXPECT_TRUE(fabrics_[0]->peer_alive(1));
}

}  // namespace
}  // namespace remora::testing
