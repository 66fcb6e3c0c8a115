// The bank app as a Workload of the common node driver (apps/common).
#pragma once

#include <nlohmann/json.hpp>

#include "app_node.h"
#include "remora/cluster/config.h"
#include "smallbank.h"

namespace remora::bank {

class BankWorkload : public app::Workload {
 public:
  explicit BankWorkload(BankOptions o) : o_(o) {}
  std::string name() const override { return "bank"; }
  std::vector<std::string> types() const override;
  Status load(Store& store, const std::vector<NodeId>& nodes, NodeId self) override;
  Status on_engine(Engine& e) override;
  Status resolve(Context& ctx, TxnEngine& txn) override;
  GAddr baseline_target(NodeId peer) const override;
  Status run(Context& ctx, TxnEngine& txn, const app::RunInfo& info, app::Recorder& rec) override;
  // The money invariant over the whole cluster (every node's net by RPC).
  Status check(Context& ctx, TxnEngine& txn, nlohmann::json* out) override;
  std::string describe_check(const nlohmann::json& inv) const override;
  void report(nlohmann::json& j) const override;

 private:
  int64_t net_total() const;
  static constexpr size_t kMaxThreads = 64;
  const BankOptions o_;
  std::vector<NodeId> nodes_;
  NodeId self_ = kInvalidNode;
  BankLayout layout_;
  std::array<BankStats, kMaxThreads> stats_{};
};

struct NodeRunOptions {
  BankOptions bank;
  app::NodeRunOptions run;
};

// Runs node `id` of `cfg` to the end (see app::run_node).
Result<nlohmann::json> run_node(const Config& cfg, NodeId id, const NodeRunOptions& o);

}  // namespace remora::bank
