// Simulator: the deterministic scheduler of a simulated cluster
// (docs/simulation.md).
//
// Every node of a cluster runs on the calling thread. Each step advances
// the virtual clock by a few hundred nanoseconds and, as the seeded PRNG
// decides, either turns one node's Worker (Worker::poll_once) or moves one
// operation of one (channel, peer) lane of the loopback fabric: it lands
// (execute) or its completion becomes visible (complete). Lanes are FIFO,
// so only operations to different peers are reordered, as on RC queue
// pairs and UCX endpoints. When every node is idle and nothing can move,
// the clock jumps to the next timer or RPC deadline, so sleeps, backoffs
// and timeouts cost no real time. Faults (held lanes, full rings, refused
// locks) are drawn from the seed too. Every decision goes into a trace
// hash: the same seed gives the same hash, bit for bit.
//
// Node crashes are a later issue: the extension point is crash(node)
// (a lane whose peer is gone completes with kPeerGone already).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "fabric/loopback/loopback_channel.h"
#include "remora/runtime/worker.h"
#include "remora/txn/txid.h"
#include "sim/sim_rng.h"

namespace remora::sim {

// Fault rates of one run, drawn from its seed (draw()).
struct FaultPlan {
  double lane_delay = 0;     // per lane move: hold the lane for up to delay_max_ns
  uint64_t delay_max_ns = 0;
  double lane_timeout = 0;   // per lane move: hold it past the RPC timeout
  double ring_full = 0;      // per step: a (node, peer) ring refuses sends for a while
  uint64_t full_max_ns = 0;
  double lock_refuse = 0;    // per LOCK message: the primary refuses it
  static FaultPlan draw(SimRng& rng, uint64_t rpc_timeout_ns);
  std::string to_string() const;
};

struct SimCounters {
  uint64_t steps = 0;
  uint64_t polls = 0;
  uint64_t executed = 0;
  uint64_t completed = 0;
  uint64_t jumps = 0;
  uint64_t faults_delay = 0;
  uint64_t faults_timeout = 0;
  uint64_t faults_ring_full = 0;
  uint64_t faults_lock = 0;
  uint64_t faults() const { return faults_delay + faults_timeout + faults_ring_full + faults_lock; }
};

class Simulator final : public LoopbackSim {
 public:
  static constexpr uint64_t kStartNs = 1'000'000'000;  // virtual time starts at 1 s
  static constexpr uint64_t kMaxStepNs = 200;

  Simulator(uint64_t seed, FaultPlan plan, uint64_t rpc_timeout_ns);

  // The virtual clock, for every option that takes one.
  uint64_t now_ns() const { return now_; }
  std::function<uint64_t()> clock() {
    return [this] { return now_; };
  }
  // Fault hooks: MessengerOptions::refuse_send, and (through SimCluster's
  // TxnFaults) whether participant `node` refuses a LOCK of `tx`.
  bool ring_refuses(NodeId from, NodeId to) const;
  bool lock_refused(NodeId node, const TxId& tx);

  // The Workers to turn, in node order (index = node id).
  void set_workers(std::vector<Worker*> workers) { workers_ = std::move(workers); }
  // Called every `every` steps during run() (e.g. to sample versions).
  void set_sampler(std::function<void()> fn, uint64_t every) {
    sampler_ = std::move(fn);
    sample_every_ = every;
  }

  // Steps until every Worker has no live or queued coroutine and no lane
  // holds an operation. kTimeout when the virtual clock passes `limit_ns`
  // from now; kInternal when nodes wait with nothing left to wake them.
  Status run(uint64_t limit_ns);

  // No new faults from now on, and held lanes and full rings are released:
  // for the end of a run (flush and checks), where a fault would only
  // fail the bookkeeping, not test anything.
  void quiesce();

  void queued(LoopbackChannel& ch, NodeId peer) override;

  SimRng& rng() { return rng_; }
  TraceHash& trace() { return trace_; }
  const SimCounters& counters() const { return counters_; }
  const FaultPlan& plan() const { return plan_; }

 private:
  struct Lane {
    LoopbackChannel* ch;
    NodeId from, peer;
    uint64_t held_until = 0;
  };
  enum Event : uint64_t { kPoll = 1, kExecute, kComplete, kJump, kDelay, kTimeout, kFull, kLock };

  void step();
  bool move_lane(Lane& l);
  void maybe_fill_ring();
  bool all_done() const;
  // Jumps to the next event when all is idle; false if there is none.
  bool jump();

  SimRng rng_;
  FaultPlan plan_;
  const uint64_t rpc_timeout_ns_;
  uint64_t now_ = kStartNs;
  std::vector<Worker*> workers_;
  std::map<std::tuple<NodeId, uint32_t, NodeId>, size_t> lane_of_;  // (from, channel, peer)
  std::vector<Lane> lanes_;
  std::vector<size_t> movable_;  // scratch of step()
  uint64_t waiting_ops_ = 0;     // operations in lanes
  uint64_t idle_mask_ = 0;       // nodes whose last poll found nothing
  std::map<std::pair<NodeId, NodeId>, uint64_t> full_until_;
  std::function<void()> sampler_;
  uint64_t sample_every_ = 0;
  TraceHash trace_;
  SimCounters counters_;
};

}  // namespace remora::sim
