// LoopbackNetwork: the shared "wire" of the in-process test fabric.
//
// TEST DOUBLE ONLY. One LoopbackNetwork is created by a test and shared by
// every LoopbackFabric (one per simulated node). It owns all registered
// memory, so a peer's pointers stay valid for the network's lifetime, and it
// holds the fault-injection knobs, which tests may change at any time from
// any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "remora/common/status.h"
#include "remora/fabric/fabric.h"
#include "remora/fabric/types.h"

namespace remora {

// Per-node fault knobs. All counters are consumed atomically by posting
// channels: each injected fault hits exactly one operation.
struct LoopbackFaults {
  // WRITEs to this node that are silently discarded. The sender still gets
  // an OK completion, which is what a lost packet looks like to a sender on
  // an unreliable fabric (the real backends are reliable; this models the
  // worst case the layers above must survive: data that never arrives).
  std::atomic<uint32_t> drop_writes{0};
  // WRITEs to this node whose byte at `corrupt_offset` (clamped to the
  // write's length) is flipped (XOR 0xff) after it lands.
  std::atomic<uint32_t> corrupt_writes{0};
  std::atomic<uint32_t> corrupt_offset{0};
  // Completions of operations posted to this node become visible only after
  // this many further polls of the posting channel.
  std::atomic<uint32_t> delay_polls{0};
};

class LoopbackChannel;

// Simulator hook (docs/simulation.md). When a network has one, channels no
// longer execute operations inside post(): each validated operation waits
// in a FIFO lane of its (channel, peer) pair, as on one RC queue pair or
// UCX endpoint, and the simulator decides when the lane's head operation
// lands (LoopbackChannel::sim_execute) and when its completion becomes
// visible to poll() (LoopbackChannel::sim_complete). Lanes of different
// peers are independent, so the simulator may reorder across peers only.
// Single-threaded use only: the simulator runs every node on one thread.
class LoopbackSim {
 public:
  // One operation was queued on `ch`'s lane to `peer`.
  virtual void queued(LoopbackChannel& ch, NodeId peer) = 0;

 protected:
  ~LoopbackSim() = default;
};

class LoopbackNetwork {
 public:
  static std::shared_ptr<LoopbackNetwork> create();
  ~LoopbackNetwork();
  LoopbackNetwork(const LoopbackNetwork&) = delete;
  LoopbackNetwork& operator=(const LoopbackNetwork&) = delete;

  // ---- fault injection (thread-safe, any time) ----
  void drop_next_writes(NodeId target, uint32_t count);
  // Flips one byte, `offset_in_write` bytes into the next WRITE to `target`.
  void corrupt_next_write(NodeId target, uint32_t offset_in_write = 0);
  // Sets the delay for operations posted from now on; 0 turns it off.
  void delay_completions(NodeId target, uint32_t polls);
  void clear_faults(NodeId target);

  // ---- simulation (docs/simulation.md) ----
  // nullptr (the default) restores execution inside post(). Set it while no
  // operation is in flight; `sim` must outlive its use.
  void set_sim(LoopbackSim* sim) { sim_.store(sim); }
  LoopbackSim* sim() const { return sim_.load(std::memory_order_relaxed); }
  // Every region's memory, in region id order (e.g. to hash a whole
  // cluster's state at the end of a simulated run).
  void for_each_region(const std::function<void(RegionId, std::span<const std::byte>)>& fn) const;

  // ---- used by LoopbackFabric ----
  // Claims `node` for one fabric. kInvalidArgument if already attached.
  Status attach(NodeId node);
  // The node's memory stays allocated; peers see it as gone.
  void detach(NodeId node);
  bool attached(NodeId node) const;

  // Zeroed, page-aligned (so 64-byte aligned) memory owned by the network.
  Result<std::byte*> allocate(RegionId id, uint64_t size);
  // The region if it exists with exactly `size` bytes, else nullptr.
  std::byte* find(RegionId id, uint64_t size) const;

  // Stable for the network's lifetime.
  LoopbackFaults* faults(NodeId node);

  // Doorbells: the eventfd of channel `index` of `node` (-1 removes it),
  // and ringing it (false if that channel has none).
  void set_doorbell(NodeId node, uint32_t index, int fd);
  bool ring(NodeId node, uint32_t index);

 private:
  LoopbackNetwork() = default;

  struct Mapping {
    std::byte* data = nullptr;
    uint64_t size = 0;
  };
  struct NodeState {
    bool attached = false;
    LoopbackFaults faults;
  };
  NodeState& node_locked(NodeId node);

  std::atomic<LoopbackSim*> sim_{nullptr};
  mutable std::mutex mu_;
  std::map<NodeId, std::unique_ptr<NodeState>> nodes_;
  std::map<RegionId, Mapping> regions_;
  std::map<std::pair<NodeId, uint32_t>, int> doorbells_;
};

}  // namespace remora
