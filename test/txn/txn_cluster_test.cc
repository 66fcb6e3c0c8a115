// Transactions on real multi-process clusters over UCX (shared memory and
// tcp): SmallBank under heavy contention with the money invariant, the
// strict-serializability checker and byte-equal replicas; concurrent alloc
// and free across nodes; lock-free reads never torn or locked.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "histcheck/checker.h"
#include "node/node_test_util.h"
#include "support/status_matchers.h"
#include "txn/txn_bodies.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 150s;

class TxnClusterTest : public ::testing::TestWithParam<Transport> {
 protected:
  ClusterSpec spec(uint32_t threads) const {
    ClusterSpec s = spec_for(GetParam(), "txn-", 3, threads);
    s.region_size = "4MiB";
    return s;
  }
  std::string temp_dir(const std::string& name) {
    auto d = std::filesystem::temp_directory_path() /
             fmt::format("remora-{}-{}-{}", name, GetParam().name, getpid());
    std::filesystem::remove_all(d);
    dirs_.push_back(d);
    return d.string();
  }
  void TearDown() override {
    if (!HasFailure())
      for (auto& d : dirs_) std::filesystem::remove_all(d);
  }
  ProcessCluster pc_;
  std::vector<std::filesystem::path> dirs_;
};

TEST_P(TxnClusterTest, BankUnderHeavyContentionKeepsMoneyReplicasAndStrictSerializability) {
  auto cfg = make_config(spec(2));
  ASSERT_OK(cfg);
  bank::NodeRunOptions o;
  o.bank.accounts = 200;
  o.bank.hot = 6;  // six hot accounts for the whole cluster
  o.bank.hot_fraction = 0.9;
  o.run.max_ops = GetParam().name == std::string("tcp") ? 30 : 60;
  o.run.duration = 60s;
  o.run.coroutines = 16;
  o.run.history_dir = temp_dir("bank-history");
  for (const NodeConfig& n : cfg->nodes) pc_.launch(*cfg, n.id, bank_body(o));
  pc_.wait_all(kDeadline);
  uint64_t committed = 0, conflicts = 0;
  for (const NodeConfig& n : cfg->nodes) {
    ASSERT_TRUE(pc_.outcome(n.id).status().ok()) << pc_.summary();
    auto j = report_json(pc_.outcome(n.id));
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["replicas"], "equal") << "node " << n.id;
    committed += j["committed"].get<uint64_t>();
    conflicts += j["aborts"]["lock_refused"].get<uint64_t>() + j["aborts"]["validation"].get<uint64_t>() +
                 j["aborts"]["read_locked"].get<uint64_t>();
    if (n.id == 0) {
      ASSERT_TRUE(j.contains("invariant"));
      EXPECT_TRUE(j["invariant"]["ok"].get<bool>()) << j["invariant"].dump();
    }
  }
  EXPECT_GT(committed, 0u);
  EXPECT_GT(conflicts, 0u) << "the workload is meant to contend";
  auto records = histcheck::load_history({o.run.history_dir});
  ASSERT_OK(records);
  auto result = histcheck::check_history(*records);
  ASSERT_OK(result);
  EXPECT_TRUE(result->ok()) << result->summary();
  EXPECT_GE(result->committed, committed) << "every committed transaction is in the history";
  EXPECT_TRUE(result->strict) << "the apps write load records";
  EXPECT_GT(result->edges_rw + result->edges_ww + result->edges_wr, 0u);
}

TEST_P(TxnClusterTest, ConcurrentAllocAndFreeAcrossNodes) {
  auto cfg = make_config(spec(2));
  ASSERT_OK(cfg);
  const uint32_t rounds = GetParam().name == std::string("tcp") ? 15 : 60;
  for (const NodeConfig& n : cfg->nodes) pc_.launch(*cfg, n.id, alloc_free_body(8, rounds));
  pc_.wait_all(kDeadline);
  uint64_t allocs = 0, frees = 0, live = 0;
  for (const NodeConfig& n : cfg->nodes) {
    ASSERT_TRUE(pc_.outcome(n.id).status().ok()) << pc_.summary();
    auto j = report_json(pc_.outcome(n.id));
    ASSERT_TRUE(j.is_object());
    allocs += j["allocs"].get<uint64_t>();
    frees += j["frees"].get<uint64_t>();
    live += j["live"].get<uint64_t>();
  }
  EXPECT_EQ(allocs, uint64_t{3} * 2 * 8 * rounds);
  EXPECT_EQ(allocs - frees, live) << "every allocation is either freed or reachable";
}

TEST_P(TxnClusterTest, LockFreeReadsNeverSeeTornOrLockedObjects) {
  auto cfg = make_config(spec(1));
  ASSERT_OK(cfg);
  const uint32_t rounds = GetParam().name == std::string("tcp") ? 100 : 2000;
  for (const NodeConfig& n : cfg->nodes) pc_.launch(*cfg, n.id, lockfree_body(4, rounds));
  pc_.wait_all(kDeadline);
  for (const NodeConfig& n : cfg->nodes) {
    ASSERT_TRUE(pc_.outcome(n.id).status().ok()) << pc_.summary();
    auto j = report_json(pc_.outcome(n.id));
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["writes"], rounds);
    EXPECT_GT(j["reads"].get<uint64_t>(), 0u) << j.dump();
    EXPECT_EQ(j["torn"], 0) << j.dump();
    EXPECT_EQ(j["regress"], 0) << j.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Ucx, TxnClusterTest, ::testing::ValuesIn(kTransports), transport_name);

}  // namespace
}  // namespace remora::testing
