// The hash table on a real 3-process cluster over UCX shared memory, 2
// threads x 8 coroutines per node: concurrent inserts, erases and puts of
// the same few keys. Per key, present == inserts - erases and the final
// counter + the counters erased == the increments; lookup == get for every
// key; strictly serializable history; replicas equal after truncation.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "ds/cluster_body.h"
#include "histcheck/checker.h"
#include "node/node_test_util.h"
#include "support/status_matchers.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

TEST(DsClusterTest, SharedKeysFromAllNodesStayConsistent) {
  ClusterSpec spec = spec_for(kTransports[0], "ds-", 3, 2);
  spec.region_size = "4MiB";
  auto cfg = make_config(spec);
  ASSERT_OK(cfg);
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("remora-ds-history-{}", getpid());
  std::filesystem::remove_all(dir);
  DsClusterOptions o;
  // DS_COROUTINES=n: another coroutine count per thread (for debugging).
  if (const char* c = std::getenv("DS_COROUTINES")) o.coroutines = static_cast<uint32_t>(std::atoi(c));
  o.history_dir = dir.string();
  ProcessCluster pc;
  for (const NodeConfig& n : cfg->nodes) pc.launch(*cfg, n.id, ds_cluster_body(o));
  pc.wait_all(150s);
  std::vector<int64_t> ins(o.keys), era(o.keys), inc(o.keys), erased(o.keys), final;
  uint64_t committed = 0, lookups = 0;
  for (const NodeConfig& n : cfg->nodes) {
    ASSERT_TRUE(pc.outcome(n.id).status().ok()) << pc.summary();
    auto j = report_json(pc.outcome(n.id));
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["replicas"], "equal");
    for (uint32_t k = 0; k < o.keys; ++k) {
      ins[k] += j["ins"][k].get<int64_t>();
      era[k] += j["era"][k].get<int64_t>();
      inc[k] += j["inc"][k].get<int64_t>();
      erased[k] += j["erased"][k].get<int64_t>();
    }
    const auto f = j["final"].get<std::vector<int64_t>>();
    if (final.empty()) final = f;
    EXPECT_EQ(f, final) << "node " << n.id << " sees another final state";
    committed += j["committed"].get<uint64_t>();
    lookups += j["lookups"].get<uint64_t>();
  }
  ASSERT_EQ(final.size(), o.keys);
  int64_t inserts = 0, erases = 0;
  for (uint32_t k = 0; k < o.keys; ++k) {
    const int64_t present = final[k] >= 0 ? 1 : 0;
    EXPECT_EQ(present, ins[k] - era[k]) << "key " << k;
    EXPECT_EQ(std::max<int64_t>(final[k], 0) + erased[k], inc[k]) << "key " << k;
    inserts += ins[k], erases += era[k];
  }
  EXPECT_GT(inserts, 0);
  EXPECT_GT(erases, 0);
  EXPECT_GT(lookups, 0u);
  auto records = histcheck::load_history({dir.string()});
  ASSERT_OK(records);
  auto result = histcheck::check_history(*records);
  ASSERT_OK(result);
  EXPECT_TRUE(result->ok()) << result->summary();
  EXPECT_GE(result->committed, committed);
  EXPECT_TRUE(result->strict) << "the bucket arrays are load records";
  EXPECT_GT(result->lockfree, 0u) << "lookups are recorded";
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace remora::testing
