#include "ds/cluster_body.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "remora/ds/hash_table.h"
#include "remora/history/history.h"
#include "remora/runtime/worker.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;
constexpr auto kBarrier = 60s;
const HashTableOptions kTiny{2, 2, 16};  // 6 buckets of 2 slots: chains grow

std::string key_name(uint32_t k) { return fmt::format("key{:05}", k); }
std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s)); }

// counter, then (counter * 7 + key) % 48 bytes of (counter & 0xff):
// inline or out-of-line depending on the counter.
Bytes encode(uint32_t key, uint64_t counter) {
  Bytes v(8 + (counter * 7 + key) % 48, static_cast<std::byte>(counter & 0xff));
  std::memcpy(v.data(), &counter, 8);
  return v;
}
Result<uint64_t> decode(uint32_t key, const Bytes& v) {
  uint64_t c = 0;
  if (v.size() >= 8) std::memcpy(&c, v.data(), 8);
  if (v.size() < 8 || v != encode(key, c))
    return Status::Corrupt(fmt::format("{}: malformed value of {} B", key_name(key), v.size()));
  return c;
}

struct Log {
  std::vector<uint64_t> ins, era, inc, erased;
  uint64_t lookups = 0, lookup_conflicts = 0;
  uint64_t gave_up = 0;  // transactions that ran out of attempts (nothing written)
  explicit Log(uint32_t keys) : ins(keys), era(keys), inc(keys), erased(keys) {}
};

struct DsNode {
  std::unique_ptr<Node> node;
  std::unique_ptr<Store> store;
  std::unique_ptr<HistoryWriter> history;
  std::vector<std::unique_ptr<TxnEngine>> txns;
  std::vector<HashTable> tables;

  Status start(const Config& cfg, NodeId id, const std::string& history_dir) {
    auto n = start_node(cfg, id);
    if (!n.ok()) return n.status();
    node = std::move(*n);
    auto s = Store::create(*node, StoreOptions{64 << 10});
    if (!s.ok()) return s.status();
    store = std::move(*s);
    REMORA_RETURN_IF_ERROR(HashTable::create(*store, "kv", ids(cfg), kTiny));
    if (!history_dir.empty()) {
      auto h = HistoryWriter::open(history_dir, id);
      if (!h.ok()) return h.status();
      history = std::move(*h);
      history->append_tables(*store);
    }
    txns.resize(node->threads());
    REMORA_RETURN_IF_ERROR(node->run([&](Engine& e) -> Status {
      if (e.index() == 0) REMORA_RETURN_IF_ERROR(store->push_replicas(e));
      TxnOptions to;
      to.history = history.get();
      to.seed = id * 31 + e.index() + 1;
      to.locked_retries = 8;
      auto t = TxnEngine::create(*store, e, to);
      if (!t.ok()) return t.status();
      txns[e.index()] = std::move(*t);
      return node->barrier(e, kBarrier);
    }));
    tables.resize(node->threads());
    Status opened;
    REMORA_RETURN_IF_ERROR(node->run_workers([&](Worker& w) {
      w.spawn([&](Context& ctx) -> Status {
        auto t = HashTable::open(ctx, *txns[w.engine().index()], "kv");
        if (!t.ok()) return t.status();
        tables[w.engine().index()] = *t;
        return Status::OK();
      });
    }));
    return barrier();
  }
  Status barrier() {
    return node->run([&](Engine& e) { return node->barrier(e, kBarrier); });
  }
  static std::vector<NodeId> ids(const Config& cfg) {
    std::vector<NodeId> v;
    for (const NodeConfig& n : cfg.nodes) v.push_back(n.id);
    return v;
  }
};

// One random operation on key k; counts what committed.
Status op(TxnEngine& txn, const HashTable& t, Context& ctx, uint32_t k, uint64_t r, Log& log) {
  const std::string key = key_name(k);
  const auto kb = as_bytes(key);
  if (r % 4 == 0) {
    Status st = txn.transact(ctx, [&](Tx& tx) { return t.insert(tx, kb, encode(k, 0)); });
    if (st.ok()) ++log.ins[k];
    return st.code() == Code::kAlreadyExists ? Status::OK() : st;
  }
  uint64_t seen = 0;
  bool created = false;
  if (r % 4 == 1) {
    Status st = txn.transact(ctx, [&](Tx& tx) -> Status {
      Bytes v;
      REMORA_RETURN_IF_ERROR(t.get(tx, kb, &v));
      auto c = decode(k, v);
      if (!c.ok()) return c.status();
      seen = *c;
      return t.erase(tx, kb);
    });
    if (st.ok()) ++log.era[k], log.erased[k] += seen;
    return st.code() == Code::kNotFound ? Status::OK() : st;
  }
  Status st = txn.transact(ctx, [&](Tx& tx) -> Status {
    Bytes v;
    Status g = t.get(tx, kb, &v);
    created = g.code() == Code::kNotFound;
    if (!g.ok() && !created) return g;
    uint64_t c = 0;
    if (!created) {
      auto d = decode(k, v);
      if (!d.ok()) return d.status();
      c = *d;
    }
    return t.put(tx, kb, encode(k, c + 1));
  });
  if (!st.ok()) return st;
  ++log.inc[k];
  if (created) ++log.ins[k];
  return Status::OK();
}

// Six processes share two cores here: a lock holder may sleep for a time
// slice, so a transaction may run out of attempts; it wrote nothing.
Status step(TxnEngine& txn, const HashTable& t, Context& ctx, uint32_t k, uint64_t r, Log& log) {
  Status st = op(txn, t, ctx, k, r, log);
  if (st.code() != Code::kConflict) return st;
  ++log.gave_up;
  return Status::OK();
}

