// Verbs backend, multi-process clusters (one process per node, forked by
// the cluster harness), all on the one device the VM has: the check
// workload (every operation, byte-exact, bounds refusals, RPC, rings),
// concurrent CAS/FAA to exact totals, and rings under a fast sender.
// Skips without an RDMA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "fabric/verbs_test_util.h"
#include "node/node_bodies.h"
#include "node/node_test_util.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 90s;  // TCG is slow: a generous hard cap

// The harness's TOML with the transport switched to verbs.
Result<Config> verbs_config(ClusterSpec spec) {
  std::string toml = cluster_toml(spec, reserve_ports(spec.nodes));
  const std::string from = "transport = \"ucx\"";
  const auto at = toml.find(from);
  if (at == std::string::npos) return Status::Internal("harness TOML has no transport line");
  toml.replace(at, from.size(), "transport = \"verbs\"");
  toml += "\n[verbs]\ndevice = \"" + verbs_test_device() + "\"\nport = 1\n";
  return parse_config(toml, "verbs-cluster-test");
}

class VerbsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override { REMORA_SKIP_WITHOUT_RDMA(); }

  ClusterSpec spec(uint32_t nodes, uint32_t threads, const char* name) const {
    ClusterSpec s;
    s.nodes = nodes;
    s.threads = threads;
    s.cluster_id = std::string("verbs-") + name;
    s.connect_timeout_ms = 30000;
    s.peer_timeout_ms = 10000;
    return s;
  }
  void run_all(const Config& cfg, const ChildBody& body) {
    for (const NodeConfig& n : cfg.nodes) pc_.launch(cfg, n.id, body);
    pc_.wait_all(kDeadline);
    for (const NodeConfig& n : cfg.nodes) ASSERT_TRUE(pc_.outcome(n.id).status().ok()) << pc_.summary();
  }

  ProcessCluster pc_;
};

TEST_F(VerbsClusterTest, CheckWorkloadTwoNodes) {
  constexpr uint64_t kNodes = 2, kThreads = 1, kRounds = 40, kPeers = kNodes - 1;
  auto cfg = verbs_config(spec(kNodes, kThreads, "check"));
  ASSERT_OK(cfg);
  WorkloadOptions o;
  o.name = "check";
  o.rounds = kRounds;
  ASSERT_NO_FATAL_FAILURE(run_all(*cfg, workload_body(o)));
  for (NodeId id = 0; id < kNodes; ++id) {
    SCOPED_TRACE(pc_.outcome(id).describe());
    auto j = report_json(pc_.outcome(id));
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["ok"], true);
    EXPECT_NE(j["transport"].get<std::string>().find("verbs(device="), std::string::npos);
    EXPECT_EQ(j["read_bytes"], (256u << 10) * kPeers * kThreads);
    EXPECT_EQ(j["write_bytes"], (128u << 10) * kPeers * kThreads);
    EXPECT_EQ(j["refusals"], 2 * kPeers * kThreads);
    EXPECT_EQ(j["rpc_calls"], (kRounds / 4 + 1) * kPeers * kThreads);
    EXPECT_EQ(j["atomics"], 2 * kRounds * kThreads);
    EXPECT_EQ(j["ring_records"], 4 * kRounds * kPeers * kThreads);
  }
}


TEST_F(VerbsClusterTest, ConcurrentCasAndFaaEndExact) {
  constexpr uint32_t kNodes = 3, kThreads = 1, kRounds = 100;
  auto cfg = verbs_config(spec(kNodes, kThreads, "atomics"));
  ASSERT_OK(cfg);
  ASSERT_NO_FATAL_FAILURE(run_all(*cfg, atomics_body(kRounds)));
  const uint64_t total = uint64_t{kRounds} * kNodes * kThreads;
  expect_exact_atomics(pc_, kNodes, total);
}

TEST_F(VerbsClusterTest, RingFloodLosesAndDuplicatesNothing) {
  constexpr uint32_t kNodes = 2, kThreads = 1;
  constexpr uint64_t kRecords = 2000;
  ClusterSpec s = spec(kNodes, kThreads, "rings");
  s.ring_size = "4KiB";  // the sender outruns the receiver
  auto cfg = verbs_config(s);
  ASSERT_OK(cfg);
  ASSERT_NO_FATAL_FAILURE(run_all(*cfg, ring_flood_body(kRecords, 200ms)));
  auto rx = report_json(pc_.outcome(0));
  ASSERT_TRUE(rx.is_object());
  EXPECT_EQ(rx["expected"], kRecords * (kNodes - 1) * kThreads);
  EXPECT_EQ(rx["received"], rx["expected"]);
  EXPECT_EQ(rx["dups"], 0u);
  EXPECT_EQ(rx["gaps"], 0u);
  EXPECT_EQ(rx["damaged"], 0u);
  auto tx = report_json(pc_.outcome(1));
  ASSERT_TRUE(tx.is_object());
  EXPECT_EQ(tx["sent"], kRecords * kThreads);
  EXPECT_GT(tx["full"].get<uint64_t>(), 0u) << "the sender never found its ring full";
}

}  // namespace
}  // namespace remora::testing
