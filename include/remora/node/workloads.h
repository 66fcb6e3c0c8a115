// Built-in workloads that a node can run (remora node/up --workload ...).
//   check  — every fabric operation between every pair of nodes with
//            byte-exact verification, bounds refusals, concurrent CAS/FAA to
//            exact totals, a ring stream and RPC echo with verification.
//   fabric — timed latency/throughput loop of read, write, cas, faa against
//            every peer (the quick start's demo).
//   serve  — serve peers (progress, rings) until they all leave or `stop`.
#pragma once

#include <atomic>
#include <string>

#include "remora/node/node.h"

namespace remora {

struct WorkloadOptions {
  std::string name = "check";
  double duration_s = 3;   // fabric: total time over the four operations
  uint32_t size = 64;      // fabric: bytes per read/write
  uint32_t rounds = 200;   // check: atomics and ring records per peer and thread
  const std::atomic<bool>* stop = nullptr;  // serve/fabric: stop early when set
};

// Runs the workload on every engine thread with cluster barriers around it.
// Returns one JSON object (a line) with the results; "ok":false and a
// non-OK status when a check failed.
struct WorkloadResult {
  Status status;
  std::string json;
};
WorkloadResult run_workload(Node& node, const WorkloadOptions& opts);

}  // namespace remora
