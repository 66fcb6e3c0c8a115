// Workload: what an app (bank, TATP, KV) plugs into the common node driver
// (app_node.h). The driver starts the node and its store, calls load(),
// pushes replicas, creates a TxnEngine per engine thread, resolves, measures
// the two same-run baselines (64 B one-sided READ, 64 B message round trip),
// runs `coroutines` coroutines per thread for the duration, flushes
// truncations, lets node 0 check() the cluster, compares replicas and
// reports one JSON object per node (README "Apps").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "histogram.h"
#include "remora/common/status.h"
#include "remora/runtime/context.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"

namespace remora {
class Engine;
}

namespace remora::app {

// What one engine thread's coroutines did, by operation type.
class Recorder {
 public:
  explicit Recorder(size_t types = 0) : by_type_(types) {}
  // A committed operation of `type` that took `ns` (retries included).
  void done(size_t type, uint64_t ns) {
    all_.add(ns);
    by_type_[type].add(ns);
  }
  uint64_t gave_up = 0;  // ran out of attempts (kConflict from transact)
  void merge(const Recorder& o);
  const Histogram& all() const { return all_; }
  const std::vector<Histogram>& by_type() const { return by_type_; }
  uint64_t committed() const { return all_.count(); }

 private:
  Histogram all_;
  std::vector<Histogram> by_type_;
};

// Handed to every coroutine.
struct RunInfo {
  NodeId self;
  uint32_t thread;       // engine index
  uint32_t coroutine;    // within the thread
  uint32_t index;        // thread * coroutines + coroutine: 0 .. workers-1
  uint32_t workers;      // coroutines on this node, all threads
  uint64_t seed;         // distinct per (node, thread, coroutine)
  uint64_t deadline_ns;  // now_ns() clock; stop starting operations after it
  uint64_t max_ops;      // per coroutine, 0 = until the deadline
  const std::atomic<bool>* stop;
  bool should_stop(uint64_t done) const;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  // Bytes of data region per node the workload needs (0: no opinion); the
  // driver raises the config's region_size to it (rounded up to MiB).
  virtual uint64_t region_size_hint() const { return 0; }
  // Operation types, in the index order passed to Recorder::done.
  virtual std::vector<std::string> types() const = 0;
  // Load time on this node (before push_replicas, nothing running yet).
  // `nodes`: every node id in config order.
  virtual Status load(Store& store, const std::vector<NodeId>& nodes, NodeId self) = 0;
  // On every engine thread after its TxnEngine exists (register app RPCs
  // here, methods 200..255).
  virtual Status on_engine(Engine&) { return Status::OK(); }
  // Once per node, in a coroutine of thread 0, after every node loaded.
  virtual Status resolve(Context& ctx, TxnEngine& txn) = 0;
  // Once per node after resolve and a barrier: work that needs
  // transactions before the timed run (e.g. inserting what the bulk load
  // left); `coroutines` coroutines of every thread call it with their index.
  virtual Status prepare(Context&, TxnEngine&, const RunInfo&) { return Status::OK(); }
  // A readable address of at least 64 bytes on node `peer`, for the READ
  // baseline.
  virtual GAddr baseline_target(NodeId peer) const = 0;
  // The timed run of one coroutine; records every committed operation.
  virtual Status run(Context& ctx, TxnEngine& txn, const RunInfo& info, Recorder& rec) = 0;
  // On node 0 only, after every coordinator flushed its truncations: the
  // cluster-wide invariant. Sets (*out)["ok"].
  virtual Status check(Context&, TxnEngine&, nlohmann::json* out) {
    (*out)["ok"] = true;
    return Status::OK();
  }
  // One human line for check()'s result (the summary on stderr).
  virtual std::string describe_check(const nlohmann::json& inv) const;
  // App-specific figures of this node, added to its JSON.
  virtual void report(nlohmann::json&) const {}
};

}  // namespace remora::app
