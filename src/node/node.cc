#include "remora/node/node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sched.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "node/bootstrap.h"
#include "remora/cluster/region_map.h"
#include "remora/msg/system_layout.h"

namespace remora {

Result<std::unique_ptr<Node>> Node::create(const Config& cfg, NodeId self) {
  if (!cfg.node(self)) return Status::NotFound(fmt::format("node {} is not in {}", self, cfg.source));
  std::unique_ptr<Node> n(new Node(cfg, self));
  REMORA_RETURN_IF_ERROR(n->init());
  return n;
}

Node::Node(const Config& cfg, NodeId self) : cfg_(cfg), self_(self) {}

Node::~Node() {
  engines_.clear();  // channels before the fabric
  bootstrap_.reset();
}

Status Node::init() {
  auto f = Fabric::create(cfg_.fabric_options(self_));
  if (!f.ok()) return f.status();
  fabric_ = std::move(*f);
  const uint32_t slots = cfg_.nodes.back().id + 1u;
  auto layout = SystemLayout::create(slots, cfg_.threads, static_cast<uint32_t>(cfg_.ring_size));
  if (!layout.ok()) return layout.status();
  auto sys = fabric_->register_region(system_region_id(self_), layout->total_size());
  if (!sys.ok()) return sys.status().with_context("system region");
  for (uint32_t i = 0; i < cfg_.regions_per_node; ++i) {
    auto r = fabric_->register_region(region_id(self_, 1 + i), cfg_.region_size);
    if (!r.ok()) return r.status().with_context(fmt::format("data region {}", i));
    data_.push_back(*r);
  }
  for (const RegionMap::Replica& rep : RegionMap(cfg_).replicas_on(self_)) {
    auto r = fabric_->register_region(rep.local_region, cfg_.region_size);
    if (!r.ok())
      return r.status().with_context(fmt::format("replica of {}", GAddr(rep.primary_region, 0).to_string()));
  }
  for (uint32_t t = 0; t < cfg_.threads; ++t) {
    auto s = fabric_->register_region(region_id(self_, kScratchIndex + t), kScratchSize);
    if (!s.ok()) return s.status().with_context("scratch region");
    auto ch = fabric_->create_channel(t);
    if (!ch.ok()) return ch.status();
    engines_.push_back(std::make_unique<Engine>(t, self_, std::move(*ch), *s));
  }
  auto b = Bootstrap::create(cfg_, self_, fabric_.get());
  if (!b.ok()) return b.status();
  bootstrap_ = std::move(*b);
  return Status::OK();
}

std::vector<NodeId> Node::peers() const {
  std::vector<NodeId> out;
  for (const NodeConfig& n : cfg_.nodes)
    if (n.id != self_) out.push_back(n.id);
  return out;
}

namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

uint32_t usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return static_cast<uint32_t>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

bool Node::shares_cores() const {
  const NodeConfig* me = cfg_.node(self_);
  if (me == nullptr) return false;
  uint32_t local = 0;
  for (const NodeConfig& n : cfg_.nodes)
    if (n.host == me->host || (is_loopback(n.host) && is_loopback(me->host))) ++local;
  return uint64_t{local} * cfg_.threads > usable_cores();
}

size_t Node::live_peers() const {
  size_t n = 0;
  for (NodeId p : peers()) n += fabric_->peer_alive(p);
  return n;
}

Status Node::start() {
  auto info = fabric_->local_info();
  if (!info.ok()) return info.status();
  REMORA_RETURN_IF_ERROR(fabric_->add_peer(self_, *info).with_context("loopback to self"));
  REMORA_RETURN_IF_ERROR(bootstrap_->connect_all(*info));
  const uint32_t slots = cfg_.nodes.back().id + 1u;
  auto layout = SystemLayout::create(slots, cfg_.threads, static_cast<uint32_t>(cfg_.ring_size));
  if (!layout.ok()) return layout.status();
  for (auto& e : engines_) {
    auto m = Messenger::create(*fabric_, e->channel(), self_, peers(), e->index(), *layout);
    if (!m.ok()) return m.status();
    auto rpc = RpcEndpoint::create(**m);
    if (!rpc.ok()) return rpc.status();
    REMORA_RETURN_IF_ERROR(e->attach_messaging(std::move(*m), std::move(*rpc)));
  }
  REMORA_RETURN_IF_ERROR(wire_up());
  spdlog::debug("node {}: connected to {} peers over {}", self_, cfg_.nodes.size() - 1, fabric_->name());
  return Status::OK();
}

// One READ from every engine to every peer, then a cluster barrier: when
// start() returns, no endpoint is still being wired up. Transports connect
// lazily (UCX over tcp on the first operation), and UCX 1.13 can abort when
// a peer dies in the middle of that; it also keeps the first operation of a
// workload from paying for the connection.
Status Node::wire_up() {
  const auto timeout = std::chrono::milliseconds(cfg_.connect_timeout_ms);
  return run([&](Engine& e) -> Status {
    for (NodeId p : peers())
      REMORA_RETURN_IF_ERROR(e.read(p, GAddr(system_region_id(p), 0), e.scratch().data(), 8)
                                 .with_context(fmt::format("wiring up node {}", p)));
    return barrier(e, timeout).with_context("start barrier");
  });
}

Status Node::run(const std::function<Status(Engine&)>& fn) {
  std::vector<Status> results(engines_.size());
  std::vector<std::thread> threads;
  for (size_t t = 1; t < engines_.size(); ++t)
    threads.emplace_back([&, t] { results[t] = fn(*engines_[t]); });
  results[0] = fn(*engines_[0]);
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < results.size(); ++t)
    if (!results[t].ok()) return results[t].with_context(fmt::format("node {} engine {}", self_, t));
  return Status::OK();
}

