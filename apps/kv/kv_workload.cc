#include "kv_workload.h"

#include <fmt/format.h>

#include <cstring>

#include "remora/common/latency.h"
#include "cluster_sum.h"
#include "remora/node/engine.h"
#include "remora/txn/object.h"
#include "remora/txn/tx.h"

namespace remora::kv {
namespace {
constexpr uint16_t kWritesMethod = 220;  // app RPC: this node's committed writes
constexpr const char* kTable = "kv";

Op pick_op(char workload, app::Rng& r) {
  const uint64_t x = r.below(100);
  switch (workload) {
    case 'A': return x < 50 ? Op::kRead : Op::kUpdate;
    case 'B': return x < 95 ? Op::kRead : Op::kUpdate;
    case 'F': return x < 50 ? Op::kRead : Op::kRmw;
    default: return Op::kRead;
  }
}

}  // namespace

uint64_t KvWorkload::region_size_hint() const {
  const HashTableOptions h = table_options(o_);
  // Buckets (slots of inline records plus slot and bucket headers, a
  // generous 64 B per slot), overflow buckets for a tenth of them, slack.
  const uint64_t bucket = obj::footprint(h.slots * (h.inline_bytes + 64) + 64);
  return bucket * h.buckets_per_node * 11 / 10 + (16ull << 20);
}

std::vector<std::string> KvWorkload::types() const {
  std::vector<std::string> v;
  for (int k = 0; k < static_cast<int>(Op::kCount); ++k) v.emplace_back(op_name(static_cast<Op>(k)));
  return v;
}

Status KvWorkload::load(Store& store, const std::vector<NodeId>& nodes, NodeId self) {
  REMORA_RETURN_IF_ERROR(validate(o_));
  nodes_ = nodes;
  self_ = self;
  REMORA_RETURN_IF_ERROR(HashTable::create(store, kTable, nodes, table_options(o_)));
  auto l = HashTableLoader::open(store, kTable);
  if (!l.ok()) return l.status();
  const uint64_t total = uint64_t{o_.records} * nodes.size();
  std::vector<std::byte> value(o_.record_size);
  int shown = -1;
  for (uint64_t id = 0; id < total; ++id) {
    const Key k = key_of(id);
    const auto kb = std::as_bytes(std::span(k));
    if (!l->is_home(kb)) continue;
    fill_record(id, 0, value);
    auto stored = l->add(kb, value);
    if (!stored.ok()) return stored.status().with_context(fmt::format("record {}", id));
    if (*stored) ++loaded_;
    else pending_.push_back(id);
    const int pct = static_cast<int>(100 * (id + 1) / total);
    if (pct / 10 != shown / 10) {
      shown = pct;
      fmt::print(stderr, "[kv node {}] preload {:3d}% |{:<20}| {} records stored here\n", self, pct,
                 std::string(static_cast<size_t>(pct / 5), '#'), loaded_);
    }
  }
  return Status::OK();
}

Status KvWorkload::on_engine(Engine& e) {
  if (e.index() >= kMaxThreads) return Status::InvalidArgument(fmt::format("at most {} threads", kMaxThreads));
  if (e.index() != 0) return Status::OK();
  return app::serve_counter(e, kWritesMethod, [this] { return static_cast<int64_t>(writes_here()); });
}

Status KvWorkload::resolve(Context& ctx, TxnEngine& txn) {
  auto t = HashTable::open(ctx, txn, kTable);
  if (!t.ok()) return t.status();
  table_ = std::move(*t);
  keys_ = std::make_unique<KeyChooser>(o_, uint64_t{o_.records} * nodes_.size());
  return Status::OK();
}

Status KvWorkload::prepare(Context& ctx, TxnEngine& txn, const app::RunInfo& info) {
  std::vector<std::byte> value(o_.record_size);
  size_t done = 0;
  for (size_t i = info.index; i < pending_.size(); i += info.workers, ++done) {
    const uint64_t id = pending_[i];
    const Key k = key_of(id);
    fill_record(id, 0, value);
    REMORA_RETURN_IF_ERROR(txn.transact(ctx, [&](Tx& tx) {
      return table_.insert(tx, std::as_bytes(std::span(k)), value);
    }).with_context(fmt::format("preloading record {}", id)));
    if (info.index == 0 && done % 500 == 499)
      fmt::print(stderr, "[kv node {}] preload overflow records: {}/{}\n", self_, i + 1, pending_.size());
  }
  return Status::OK();
}

GAddr KvWorkload::baseline_target(NodeId peer) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i] == peer) return table_.bucket_addr(i);  // bucket i lives on position i
  return {};
}

