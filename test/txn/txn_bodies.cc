#include "txn/txn_bodies.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

#include "remora/common/json.h"
#include "remora/node/node.h"
#include "remora/runtime/worker.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kBarrier = 60s;

// A node with a Store and one TxnEngine per thread, tables loaded by `load`.
struct TxnNode {
  std::unique_ptr<Node> node;
  std::unique_ptr<Store> store;
  std::vector<std::unique_ptr<TxnEngine>> txns;

  template <typename Load>
  Status start(const Config& cfg, NodeId id, Load load) {
    auto n = start_node(cfg, id);
    if (!n.ok()) return n.status();
    node = std::move(*n);
    auto s = Store::create(*node, StoreOptions{64 << 10});
    if (!s.ok()) return s.status();
    store = std::move(*s);
    REMORA_RETURN_IF_ERROR(load(*store));
    txns.resize(node->threads());
    return node->run([&](Engine& e) -> Status {
      if (e.index() == 0) REMORA_RETURN_IF_ERROR(store->push_replicas(e));
      auto t = TxnEngine::create(*store, e);
      if (!t.ok()) return t.status();
      txns[e.index()] = std::move(*t);
      return node->barrier(e, kBarrier);
    });
  }
  Status barrier() {
    return node->run([&](Engine& e) { return node->barrier(e, kBarrier); });
  }
  Status flush() {
    REMORA_RETURN_IF_ERROR(node->run_workers([&](Worker& w) {
      w.spawn([&](Context& ctx) { return txns[w.engine().index()]->flush_truncations(ctx); });
    }));
    return barrier();
  }
  // Each node compares its regions with their replicas.
  Status compare() {
    Status out;
    REMORA_RETURN_IF_ERROR(node->run([&](Engine& e) -> Status {
      if (e.index() == 0) out = store->compare_replicas(e);
      return node->barrier(e, kBarrier);
    }));
    return out;
  }
  // The table `name` of every node, in config order (then a barrier).
  Status lookup_all(const Config& cfg, const std::string& name, std::vector<Table>* out) {
    REMORA_RETURN_IF_ERROR(node->run_workers([&](Worker& w) {
      if (w.engine().index() != 0) return;
      w.spawn([&](Context& ctx) -> Status {
        for (NodeId p : ids(cfg)) {
          auto t = txns[0]->lookup_table(ctx, p, name);
          if (!t.ok()) return t.status();
          out->push_back(*t);
        }
        return Status::OK();
      });
    }));
    return barrier();
  }
  std::vector<NodeId> ids(const Config& cfg) const {
    std::vector<NodeId> v;
    for (const NodeConfig& n : cfg.nodes) v.push_back(n.id);
    return v;
  }
};

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

struct Payload {
  uint64_t owner;  // node << 32 | coroutine
  uint64_t seq;
  uint64_t check;  // mix(owner ^ seq)
};

struct AllocLog {
  uint64_t allocs = 0, frees = 0, conflicts = 0;
  std::string bad;
};

Status alloc_free_round(TxnEngine& txn, Context& ctx, const std::vector<Table>& rows, uint64_t me, uint64_t seq,
                        AllocLog& log) {
  const Table& t = rows[mix(me * 977 + seq) % rows.size()];
  const GAddr row = t.row(static_cast<uint32_t>(mix(seq * 31 + me) % t.rows));
  bool freed = false;
  Status st = txn.transact(ctx, [&](Tx& tx) -> Status {
    freed = false;
    auto ptr = tx.read<uint64_t>(row);
    if (!ptr.ok()) return ptr.status();
    if (**ptr != 0) {
      auto old = tx.read<Payload>(GAddr::from_raw(**ptr));
      if (!old.ok()) return old.status().with_context("pointed-to object");
      if ((*old)->check != mix((*old)->owner ^ (*old)->seq))
        return Status::Corrupt(fmt::format("object {} has a bad payload", GAddr::from_raw(**ptr).to_string()));
      REMORA_RETURN_IF_ERROR(tx.free(*old));
      freed = true;
    }
    auto fresh = tx.alloc<Payload>();
    if (!fresh.ok()) return fresh.status();
    *tx.write(*fresh) = Payload{me, seq, mix(me ^ seq)};
    *tx.write(*ptr) = fresh->addr().raw();
    return Status::OK();
  });
  if (!st.ok()) return st;
  ++log.allocs;
  log.frees += freed ? 1 : 0;
  return Status::OK();
}

}  // namespace

ChildBody bank_body(bank::NodeRunOptions opts) {
  return [opts](const Config& cfg, NodeId id, ChildContext&) -> ChildReport {
    auto j = bank::run_node(cfg, id, opts);
    if (!j.ok()) return ChildReport::from(j.status());
    return ChildReport::from(Status::OK(), j->dump());
  };
}

