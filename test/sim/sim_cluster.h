// SimCluster: N in-process nodes (Store + TxnEngine + Worker each) on the
// loopback fabric, every clock and fault hook wired to one Simulator.
// Built and loaded with the simulator detached (operations run inside
// post(), as in the normal loopback tests); attach() hands the fabric to
// the simulator for the run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "remora/cluster/config.h"
#include "remora/history/history.h"
#include "remora/runtime/worker.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"
#include "runtime/loopback_engines.h"
#include "sim/simulator.h"

namespace remora::sim {

struct SimClusterSpec {
  uint32_t nodes = 3;
  uint32_t backups = 1;
  uint64_t region_size = 2 << 20;
  uint32_t block_size = 64 << 10;
  uint64_t rpc_timeout_ns = 2'000'000;
};

class SimCluster {
 public:
  static Result<std::unique_ptr<SimCluster>> create(const SimClusterSpec& spec, Simulator& sim,
                                                    uint64_t seed);
  ~SimCluster();

  uint32_t size() const { return static_cast<uint32_t>(stores_.size()); }
  const Config& config() const { return cfg_; }
  std::vector<NodeId> node_ids() const;
  Store& store(NodeId n) { return *stores_[n]; }
  TxnEngine& txn(NodeId n) { return *txns_[n]; }
  Worker& worker(NodeId n) { return *workers_[n]; }
  Simulator& sim() { return sim_; }
  const std::vector<HistoryRecord>& history() const { return history_; }

  // Load time: copies every node's used blocks to its backups.
  Status push_replicas();
  // Hands the fabric to the simulator / takes it back.
  void attach();
  void detach();
  // Runs the spawned coroutines to their end under the simulator (attached).
  Status run(uint64_t limit_ns);
  // Every coordinator flushes its truncations (under the simulator).
  Status flush(uint64_t limit_ns);

  // ---- end-of-run checks (detached, nothing running) ----
  // Every backup replica equals its primary region byte for byte.
  Status check_replicas() const;
  // No participant keeps a backup-log or lock-log entry.
  Status check_logs_empty() const;
  // Digest of every region of every node.
  uint64_t memory_hash() const;

 private:
  // The simulator's faults of the commit protocol: refused LOCKs.
  class Faults final : public TxnFaults {
   public:
    explicit Faults(Simulator& sim) : sim_(sim) {}
    Status before_serve(NodeId self, uint16_t method, NodeId from, const TxId& tx) override;

   private:
    Simulator& sim_;
  };

  explicit SimCluster(Simulator& sim) : sim_(sim), faults_(sim) {}
  Status build(const SimClusterSpec& spec, uint64_t seed);

  Simulator& sim_;
  Faults faults_;
  Config cfg_;
  std::vector<HistoryRecord> history_;
  std::unique_ptr<testing::LoopbackEngines> net_;
  std::vector<std::unique_ptr<Store>> stores_;
  std::vector<std::unique_ptr<TxnEngine>> txns_;
  std::vector<std::unique_ptr<Worker>> workers_;  // declared last: destroyed first
};

}  // namespace remora::sim
