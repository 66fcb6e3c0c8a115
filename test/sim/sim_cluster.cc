#include "sim/sim_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "remora/cluster/region_map.h"
#include "txn/wire.h"

namespace remora::sim {

Result<std::unique_ptr<SimCluster>> SimCluster::create(const SimClusterSpec& spec, Simulator& sim,
                                                       uint64_t seed) {
  std::unique_ptr<SimCluster> c(new SimCluster(sim));
  REMORA_RETURN_IF_ERROR(c->build(spec, seed));
  return c;
}

SimCluster::~SimCluster() {
  detach();
  workers_.clear();
}

std::vector<NodeId> SimCluster::node_ids() const {
  std::vector<NodeId> ids;
  for (const auto& n : cfg_.nodes) ids.push_back(n.id);
  return ids;
}

Status SimCluster::build(const SimClusterSpec& spec, uint64_t seed) {
  cfg_.cluster_id = "sim";
  cfg_.region_size = spec.region_size;
  cfg_.backups = spec.backups;
  for (NodeId n = 0; n < spec.nodes; ++n) cfg_.nodes.push_back({n, "127.0.0.1", 0});
  const RegionMap map(cfg_);
  testing::LoopbackEnginesOptions eo;
  eo.now_ns = sim_.clock();
  eo.messenger = [this](NodeId n, MessengerOptions& mo) {
    mo.refuse_send = [this, n](NodeId to) { return sim_.ring_refuses(n, to); };
  };
  auto net = testing::LoopbackEngines::create(
      spec.nodes, 1, spec.region_size,
      [&](NodeId n, Fabric& f) -> Status {
        for (const RegionMap::Replica& r : map.replicas_on(n)) {
          auto reg = f.register_region(r.local_region, spec.region_size);
          if (!reg.ok()) return reg.status();
        }
        return Status::OK();
      },
      std::move(eo));
  if (!net.ok()) return net.status();
  net_ = std::move(*net);
  for (NodeId n = 0; n < spec.nodes; ++n) {
    auto store = Store::create(cfg_, n, net_->fabric(n), {&net_->data(n)}, {spec.block_size});
    if (!store.ok()) return store.status();
    stores_.push_back(std::move(*store));
    TxnOptions to;
    to.seed = seed;
    to.rpc_timeout = std::chrono::nanoseconds(spec.rpc_timeout_ns);
    to.now_ns = sim_.clock();
    to.history_sink = [this](const HistoryRecord& r) { history_.push_back(r); };
    to.faults = &faults_;
    auto txn = TxnEngine::create(*stores_.back(), net_->engine(n), std::move(to));
    if (!txn.ok()) return txn.status();
    txns_.push_back(std::move(*txn));
    WorkerOptions wo;
    wo.now_ns = sim_.clock();
    wo.stack_size = 128 << 10;
    auto w = Worker::create(net_->engine(n), std::move(wo));
    if (!w.ok()) return w.status();
    workers_.push_back(std::move(*w));
  }
  std::vector<Worker*> ws;
  for (auto& w : workers_) ws.push_back(w.get());
  sim_.set_workers(std::move(ws));
  return Status::OK();
}

Status SimCluster::Faults::before_serve(NodeId self, uint16_t method, NodeId from, const TxId& tx) {
  (void)from;
  if (method != txn_detail::Method::kLock || !sim_.lock_refused(self, tx)) return Status::OK();
  return Status::Conflict("lock refused (simulated fault)");
}

Status SimCluster::push_replicas() {
  for (NodeId n = 0; n < size(); ++n) REMORA_RETURN_IF_ERROR(stores_[n]->push_replicas(net_->engine(n)));
  return Status::OK();
}

void SimCluster::attach() { net_->net().set_sim(&sim_); }
void SimCluster::detach() {
  if (net_) net_->net().set_sim(nullptr);
}

Status SimCluster::run(uint64_t limit_ns) {
  Status st = sim_.run(limit_ns);
  for (NodeId n = 0; n < size(); ++n) {
    const Status& e = workers_[n]->first_error();
    if (!e.ok()) return e.with_context(fmt::format("node {}", n));
  }
  return st;
}

Status SimCluster::flush(uint64_t limit_ns) {
  std::vector<Status> out(size());
  for (NodeId n = 0; n < size(); ++n)
    workers_[n]->spawn([this, n, &out](Context& ctx) { out[n] = txns_[n]->flush_truncations(ctx); });
  REMORA_RETURN_IF_ERROR(run(limit_ns));
  for (NodeId n = 0; n < size(); ++n)
    if (!out[n].ok()) return out[n].with_context(fmt::format("flush_truncations on node {}", n));
  return Status::OK();
}

Status SimCluster::check_replicas() const {
  std::map<RegionId, std::span<const std::byte>> regions;
  net_->net().for_each_region([&](RegionId id, std::span<const std::byte> m) { regions[id] = m; });
  const RegionMap& map = stores_[0]->map();
  for (NodeId n = 0; n < size(); ++n)
    for (const RegionMap::Replica& r : map.replicas_on(n)) {
      const auto p = regions.at(r.primary_region), b = regions.at(r.local_region);
      if (p.size() != b.size()) return Status::Corrupt("replica size differs");
      if (std::memcmp(p.data(), b.data(), p.size()) == 0) continue;
      size_t at = 0, differ = 0, last = 0;
      while (p[at] == b[at]) ++at;
      bool primary_zero = true;  // every differing byte is 0 on the primary
      size_t run = 0, longest = 0;  // consecutive differing bytes
      for (size_t i = at; i < p.size(); ++i) {
        if (p[i] == b[i]) continue;
        run = differ > 0 && i == last + 1 ? run + 1 : 1;
        longest = std::max(longest, run);
        ++differ, last = i, primary_zero &= p[i] == std::byte{0};
      }
      // Under 8 bytes at a time: at most an object's padding (footprint()).
      const char* kind = !primary_zero ? ""
                         : longest < 8 ? "; stale padding bytes only, where the primary is zero"
                                       : "; stale bytes only where the primary is zero";
      // The words around the first difference, for the report.
      std::string words;
      for (size_t w = (at & ~size_t{7}) - std::min<size_t>(at & ~size_t{7}, 32); w < std::min(p.size(), (at & ~size_t{7}) + 32); w += 8) {
        uint64_t x, y;
        std::memcpy(&x, p.data() + w, 8);
        std::memcpy(&y, b.data() + w, 8);
        words += fmt::format("\n    +{:#x}: primary {:016x} replica {:016x}", w, x, y);
      }
      return Status::Corrupt(fmt::format(
          "replica of region {:#x} on node {} differs from the primary at offset {:#x} "
          "({} bytes differ, the last at {:#x}{}){}",
          r.primary_region, n, at, differ, last,
          kind, words));
    }
  return Status::OK();
}

Status SimCluster::check_logs_empty() const {
  for (NodeId n = 0; n < size(); ++n) {
    if (txns_[n]->backup_log_size() != 0)
      return Status::Internal(fmt::format("node {} keeps {} backup-log entries after the run", n,
                                          txns_[n]->backup_log_size()));
    if (txns_[n]->lock_log_size() != 0)
      return Status::Internal(fmt::format("node {} keeps {} lock-log entries after the run", n,
                                          txns_[n]->lock_log_size()));
  }
  return Status::OK();
}

uint64_t SimCluster::memory_hash() const {
  TraceHash h;
  net_->net().for_each_region([&](RegionId id, std::span<const std::byte> m) {
    // Scratch regions (local index 0x8000 + thread) hold only copies of
    // what the others hold, and bytes of operations that never completed.
    if ((id & 0xffff) >= 0x8000) return;
    h.add(id);
    // Word by word; regions are page aligned and sized in pages.
    const auto* w = reinterpret_cast<const uint64_t*>(m.data());
    uint64_t acc = 0;
    for (size_t i = 0; i < m.size() / 8; ++i) acc = (acc ^ w[i]) * 0x100000001b3ull + i;
    h.add(acc);
  });
  return h.value();
}

}  // namespace remora::sim