ChildBody alloc_free_body(uint32_t coroutines, uint32_t rounds) {
  return [=](const Config& cfg, NodeId id, ChildContext&) -> ChildReport {
    TxnNode n;
    Status st = n.start(cfg, id, [&](Store& s) { return s.create_table("ptr", 16, 8).status(); });
    if (!st.ok()) return ChildReport::from(st.with_context("start"));
    std::vector<Table> rows;
    std::vector<AllocLog> logs(n.node->threads());
    st = n.lookup_all(cfg, "ptr", &rows);
    if (st.ok())
      st = n.node->run_workers([&](Worker& w) {
        const uint32_t t = w.engine().index();
        for (uint32_t c = 0; c < coroutines; ++c)
          w.spawn([&, t, c](Context& ctx) -> Status {
            const uint64_t me = (uint64_t{id} << 32) | (t << 16) | c;
            for (uint32_t r = 1; r <= rounds; ++r)
              REMORA_RETURN_IF_ERROR(alloc_free_round(*n.txns[t], ctx, rows, me, r, logs[t]));
            return Status::OK();
          });
      });
    if (st.ok()) st = n.flush();
    // Every pointer of our table must reach a live object with a good payload.
    uint64_t live = 0;
    if (st.ok())
      st = n.node->run_workers([&](Worker& w) {
        if (w.engine().index() != 0) return;
        w.spawn([&](Context& ctx) -> Status {
          const std::vector<NodeId> ids = n.ids(cfg);
          const Table& mine = rows[static_cast<size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin())];
          for (uint32_t r = 0; r < mine.rows; ++r) {
            auto p = n.txns[0]->lockfree_read<uint64_t>(ctx, mine.row(r));
            if (!p.ok()) return p.status();
            if (*p == 0) continue;
            auto o = n.txns[0]->lockfree_read<Payload>(ctx, GAddr::from_raw(*p));
            if (!o.ok()) return o.status().with_context(fmt::format("row {}", r));
            if (o->check != mix(o->owner ^ o->seq)) return Status::Corrupt("bad payload after the run");
            ++live;
          }
          return Status::OK();
        });
      });
    if (st.ok()) st = n.barrier();
    if (st.ok()) st = n.compare();
    n.node->leave();
    if (!st.ok()) return ChildReport::from(st);
    uint64_t allocs = 0, frees = 0;
    for (const AllocLog& l : logs) {
      allocs += l.allocs;
      frees += l.frees;
    }
    return ChildReport::from(Status::OK(), fmt::format(R"({{"allocs":{},"frees":{},"live":{}}})", allocs, frees, live));
  };
}

ChildBody lockfree_body(uint32_t readers, uint32_t rounds) {
  return [=](const Config& cfg, NodeId id, ChildContext&) -> ChildReport {
    using Obj = std::array<uint64_t, 32>;
    TxnNode n;
    Status st = n.start(cfg, id, [&](Store& s) {
      return s.create_table("obj", 1, sizeof(Obj)).status();
    });
    if (!st.ok()) return ChildReport::from(st.with_context("start"));
    std::vector<Table> objs;
    uint64_t reads = 0, torn = 0, regress = 0, refused = 0, writes = 0;
    st = n.lookup_all(cfg, "obj", &objs);
    const std::vector<NodeId> ids = n.ids(cfg);
    const size_t mine = static_cast<size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
    bool writer_done = false;
    if (st.ok())
      st = n.node->run_workers([&](Worker& w) {
        if (w.engine().index() != 0) return;
        TxnEngine& txn = *n.txns[0];
        w.spawn([&](Context& ctx) -> Status {
          for (uint32_t r = 0; r < rounds; ++r) {
            REMORA_RETURN_IF_ERROR(txn.transact(ctx, [&](Tx& tx) -> Status {
              auto o = tx.read<Obj>(objs[mine].row(0));
              if (!o.ok()) return o.status();
              Obj* x = tx.write(*o);
              x->fill((*x)[0] + 1);
              return Status::OK();
            }));
            ++writes;
          }
          writer_done = true;
          return Status::OK();
        });
        for (uint32_t c = 0; c < readers; ++c)
          w.spawn([&](Context& ctx) -> Status {
            std::vector<uint64_t> last(objs.size(), 0);
            // Until the writer is done, and then on until some reads got
            // through (a writer committing back to back over tcp keeps its
            // object locked most of the time), bounded.
            for (uint32_t after = 0; !writer_done || (reads == 0 && after < 100000); after += writer_done ? 1 : 0) {
              for (size_t i = 0; i < objs.size(); ++i) {
                uint64_t version = 0;
                auto o = txn.lockfree_read<Obj>(ctx, objs[i].row(0), &version);
                if (o.status().code() == Code::kConflict) {
                  ++refused;
                  continue;
                }
                if (!o.ok()) return o.status();
                ++reads;
                for (uint64_t v : *o) torn += v != (*o)[0] ? 1 : 0;
                if (version < last[i] || (*o)[0] + 1 != version) ++regress;
                last[i] = version;
              }
            }
            return Status::OK();
          });
      });
    if (st.ok()) st = n.barrier();
    n.node->leave();
    if (!st.ok()) return ChildReport::from(st);
    return ChildReport::from(Status::OK(), fmt::format(R"({{"reads":{},"torn":{},"regress":{},"refused":{},"writes":{}}})",
                                                       reads, torn, regress, refused, writes));
  };
}

}  // namespace remora::testing
