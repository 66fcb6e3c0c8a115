// Bootstrap, accepting side: strangers and malformed hellos are answered
// with a REJECT naming the reason, and never stop the wait for real peers.
#include <gtest/gtest.h>

#include "node/bootstrap_test_util.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

class BootstrapAcceptTest : public BootstrapTest {
 protected:
  // Sends `bytes` on a fresh connection; returns the REJECT's reason.
  std::string rejection(const std::vector<uint8_t>& bytes) {
    Fd fd = dial();
    if (!send_raw(fd.get(), bytes).ok()) return "send failed";
    auto m = read_within(fd.get(), 8s);
    if (!m.ok()) return "no answer: " + m.status().to_string();
    if (m->type != ControlType::kReject) return "answered type " + std::to_string(int(m->type));
    return text_of(*m);
  }
  static std::vector<uint8_t> framed(ControlType t, const std::vector<uint8_t>& payload) {
    auto b = raw_header(kControlMagic, kControlVersion, static_cast<uint16_t>(t),
                        static_cast<uint32_t>(payload.size()));
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
  }
  // The real peer `n` says hello and must get the bootstrap's hello back.
  void join_as(NodeId n, Fd& fd) {
    fd = dial();
    ASSERT_OK(send_raw(fd.get(), framed(ControlType::kHello, hello_from(n))));
    auto m = read_within(fd.get(), 5s);
    ASSERT_OK(m);
    ASSERT_EQ(m->type, ControlType::kHello) << text_of(*m);
    auto h = decode_hello(m->payload);
    ASSERT_OK(h);
    EXPECT_EQ(h->cluster_id, "boot");
    EXPECT_EQ(h->node, self_);
    EXPECT_EQ(h->fabric_info, infos_[self_]);
  }
};

TEST_F(BootstrapAcceptTest, MalformedHellosAreRejectedWithTheirReason) {
  ASSERT_NO_FATAL_FAILURE(make(1, 2));
  start_connect();
  const struct {
    std::vector<uint8_t> bytes;
    const char* reason;
  } cases[] = {
      {raw_header(0x12345678, kControlVersion, 1, 0), "bad control magic"},
      {bytes_of("SSH-2.0-OpenSSH_9.2\r\n"), "bad control magic"},
      {raw_header(kControlMagic, 9, 1, 0), "protocol version 9"},
      {raw_header(kControlMagic, kControlVersion, 1, kMaxControlPayload + 1), "exceeds"},
      {framed(ControlType::kHeartbeat, {}), "expected a hello"},
      {framed(ControlType::kHello, bytes_of("abc")), "malformed hello"},
      {framed(ControlType::kHello, hello_from(0, "other")), "wrong cluster id \"other\""},
      {framed(ControlType::kHello, hello_payload("boot", 7)), "node 7 is not in the configuration"},
      {framed(ControlType::kHello, hello_payload("boot", 1)), "node 1 is this node"},
      {framed(ControlType::kHello, hello_payload("boot", 0, {1, 2, 3})), "add_peer(0)"},
  };
  for (const auto& c : cases)
    EXPECT_NE(rejection(c.bytes).find(c.reason), std::string::npos) << c.reason;
  Fd peer;
  ASSERT_NO_FATAL_FAILURE(join_as(0, peer));
  EXPECT_OK(connect_result());
  EXPECT_TRUE(fabrics_[1]->peer_alive(0));
}

TEST_F(BootstrapAcceptTest, DuplicateAndEarlyHigherNodesAreRejected) {
  ASSERT_NO_FATAL_FAILURE(make(2, 4, /*connect_ms=*/1500));  // accepts 0 and 1, dials 3
  start_connect();
  Fd p0, p1;
  ASSERT_NO_FATAL_FAILURE(join_as(0, p0));
  EXPECT_NE(
      rejection(framed(ControlType::kHello, hello_from(0))).find("node 0 is already connected"),
      std::string::npos);
  EXPECT_NE(
      rejection(framed(ControlType::kHello, hello_from(3))).find("node 3 must wait for node 2"),
      std::string::npos);
  ASSERT_NO_FATAL_FAILURE(join_as(1, p1));
  // Node 3 never listens: start fails naming it, within the connect timeout.
  Status st = connect_result();
  EXPECT_EQ(st.code(), Code::kTimeout) << st.to_string();
  EXPECT_NE(st.message().find("3(127.0.0.1:" + std::to_string(port(3)) + ")"), std::string::npos)
      << st.to_string();
  EXPECT_EQ(st.message().find(" 0("), std::string::npos) << st.to_string();
}

TEST_F(BootstrapAcceptTest, SilentStrangerDoesNotStretchTheConnectTimeout) {
  ASSERT_NO_FATAL_FAILURE(make(1, 2, /*connect_ms=*/1000));
  Fd silent = dial();  // connects, never says anything
  const auto t0 = Clock::now();
  start_connect();
  Status st = connect_result();
  EXPECT_EQ(st.code(), Code::kTimeout) << st.to_string();
  EXPECT_LT(Clock::now() - t0, 2500ms) << "connect_timeout_ms is 1000";
}

}  // namespace
}  // namespace remora::testing
