// Runs one node of an app (a Workload) to the end and reports its JSON.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "remora/cluster/config.h"
#include "remora/runtime/worker.h"
#include "workload.h"

namespace remora::app {

struct NodeRunOptions {
  uint32_t coroutines = 8;  // per engine thread
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  uint64_t max_ops = 0;     // per coroutine, 0 = until duration
  uint64_t seed = 1;
  std::string history_dir;  // empty: no history
  const std::atomic<bool>* stop = nullptr;
  // Node 0 runs Workload::check and every node compares its regions with
  // their backups after the run.
  bool check = true;
  // The workers' idle policy while answers are due (WorkerOptions): spin
  // this long, then nap this long per idle turn.
  std::chrono::nanoseconds busy_spin = WorkerOptions{}.busy_spin;
  std::chrono::nanoseconds waiting_sleep = WorkerOptions{}.waiting_sleep;
  std::chrono::nanoseconds max_block = WorkerOptions{}.max_block;
  std::chrono::nanoseconds yield_spin = WorkerOptions{}.yield_spin;
  bool adapt_to_host = true;  // WorkerOptions::adapt_to_host
  bool wakeups = true;  // doorbells (Engine::set_wakeups)
};

// Node `id` of `cfg`. The JSON (README "Apps"): app, node, transport,
// threads, coroutines, seconds, committed, tx_per_s, attempts, abort_rate,
// aborts by cause, gave_up, latency and per-type latency histograms, the
// two baselines, the workload's own fields; node 0's also "invariant",
// every node's "replicas". Errors: the first failure.
Result<nlohmann::json> run_node(const Config& cfg, NodeId id, Workload& w, const NodeRunOptions& o);

// Every node id of `cfg` in config order.
std::vector<NodeId> node_ids(const Config& cfg);

}  // namespace remora::app
