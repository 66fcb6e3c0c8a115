// A Remora node: one process's share of the cluster.
//
//   auto node = Node::create(config, id);   // fabric, regions, channels
//   node->start();                          // bootstrap: connect every peer
//   node->run([](Engine& e) { ... });       // one thread per engine
//   node->run_workers([](Worker& w) { w.spawn(...); });  // coroutines
//   node->leave();                          // tell peers we go on purpose
//
// Region ids of node n: system region (rings) = region_id(n, 0), data
// regions = region_id(n, 1 + i), per-thread scratch = region_id(n, 0x8000 + t).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "remora/cluster/config.h"
#include "remora/fabric/fabric.h"
#include "remora/node/engine.h"
#include "remora/runtime/worker.h"

namespace remora {

class Bootstrap;

class Node {
 public:
  static constexpr uint32_t kScratchIndex = 0x8000;
  static constexpr uint64_t kScratchSize = 4 << 20;

  static Result<std::unique_ptr<Node>> create(const Config& cfg, NodeId self);
  ~Node();

  // Connects to every peer (any start order; bounded by connect_timeout_ms)
  // and builds each engine's messenger and RPC endpoint.
  Status start();

  // Runs fn on every engine, each on its own thread; returns the first error.
  Status run(const std::function<Status(Engine&)>& fn);

  // Like run(): on every engine thread, creates a Worker (runtime/worker.h)
  // with `options`, calls fn(worker) to spawn coroutines, then drives that
  // worker until all its coroutines ended; a thread that is done keeps
  // polling its engine (serving peers) until every thread is. Returns the
  // first error (a coroutine's, a bad option, or an exception thrown by fn).
  // Once it returns, nothing polls the engines: peers that may still need
  // this node (RPCs, emulated one-sided ops over tcp) need it to go on
  // polling, e.g. in barrier().
  Status run_workers(const std::function<void(Worker&)>& fn, const WorkerOptions& options = {});

  // Cluster-wide barrier, called by every engine thread of every node. The
  // engines keep polling while they wait (tcp peers need our progress).
  Status barrier(Engine& e, std::chrono::milliseconds timeout);

  // Clean leave: peers see "left", not a failure.
  void leave();

  NodeId id() const { return self_; }
  const Config& config() const { return cfg_; }
  Fabric& fabric() { return *fabric_; }
  uint32_t threads() const { return static_cast<uint32_t>(engines_.size()); }
  Engine& engine(uint32_t t) { return *engines_[t]; }
  std::vector<NodeId> peers() const;
  // Number of peers that are still alive (not gone, not left).
  size_t live_peers() const;
  // True if the config's nodes on our host (same host string, or any
  // loopback address) run more engine threads than this process may use
  // cores: they take turns on the cores.
  bool shares_cores() const;

  LocalRegion& data_region(uint32_t i) { return *data_[i]; }
  static GAddr data_addr(NodeId node, uint32_t region_index, uint32_t offset) {
    return GAddr(region_id(node, 1 + region_index), offset);
  }

 private:
  Node(const Config& cfg, NodeId self);
  Status init();
  Status wire_up();

  Config cfg_;
  NodeId self_;
  std::unique_ptr<Fabric> fabric_;
  std::unique_ptr<Bootstrap> bootstrap_;
  std::vector<LocalRegion*> data_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::atomic<uint32_t> arrived_{0};
  std::atomic<uint64_t> local_gen_{0};
  std::atomic<uint64_t> barrier_k_{0};
};

}  // namespace remora
