// Multi-process clusters doing real work over UCX (shared memory and tcp):
// the check workload, concurrent atomics, ring floods, start order.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "node/node_bodies.h"
#include "node/node_test_util.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 25s;  // hard cap on a whole cluster run

class NodeClusterTest : public ::testing::TestWithParam<Transport> {
 protected:
  ClusterSpec spec(uint32_t nodes, uint32_t threads) const {
    return spec_for(GetParam(), "node-test-", nodes, threads);
  }

  // Launches one child per node with `body`, waits, asserts every one OK.
  void run_all(const Config& cfg, const ChildBody& body) {
    for (const NodeConfig& n : cfg.nodes) pc_.launch(cfg, n.id, body);
    pc_.wait_all(kDeadline);
    for (const NodeConfig& n : cfg.nodes)
      ASSERT_TRUE(pc_.outcome(n.id).status().ok()) << pc_.summary();
  }

  ProcessCluster pc_;
};

// What the check workload counts per node (src/node/workload_check.cc):
// every thread reads the 256 KiB home area of and writes a 128 KiB mailbox
// on every peer, makes two bounds refusals and rounds/4+1 echo calls per
// peer, 2 atomics per round and streams rounds*4 records to every peer.
TEST_P(NodeClusterTest, CheckWorkloadThreeNodesTwoThreads) {
  constexpr uint64_t kNodes = 3, kThreads = 2, kRounds = 100, kPeers = kNodes - 1;
  auto cfg = make_config(spec(kNodes, kThreads));
  ASSERT_OK(cfg);
  WorkloadOptions o;
  o.name = "check";
  o.rounds = kRounds;
  ASSERT_NO_FATAL_FAILURE(run_all(*cfg, workload_body(o)));
  for (NodeId id = 0; id < kNodes; ++id) {
    SCOPED_TRACE(pc_.outcome(id).describe());
    auto j = report_json(pc_.outcome(id));
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["node"], id);
    EXPECT_EQ(j["workload"], "check");
    EXPECT_EQ(j["ok"], true);
    EXPECT_EQ(j["threads"], kThreads);
    EXPECT_EQ(j["peers"], kPeers);
    EXPECT_NE(j["transport"].get<std::string>().find(GetParam().tls), std::string::npos);
    EXPECT_EQ(j["read_bytes"], (256u << 10) * kPeers * kThreads);
    EXPECT_EQ(j["write_bytes"], (128u << 10) * kPeers * kThreads);
    EXPECT_EQ(j["refusals"], 2 * kPeers * kThreads);
    EXPECT_EQ(j["rpc_calls"], (kRounds / 4 + 1) * kPeers * kThreads);
    EXPECT_EQ(j["atomics"], 2 * kRounds * kThreads);
    EXPECT_EQ(j["ring_records"], 4 * kRounds * kPeers * kThreads);
    // A thread's CAS fails on its first guess of a round, or after another
    // thread won since its previous attempt: per thread at most
    // rounds + every win in the cluster.
    EXPECT_LE(j["cas_retries"].get<uint64_t>(), kThreads * (kRounds + kRounds * kNodes * kThreads));
    EXPECT_GT(j["elapsed_s"].get<double>(), 0.0);
  }
}

TEST_P(NodeClusterTest, ConcurrentCasAndFaaOnOneWordEndExact) {
  constexpr uint32_t kNodes = 3, kThreads = 2, kRounds = 300;
  auto cfg = make_config(spec(kNodes, kThreads));
  ASSERT_OK(cfg);
  ASSERT_NO_FATAL_FAILURE(run_all(*cfg, atomics_body(kRounds)));
  const uint64_t total = uint64_t{kRounds} * kNodes * kThreads;
  expect_exact_atomics(pc_, kNodes, total);
}

TEST_P(NodeClusterTest, RingFloodLosesAndDuplicatesNothing) {
  constexpr uint32_t kNodes = 3, kThreads = 2;
  constexpr uint64_t kRecords = 3000;  // per sender thread
  ClusterSpec s = spec(kNodes, kThreads);
  s.ring_size = "4KiB";  // ~40 records: the senders outrun the receiver
  auto cfg = make_config(s);
  ASSERT_OK(cfg);
  ASSERT_NO_FATAL_FAILURE(run_all(*cfg, ring_flood_body(kRecords, 200ms)));
  auto rx = report_json(pc_.outcome(0));
  ASSERT_TRUE(rx.is_object());
  EXPECT_EQ(rx["role"], "receiver");
  EXPECT_EQ(rx["expected"], kRecords * (kNodes - 1) * kThreads);
  EXPECT_EQ(rx["received"], rx["expected"]);
  EXPECT_EQ(rx["dups"], 0u);
  EXPECT_EQ(rx["gaps"], 0u);
  EXPECT_EQ(rx["damaged"], 0u);
  for (NodeId id = 1; id < kNodes; ++id) {
    auto tx = report_json(pc_.outcome(id));
    ASSERT_TRUE(tx.is_object());
    EXPECT_EQ(tx["sent"], kRecords * kThreads);
    // The receiver naps 200 ms without polling: the 4 KiB rings must fill.
    EXPECT_GT(tx["full"].get<uint64_t>(), 0u) << "node " << id << " never found its ring full";
  }
}

TEST_P(NodeClusterTest, StartOrderDoesNotMatter) {
  constexpr uint32_t kNodes = 3;
  auto cfg = make_config(spec(kNodes, 1));
  ASSERT_OK(cfg);
  WorkloadOptions o;
  o.rounds = 20;
  for (NodeId id = 0; id < kNodes; ++id)  // node 2 first, node 0 last
    pc_.launch(*cfg, id, workload_body(o), std::chrono::milliseconds(700 * (kNodes - 1 - id)));
  pc_.wait_all(kDeadline);
  for (NodeId id = 0; id < kNodes; ++id) {
    ASSERT_TRUE(pc_.outcome(id).status().ok()) << pc_.summary();
    EXPECT_EQ(report_json(pc_.outcome(id))["ok"], true);
  }
  const Note* first = pc_.outcome(2).find_note("started");
  const Note* last = pc_.outcome(0).find_note("started");
  ASSERT_TRUE(first && last);
  // Node 2 came up first but cannot finish start() before node 0 arrived
  // (node 0 was launched first, with a 1400 ms delay).
  EXPECT_GE(first->at, pc_.outcome(0).launched + 1400ms);
  EXPECT_GE(last->at, pc_.outcome(0).launched + 1400ms);
}

INSTANTIATE_TEST_SUITE_P(Ucx, NodeClusterTest, ::testing::ValuesIn(kTransports), transport_name);

}  // namespace
}  // namespace remora::testing