Status KvWorkload::one(Context& ctx, TxnEngine& txn, Op op, uint64_t id, KvStats& st, std::vector<std::byte>& buf) {
  const Key k = key_of(id);
  const auto kb = std::as_bytes(std::span(k));
  if (op == Op::kRead) {
    HashOpInfo info;
    REMORA_RETURN_IF_ERROR(table_.lookup(ctx, txn, kb, &buf, &info));
    st.lookup_reads += info.reads;
    ++st.lookups;
    return check_record(id, buf, o_.record_size).status();
  }
  // Update and RMW: read, check, write back with one more write. (An RMW
  // derives the new value from the old one; with the synthetic filler both
  // come to the same bytes, so they differ only in the name YCSB gives.)
  REMORA_RETURN_IF_ERROR(txn.transact(ctx, [&](Tx& tx) -> Status {
    REMORA_RETURN_IF_ERROR(table_.get(tx, kb, &buf));
    auto writes = check_record(id, buf, o_.record_size);
    if (!writes.ok()) return writes.status();
    fill_record(id, *writes + 1, buf);
    return table_.update(tx, kb, buf);
  }));
  ++st.writes;
  return Status::OK();
}

Status KvWorkload::run(Context& ctx, TxnEngine& txn, const app::RunInfo& info, app::Recorder& rec) {
  app::Rng rng(info.seed);
  KvStats& st = stats_[info.thread];
  std::vector<std::byte> buf;
  for (uint64_t done = 0; !info.should_stop(done) && !ctx.stop_requested(); ++done) {
    const uint64_t t0 = now_ns();
    const Op op = pick_op(o_.workload, rng);
    Status s = one(ctx, txn, op, keys_->next(rng), st, buf);
    if (s.code() == Code::kConflict) {
      ++rec.gave_up;
      continue;
    }
    if (!s.ok()) return s.with_context(op_name(op));
    rec.done(static_cast<size_t>(op), now_ns() - t0);
  }
  return Status::OK();
}

uint64_t KvWorkload::writes_here() const {
  uint64_t w = 0;
  for (const KvStats& s : stats_) w += s.writes;
  return w;
}

Status KvWorkload::check(Context& ctx, TxnEngine& txn, nlohmann::json* out) {
  auto writes = app::sum_counter(ctx, nodes_, kWritesMethod, static_cast<int64_t>(writes_here()));
  if (!writes.ok()) return writes.status().with_context("committed writes of every node");
  const auto committed = static_cast<uint64_t>(*writes);
  const uint64_t total = uint64_t{o_.records} * nodes_.size();
  uint64_t sum = 0;
  std::vector<std::byte> buf;
  for (uint64_t id = 0; id < total; ++id) {
    const Key k = key_of(id);
    REMORA_RETURN_IF_ERROR(table_.lookup(ctx, txn, std::as_bytes(std::span(k)), &buf)
                               .with_context(fmt::format("record {}", id)));
    auto w = check_record(id, buf, o_.record_size);
    if (!w.ok()) return w.status();
    sum += *w;
  }
  auto entries = table_.count(ctx, txn);
  if (!entries.ok()) return entries.status().with_context("counting entries");
  (*out)["records"] = total;
  (*out)["entries"] = *entries;
  (*out)["committed_writes"] = committed;
  (*out)["record_writes"] = sum;
  (*out)["ok"] = sum == committed && *entries == total;
  return Status::OK();
}

void KvWorkload::report(nlohmann::json& j) const {
  uint64_t reads = 0, lookups = 0;
  for (const KvStats& s : stats_) {
    reads += s.lookup_reads;
    lookups += s.lookups;
  }
  j["workload"] = std::string(1, o_.workload);
  j["distribution"] = o_.zipf ? "zipf" : "uniform";
  j["record_size"] = o_.record_size;
  j["records"] = uint64_t{o_.records} * nodes_.size();
  j["preloaded_here"] = loaded_;
  j["preloaded_by_transactions"] = pending_.size();
  j["reads_per_lookup"] = lookups ? static_cast<double>(reads) / static_cast<double>(lookups) : 0;
}

}  // namespace remora::kv
