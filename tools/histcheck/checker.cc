#include "histcheck/checker.h"

#include <algorithm>
#include <memory>
#include <tuple>

#include <fmt/format.h>

#include "histcheck/load_map.h"
#include "histcheck/unknowns.h"

namespace remora::histcheck {
namespace {

// One read or write of one committed transaction (index into txs_).
struct Access {
  uint64_t addr;
  uint64_t version;
  uint32_t tx;

  bool operator<(const Access& o) const {
    return std::tie(addr, version, tx) < std::tie(o.addr, o.version, o.tx);
  }
};

bool tx_less(const TxId& a, const TxId& b) {
  return std::tie(a.epoch, a.node, a.thread, a.seq) < std::tie(b.epoch, b.node, b.thread, b.seq);
}

class Checker {
 public:
  Checker(const std::vector<HistoryRecord>& in, const std::vector<HistoryLoad>& loads) : in_(in), loads_(loads) {}

  Result<CheckResult> run() {
    auto loaded = LoadMap::build(loads_);
    if (!loaded.ok()) return loaded.status();
    loaded_ = std::move(*loaded);
    res_.strict = !loaded_.empty();
    res_.loaded = loaded_.objects();
    res_.load_ranges = loaded_.ranges();
    REMORA_RETURN_IF_ERROR(collect());
    if (!res_.strict && !txs_.empty()) {
      res_.warnings.push_back(
          "no load records: the lowest version seen of each object is taken as loaded data, "
          "so a dirty read of it goes unnoticed");
    }
    graph_ = std::make_unique<Graph>(static_cast<uint32_t>(2 * txs_.size()));
    graph_->reserve(2 * reads_.size() + writes_.size() + 3 * txs_.size());  // rw+wr, ww, real time
    REMORA_RETURN_IF_ERROR(version_edges());
    read_edges();
    real_time_edges();
    graph_->build();
    if (duplicates_) {
      violation("cycle search skipped: the version order is ambiguous");
    } else {
      search_cycle();
    }
    return std::move(res_);
  }

 private:
  Status collect();
  Status classify();
  Status version_edges();
  uint64_t initial_version(uint64_t addr, uint64_t lowest_seen) const {
    return res_.strict ? loaded_.initial(addr) : lowest_seen;
  }
  NodeKind kind_of(uint32_t tx) const {
    if (txs_[tx]->lockfree) return NodeKind::kLockfree;
    return txs_[tx]->outcome == TxOutcome::kUnknown ? NodeKind::kUnknown : NodeKind::kTx;
  }
  // An unknown that committed may have been applied after its coordinator
  // gave up: its end bounds nothing, so it gets no outgoing real-time edge.
  uint64_t effective_end(uint32_t tx) const {
    return txs_[tx]->outcome == TxOutcome::kUnknown ? UINT64_MAX : txs_[tx]->end_ns;
  }
  void read_edges();
  void read_edges_of_object(size_t begin, size_t end);
  void real_time_edges();
  void search_cycle();
  CycleStep label(uint32_t from, uint32_t to, EdgeKind kind) const;
  const Access* next_write(uint64_t addr, uint64_t version) const;

  void violation(std::string what) {
    if (res_.violations.size() < CheckResult::kMaxViolations) res_.violations.push_back(std::move(what));
    ++res_.violation_count;
  }
  void edge(uint32_t from, uint32_t to, EdgeKind kind) {
    if (from == to) return;
    graph_->add_edge(from, to, kind);
    switch (kind) {
      case EdgeKind::kWr: ++res_.edges_wr; break;
      case EdgeKind::kWw: ++res_.edges_ww; break;
      case EdgeKind::kRw: ++res_.edges_rw; break;
      case EdgeKind::kRealTime: ++res_.edges_rt; break;
    }
  }
  std::string name(uint32_t tx) const { return txs_[tx]->tx.to_string(); }

