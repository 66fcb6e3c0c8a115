// One node of the bank app: start, load, run SmallBank on every engine
// thread, check, report one JSON object.
#pragma once

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

#include "remora/cluster/config.h"
#include "smallbank.h"

namespace remora::bank {

struct NodeRunOptions {
  BankOptions bank;
  uint32_t coroutines = 8;     // per engine thread
  std::string history_dir;     // empty: no history
  const std::atomic<bool>* stop = nullptr;
  // Node 0 checks the money invariant over the whole cluster and every
  // node compares its regions with their backups after the run.
  bool check = true;
};

// Runs node `id` of `cfg` to the end. The JSON has the node's figures
// (see README); node 0's also "invariant". Errors: the first failure.
Result<nlohmann::json> run_node(const Config& cfg, NodeId id, const NodeRunOptions& o);

}  // namespace remora::bank
