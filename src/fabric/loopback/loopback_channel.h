// LoopbackChannel: the per-thread half of LoopbackFabric (test double).
#pragma once

#include <deque>
#include <vector>

#include "fabric/loopback/loopback_fabric.h"

namespace remora {

// Not thread-safe (like every Channel); the fabric must outlive it.
class LoopbackChannel final : public Channel {
 public:
  LoopbackChannel(LoopbackFabric& fabric, uint32_t index);
  ~LoopbackChannel() override;

  Status post(std::span<const WorkRequest> batch) override;
  size_t poll(std::span<Completion> out) override;
  size_t in_flight() const override { return queue_.size() - head_ + sim_waiting_; }
  // An eventfd that only doorbells write (completions are queued in
  // post(): arm() refuses while any is queued).
  int event_fd() override { return efd_; }
  bool arm() override;
  // All memory is in this process: every peer word is mapped.
  const std::atomic<uint64_t>* map_peer_word(NodeId peer, GAddr addr) override {
    return fabric_.peer_word(peer, addr);
  }
  Status doorbell(NodeId peer) override;
  uint32_t index() const override { return index_; }

  // ---- simulation (LoopbackSim, docs/simulation.md) ----
  // The node this channel posts from.
  NodeId self() const { return fabric_.self(); }
  // Executes the oldest not yet executed operation of the lane to `peer`
  // (its data lands). false if there is none.
  bool sim_execute(NodeId peer);
  // Makes the oldest executed operation of the lane to `peer` visible to
  // poll(). false if the lane has no executed operation.
  bool sim_complete(NodeId peer);
  // Operations of the lane to `peer`: queued (executed or not) and executed.
  size_t sim_queued(NodeId peer) const;
  size_t sim_executed(NodeId peer) const;

 private:
  struct Queued {
    Completion completion;
    uint64_t ready_at_poll = 0;
  };
  void execute(const LoopbackFabric::Resolved& op);
  // One (channel, peer) lane under a simulator: FIFO, the first `executed`
  // operations have landed and wait for sim_complete().
  struct Lane {
    std::deque<LoopbackFabric::Resolved> ops;
    size_t executed = 0;
  };
  Lane* lane(NodeId peer);
  const Lane* lane(NodeId peer) const;

  LoopbackFabric& fabric_;
  const uint32_t index_;
  uint64_t polls_ = 0;
  // A FIFO in a vector (queue_[head_...]): unlike a deque, it allocates
  // nothing once it has held as many completions as ever in flight.
  std::vector<Queued> queue_;
  size_t head_ = 0;
  void pop_front();
  std::vector<LoopbackFabric::Resolved> scratch_;
  std::vector<Lane> lanes_;  // by peer id, grown on demand (simulation only)
  size_t sim_waiting_ = 0;   // operations in lanes
  int efd_ = -1;
};

}  // namespace remora
