// A directed graph in compressed (CSR) form with a cycle finder that needs no
// recursion, for histories of millions of transactions.
#pragma once

#include <cstdint>
#include <vector>

namespace remora::histcheck {

enum class EdgeKind : uint8_t {
  kWr,        // writer of a version -> its reader
  kWw,        // writer of a version -> writer of the next version
  kRw,        // reader of a version -> writer of the next version
  kRealTime,  // T1 ended before T2 started (through a chain of time nodes)
};
const char* edge_kind_name(EdgeKind k);

class Graph {
 public:
  struct Step {
    uint32_t node;  // the node this step leaves
    EdgeKind kind;  // the kind of the edge leaving `node`
  };

  explicit Graph(uint32_t nodes) : nodes_(nodes) {}

  // Room for `edges` edges before build(), so adding them does not copy.
  void reserve(uint64_t edges) { pending_.reserve(edges); }
  // REQUIRES: before build(); src, dst < nodes.
  void add_edge(uint32_t src, uint32_t dst, EdgeKind kind) { pending_.push_back({src, dst, kind}); }
  // Packs the edges; add_edge() may not be called afterwards.
  void build();

  uint32_t nodes() const { return nodes_; }
  uint64_t edges() const { return dst_.size(); }

  // A shortest cycle through some node that lies on a cycle, as the steps
  // around it (the last edge returns to steps[0].node); empty if the graph
  // is acyclic. REQUIRES: build() was called.
  std::vector<Step> find_cycle() const;

 private:
  struct Pending {
    uint32_t src, dst;
    EdgeKind kind;
  };
  struct Out {
    uint32_t dst;
    EdgeKind kind;
  };

  // A node on some cycle, or nodes_ if none (iterative three-colour DFS).
  uint32_t node_on_cycle() const;
  std::vector<Step> shortest_cycle_through(uint32_t start) const;

  uint32_t nodes_;
  std::vector<Pending> pending_;
  std::vector<uint64_t> first_;  // CSR: edges of n are [first_[n], first_[n + 1])
  std::vector<Out> dst_;
};

}  // namespace remora::histcheck
