#include "histcheck/graph.h"

#include <algorithm>
#include <cassert>
#include <deque>

namespace remora::histcheck {

const char* edge_kind_name(EdgeKind k) {
  switch (k) {
    case EdgeKind::kWr: return "wr";
    case EdgeKind::kWw: return "ww";
    case EdgeKind::kRw: return "rw";
    case EdgeKind::kRealTime: return "rt";
  }
  return "?";
}

void Graph::build() {
  first_.assign(static_cast<size_t>(nodes_) + 1, 0);
  for (const Pending& e : pending_) ++first_[e.src + 1];
  for (size_t n = 0; n < nodes_; ++n) first_[n + 1] += first_[n];
  dst_.resize(pending_.size());
  std::vector<uint64_t> fill(first_.begin(), first_.end() - 1);
  for (const Pending& e : pending_) dst_[fill[e.src]++] = {e.dst, e.kind};
  pending_.clear();
  pending_.shrink_to_fit();
}

uint32_t Graph::node_on_cycle() const {
  enum Colour : uint8_t { kWhite, kGrey, kBlack };
  std::vector<uint8_t> colour(nodes_, kWhite);
  struct Frame {
    uint32_t node;
    uint64_t next;  // next edge index to explore
  };
  std::vector<Frame> stack;
  for (uint32_t root = 0; root < nodes_; ++root) {
    if (colour[root] != kWhite) continue;
    colour[root] = kGrey;
    stack.push_back({root, first_[root]});
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next == first_[f.node + 1]) {
        colour[f.node] = kBlack;
        stack.pop_back();
        continue;
      }
      uint32_t to = dst_[f.next++].dst;
      if (colour[to] == kGrey) return to;
      if (colour[to] == kWhite) {
        colour[to] = kGrey;
        stack.push_back({to, first_[to]});
      }
    }
  }
  return nodes_;
}

std::vector<Graph::Step> Graph::shortest_cycle_through(uint32_t start) const {
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> parent(nodes_, kNone);
  std::vector<EdgeKind> via(nodes_, EdgeKind::kWr);
  std::deque<uint32_t> queue{start};
  while (!queue.empty()) {
    uint32_t n = queue.front();
    queue.pop_front();
    for (uint64_t e = first_[n]; e < first_[n + 1]; ++e) {
      uint32_t to = dst_[e].dst;
      if (parent[to] != kNone) continue;
      parent[to] = n;
      via[to] = dst_[e].kind;
      if (to == start) break;
      queue.push_back(to);
    }
    if (parent[start] != kNone) break;
  }
  assert(parent[start] != kNone);
  std::vector<Step> cycle;
  uint32_t n = start;
  do {
    cycle.push_back({parent[n], via[n]});
    n = parent[n];
  } while (n != start);
  std::reverse(cycle.begin(), cycle.end());
  return cycle;
}

std::vector<Graph::Step> Graph::find_cycle() const {
  uint32_t n = node_on_cycle();
  if (n == nodes_) return {};
  return shortest_cycle_through(n);
}

}  // namespace remora::histcheck
