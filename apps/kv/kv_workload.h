// The key-value store app as a Workload of the common node driver.
#pragma once

#include <array>
#include <memory>

#include "app_node.h"
#include "ycsb.h"

namespace remora::kv {

class KvWorkload : public app::Workload {
 public:
  explicit KvWorkload(KvOptions o) : o_(o) {}
  std::string name() const override { return "kv"; }
  uint64_t region_size_hint() const override;
  std::vector<std::string> types() const override;
  // Preload: this node's records go straight into its buckets (progress on
  // stderr); records whose bucket is full wait for prepare().
  Status load(Store& store, const std::vector<NodeId>& nodes, NodeId self) override;
  Status on_engine(Engine& e) override;
  Status resolve(Context& ctx, TxnEngine& txn) override;
  Status prepare(Context& ctx, TxnEngine& txn, const app::RunInfo& info) override;
  GAddr baseline_target(NodeId peer) const override;
  Status run(Context& ctx, TxnEngine& txn, const app::RunInfo& info, app::Recorder& rec) override;
  // Every record present and intact; the sum of their write counts equals
  // the committed updates + RMWs of every node.
  Status check(Context& ctx, TxnEngine& txn, nlohmann::json* out) override;
  void report(nlohmann::json& j) const override;

 private:
  uint64_t writes_here() const;
  Status one(Context& ctx, TxnEngine& txn, Op op, uint64_t id, KvStats& st, std::vector<std::byte>& buf);
  static constexpr size_t kMaxThreads = 64;
  const KvOptions o_;
  std::vector<NodeId> nodes_;
  NodeId self_ = kInvalidNode;
  HashTable table_;
  std::unique_ptr<KeyChooser> keys_;
  std::vector<uint64_t> pending_;  // record ids left for prepare()
  uint64_t loaded_ = 0;
  std::array<KvStats, kMaxThreads> stats_{};
};

}  // namespace remora::kv
