// Coroutines on real multi-process clusters over UCX (shared memory and
// tcp): exact atomics, byte-exact data and RPC from 64 coroutines per
// thread; a peer killed while coroutines wait on it.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "node/node_test_util.h"
#include "runtime/runtime_bodies.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 40s;  // hard cap on a whole cluster run

class RuntimeClusterTest : public ::testing::TestWithParam<Transport> {
 protected:
  ClusterSpec spec(uint32_t nodes, uint32_t threads) const {
    return spec_for(GetParam(), "runtime-", nodes, threads);
  }
  ProcessCluster pc_;
};

TEST_P(RuntimeClusterTest, SixtyFourCoroutinesPerThreadExactResults) {
  constexpr uint32_t kNodes = 3, kThreads = 2, kCoroutines = 64, kRounds = 6;
  auto cfg = make_config(spec(kNodes, kThreads));
  ASSERT_OK(cfg);
  for (const NodeConfig& n : cfg->nodes)
    pc_.launch(*cfg, n.id, coroutine_traffic_body(kCoroutines, kRounds));
  pc_.wait_all(kDeadline);
  const uint64_t per_node = uint64_t{kThreads} * kCoroutines * kRounds;
  const uint64_t total = per_node * kNodes;
  std::vector<uint64_t> olds;
  for (NodeId id = 0; id < kNodes; ++id) {
    ASSERT_TRUE(pc_.outcome(id).status().ok()) << pc_.summary();
    auto j = report_json(pc_.outcome(id));
    ASSERT_TRUE(j.is_object());
    for (uint64_t v : j["faa_old"]) olds.push_back(v);
    EXPECT_EQ(j["faa_final"], total) << "node " << id;
    EXPECT_EQ(j["checked_bytes"], per_node * 256) << "node " << id;
    EXPECT_EQ(j["rpc_ok"], per_node) << "node " << id;
    for (uint32_t peak : j["peak_live"]) EXPECT_EQ(peak, kCoroutines) << "node " << id;
  }
  std::sort(olds.begin(), olds.end());
  std::vector<uint64_t> want(total);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_TRUE(olds == want) << "FAA old values are not 0.." << total - 1 << " each exactly once";
}

TEST_P(RuntimeClusterTest, PeerKilledWhileCoroutinesWaitGivesPeerGone) {
  constexpr uint32_t kNodes = 3, kThreads = 2, kCoroutines = 8;
  constexpr NodeId kVictim = 2;
  constexpr auto kCallTimeout = 15s;
  ClusterSpec s = spec(kNodes, kThreads);
  s.peer_timeout_ms = 1000;
  auto cfg = make_config(s);
  ASSERT_OK(cfg);
  const ChildGate gate;  // the victim lets the survivors start
  for (const NodeConfig& n : cfg->nodes)
    pc_.launch(*cfg, n.id, peer_gone_body(kVictim, kCoroutines, kCallTimeout, gate));
  ASSERT_TRUE(pc_.wait_note(kVictim, "ready", 20s)) << pc_.summary();
  // "waiting": every coroutine of that node is suspended in its wait.
  ASSERT_TRUE(pc_.wait_note(0, "waiting", 20s)) << pc_.summary();
  ASSERT_TRUE(pc_.wait_note(1, "waiting", 20s)) << pc_.summary();
  pc_.kill(kVictim, SIGKILL);
  pc_.wait_all(kDeadline);
  for (NodeId id : {NodeId{0}, NodeId{1}}) {
    const ChildOutcome& out = pc_.outcome(id);
    ASSERT_TRUE(out.status().ok()) << pc_.summary();
    auto j = report_json(out);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["ended"]["PeerGone"], kThreads * kCoroutines) << out.describe();
    // Woken by the failure detector, long before the calls' own timeout.
    EXPECT_LT(j["max_ms"].get<int64_t>(), 10000) << out.describe();
  }
}

TEST_P(RuntimeClusterTest, RunWorkersReportsTheFirstErrorOfAnyThread) {
  constexpr uint32_t kThreads = 2, kCoroutines = 10;
  auto cfg = make_config(spec(1, kThreads));
  ASSERT_OK(cfg);
  pc_.launch(*cfg, 0, run_workers_errors_body(kCoroutines));
  pc_.wait_all(kDeadline);
  ASSERT_TRUE(pc_.outcome(0).status().ok()) << pc_.summary();
  auto j = report_json(pc_.outcome(0));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["bad_option"], "InvalidArgument");
  EXPECT_EQ(j["throwing_fn"], "Internal");
  EXPECT_EQ(j["one_failed"], "Corrupt");
  EXPECT_NE(j["one_failed_msg"].get<std::string>().find("engine 1"), std::string::npos) << j.dump();
  EXPECT_EQ(j["clean"], "OK");
  EXPECT_EQ(j["ran"], kThreads * kCoroutines);
}

INSTANTIATE_TEST_SUITE_P(Ucx, RuntimeClusterTest, ::testing::ValuesIn(kTransports), transport_name);

}  // namespace
}  // namespace remora::testing
