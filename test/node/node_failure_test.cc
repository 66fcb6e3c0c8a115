// Multi-process failure cases: a peer that never comes, a wrong cluster id,
// a peer SIGKILLed while the others run. Every case must end in bounded time
// with a clear error, never a hang.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "node/node_bodies.h"
#include "node/node_test_util.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 20s;
constexpr auto kDetectBound = 5s;  // SIGKILL -> survivors see PeerGone

class NodeFailureTest : public ::testing::TestWithParam<Transport> {
 protected:
  ClusterSpec spec(uint32_t nodes) const {
    ClusterSpec s;
    s.nodes = nodes;
    s.threads = 2;
    s.tls = GetParam().tls;
    s.cluster_id = std::string("failure-") + GetParam().name;
    s.connect_timeout_ms = 1500;
    s.peer_timeout_ms = 1000;
    return s;
  }
  // Asserts every node in `ids` noted "gone:<victim>" within kDetectBound
  // of `killed_at`.
  void expect_detected(std::initializer_list<NodeId> ids, NodeId victim,
                       std::chrono::steady_clock::time_point killed_at) {
    const std::string note = "gone:" + std::to_string(victim);
    for (NodeId id : ids) {
      ASSERT_TRUE(pc_.wait_note(id, note, kDetectBound + 1s))
          << "node " << id << " never saw node " << victim << " gone\n"
          << pc_.summary();
      EXPECT_LT(pc_.outcome(id).find_note(note)->at - killed_at, kDetectBound) << pc_.summary();
    }
  }

  void serve_through_a_kill(bool warm);

  ProcessCluster pc_;
};

TEST_P(NodeFailureTest, PeerThatNeverComesTimesOutNamingIt) {
  auto cfg = make_config(spec(2));
  ASSERT_OK(cfg);
  pc_.launch(*cfg, 0, start_only_body());  // node 1 is never started
  pc_.wait_all(kDeadline);
  const ChildOutcome& out = pc_.outcome(0);
  ASSERT_TRUE(out.reported) << out.describe();
  EXPECT_EQ(out.report.code, Code::kTimeout) << out.describe();
  const std::string peer = "1(127.0.0.1:" + std::to_string(cfg->nodes[1].port) + ")";
  EXPECT_NE(out.report.message.find(peer), std::string::npos) << out.report.message;
  const auto j = report_json(out);
  EXPECT_GE(j["start_ms"].get<int64_t>(), 1500 - 50);  // waited the whole connect timeout
  EXPECT_LT(j["start_ms"].get<int64_t>(), 1500 + 2000);
  EXPECT_LT(out.elapsed_s(), 8.0);
}

TEST_P(NodeFailureTest, WrongClusterIdIsRefusedByBoth) {
  ClusterSpec good = spec(2), other = spec(2);
  other.cluster_id = "someone-else";
  const uint16_t base = reserve_ports(2);
  auto cfg0 = make_config(good, base);
  auto cfg1 = make_config(other, base);
  ASSERT_OK(cfg0);
  ASSERT_OK(cfg1);
  pc_.launch(*cfg0, 0, start_only_body());
  pc_.launch(*cfg1, 1, start_only_body());
  pc_.wait_all(kDeadline);
  const ChildOutcome& n0 = pc_.outcome(0);
  const ChildOutcome& n1 = pc_.outcome(1);
  ASSERT_TRUE(n0.reported && n1.reported) << pc_.summary();
  // Node 0 dials node 1, which answers with a REJECT naming the reason.
  EXPECT_EQ(n0.report.code, Code::kRefused) << n0.describe();
  EXPECT_NE(n0.report.message.find("wrong cluster id"), std::string::npos) << n0.describe();
  // Node 1 logs the refusal and never gets a valid peer.
  EXPECT_EQ(n1.report.code, Code::kTimeout) << n1.describe();
  EXPECT_NE(n1.log.find("wrong cluster id"), std::string::npos) << n1.describe();
  EXPECT_LT(n0.elapsed_s(), 6.0);
  EXPECT_LT(n1.elapsed_s(), 6.0);
}