Status Node::run_workers(const std::function<void(Worker&)>& fn, const WorkerOptions& options) {
  std::atomic<uint32_t> finished{0};
  WorkerOptions wo = options;
  if (wo.adapt_to_host && shares_cores()) {
    wo.busy_spin = WorkerOptions::kSharedBusySpin;
    wo.yield_spin = WorkerOptions::kSharedYieldSpin;
  }
  return run([&](Engine& e) -> Status {
    auto w = Worker::create(e, wo);
    if (!w.ok()) return w.status();
    Status st;
    try {
      fn(**w);
      st = (*w)->run();
    } catch (const std::exception& ex) {
      st = Status::Internal(fmt::format("run_workers: fn threw: {}", ex.what()));
    }
    // A thread whose coroutines ended keeps serving its rings, RPCs and
    // (over tcp) emulated one-sided ops until every thread here is done:
    // peers' coroutines may still wait on it.
    finished.fetch_add(1, std::memory_order_acq_rel);
    while (finished.load(std::memory_order_acquire) < engines_.size()) {
      if ((*w)->poll_once() > 0) e.mark_busy();
      else e.idle();
    }
    return st;
  });
}

Status Node::barrier(Engine& e, std::chrono::milliseconds timeout) {
  // Local: the last engine thread to arrive starts the cluster barrier.
  const uint64_t gen = local_gen_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1) + 1 == engines_.size()) {
    arrived_.store(0);
    barrier_k_.store(bootstrap_->begin_barrier(), std::memory_order_release);
    local_gen_.fetch_add(1, std::memory_order_acq_rel);
  }
  REMORA_RETURN_IF_ERROR(
      e.run_until([&] { return local_gen_.load(std::memory_order_acquire) != gen; }, timeout));
  const uint64_t k = barrier_k_.load(std::memory_order_acquire);
  Status st;
  Status waited = e.run_until([&] {
    auto r = bootstrap_->barrier_reached(k);
    if (!r.ok()) st = r.status();
    return !r.ok() || *r;
  }, timeout);
  REMORA_RETURN_IF_ERROR(st);
  return waited.ok() ? waited : Status::Timeout(fmt::format("barrier {} not reached in {} ms", k, timeout.count()));
}

void Node::leave() { bootstrap_->leave(); }

}  // namespace remora
