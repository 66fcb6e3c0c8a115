// LoopbackFabric: an in-process Fabric for tests, with fault injection.
//
// TEST DOUBLE ONLY. Every simulated node creates one LoopbackFabric on a
// shared LoopbackNetwork. Operations execute synchronously inside post()
// (memcpy; atomics through std::atomic_ref), and their completions are queued
// for the posting channel's poll(), optionally delayed by the network's fault
// knobs. It implements the exact contracts of fabric.h, so code tested on it
// sees the same refusals (kOutOfRange, kPeerGone, ...) as on a real backend.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fabric/loopback/loopback_network.h"
#include "remora/fabric/fabric.h"

namespace remora {

class LoopbackFabric final : public Fabric {
 public:
  // kInvalidArgument if `self` already has a fabric on this network.
  static Result<std::unique_ptr<LoopbackFabric>> create(std::shared_ptr<LoopbackNetwork> net,
                                                        NodeId self);
  // Peers see this node as gone afterwards. Channels must be destroyed first.
  ~LoopbackFabric() override;

  Result<LocalRegion*> register_region(RegionId id, uint64_t size) override;
  const LocalRegion* local_region(RegionId id) const override;
  Result<std::unique_ptr<Channel>> create_channel(uint32_t index) override;
  Result<std::vector<uint8_t>> local_info() override;
  Status add_peer(NodeId peer, std::span<const uint8_t> info) override;
  std::vector<RegionInfo> peer_regions(NodeId peer) const override;
  void mark_peer_gone(NodeId peer, const std::string& why) override;
  bool peer_alive(NodeId peer) const override;
  std::string name() const override;

  NodeId self() const { return self_; }
  LoopbackNetwork& network() { return *net_; }

  // A validated operation, ready to execute (used by LoopbackChannel).
  struct Resolved {
    WorkRequest wr;
    std::byte* remote = nullptr;
    LoopbackFaults* faults = nullptr;
  };
  // Checks one request against the fabric's state; `pos` names it in errors.
  Status resolve(const WorkRequest& wr, size_t pos, Resolved* out) const;
  // The 8-byte word at `addr` on `peer` (all memory is in this process),
  // or nullptr for an unknown peer or a range outside its regions.
  std::atomic<uint64_t>* peer_word(NodeId peer, GAddr addr) const;

 private:
  struct PeerRegion {
    RegionId id = 0;
    uint64_t size = 0;
    std::byte* data = nullptr;
  };
  struct Peer {
    std::vector<PeerRegion> regions;
    LoopbackFaults* faults = nullptr;
    bool gone = false;
    std::string why;
  };

  LoopbackFabric(std::shared_ptr<LoopbackNetwork> net, NodeId self);
  Result<Peer> parse_peer_info(NodeId peer, std::span<const uint8_t> info) const;
  Status check_remote(const WorkRequest& wr, const Peer& p, std::byte** remote) const;
  Status check_local(const WorkRequest& wr) const;
  bool peer_alive_locked(NodeId peer) const;

  std::shared_ptr<LoopbackNetwork> net_;
  const NodeId self_;
  // Guards everything below; the double favours simplicity over speed.
  mutable std::mutex mu_;
  std::map<RegionId, std::unique_ptr<LocalRegion>> regions_;
  std::map<NodeId, Peer> peers_;
  std::vector<uint32_t> channels_;
};

}  // namespace remora
