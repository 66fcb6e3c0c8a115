// The TATP app as a Workload of the common node driver (apps/common).
#pragma once

#include <array>

#include "app_node.h"
#include "tatp.h"

namespace remora::tatp {

class TatpWorkload : public app::Workload {
 public:
  explicit TatpWorkload(TatpOptions o) : o_(o) {}
  std::string name() const override { return "tatp"; }
  uint64_t region_size_hint() const override;
  std::vector<std::string> types() const override;
  Status load(Store& store, const std::vector<NodeId>& nodes, NodeId self) override;
  Status on_engine(Engine& e) override;
  Status resolve(Context& ctx, TxnEngine& txn) override;
  // Inserts the rows the bulk load could not place, with progress.
  Status prepare(Context& ctx, TxnEngine& txn, const app::RunInfo& info) override;
  GAddr baseline_target(NodeId peer) const override;
  Status run(Context& ctx, TxnEngine& txn, const app::RunInfo& info, app::Recorder& rec) override;
  // CALL_FORWARDING rows at the end == initial + inserted - deleted over
  // every node; every subscriber row readable.
  Status check(Context& ctx, TxnEngine& txn, nlohmann::json* out) override;
  void report(nlohmann::json& j) const override;

 private:
  int64_t cf_delta() const;
  static constexpr size_t kMaxThreads = 64;
  const TatpOptions o_;
  std::vector<NodeId> nodes_;
  NodeId self_ = kInvalidNode;
  TatpLayout layout_;
  std::vector<PendingRow> pending_;
  uint64_t cf_initial_ = 0;
  std::array<TatpStats, kMaxThreads> stats_{};
};

}  // namespace remora::tatp
