// UCX backend: one ucp_context per node, one ucp_worker per Channel.
//
// Regions are allocated by UCX (UCP_MEM_MAP_ALLOCATE) so that shared-memory
// transports reach them truly one-sided. Over tcp UCX emulates one-sided
// operations with active messages, and the *target* must call progress: the
// engine threads' poll loops do so through Channel::poll().
#pragma once

#include <ucp/api/ucp.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remora/fabric/fabric.h"

namespace remora {

// ucs_status_t -> Status, the one place UCX errors are translated.
Status ucx_status(ucs_status_t s, std::string_view what);
Code ucx_code(ucs_status_t s);

// What we know of one peer, immutable after add_peer (except `alive`).
struct UcxPeer {
  struct Region {
    RegionId id = 0;
    uint64_t base = 0;
    uint64_t size = 0;
    std::vector<uint8_t> rkey;  // packed
  };
  NodeId id = kInvalidNode;
  std::vector<std::vector<uint8_t>> worker_addrs;  // one per peer channel
  std::vector<Region> regions;
  std::atomic<bool> alive{false};
  std::string gone_reason;  // written once, before alive=false is published
};

class UcxChannel;

class UcxFabric final : public Fabric {
 public:
  static Result<std::unique_ptr<Fabric>> create(const FabricOptions& opts);
  ~UcxFabric() override;

  Result<LocalRegion*> register_region(RegionId id, uint64_t size) override;
  const LocalRegion* local_region(RegionId id) const override;
  Result<std::unique_ptr<Channel>> create_channel(uint32_t index) override;
  Result<std::vector<uint8_t>> local_info() override;
  Status add_peer(NodeId peer, std::span<const uint8_t> info) override;
  std::vector<RegionInfo> peer_regions(NodeId peer) const override;
  void mark_peer_gone(NodeId peer, const std::string& why) override;
  bool peer_alive(NodeId peer) const override;
  std::string name() const override;

  // For channels.
  ucp_context_h context() const { return ctx_; }
  const UcxPeer* peer(NodeId id) const { return id < peers_.size() ? peers_[id].get() : nullptr; }
  uint64_t gone_generation() const { return gone_gen_.load(std::memory_order_acquire); }
  const std::deque<LocalRegion>& regions() const { return regions_; }
  NodeId self() const { return opts_.self; }
  // True when the selected transports can report peer failure (tcp only).
  bool peer_error_handling() const { return peer_err_; }
  void channel_closed(UcxChannel* ch);

 private:
  explicit UcxFabric(const FabricOptions& opts) : opts_(opts) {}
  Status init();
  static Result<std::unique_ptr<UcxPeer>> decode_peer(NodeId peer, std::span<const uint8_t> info);

  FabricOptions opts_;
  ucp_context_h ctx_ = nullptr;
  std::string tls_;  // effective UCX_TLS
  bool peer_err_ = false;
  std::deque<LocalRegion> regions_;  // stable addresses
  std::vector<ucp_mem_h> memhs_;
  std::vector<UcxChannel*> channels_;  // owned by callers; unregister on close
  std::vector<std::unique_ptr<UcxPeer>> peers_;  // indexed by NodeId
  std::atomic<uint64_t> gone_gen_{0};
  mutable std::mutex gone_mu_;  // serialises mark_peer_gone writers
};

}  // namespace remora