TEST_P(NodeFailureTest, SigkilledPeerIsSeenGoneAndOpsFailFast) {
  auto cfg = make_config(spec(3));
  ASSERT_OK(cfg);
  for (NodeId id = 0; id < 3; ++id) pc_.launch(*cfg, id, watch_peer_body(2, 15s));
  for (NodeId id = 0; id < 3; ++id) ASSERT_TRUE(pc_.wait_note(id, "ready", 15s)) << pc_.summary();
  const auto killed_at = std::chrono::steady_clock::now();
  pc_.kill(2, SIGKILL);
  ASSERT_NO_FATAL_FAILURE(expect_detected({0, 1}, 2, killed_at));
  pc_.wait_all(10s);
  for (NodeId id = 0; id < 2; ++id) {
    const ChildOutcome& out = pc_.outcome(id);
    ASSERT_TRUE(out.status().ok()) << out.describe();
    EXPECT_FALSE(out.killed) << "node " << id << " hung after the failure";
    const auto j = report_json(out);
    EXPECT_NE(out.log.find("node 2 is gone"), std::string::npos) << out.describe();
    EXPECT_EQ(j["read_code"], "PeerGone") << out.describe();
    EXPECT_LT(j["read_ms"].get<int64_t>(), 1000);
    EXPECT_EQ(j["barrier_code"], "PeerGone") << out.describe();
    EXPECT_LT(j["barrier_ms"].get<int64_t>(), 1000);
  }
  EXPECT_TRUE(pc_.outcome(2).killed);
}

// Three nodes serve; node 2 is SIGKILLed; 0 and 1 see it gone, keep serving
// and stop cleanly on SIGTERM.
void NodeFailureTest::serve_through_a_kill(bool warm) {
  auto cfg = make_config(spec(3));
  ASSERT_OK(cfg);
  for (NodeId id = 0; id < 3; ++id) pc_.launch(*cfg, id, serve_body(2, warm));
  for (NodeId id = 0; id < 3; ++id) ASSERT_TRUE(pc_.wait_note(id, "started", 15s)) << pc_.summary();
  const auto killed_at = std::chrono::steady_clock::now();
  pc_.kill(2, SIGKILL);
  ASSERT_NO_FATAL_FAILURE(expect_detected({0, 1}, 2, killed_at));
  pc_.kill(0, SIGTERM);
  pc_.kill(1, SIGTERM);
  pc_.wait_all(10s);
  for (NodeId id = 0; id < 2; ++id) {
    const ChildOutcome& out = pc_.outcome(id);
    ASSERT_TRUE(out.status().ok()) << out.describe();
    EXPECT_FALSE(out.killed);
    const auto j = report_json(out);
    EXPECT_EQ(j["workload"], "serve");
    EXPECT_EQ(j["ok"], true);
  }
}

TEST_P(NodeFailureTest, ServeSurvivesSigkilledPeerAndStopsOnSigterm) {
  serve_through_a_kill(/*warm=*/true);
}

// UCX 1.13.1 over tcp aborts the survivors (assertions in
// ucp_request_send_state_ff or uct_tcp_ep, a crash in
// ucp_ep_do_uct_ep_am_keepalive) when a peer dies while endpoints are still
// being wired up; that happened in 1 run in 5 to 20 here. Node::start() now
// wires every endpoint before it returns, so a kill right after start() —
// with no traffic of the test's own first — must be survived.
TEST_P(NodeFailureTest, PeerKilledRightAfterStartDoesNotCrashSurvivors) {
  serve_through_a_kill(/*warm=*/false);
}

INSTANTIATE_TEST_SUITE_P(Ucx, NodeFailureTest, ::testing::ValuesIn(kTransports), transport_name);

}  // namespace
}  // namespace remora::testing
