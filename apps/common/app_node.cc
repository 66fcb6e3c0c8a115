#include "app_node.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>

#include "remora/common/latency.h"
#include "remora/history/history.h"
#include "remora/node/node.h"
#include "remora/runtime/worker.h"

namespace remora::app {

void Recorder::merge(const Recorder& o) {
  all_.merge(o.all_);
  if (by_type_.size() < o.by_type_.size()) by_type_.resize(o.by_type_.size());
  for (size_t i = 0; i < o.by_type_.size(); ++i) by_type_[i].merge(o.by_type_[i]);
  gave_up += o.gave_up;
}

bool RunInfo::should_stop(uint64_t done) const {
  if (max_ops && done >= max_ops) return true;
  if (stop && stop->load(std::memory_order_relaxed)) return true;
  return now_ns() >= deadline_ns;
}

std::vector<NodeId> node_ids(const Config& cfg) {
  std::vector<NodeId> ids;
  for (const NodeConfig& n : cfg.nodes) ids.push_back(n.id);
  return ids;
}

namespace {

using namespace std::chrono_literals;
constexpr auto kBarrier = 300s;
constexpr uint16_t kEchoMethod = 199;  // the message round-trip baseline
constexpr int kRttSamples = 2000;

class AppNode {
 public:
  AppNode(const Config& cfg, NodeId id, Workload& w, const NodeRunOptions& o)
      : cfg_(cfg), id_(id), w_(w), o_(o), ids_(node_ids(cfg)) {}

  Result<nlohmann::json> run() {
    REMORA_RETURN_IF_ERROR(setup().with_context("setup"));
    REMORA_RETURN_IF_ERROR(on_thread0([&](Context& ctx) { return w_.resolve(ctx, *txns_[0]); })
                               .with_context("resolve"));
    REMORA_RETURN_IF_ERROR(barrier());
    REMORA_RETURN_IF_ERROR(prepare().with_context("prepare"));
    REMORA_RETURN_IF_ERROR(measure_baselines().with_context("baselines"));
    const uint64_t t0 = now_ns();
    REMORA_RETURN_IF_ERROR(workload().with_context("workload"));
    seconds_ = static_cast<double>(now_ns() - t0) / 1e9;
    REMORA_RETURN_IF_ERROR(finish().with_context("finish"));
    node_->leave();
    return report();
  }

 private:
  Status setup() {
    auto n = Node::create(cfg_, id_);
    if (!n.ok()) return n.status();
    node_ = std::move(*n);
    REMORA_RETURN_IF_ERROR(node_->start());
    for (uint32_t t = 0; t < node_->threads(); ++t) node_->engine(t).set_wakeups(o_.wakeups);
    StoreOptions so;
    so.block_size = static_cast<uint32_t>(std::min<uint64_t>(1 << 20, cfg_.region_size));
    auto s = Store::create(*node_, so);
    if (!s.ok()) return s.status();
    store_ = std::move(*s);
    REMORA_RETURN_IF_ERROR(w_.load(*store_, ids_, id_).with_context("load"));
    if (!o_.history_dir.empty()) {
      auto h = HistoryWriter::open(o_.history_dir, id_);
      if (!h.ok()) return h.status();
      history_ = std::move(*h);
      history_->append_tables(*store_);  // what w_.load placed: the checker's initial versions
    }
    txns_.resize(node_->threads());
    recs_.assign(node_->threads(), Recorder(w_.types().size()));
    return node_->run([&](Engine& e) -> Status {
      if (e.index() == 0) REMORA_RETURN_IF_ERROR(store_->push_replicas(e));
      TxnOptions to;
      to.history = history_.get();
      to.seed = o_.seed;
      auto t = TxnEngine::create(*store_, e, to);
      if (!t.ok()) return t.status();
      txns_[e.index()] = std::move(*t);
      REMORA_RETURN_IF_ERROR(e.rpc().register_handler(
          kEchoMethod, [](NodeId, std::span<const std::byte> req, std::vector<std::byte>& resp) {
            resp.assign(req.begin(), req.end());
            return Status::OK();
          }));
      REMORA_RETURN_IF_ERROR(w_.on_engine(e));
      return node_->barrier(e, kBarrier);
    });
  }