  const std::vector<HistoryRecord>& in_;
  const std::vector<HistoryLoad>& loads_;
  LoadMap loaded_;
  // Graph nodes 0..C-1: committed attempts, lock-free reads, then the
  // unknowns that must have committed.
  std::vector<const HistoryRecord*> txs_;
  std::vector<Access> writes_, reads_;     // sorted by object, version
  std::unique_ptr<Graph> graph_;           // time nodes C..2C-1
  bool duplicates_ = false;
  CheckResult res_;
};

// Sorts the records into graph nodes and counts; decides the unknowns.
Status Checker::classify() {
  std::vector<const HistoryRecord*> unknown;
  for (const HistoryRecord& r : in_) {
    if (r.lockfree) {
      if (!r.committed() || !r.writes.empty())
        return Status::InvalidArgument(fmt::format("lock-free read {} must commit and write nothing", r.tx.to_string()));
      ++res_.lockfree;
      txs_.push_back(&r);
      continue;
    }
    ++res_.transactions;
    switch (r.outcome) {
      case TxOutcome::kCommit: ++res_.committed, txs_.push_back(&r); break;
      case TxOutcome::kAbort: ++res_.aborted; break;
      case TxOutcome::kUnknown: ++res_.unknown, unknown.push_back(&r); break;
    }
  }
  const std::vector<bool> in = must_have_committed(in_, txs_, unknown);
  for (size_t i = 0; i < unknown.size(); ++i) {
    if (in[i]) txs_.push_back(unknown[i]), ++res_.unknown_committed;
  }
  for (const HistoryRecord* r : txs_) {
    if (r->end_ns < r->start_ns) {
      return Status::InvalidArgument(
          fmt::format("tx {}: end {} before start {}", r->tx.to_string(), r->end_ns, r->start_ns));
    }
  }
  if (txs_.size() >= (1u << 31)) return Status::InvalidArgument("more than 2^31 committed transactions");
  return Status::OK();
}

Status Checker::collect() {
  REMORA_RETURN_IF_ERROR(classify());
  size_t nreads = 0, nwrites = 0;
  for (const HistoryRecord* r : txs_) nreads += r->reads.size(), nwrites += r->writes.size();
  reads_.reserve(nreads);
  writes_.reserve(nwrites);
  std::vector<TxId> ids;
  ids.reserve(txs_.size());
  for (uint32_t t = 0; t < txs_.size(); ++t) {
    ids.push_back(txs_[t]->tx);
    for (const auto& [addr, v] : txs_[t]->reads) reads_.push_back({addr, v, t});
    for (const auto& [addr, v] : txs_[t]->writes) writes_.push_back({addr, v, t});
  }
  std::sort(ids.begin(), ids.end(), tx_less);
  auto dup = std::adjacent_find(ids.begin(), ids.end());
  if (dup != ids.end()) return Status::InvalidArgument(fmt::format("tx {} committed twice", dup->to_string()));
  std::sort(reads_.begin(), reads_.end());
  std::sort(writes_.begin(), writes_.end());
  return Status::OK();
}

// ww edges along each object's version order; a version installed twice is
// a violation (e.g. a lost update), and so is one not above the object's
// load version (it would duplicate loaded data).
Status Checker::version_edges() {
  for (size_t i = 0; i < writes_.size(); ++i) {
    const Access& b = writes_[i];
    if (!res_.strict || (i > 0 && writes_[i - 1].addr == b.addr)) continue;
    const uint64_t initial = loaded_.initial(b.addr);
    if (b.version <= initial) {
      violation(fmt::format("tx {} installed object 0x{:x} version {}, not above its initial version {}",
                            name(b.tx), b.addr, b.version, initial));
    }
  }
  for (size_t i = 1; i < writes_.size(); ++i) {
    const Access& a = writes_[i - 1];
    const Access& b = writes_[i];
    if (a.addr != b.addr) continue;
    if (a.version != b.version) {
      edge(a.tx, b.tx, EdgeKind::kWw);
    } else if (a.tx == b.tx) {
      return Status::InvalidArgument(fmt::format("tx {} writes object 0x{:x} twice", name(a.tx), a.addr));
    } else {
      duplicates_ = true;
      violation(fmt::format("object 0x{:x} version {} installed by two committed transactions, {} and {} (lost update)",
                            a.addr, a.version, name(a.tx), name(b.tx)));
    }
  }
  return Status::OK();
}

void Checker::read_edges() {
  size_t begin = 0;
  while (begin < reads_.size()) {
    size_t end = begin;
    while (end < reads_.size() && reads_[end].addr == reads_[begin].addr) ++end;
    read_edges_of_object(begin, end);
    begin = end;
  }
}

// wr: writer of the version read -> reader; rw: reader -> writer of the next
// version. The initial version (loaded, or 0 for memory nobody loaded; in
// a history without load records the lowest version seen) is written by a
// virtual initial transaction that precedes everything (no incoming
// edges, so it is left out of the graph).
void Checker::read_edges_of_object(size_t begin, size_t end) {
  const uint64_t addr = reads_[begin].addr;
  auto wbegin = std::lower_bound(writes_.begin(), writes_.end(), Access{addr, 0, 0});
  auto wend = std::lower_bound(wbegin, writes_.end(), Access{addr, UINT64_MAX, UINT32_MAX});
  uint64_t lowest = reads_[begin].version;
  if (wbegin != wend) lowest = std::min(lowest, wbegin->version);
  const uint64_t initial = initial_version(addr, lowest);
  for (size_t i = begin; i < end; ++i) {
    const Access& r = reads_[i];
    auto w = std::lower_bound(wbegin, wend, Access{addr, r.version, 0});
    if (w != wend && w->version == r.version) {
      edge(w->tx, r.tx, EdgeKind::kWr);
      while (w != wend && w->version == r.version) ++w;
    } else if (r.version != initial) {
      violation(fmt::format("tx {} read object 0x{:x} version {}, which no committed transaction wrote "
                            "(initial version {}{})", name(r.tx), addr, r.version, initial,
                            !res_.strict ? "" : loaded_.initial(addr) ? ", loaded" : ", never loaded"));
    }
    if (w != wend) edge(r.tx, w->tx, EdgeKind::kRw);
  }
}

// T1 -> T2 iff T1.end < T2.start, without n^2 edges: time node k stands for
// the k-th smallest end time; T -> node(rank of T.end), node k -> node k+1,
// and node(largest end < T.start) -> T.
void Checker::real_time_edges() {
  const uint32_t n = static_cast<uint32_t>(txs_.size());
  std::vector<std::pair<uint64_t, uint32_t>> by_end(n);  // (end, tx)
  for (uint32_t t = 0; t < n; ++t) by_end[t] = {effective_end(t), t};
  std::sort(by_end.begin(), by_end.end());
  std::vector<uint64_t> ends(n);
  for (uint32_t k = 0; k < n; ++k) {
    ends[k] = by_end[k].first;
    edge(by_end[k].second, n + k, EdgeKind::kRealTime);
    if (k + 1 < n) edge(n + k, n + k + 1, EdgeKind::kRealTime);
  }
  for (uint32_t t = 0; t < n; ++t) {
    auto it = std::lower_bound(ends.begin(), ends.end(), txs_[t]->start_ns);  // first end >= start
    if (it != ends.begin()) edge(n + static_cast<uint32_t>(it - ends.begin() - 1), t, EdgeKind::kRealTime);
  }
}


// The first write of `addr` with a version above `version`, or null.
const Access* Checker::next_write(uint64_t addr, uint64_t version) const {
  if (version == UINT64_MAX) return nullptr;
  auto w = std::lower_bound(writes_.begin(), writes_.end(), Access{addr, version + 1, 0});
  return w != writes_.end() && w->addr == addr ? &*w : nullptr;
}

// Which object and versions put the edge `kind` from `from` to `to`.
CycleStep Checker::label(uint32_t from, uint32_t to, EdgeKind kind) const {
  const HistoryRecord& a = *txs_[from];
  const HistoryRecord& b = *txs_[to];
  CycleStep s{a.tx, b.tx, kind, kind_of(from), kind_of(to)};
  if (kind == EdgeKind::kRealTime) {
    s.from_end = a.end_ns;
    s.to_start = b.start_ns;
    return s;
  }
  const auto& source = kind == EdgeKind::kRw ? a.reads : a.writes;
  for (const auto& [addr, v] : source) {
    if (kind == EdgeKind::kWr) {
      if (std::find(b.reads.begin(), b.reads.end(), std::pair{addr, v}) == b.reads.end()) continue;
      s.addr = addr, s.from_version = v, s.to_version = v;
      return s;
    }
    const Access* next = next_write(addr, v);
    if (next == nullptr || next->tx != to) continue;
    s.addr = addr, s.from_version = v, s.to_version = next->version;
    return s;
  }
  return s;
}

void Checker::search_cycle() {
  std::vector<Graph::Step> steps = graph_->find_cycle();
  if (steps.empty()) return;
  const uint32_t n = static_cast<uint32_t>(txs_.size());
  // Start at a transaction (a cycle cannot consist of time nodes only), then
  // fold each run through time nodes into one real-time step.
  auto first = std::find_if(steps.begin(), steps.end(), [&](const Graph::Step& s) { return s.node < n; });
  std::rotate(steps.begin(), first, steps.end());
  size_t i = 0;
  while (i < steps.size()) {
    uint32_t from = steps[i].node;
    EdgeKind kind = steps[i].kind;
    size_t j = (i + 1) % steps.size();
    while (steps[j].node >= n) j = (j + 1) % steps.size();
    res_.cycle.push_back(label(from, steps[j].node, kind));
    if (j == 0) break;
    i = j;
  }
  std::string text = fmt::format("cycle of {} transactions:", res_.cycle.size());
  for (const CycleStep& s : res_.cycle) text += "\n    " + s.to_string();
  violation(std::move(text));
}

}  // namespace

Result<CheckResult> check_history(const History& h) { return Checker(h.records, h.loads).run(); }

Result<CheckResult> check_history(const std::vector<HistoryRecord>& records) {
  const std::vector<HistoryLoad> none;
  return Checker(records, none).run();
}

}  // namespace remora::histcheck
