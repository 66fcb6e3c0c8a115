#include "bank_node.h"

#include <fmt/format.h>

#include <cstring>

#include "cluster_sum.h"
#include "remora/node/engine.h"

namespace remora::bank {
namespace {
constexpr uint16_t kNetMethod = 200;  // app RPC: this node's net money change
}  // namespace

std::vector<std::string> BankWorkload::types() const {
  std::vector<std::string> v;
  for (int k = 0; k < static_cast<int>(TxType::kCount); ++k) v.emplace_back(tx_type_name(static_cast<TxType>(k)));
  return v;
}

Status BankWorkload::load(Store& store, const std::vector<NodeId>& nodes, NodeId self) {
  nodes_ = nodes;
  self_ = self;
  return bank::load(store, o_.accounts);
}

Status BankWorkload::on_engine(Engine& e) {
  if (e.index() >= kMaxThreads) return Status::InvalidArgument(fmt::format("at most {} threads", kMaxThreads));
  if (e.index() != 0) return Status::OK();
  return app::serve_counter(e, kNetMethod, [this] { return net_total(); });
}

Status BankWorkload::resolve(Context& ctx, TxnEngine& txn) {
  auto l = bank::resolve(ctx, txn, nodes_);
  if (!l.ok()) return l.status();
  layout_ = std::move(*l);
  return Status::OK();
}

GAddr BankWorkload::baseline_target(NodeId peer) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i] == peer) return layout_.checking[i].row(0);
  return {};
}

Status BankWorkload::run(Context& ctx, TxnEngine& txn, const app::RunInfo& info, app::Recorder& rec) {
  return run_coroutine(ctx, txn, layout_, o_, info, rec, stats_[info.thread]);
}

int64_t BankWorkload::net_total() const {
  int64_t n = 0;
  for (const BankStats& s : stats_) n += s.net;
  return n;
}

Status BankWorkload::check(Context& ctx, TxnEngine& txn, nlohmann::json* out) {
  auto total = total_balance(ctx, txn, layout_);
  if (!total.ok()) return total.status();
  auto sum = app::sum_counter(ctx, nodes_, kNetMethod, net_total());
  if (!sum.ok()) return sum.status().with_context("net money of every node");
  const int64_t net = *sum;
  const int64_t initial = static_cast<int64_t>(layout_.accounts()) * 2 * kInitialBalance;
  (*out)["initial"] = initial;
  (*out)["net"] = net;
  (*out)["expected"] = initial + net;
  (*out)["actual"] = *total;
  (*out)["ok"] = initial + net == *total;
  return Status::OK();
}

std::string BankWorkload::describe_check(const nlohmann::json& inv) const {
  return fmt::format("money: expected {} actual {} -> {}", inv.value("expected", int64_t{0}),
                     inv.value("actual", int64_t{0}), inv.value("ok", false) ? "ok" : "BROKEN");
}

void BankWorkload::report(nlohmann::json& j) const {
  uint64_t insufficient = 0;
  for (const BankStats& s : stats_) insufficient += s.insufficient;
  j["accounts"] = layout_.accounts();
  j["insufficient_funds"] = insufficient;
  j["net"] = net_total();
  j["send_payment"] = j["types"][tx_type_name(TxType::kSendPayment)];
}

Result<nlohmann::json> run_node(const Config& cfg, NodeId id, const NodeRunOptions& o) {
  BankWorkload w(o.bank);
  return app::run_node(cfg, id, w, o.run);
}

}  // namespace remora::bank
