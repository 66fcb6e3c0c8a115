// Bootstrap, dialling side: the test listens as the higher node and answers
// the hello with refusals, lies and garbage.
#include <gtest/gtest.h>

#include "node/bootstrap_test_util.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

class BootstrapConnectTest : public BootstrapTest {
 protected:
  // Node 0 under test; the test plays node 1 (of `nodes`).
  void listen_as_node1(uint32_t nodes = 2) {
    ASSERT_NO_FATAL_FAILURE(make(0, nodes, /*connect_ms=*/3000));
    auto l = listen_tcp("127.0.0.1", port(1));
    ASSERT_OK(l);
    listener_ = std::move(*l);
    start_connect();
  }
  // Accepts node 0's connection and checks its hello.
  Fd accept_hello() {
    auto fd = accept_tcp(listener_.get(), 5000ms);
    EXPECT_OK(fd);
    if (!fd.ok()) return Fd();
    auto m = read_within(fd->get(), 5s);
    EXPECT_OK(m);
    if (!m.ok()) return Fd();
    EXPECT_EQ(m->type, ControlType::kHello);
    auto h = decode_hello(m->payload);
    EXPECT_OK(h);
    if (h.ok()) {
      EXPECT_EQ(h->node, 0);
      EXPECT_EQ(h->fabric_info, infos_[0]);
    }
    return std::move(*fd);
  }
  // Answers with `type` + `payload`; returns what connect_all() returned.
  Status answer(ControlType type, const std::vector<uint8_t>& payload, Fd* keep = nullptr) {
    Fd fd = accept_hello();
    EXPECT_OK(write_control(fd.get(), type, payload));
    Status st = connect_result();
    if (keep) *keep = std::move(fd);
    return st;
  }
  static void expect(const Status& st, Code code, const std::string& words) {
    EXPECT_EQ(st.code(), code) << st.to_string();
    EXPECT_NE(st.message().find(words), std::string::npos) << st.to_string();
  }
  // After a refusal of our hello, node 0 tells us why.
  static void expect_reject(Fd& fd, const std::string& words) {
    auto m = read_within(fd.get(), 2s);
    ASSERT_OK(m);
    EXPECT_EQ(m->type, ControlType::kReject);
    EXPECT_NE(text_of(*m).find(words), std::string::npos) << text_of(*m);
  }

  Fd listener_;
};

TEST_F(BootstrapConnectTest, RejectIsFatalAndCarriesTheReason) {
  ASSERT_NO_FATAL_FAILURE(listen_as_node1());
  Status st = answer(ControlType::kReject, bytes_of("go away"));
  expect(st, Code::kRefused,
         "node 1 at 127.0.0.1:" + std::to_string(port(1)) + " refused us: go away");
}

TEST_F(BootstrapConnectTest, AnswerFromAnotherClusterIsRefused) {
  ASSERT_NO_FATAL_FAILURE(listen_as_node1());
  Fd fd;
  Status st = answer(ControlType::kHello, hello_from(1, "other"), &fd);
  expect(st, Code::kRefused, "wrong cluster id \"other\"");
  expect_reject(fd, "wrong cluster id");
}

TEST_F(BootstrapConnectTest, AnswerClaimingAnotherNodeIsRefused) {
  ASSERT_NO_FATAL_FAILURE(listen_as_node1(3));
  Fd fd;
  Status st = answer(ControlType::kHello, hello_from(2), &fd);
  expect(st, Code::kRefused, "claims to be node 2");
  expect_reject(fd, "claims to be node 2");
}

TEST_F(BootstrapConnectTest, AnswerThatIsNoHelloIsRefused) {
  ASSERT_NO_FATAL_FAILURE(listen_as_node1());
  expect(answer(ControlType::kHeartbeat, {}), Code::kRefused, "answered with no hello");
}

TEST_F(BootstrapConnectTest, MalformedHelloAnswerFails) {
  ASSERT_NO_FATAL_FAILURE(listen_as_node1());
  expect(answer(ControlType::kHello, bytes_of("\x01\x02")), Code::kInvalidArgument,
         "malformed hello");
}

TEST_F(BootstrapConnectTest, GarbageAnswerFailsNamingThePeer) {
  ASSERT_NO_FATAL_FAILURE(listen_as_node1());
  Fd fd = accept_hello();
  ASSERT_OK(send_raw(fd.get(), raw_header(0xbadc0ffe, kControlVersion, 1, 0)));
  Status st = connect_result();
  expect(st, Code::kInvalidArgument, "bad control magic");
  expect(st, Code::kInvalidArgument, "node 1 at 127.0.0.1:" + std::to_string(port(1)));
}

TEST_F(BootstrapConnectTest, HangUpBeforeAnsweringIsRetried) {
  ASSERT_NO_FATAL_FAILURE(listen_as_node1());
  { Fd first = accept_hello(); }  // closed without an answer
  Fd fd;
  EXPECT_OK(answer(ControlType::kHello, hello_from(1), &fd));
  EXPECT_TRUE(fabrics_[0]->peer_alive(1));
}

TEST_F(BootstrapConnectTest, SilentPeerTimesOutWithinTheConnectTimeout) {
  ASSERT_NO_FATAL_FAILURE(make(0, 2, /*connect_ms=*/1000));
  auto l = listen_tcp("127.0.0.1", port(1));
  ASSERT_OK(l);
  listener_ = std::move(*l);
  const auto t0 = Clock::now();
  start_connect();
  Fd fd = accept_hello();  // and never answer
  Status st = connect_result();
  EXPECT_LT(Clock::now() - t0, 2500ms) << "connect_timeout_ms is 1000";
  expect(st, Code::kTimeout, "1(127.0.0.1:" + std::to_string(port(1)) + ")");
}

}  // namespace
}  // namespace remora::testing
