#include "bank_node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "remora/history/history.h"
#include "remora/node/node.h"
#include "remora/runtime/worker.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"

namespace remora::bank {
namespace {

using namespace std::chrono_literals;
constexpr auto kBarrier = 300s;
constexpr uint16_t kNetMethod = 200;  // app RPC: this node's net money change
constexpr int kRttSamples = 2000;

double percentile_us(std::vector<uint64_t>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return static_cast<double>(v[i]) / 1000.0;
}

nlohmann::json latency_json(std::vector<uint64_t> v) {
  nlohmann::json j;
  j["count"] = v.size();
  j["p50_us"] = percentile_us(v, 0.50);
  j["p99_us"] = percentile_us(v, 0.99);
  j["p999_us"] = percentile_us(v, 0.999);
  // log2 buckets with 8 steps per octave, for merging across nodes
  std::map<int, uint64_t> hist;
  for (uint64_t ns : v) hist[static_cast<int>(std::log2(static_cast<double>(std::max<uint64_t>(ns, 1))) * 8)]++;
  nlohmann::json h = nlohmann::json::array();
  for (auto [b, n] : hist) h.push_back({b, n});
  j["hist"] = h;
  return j;
}

class BankNode {
 public:
  BankNode(const Config& cfg, NodeId id, const NodeRunOptions& o) : cfg_(cfg), id_(id), o_(o) {}

  Result<nlohmann::json> run() {
    REMORA_RETURN_IF_ERROR(setup().with_context("setup"));
    REMORA_RETURN_IF_ERROR(resolve().with_context("table lookup"));
    REMORA_RETURN_IF_ERROR(measure_rtt().with_context("fabric round trip"));
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
    StoreOptions so;
    so.block_size = static_cast<uint32_t>(std::min<uint64_t>(1 << 20, cfg_.region_size));
    auto s = Store::create(*node_, so);
    if (!s.ok()) return s.status();
    store_ = std::move(*s);
    REMORA_RETURN_IF_ERROR(load(*store_, o_.bank.accounts));
    if (!o_.history_dir.empty()) {
      auto h = HistoryWriter::open(o_.history_dir, id_);
      if (!h.ok()) return h.status();
      history_ = std::move(*h);
    }
    txns_.resize(node_->threads());
    stats_.resize(node_->threads());
    return node_->run([&](Engine& e) -> Status {
      if (e.index() == 0) REMORA_RETURN_IF_ERROR(store_->push_replicas(e));
      TxnOptions to;
      to.history = history_.get();
      to.seed = o_.bank.seed;
      auto t = TxnEngine::create(*store_, e, to);
      if (!t.ok()) return t.status();
      txns_[e.index()] = std::move(*t);
      REMORA_RETURN_IF_ERROR(e.rpc().register_handler(
          kNetMethod, [this](NodeId, std::span<const std::byte>, std::vector<std::byte>& resp) {
            const int64_t net = net_total();
            resp.resize(8);
            std::memcpy(resp.data(), &net, 8);
            return Status::OK();
          }));
      return node_->barrier(e, kBarrier);
    });
  }

  std::vector<NodeId> node_ids() const {
    std::vector<NodeId> ids;
    for (const NodeConfig& n : cfg_.nodes) ids.push_back(n.id);
    return ids;
  }

  Status resolve() {
    Status st = node_->run_workers([&](Worker& w) {
      if (w.engine().index() != 0) return;
      w.spawn([&](Context& ctx) -> Status {
        auto l = bank::resolve(ctx, *txns_[0], node_ids());
        if (!l.ok()) return l.status();
        layout_ = std::move(*l);
        return Status::OK();
      });
    });
    REMORA_RETURN_IF_ERROR(st);
    return barrier();
  }

  Status barrier() {
    return node_->run([&](Engine& e) { return node_->barrier(e, kBarrier); });
  }

  // The baseline: one-sided 64 B READs to the next node, one at a time.
  Status measure_rtt() {
    const std::vector<NodeId> ids = node_ids();
    const size_t pos = static_cast<size_t>(std::find(ids.begin(), ids.end(), id_) - ids.begin() + 1) % ids.size();
    const NodeId peer = ids[pos];
    const GAddr target = layout_.checking[pos].row(0);
    Status st = node_->run_workers([&](Worker& w) {
      if (w.engine().index() != 0 || peer == id_) return;
      w.spawn([&, peer, target](Context& ctx) -> Status {
        for (int i = 0; i < kRttSamples; ++i) {
          const uint64_t t0 = now_ns();
          REMORA_RETURN_IF_ERROR(ctx.read(peer, target, ctx.scratch().data(), 64));
          rtt_ns_.push_back(now_ns() - t0);
        }
        return Status::OK();
      });
    });
    REMORA_RETURN_IF_ERROR(st);
    return barrier();
  }

