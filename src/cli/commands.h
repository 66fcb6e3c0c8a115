// The `remora` subcommands. Each returns the process exit code:
// 0 success, 1 a workload/check failed, 2 bad input (config, arguments).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "remora/fabric/types.h"

namespace remora::cli {

// Workload knobs shared by `node` and `up`.
struct WorkloadArgs {
  std::string workload = "check";
  double duration_s = 3;
  uint32_t size = 64;
  uint32_t rounds = 200;
  // The same knobs as `remora node` flags, for spawning children.
  std::vector<std::string> as_flags() const;
};

struct NodeArgs {
  std::string config;
  NodeId id = 0;
  WorkloadArgs work;
};

struct UpArgs {
  std::string config;
  WorkloadArgs work;
  bool json = false;
  double timeout_s = 0;  // 0: derived from the config and workload
};

struct InfoArgs {
  std::string config;  // optional
  bool json = false;
};

struct BenchArgs {
  std::string config;
  std::vector<std::string> ops = {"read"};
  uint32_t size = 64;
  uint64_t iters = 100000;
  uint64_t warmup = 1000;
  NodeId peer = kInvalidNode;  // default: the lowest other node
  // Operations timed per clock-read pair: per-op figures are batch time /
  // batch, so a 30 ns operation is resolved far below a 10 ns clock tick.
  uint32_t batch = 1;
  // Operations posted at once within a batch (then all polled back).
  uint32_t inflight = 1;
  bool json = false;
};

int cmd_node(const NodeArgs& a);
int cmd_up(const UpArgs& a);
int cmd_info(const InfoArgs& a);
int cmd_bench_fabric(const BenchArgs& a);

// SIGINT/SIGTERM set this flag (installed by main).
const std::atomic<bool>& stop_flag();
void install_stop_handlers();

}  // namespace remora::cli
