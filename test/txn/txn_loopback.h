// TxnLoopback: N in-process nodes with a transaction Store, one TxnEngine
// and one Worker each, over the loopback fabric. Coroutines of all nodes
// run in the test's thread: run() turns every worker's loop in turn until
// all spawned coroutines ended. Deterministic: for the state-transition
// unit tests of the transaction layer.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "remora/cluster/config.h"
#include "remora/cluster/region_map.h"
#include "remora/runtime/worker.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"
#include "runtime/loopback_engines.h"

namespace remora::testing {

struct TxnLoopbackSpec {
  uint32_t nodes = 3;
  uint32_t backups = 1;
  uint64_t region_size = 1 << 20;
  uint32_t block_size = 64 << 10;
  TxnOptions txn;
};

class TxnLoopback {
 public:
  static Result<std::unique_ptr<TxnLoopback>> create(const TxnLoopbackSpec& spec) {
    std::unique_ptr<TxnLoopback> c(new TxnLoopback());
    c->cfg_.cluster_id = "txn-loopback";
    c->cfg_.region_size = spec.region_size;
    c->cfg_.backups = spec.backups;
    for (NodeId n = 0; n < spec.nodes; ++n) c->cfg_.nodes.push_back({n, "127.0.0.1", 0});
    const RegionMap map(c->cfg_);
    auto net = LoopbackEngines::create(spec.nodes, 1, spec.region_size, [&](NodeId n, Fabric& f) -> Status {
      for (const RegionMap::Replica& r : map.replicas_on(n)) {
        auto reg = f.register_region(r.local_region, spec.region_size);
        if (!reg.ok()) return reg.status();
      }
      return Status::OK();
    });
    if (!net.ok()) return net.status();
    c->net_ = std::move(*net);
    for (NodeId n = 0; n < spec.nodes; ++n) {
      auto store = Store::create(c->cfg_, n, c->net_->fabric(n), {&c->net_->data(n)}, {spec.block_size});
      if (!store.ok()) return store.status();
      c->stores_.push_back(std::move(*store));
      auto txn = TxnEngine::create(*c->stores_.back(), c->net_->engine(n), spec.txn);
      if (!txn.ok()) return txn.status();
      c->txns_.push_back(std::move(*txn));
      auto w = Worker::create(c->net_->engine(n));
      if (!w.ok()) return w.status();
      c->workers_.push_back(std::move(*w));
    }
    return c;
  }

  const Config& config() const { return cfg_; }
  Store& store(NodeId n) { return *stores_[n]; }
  TxnEngine& txn(NodeId n) { return *txns_[n]; }
  Worker& worker(NodeId n) { return *workers_[n]; }
  LoopbackEngines& net() { return *net_; }

  // Turns every worker until none has live or queued coroutines; kTimeout
  // if that takes longer than `limit`. Returns the first coroutine error.
  Status run(std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      bool busy = false;
      for (auto& w : workers_) {
        // Work found (e.g. a one-way record served) keeps the loop going too.
        busy |= w->poll_once() > 0;
        busy |= w->live() > 0 || w->queued() > 0;
      }
      if (!busy) break;
      if (std::chrono::steady_clock::now() > deadline) return Status::Timeout("coroutines still running");
    }
    for (auto& w : workers_)
      if (!w->first_error().ok()) return w->first_error();
    return Status::OK();
  }

  // Runs fn(ctx) as a coroutine of node n to its end.
  template <typename F>
  Status on(NodeId n, F&& fn) {
    Status out = Status::Internal("coroutine did not run");
    worker(n).spawn([&](Context& ctx) { out = fn(ctx); });
    REMORA_RETURN_IF_ERROR(run());
    return out;
  }

  // Allocates one T on node n in a transaction of n, set up by init(T&).
  template <typename T, typename Init>
  Result<GAddr> alloc(NodeId n, Init init) {
    GAddr out;
    Status st = on(n, [&](Context& ctx) {
      return txn(n).transact(ctx, [&](Tx& tx) -> Status {
        auto r = tx.alloc<T>();
        if (!r.ok()) return r.status();
        init(*tx.write(*r));
        out = r->addr();
        return Status::OK();
      });
    });
    if (!st.ok()) return st;
    return out;
  }
  // Frees the object of `size` bytes at `a` in a transaction of node n.
  Status free(NodeId n, GAddr a, uint32_t size) {
    return on(n, [&](Context& ctx) {
      return txn(n).transact(ctx, [&](Tx& tx) -> Status {
        auto e = tx.read_entry(a, size);
        if (!e.ok()) return e.status();
        return tx.free_entry(*e);
      });
    });
  }

  // Tells every backup to apply what it logged.
  Status flush() {
    for (NodeId n = 0; n < txns_.size(); ++n)
      REMORA_RETURN_IF_ERROR(on(n, [&](Context& ctx) { return txn(n).flush_truncations(ctx); }));
    return Status::OK();
  }

 private:
  TxnLoopback() = default;
  Config cfg_;
  std::unique_ptr<LoopbackEngines> net_;
  std::vector<std::unique_ptr<Store>> stores_;
  std::vector<std::unique_ptr<TxnEngine>> txns_;
  std::vector<std::unique_ptr<Worker>> workers_;  // declared last: destroyed first
};

// For fixtures: builds a cluster into `*out`, a test failure if it cannot.
inline void build_loopback(const TxnLoopbackSpec& spec, std::unique_ptr<TxnLoopback>* out) {
  auto c = TxnLoopback::create(spec);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  *out = std::move(*c);
}

}  // namespace remora::testing