  template <typename F>
  Status on_thread0(F&& f) {
    return node_->run_workers([&](Worker& w) {
      if (w.engine().index() == 0) w.spawn([&](Context& ctx) { return f(ctx); });
    });
  }

  Status barrier() {
    return node_->run([&](Engine& e) { return node_->barrier(e, kBarrier); });
  }

  RunInfo info(uint32_t t, uint32_t c, uint64_t deadline) const {
    const uint32_t per = std::max<uint32_t>(o_.coroutines, 1);
    return RunInfo{id_, t, c, t * per + c, per * node_->threads(),
                   o_.seed * 1000003 + (uint64_t{id_} << 32) + t * 4096 + c, deadline, o_.max_ops, o_.stop};
  }

  Status prepare() {
    REMORA_RETURN_IF_ERROR(node_->run_workers([&](Worker& w) {
      const uint32_t t = w.engine().index();
      for (uint32_t c = 0; c < std::max<uint32_t>(o_.coroutines, 1); ++c)
        w.spawn([&, t, c](Context& ctx) { return w_.prepare(ctx, *txns_[t], info(t, c, UINT64_MAX)); });
    }));
    return barrier();
  }

  // The baselines, to the next node, one at a time: one-sided 64 B READs
  // and 64 B RPC echoes (a message round trip through the rings, which is
  // what each commit phase costs).
  Status measure_baselines() {
    const size_t pos = static_cast<size_t>(std::find(ids_.begin(), ids_.end(), id_) - ids_.begin() + 1) % ids_.size();
    const NodeId peer = ids_[pos];
    const GAddr target = w_.baseline_target(peer);
    Status st = node_->run_workers([&](Worker& w) {
      if (w.engine().index() != 0 || peer == id_) return;
      w.spawn([&, peer, target](Context& ctx) -> Status {
        for (int i = 0; i < kRttSamples; ++i) {
          const uint64_t t0 = now_ns();
          REMORA_RETURN_IF_ERROR(ctx.read(peer, target, ctx.scratch().data(), 64));
          read_.add(now_ns() - t0);
        }
        const std::array<std::byte, 64> msg{};
        for (int i = 0; i < kRttSamples; ++i) {
          const uint64_t t0 = now_ns();
          REMORA_RETURN_IF_ERROR(ctx.call(peer, kEchoMethod, msg, 10s));
          echo_.add(now_ns() - t0);
        }
        measured_at_ = now_ns();
        return Status::OK();
      });
      // Keep this engine busy (as under load) while the peers measure too,
      // so echoes are answered by a polling engine, not a napping one.
      w.spawn([&](Context& ctx) {
        while (measured_at_ == 0 || now_ns() < measured_at_ + 300'000'000) ctx.yield();
      });
    });
    REMORA_RETURN_IF_ERROR(st);
    return barrier();
  }

  Status workload() {
    WorkerOptions wo;
    wo.max_coroutines = std::max<uint32_t>(o_.coroutines, 1);
    wo.stop = o_.stop;
    wo.busy_spin = o_.busy_spin;
    wo.waiting_sleep = o_.waiting_sleep;
    wo.max_block = o_.max_block;
    wo.yield_spin = o_.yield_spin;
    wo.adapt_to_host = o_.adapt_to_host;
    const uint64_t deadline = now_ns() + static_cast<uint64_t>(o_.duration.count());
    return node_->run_workers(
        [&](Worker& w) {
          const uint32_t t = w.engine().index();
          for (uint32_t c = 0; c < o_.coroutines; ++c)
            w.spawn([&, t, c](Context& ctx) { return w_.run(ctx, *txns_[t], info(t, c, deadline), recs_[t]); });
        },
        wo);
  }

