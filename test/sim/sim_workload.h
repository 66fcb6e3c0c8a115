// SimWorkload: what a simulated run does and checks (docs/simulation.md),
// and run_seed(): one seed of one workload, from cluster to verdict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "remora/common/status.h"
#include "sim/sim_cluster.h"
#include "sim/sim_rng.h"

namespace remora::sim {

// Checks that fail because of bugs known and being fixed in src/txn are
// reported as "known" instead of failing the seed while this is set; the
// check still runs. REMORA_SIM_STRICT=1 or --strict turns it off.
struct SimOptions {
  bool verbose = false;
  bool tolerate_known_bugs = true;
};

// What every workload reports about its clients' operations.
struct OpCounts {
  uint64_t committed = 0;  // transact() returned OK
  uint64_t refused = 0;    // application outcome (not found, exists, out of memory)
  uint64_t gave_up = 0;    // kConflict after max_attempts
  uint64_t unknown = 0;    // another error (timeout, ...): may or may not have committed
};

class SimWorkload {
 public:
  virtual ~SimWorkload() = default;
  // Load time, simulator detached: tables and initial objects.
  virtual Status load(SimCluster& c, SimRng& rng) = 0;
  // Spawns the client coroutines of every node.
  virtual void start(SimCluster& c, SimRng& rng) = 0;
  // After the run and the flush, simulator attached, nothing running: the
  // workload's own invariants (it may spawn and run check coroutines).
  virtual Status check(SimCluster& c) = 0;
  // Objects whose address and size never change (versions sampled).
  virtual std::vector<GAddr> fixed_objects() const = 0;
  const OpCounts& ops() const { return ops_; }

 protected:
  // Classifies a transact() outcome; `app` are codes the op returns by design.
  void count(const Status& st, std::initializer_list<Code> app = {});
  // Spawns 1..max_clients clients on every node, each with its own forked
  // rng and 5..25 operations: body(node, client, ctx, rng, ops).
  using ClientBody = std::function<Status(NodeId, uint64_t, Context&, SimRng&, uint64_t)>;
  void spawn_clients(SimCluster& c, SimRng& rng, uint64_t max_clients, ClientBody body);
  OpCounts ops_;
};

std::unique_ptr<SimWorkload> make_bank();
std::unique_ptr<SimWorkload> make_hash();
std::unique_ptr<SimWorkload> make_mix();
// "bank", "hash", "mix"; nullptr for anything else.
std::unique_ptr<SimWorkload> make_workload(const std::string& name);
const std::vector<std::string>& workload_names();

struct SeedReport {
  std::string workload;
  uint64_t seed = 0;
  bool ok = true;
  std::string failed_check;  // empty if ok
  std::string message;
  std::vector<std::string> known;  // known-bug checks that failed (tolerated)
  uint64_t trace_hash = 0;
  uint64_t attempts = 0, commits = 0;
  OpCounts ops;
  SimCounters sim;
  uint64_t virtual_ns = 0;
  double wall_s = 0;
  std::string repro() const;      // the one command that replays this seed
  std::string json_line() const;  // {"workload":...,"seed":...,...}
  std::string summary() const;    // one human line
};

SeedReport run_seed(const std::string& workload, uint64_t seed, const SimOptions& opts);

}  // namespace remora::sim
