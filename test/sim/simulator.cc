#include "sim/simulator.h"

#include <fmt/format.h>

#include <algorithm>

namespace remora::sim {

FaultPlan FaultPlan::draw(SimRng& rng, uint64_t rpc_timeout_ns) {
  // Each kind is off in some runs, so a failure can be pinned on one kind
  // by looking at which were on.
  constexpr double kDelay[] = {0, 0.002, 0.01, 0.05};
  constexpr double kTimeout[] = {0, 0, 0.0002, 0.001};
  constexpr double kFull[] = {0, 0.0005, 0.002};
  constexpr double kLock[] = {0, 0.01, 0.05};
  FaultPlan p;
  p.lane_delay = kDelay[rng.below(4)];
  p.delay_max_ns = rng.range(1'000, 100'000);
  p.lane_timeout = kTimeout[rng.below(4)];
  p.ring_full = kFull[rng.below(3)];
  // Shorter than the RPC timeout: a ring that stays full longer makes a
  // coordinator give up COMMIT_PRIMARY, a known open issue of src/txn.
  p.full_max_ns = rng.range(1'000, rpc_timeout_ns / 4);
  p.lock_refuse = kLock[rng.below(3)];
  return p;
}

std::string FaultPlan::to_string() const {
  return fmt::format("delay={} (<={} us) timeout={} ring_full={} (<={} us) lock_refuse={}",
                     lane_delay, delay_max_ns / 1000, lane_timeout, ring_full, full_max_ns / 1000,
                     lock_refuse);
}

Simulator::Simulator(uint64_t seed, FaultPlan plan, uint64_t rpc_timeout_ns)
    : rng_(seed), plan_(plan), rpc_timeout_ns_(rpc_timeout_ns) {
  trace_.add(seed);
}

bool Simulator::ring_refuses(NodeId from, NodeId to) const {
  auto it = full_until_.find({from, to});
  return it != full_until_.end() && now_ < it->second;
}

bool Simulator::lock_refused(NodeId node, const TxId& tx) {
  if (!rng_.chance(plan_.lock_refuse)) return false;
  ++counters_.faults_lock;
  trace_.add(kLock, node);
  trace_.add(tx.seq);
  return true;
}

void Simulator::quiesce() {
  plan_ = FaultPlan{};
  for (Lane& l : lanes_) l.held_until = 0;
  for (auto& [pair, until] : full_until_) until = std::min(until, now_);
  trace_.add(kJump, 0);
}

void Simulator::queued(LoopbackChannel& ch, NodeId peer) {
  const auto key = std::make_tuple(ch.self(), ch.index(), peer);
  auto it = lane_of_.find(key);
  if (it == lane_of_.end()) {
    it = lane_of_.emplace(key, lanes_.size()).first;
    lanes_.push_back(Lane{&ch, ch.self(), peer});
  }
  ++waiting_ops_;
}

bool Simulator::all_done() const {
  if (waiting_ops_ > 0) return false;
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const Worker* w) { return w->live() == 0 && w->queued() == 0; });
}

Status Simulator::run(uint64_t limit_ns) {
  const uint64_t limit = now_ + limit_ns;
  idle_mask_ = 0;
  while (!all_done()) {
    if (now_ > limit)
      return Status::Timeout(fmt::format("virtual time limit of {} ms passed", limit_ns / 1000000));
    step();
    if (sampler_ && counters_.steps % sample_every_ == 0) sampler_();
    const uint64_t everyone = workers_.size() >= 64 ? ~0ull : (1ull << workers_.size()) - 1;
    if (idle_mask_ == everyone && !jump() && !all_done())
      return Status::Internal("deadlock: coroutines wait and nothing is left to wake them");
  }
  return Status::OK();
}

void Simulator::step() {
  ++counters_.steps;
  now_ += 1 + rng_.below(kMaxStepNs);
  maybe_fill_ring();
  movable_.clear();
  for (size_t i = 0; i < lanes_.size(); ++i) {
    const Lane& l = lanes_[i];
    if (l.ch->sim_queued(l.peer) > 0 && now_ >= l.held_until) movable_.push_back(i);
  }
  // Nodes turn about as often as operations move: each turn may post many.
  if (!movable_.empty() && rng_.chance(0.5)) {
    Lane& l = lanes_[movable_[rng_.below(movable_.size())]];
    if (move_lane(l)) idle_mask_ = 0;
    return;
  }
  const auto n = static_cast<NodeId>(rng_.below(workers_.size()));
  const size_t work = workers_[n]->poll_once();
  ++counters_.polls;
  trace_.add(kPoll, n);
  trace_.add(work);
  if (work > 0)
    idle_mask_ = 0;
  else if (movable_.empty())
    idle_mask_ |= 1ull << n;
}

bool Simulator::move_lane(Lane& l) {
  if (rng_.chance(plan_.lane_delay)) {
    l.held_until = now_ + 1 + rng_.below(plan_.delay_max_ns);
    ++counters_.faults_delay;
    trace_.add(kDelay, l.held_until);
    return false;
  }
  if (rng_.chance(plan_.lane_timeout)) {
    // Long enough that RPCs waiting on this lane time out.
    l.held_until = now_ + rpc_timeout_ns_ + rng_.below(rpc_timeout_ns_);
    ++counters_.faults_timeout;
    trace_.add(kTimeout, l.held_until);
    return false;
  }
  // Land the next operation, or make the oldest landed one complete.
  const size_t queued = l.ch->sim_queued(l.peer), executed = l.ch->sim_executed(l.peer);
  const bool execute = executed == 0 || (executed < queued && rng_.chance(0.5));
  if (execute) {
    l.ch->sim_execute(l.peer);
    ++counters_.executed;
  } else {
    l.ch->sim_complete(l.peer);
    ++counters_.completed;
    --waiting_ops_;
  }
  trace_.add(execute ? kExecute : kComplete, (uint64_t{l.from} << 16) | l.peer);
  return true;
}

void Simulator::maybe_fill_ring() {
  if (workers_.size() < 2 || !rng_.chance(plan_.ring_full)) return;
  const auto from = static_cast<NodeId>(rng_.below(workers_.size()));
  auto to = static_cast<NodeId>(rng_.below(workers_.size() - 1));
  if (to >= from) ++to;
  const uint64_t until = now_ + 1 + rng_.below(plan_.full_max_ns);
  full_until_[{from, to}] = until;
  ++counters_.faults_ring_full;
  trace_.add(kFull, (uint64_t{from} << 16) | to);
  trace_.add(until);
}

bool Simulator::jump() {
  uint64_t next = UINT64_MAX;
  for (Worker* w : workers_) {
    next = std::min(next, w->next_timer_ns());
    Engine& e = w->engine();
    if (e.has_messaging()) next = std::min(next, e.rpc().next_deadline_ns());
  }
  for (const Lane& l : lanes_)
    if (l.ch->sim_queued(l.peer) > 0) next = std::min(next, l.held_until);
  for (const auto& [pair, until] : full_until_)
    if (until > now_) next = std::min(next, until);
  if (next == UINT64_MAX) return false;
  if (next > now_) now_ = next;
  idle_mask_ = 0;
  ++counters_.jumps;
  trace_.add(kJump, now_);
  return true;
}

}  // namespace remora::sim
