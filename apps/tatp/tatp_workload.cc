#include "tatp_workload.h"

#include <fmt/format.h>

#include <cstring>

#include "cluster_sum.h"
#include "remora/node/engine.h"
#include "remora/txn/object.h"

namespace remora::tatp {
namespace {
constexpr uint16_t kDeltaMethod = 210;  // app RPC: this node's CALL_FORWARDING inserts - deletes
}  // namespace

uint64_t TatpWorkload::region_size_hint() const {
  // Subscriber rows plus three hash tables at the load factor, doubled for
  // overflow buckets and inserts, plus slack for the allocator's blocks.
  const double per_sub = obj::footprint(sizeof(Subscriber)) +
                         (2.5 * (40 + 24) + 2.5 * (40 + 16) + 3.75 * (40 + 32)) * 2 / o_.load_factor;
  return static_cast<uint64_t>(per_sub * o_.subscribers) + (16ull << 20);
}

std::vector<std::string> TatpWorkload::types() const {
  std::vector<std::string> v;
  for (size_t k = 0; k < kTypes; ++k) v.emplace_back(tx_type_name(static_cast<TxType>(k)));
  return v;
}

Status TatpWorkload::load(Store& store, const std::vector<NodeId>& nodes, NodeId self) {
  nodes_ = nodes;
  self_ = self;
  return tatp::load(store, nodes, self, o_, &pending_, &cf_initial_);
}

Status TatpWorkload::on_engine(Engine& e) {
  if (e.index() >= kMaxThreads) return Status::InvalidArgument(fmt::format("at most {} threads", kMaxThreads));
  if (e.index() != 0) return Status::OK();
  return app::serve_counter(e, kDeltaMethod, [this] { return cf_delta(); });
}

Status TatpWorkload::resolve(Context& ctx, TxnEngine& txn) {
  auto l = tatp::resolve(ctx, txn, nodes_);
  if (!l.ok()) return l.status();
  layout_ = std::move(*l);
  return Status::OK();
}

Status TatpWorkload::prepare(Context& ctx, TxnEngine& txn, const app::RunInfo& info) {
  const size_t n = pending_.size();
  size_t done = 0;
  for (size_t i = info.index; i < n; i += info.workers, ++done) {
    REMORA_RETURN_IF_ERROR(insert_pending(ctx, txn, layout_, pending_[i]).with_context("overflow row"));
    if (info.index == 0 && done % 1000 == 999)
      fmt::print(stderr, "[tatp node {}] overflow rows: {}/{}\n", self_, i + 1, n);
  }
  return Status::OK();
}

GAddr TatpWorkload::baseline_target(NodeId peer) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i] == peer) return layout_.subscriber[i].row(0);
  return {};
}

Status TatpWorkload::run(Context& ctx, TxnEngine& txn, const app::RunInfo& info, app::Recorder& rec) {
  return run_coroutine(ctx, txn, layout_, info, rec, stats_[info.thread]);
}

int64_t TatpWorkload::cf_delta() const {
  int64_t d = 0;
  for (const TatpStats& s : stats_) d += static_cast<int64_t>(s.cf_inserted) - static_cast<int64_t>(s.cf_deleted);
  return d;
}

Status TatpWorkload::check(Context& ctx, TxnEngine& txn, nlohmann::json* out) {
  auto sum = app::sum_counter(ctx, nodes_, kDeltaMethod, cf_delta());
  if (!sum.ok()) return sum.status().with_context("call_forwarding inserts - deletes of every node");
  const int64_t delta = *sum;
  auto rows = layout_.cf.count(ctx, txn);
  if (!rows.ok()) return rows.status().with_context("counting call_forwarding");
  (*out)["call_forwarding_initial"] = cf_initial_;
  (*out)["call_forwarding_delta"] = delta;
  (*out)["call_forwarding_rows"] = *rows;
  (*out)["ok"] = static_cast<int64_t>(*rows) == static_cast<int64_t>(cf_initial_) + delta;
  return Status::OK();
}

void TatpWorkload::report(nlohmann::json& j) const {
  nlohmann::json nr;
  uint64_t ins = 0, del = 0;
  for (size_t k = 0; k < kTypes; ++k) {
    uint64_t c = 0;
    for (const TatpStats& s : stats_) c += s.no_row[k];
    nr[tx_type_name(static_cast<TxType>(k))] = c;
  }
  for (const TatpStats& s : stats_) {
    ins += s.cf_inserted;
    del += s.cf_deleted;
  }
  j["subscribers"] = layout_.subscribers();
  j["no_row"] = nr;
  j["cf_inserted"] = ins;
  j["cf_deleted"] = del;
  j["overflow_rows_loaded"] = pending_.size();
}

}  // namespace remora::tatp
