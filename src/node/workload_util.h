// Internal pieces shared by the built-in workloads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "remora/common/latency.h"
#include "remora/node/workloads.h"
#include "node/bootstrap.h"

namespace remora {

constexpr auto kBarrierTimeout = std::chrono::milliseconds(60000);

// What one engine thread of the check workload did (summed per node).
struct CheckCounters {
  uint64_t read_bytes = 0, write_bytes = 0, refusals = 0, atomics = 0, cas_retries = 0;
  uint64_t rpc_calls = 0, ring_records = 0, ring_full = 0;
  void add(const CheckCounters& o) {
    read_bytes += o.read_bytes, write_bytes += o.write_bytes, refusals += o.refusals;
    atomics += o.atomics, cas_retries += o.cas_retries, rpc_calls += o.rpc_calls;
    ring_records += o.ring_records, ring_full += o.ring_full;
  }
  std::string json_fields() const;
};

void fill_home_area(Node& node);
Status check_layout_fits(Node& node);
Status run_check(Node& node, Engine& e, const WorkloadOptions& o, CheckCounters& c);

// Per-operation latency samples of the fabric workload, one set per thread.
struct FabricSamples {
  LatencyRecorder op[4];
  double seconds[4] = {};
};
Status run_fabric(Node& node, Engine& e, const WorkloadOptions& o, FabricSamples& s);

}  // namespace remora