  Status finish() {
    // Every backup applies what it logged, then node 0 checks the cluster.
    REMORA_RETURN_IF_ERROR(node_->run_workers([&](Worker& w) {
      w.spawn([&](Context& ctx) { return txns_[w.engine().index()]->flush_truncations(ctx); });
    }));
    REMORA_RETURN_IF_ERROR(barrier());
    if (history_) REMORA_RETURN_IF_ERROR(history_->flush());
    if (o_.check && id_ == ids_.front())
      REMORA_RETURN_IF_ERROR(on_thread0([&](Context& ctx) { return w_.check(ctx, *txns_[0], &invariant_); }));
    REMORA_RETURN_IF_ERROR(barrier());
    if (!o_.check) return Status::OK();
    return node_->run([&](Engine& e) -> Status {
      if (e.index() == 0) replicas_ = store_->compare_replicas(e);
      return node_->barrier(e, kBarrier);
    });
  }

  nlohmann::json report() {
    Recorder all(w_.types().size());
    TxnStats ts;
    for (size_t t = 0; t < recs_.size(); ++t) {
      all.merge(recs_[t]);
      const TxnStats& x = txns_[t]->stats();
      ts.attempts += x.attempts;
      ts.commits += x.commits;
      for (size_t k = 0; k < std::size(ts.aborts); ++k) ts.aborts[k] += x.aborts[k];
    }
    nlohmann::json j;
    j["app"] = w_.name();
    j["node"] = id_;
    j["transport"] = node_->fabric().name();
    j["threads"] = node_->threads();
    j["coroutines"] = o_.coroutines;
    j["seconds"] = seconds_;
    j["committed"] = all.committed();
    j["tx_per_s"] = seconds_ > 0 ? static_cast<double>(all.committed()) / seconds_ : 0;
    j["gave_up"] = all.gave_up;
    j["attempts"] = ts.attempts;
    nlohmann::json ab;
    uint64_t conflicts = 0;
    for (size_t k = 0; k < std::size(ts.aborts); ++k) {
      ab[abort_cause_name(static_cast<AbortCause>(k))] = ts.aborts[k];
      if (static_cast<AbortCause>(k) != AbortCause::kApplication) conflicts += ts.aborts[k];
    }
    j["aborts"] = ab;
    j["abort_rate"] = ts.attempts ? static_cast<double>(conflicts) / static_cast<double>(ts.attempts) : 0;
    j["latency"] = all.all().json();
    const std::vector<std::string> names = w_.types();
    nlohmann::json types = nlohmann::json::object();
    for (size_t k = 0; k < names.size(); ++k) types[names[k]] = all.by_type()[k].json();
    j["types"] = types;
    uint64_t sleeps = 0, doorbells = 0;
    bool wakeable = true;
    for (uint32_t t = 0; t < node_->threads(); ++t) {
      Engine& e = node_->engine(t);
      sleeps += e.sleeps();
      if (e.has_messaging()) doorbells += e.messenger().doorbells();
      wakeable = wakeable && e.can_be_woken();
    }
    j["wakeups"] = {{"sleeps", sleeps}, {"doorbells_rung", doorbells}, {"event_driven", wakeable}};
    j["fabric_read_64b"] = read_.json();
    j["message_rtt_64b"] = echo_.json();
    w_.report(j);
    if (!invariant_.is_null()) j["invariant"] = invariant_;
    if (o_.check) j["replicas"] = replicas_.ok() ? "equal" : replicas_.to_string();
    return j;
  }

  const Config& cfg_;
  const NodeId id_;
  Workload& w_;
  const NodeRunOptions& o_;
  const std::vector<NodeId> ids_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<HistoryWriter> history_;
  std::vector<std::unique_ptr<TxnEngine>> txns_;
  std::vector<Recorder> recs_;
  Histogram read_, echo_;
  uint64_t measured_at_ = 0;
  double seconds_ = 0;
  nlohmann::json invariant_;
  Status replicas_;
};

}  // namespace

Result<nlohmann::json> run_node(const Config& cfg, NodeId id, Workload& w, const NodeRunOptions& o) {
  AppNode n(cfg, id, w, o);
  return n.run();
}

}  // namespace remora::app
