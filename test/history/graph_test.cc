#include "histcheck/graph.h"

#include <gtest/gtest.h>

namespace remora::histcheck {
namespace {

TEST(Graph, AcyclicGraphHasNoCycle) {
  Graph g(4);
  g.add_edge(0, 1, EdgeKind::kWr);
  g.add_edge(0, 2, EdgeKind::kWw);
  g.add_edge(1, 3, EdgeKind::kRw);
  g.add_edge(2, 3, EdgeKind::kRealTime);
  g.build();
  EXPECT_EQ(g.edges(), 4u);
  EXPECT_TRUE(g.find_cycle().empty());
}

TEST(Graph, FindsTheShortestCycleThroughTheNodeItMeets) {
  // 0 -> 1 -> 2 -> 3 -> 0 and a shortcut 1 -> 3.
  Graph g(4);
  g.add_edge(0, 1, EdgeKind::kWr);
  g.add_edge(1, 2, EdgeKind::kWw);
  g.add_edge(2, 3, EdgeKind::kWw);
  g.add_edge(1, 3, EdgeKind::kRealTime);
  g.add_edge(3, 0, EdgeKind::kRw);
  g.build();
  std::vector<Graph::Step> c = g.find_cycle();
  ASSERT_EQ(c.size(), 3u);
  // Each step's edge must lead to the next step's node.
  for (size_t i = 0; i < c.size(); ++i) {
    uint32_t from = c[i].node, to = c[(i + 1) % c.size()].node;
    bool ok = (from == 0 && to == 1 && c[i].kind == EdgeKind::kWr) ||
              (from == 1 && to == 3 && c[i].kind == EdgeKind::kRealTime) ||
              (from == 3 && to == 0 && c[i].kind == EdgeKind::kRw);
    EXPECT_TRUE(ok) << from << " -> " << to << " " << edge_kind_name(c[i].kind);
  }
}

// A path of two million nodes: the search must not recurse.
TEST(Graph, LongChainNeedsNoRecursion) {
  constexpr uint32_t kNodes = 2'000'000;
  Graph g(kNodes);
  for (uint32_t n = 0; n + 1 < kNodes; ++n) g.add_edge(n, n + 1, EdgeKind::kWw);
  Graph acyclic = g;
  acyclic.build();
  EXPECT_TRUE(acyclic.find_cycle().empty());
  g.add_edge(kNodes - 1, 0, EdgeKind::kRw);
  g.build();
  EXPECT_EQ(g.find_cycle().size(), kNodes);
}

}  // namespace
}  // namespace remora::histcheck