Status look(TxnEngine& txn, const HashTable& t, Context& ctx, uint32_t k, Log& log) {
  Bytes v;
  Status st = t.lookup(ctx, txn, as_bytes(key_name(k)), &v);
  ++log.lookups;
  if (st.code() == Code::kNotFound) return Status::OK();
  if (st.code() == Code::kConflict) return ++log.lookup_conflicts, Status::OK();
  if (!st.ok()) return st;
  return decode(k, v).status();
}

// After the run: each key's counter by lookup (-1 if absent), equal to get.
Status final_state(TxnEngine& txn, const HashTable& t, Context& ctx, uint32_t keys, std::vector<int64_t>* out) {
  for (uint32_t k = 0; k < keys; ++k) {
    const std::string key = key_name(k);
    Bytes a, b;
    Status la = t.lookup(ctx, txn, as_bytes(key), &a);
    Status gb = txn.transact(ctx, [&](Tx& tx) { return t.get(tx, as_bytes(key), &b); });
    if (la.code() != gb.code() || (la.ok() && a != b))
      return Status::Corrupt(fmt::format("{}: lookup {} / get {} disagree", key, la.to_string(), gb.to_string()));
    if (la.code() == Code::kNotFound) {
      out->push_back(-1);
      continue;
    }
    if (!la.ok()) return la;
    auto c = decode(k, a);
    if (!c.ok()) return c.status();
    out->push_back(static_cast<int64_t>(*c));
  }
  return Status::OK();
}

Status run(DsNode& n, const DsClusterOptions& o, NodeId id, std::vector<Log>& logs) {
  const auto stop = std::chrono::steady_clock::now() + o.duration;
  return n.node->run_workers([&](Worker& w) {
    const uint32_t t = w.engine().index();
    for (uint32_t c = 0; c < o.coroutines; ++c)
      w.spawn([&, t, c](Context& ctx) -> Status {
        uint64_t rng = (uint64_t{id} << 40) ^ (uint64_t{t} << 20) ^ (c + 1) * 0x9e3779b97f4a7c15ull;
        for (uint32_t r = 0; r < o.rounds && std::chrono::steady_clock::now() < stop; ++r) {
          rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
          const auto k = static_cast<uint32_t>((rng >> 8) % o.keys);
          REMORA_RETURN_IF_ERROR(step(*n.txns[t], n.tables[t], ctx, k, rng >> 32, logs[t]));
          REMORA_RETURN_IF_ERROR(look(*n.txns[t], n.tables[t], ctx, (k + 1) % o.keys, logs[t]));
        }
        return Status::OK();
      });
  });
}

Status finish(DsNode& n, const DsClusterOptions& o, std::vector<int64_t>* final) {
  REMORA_RETURN_IF_ERROR(n.node->run_workers([&](Worker& w) {
    w.spawn([&](Context& ctx) { return n.txns[w.engine().index()]->flush_truncations(ctx); });
  }));
  REMORA_RETURN_IF_ERROR(n.barrier());
  REMORA_RETURN_IF_ERROR(n.node->run_workers([&](Worker& w) {
    if (w.engine().index() == 0)
      w.spawn([&](Context& ctx) { return final_state(*n.txns[0], n.tables[0], ctx, o.keys, final); });
  }));
  // The final reads are read-only: nothing more to truncate.
  REMORA_RETURN_IF_ERROR(n.barrier());
  Status cmp;
  REMORA_RETURN_IF_ERROR(n.node->run([&](Engine& e) -> Status {
    if (e.index() == 0) cmp = n.store->compare_replicas(e);
    return n.node->barrier(e, kBarrier);
  }));
  if (n.history) REMORA_RETURN_IF_ERROR(n.history->flush());
  return cmp;
}

std::string report(const std::vector<Log>& logs, const std::vector<int64_t>& final, const DsNode& n,
                   uint32_t keys) {
  Log sum(keys);
  for (const Log& l : logs) {
    for (uint32_t k = 0; k < keys; ++k) {
      sum.ins[k] += l.ins[k], sum.era[k] += l.era[k], sum.inc[k] += l.inc[k], sum.erased[k] += l.erased[k];
    }
    sum.lookups += l.lookups, sum.lookup_conflicts += l.lookup_conflicts, sum.gave_up += l.gave_up;
  }
  uint64_t commits = 0;
  for (const auto& t : n.txns) commits += t->stats().commits;
  return fmt::format(
      R"({{"ins":[{}],"era":[{}],"inc":[{}],"erased":[{}],"final":[{}],"committed":{},"lookups":{},)"
      R"("lookup_conflicts":{},"gave_up":{},"replicas":"equal"}})",
      fmt::join(sum.ins, ","), fmt::join(sum.era, ","), fmt::join(sum.inc, ","), fmt::join(sum.erased, ","),
      fmt::join(final, ","), commits, sum.lookups, sum.lookup_conflicts, sum.gave_up);
}

}  // namespace

ChildBody ds_cluster_body(DsClusterOptions o) {
  return [o](const Config& cfg, NodeId id, ChildContext&) -> ChildReport {
    DsNode n;
    Status st = n.start(cfg, id, o.history_dir);
    if (!st.ok()) return ChildReport::from(st.with_context("start"));
    std::vector<Log> logs(n.node->threads(), Log(o.keys));
    std::vector<int64_t> final;
    st = run(n, o, id, logs);
    if (st.ok()) st = finish(n, o, &final);
    n.node->leave();
    if (!st.ok()) return ChildReport::from(st);
    return ChildReport::from(Status::OK(), report(logs, final, n, o.keys));
  };
}

}  // namespace remora::testing