  Status workload() {
    WorkerOptions wo;
    wo.max_coroutines = std::max<uint32_t>(o_.coroutines, 1);
    wo.stop = o_.stop;
    return node_->run_workers(
        [&](Worker& w) {
          const uint32_t t = w.engine().index();
          for (uint32_t c = 0; c < o_.coroutines; ++c) {
            const uint64_t seed = o_.bank.seed * 1000003 + (uint64_t{id_} << 32) + t * 4096 + c;
            w.spawn([&, t, seed](Context& ctx) {
              return run_coroutine(ctx, *txns_[t], layout_, o_.bank, seed, stats_[t]);
            });
          }
        },
        wo);
  }

  Status finish() {
    // Every backup applies what it logged, then node 0 checks the money.
    REMORA_RETURN_IF_ERROR(node_->run_workers([&](Worker& w) {
      w.spawn([&](Context& ctx) { return txns_[w.engine().index()]->flush_truncations(ctx); });
    }));
    REMORA_RETURN_IF_ERROR(barrier());
    if (history_) REMORA_RETURN_IF_ERROR(history_->flush());
    if (o_.check && id_ == cfg_.nodes.front().id) REMORA_RETURN_IF_ERROR(check_money());
    REMORA_RETURN_IF_ERROR(barrier());
    if (!o_.check) return Status::OK();
    return node_->run([&](Engine& e) -> Status {
      if (e.index() == 0) replicas_ = store_->compare_replicas(e);
      return node_->barrier(e, kBarrier);
    });
  }

  Status check_money() {
    return node_->run_workers([&](Worker& w) {
      if (w.engine().index() != 0) return;
      w.spawn([&](Context& ctx) -> Status {
        auto total = total_balance(ctx, *txns_[0], layout_);
        if (!total.ok()) return total.status();
        int64_t net = 0;
        for (NodeId n : node_ids()) {
          if (n == id_) {
            net += net_total();
            continue;
          }
          std::vector<std::byte> resp;
          REMORA_RETURN_IF_ERROR(ctx.call(n, kNetMethod, {}, 10s, &resp));
          if (resp.size() != 8) return Status::Corrupt("net reply size");
          int64_t v;
          std::memcpy(&v, resp.data(), 8);
          net += v;
        }
        invariant_["initial"] = static_cast<int64_t>(layout_.accounts()) * 2 * kInitialBalance;
        invariant_["net"] = net;
        invariant_["expected"] = invariant_["initial"].get<int64_t>() + net;
        invariant_["actual"] = *total;
        invariant_["ok"] = invariant_["expected"].get<int64_t>() == *total;
        return Status::OK();
      });
    });
  }

  int64_t net_total() const {
    int64_t n = 0;
    for (const BankStats& s : stats_) n += s.net;
    return n;
  }

  nlohmann::json report() {
    BankStats all;
    TxnStats ts;
    for (size_t t = 0; t < stats_.size(); ++t) {
      const BankStats& s = stats_[t];
      for (size_t k = 0; k < all.committed.size(); ++k) all.committed[k] += s.committed[k];
      all.insufficient += s.insufficient;
      all.gave_up += s.gave_up;
      all.net += s.net;
      all.latency_ns.insert(all.latency_ns.end(), s.latency_ns.begin(), s.latency_ns.end());
      all.send_payment_ns.insert(all.send_payment_ns.end(), s.send_payment_ns.begin(), s.send_payment_ns.end());
      const TxnStats& x = txns_[t]->stats();
      ts.attempts += x.attempts;
      ts.commits += x.commits;
      for (size_t k = 0; k < std::size(ts.aborts); ++k) ts.aborts[k] += x.aborts[k];
    }
    nlohmann::json j;
    j["node"] = id_;
    j["transport"] = node_->fabric().name();
    j["threads"] = node_->threads();
    j["coroutines"] = o_.coroutines;
    j["accounts"] = layout_.accounts();
    j["seconds"] = seconds_;
    j["committed"] = all.total();
    j["tx_per_s"] = seconds_ > 0 ? static_cast<double>(all.total()) / seconds_ : 0;
    nlohmann::json by;
    for (size_t k = 0; k < all.committed.size(); ++k) by[tx_type_name(static_cast<TxType>(k))] = all.committed[k];
    j["by_type"] = by;
    j["insufficient_funds"] = all.insufficient;
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
    j["latency"] = latency_json(std::move(all.latency_ns));
    j["send_payment"] = latency_json(std::move(all.send_payment_ns));
    j["fabric_read_64b"] = latency_json(rtt_ns_);
    j["net"] = all.net;
    if (!invariant_.is_null()) j["invariant"] = invariant_;
    if (o_.check) j["replicas"] = replicas_.ok() ? "equal" : replicas_.to_string();
    return j;
  }

  const Config& cfg_;
  const NodeId id_;
  const NodeRunOptions& o_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<HistoryWriter> history_;
  std::vector<std::unique_ptr<TxnEngine>> txns_;
  std::vector<BankStats> stats_;
  BankLayout layout_;
  std::vector<uint64_t> rtt_ns_;
  double seconds_ = 0;
  nlohmann::json invariant_;
  Status replicas_;
};

}  // namespace

Result<nlohmann::json> run_node(const Config& cfg, NodeId id, const NodeRunOptions& o) {
  BankNode n(cfg, id, o);
  return n.run();
}

}  // namespace remora::bank
