// Verbs backend (rdma-core libibverbs): one device context and protection
// domain per node, one completion queue per Channel and, in each Channel,
// one RC queue pair per possible peer node id (including ourselves, for
// loopback access to our own regions).
//
// The bootstrap sends one blob to every peer before anyone knows who will
// connect, so each channel creates its QPs for node ids [0, max_nodes) up
// front and publishes all their numbers; channel i of one node pairs with
// channel i of every other node (all nodes run the same thread count).
// max_nodes is kDefaultMaxNodes unless REMORA_VERBS_MAX_NODES says otherwise.
//
// Control path here and in verbs_fabric.cc; channels in verbs_channel.h.
#pragma once

#include <infiniband/verbs.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fabric/verbs/verbs_wire.h"
#include "remora/fabric/fabric.h"

namespace remora {

// libibverbs errors -> Status, the one place they are translated
// (verbs_status.cc). Verbs return errno values (or set errno).
Status verbs_errno(int err, std::string_view what);
// Completion status -> Code: kOk, or kTransport for every failure.
Code verbs_wc_code(ibv_wc_status s);
std::string verbs_wc_text(const ibv_wc& wc);

struct VerbsPeer {
  verbs::PeerInfo info;
  std::atomic<bool> alive{false};
  std::string gone_reason;  // written once, before alive=false is published
};

// A registered region: the LocalRegion callers see plus its memory and MR.
struct VerbsRegion {
  LocalRegion region;
  ibv_mr* mr = nullptr;
  void* map = nullptr;
  size_t map_len = 0;
  bool huge = false;
};

class VerbsChannel;

class VerbsFabric final : public Fabric {
 public:
  static constexpr uint32_t kDefaultMaxNodes = 16;

  static Result<std::unique_ptr<Fabric>> create(const FabricOptions& opts);
  ~VerbsFabric() override;

  Result<LocalRegion*> register_region(RegionId id, uint64_t size) override;
  const LocalRegion* local_region(RegionId id) const override;
  Result<std::unique_ptr<Channel>> create_channel(uint32_t index) override;
  Result<std::vector<uint8_t>> local_info() override;
  Status add_peer(NodeId peer, std::span<const uint8_t> info) override;
  std::vector<RegionInfo> peer_regions(NodeId peer) const override;
  void mark_peer_gone(NodeId peer, const std::string& why) override;
  bool peer_alive(NodeId peer) const override;
  std::string name() const override;

  // For channels (read-only after set-up).
  ibv_context* context() const { return ctx_; }
  ibv_pd* pd() const { return pd_; }
  uint8_t port() const { return static_cast<uint8_t>(opts_.verbs_port); }
  int gid_index() const { return gid_index_; }
  const verbs::Gid& gid() const { return gid_; }
  uint16_t lid() const { return lid_; }
  uint8_t active_mtu() const { return mtu_; }
  bool ethernet() const { return ethernet_; }
  uint32_t max_nodes() const { return max_nodes_; }
  uint8_t max_rd_atomic() const { return max_rd_atomic_; }
  NodeId self() const { return opts_.self; }
  const VerbsPeer* peer(NodeId id) const { return id < peers_.size() ? peers_[id].get() : nullptr; }
  uint64_t gone_generation() const { return gone_gen_.load(std::memory_order_acquire); }
  const std::deque<VerbsRegion>& regions() const { return regions_; }
  void channel_closed(VerbsChannel* ch);

 private:
  explicit VerbsFabric(const FabricOptions& opts) : opts_(opts) {}
  Status init();
  Status open_device();
  Status query_port();
  Status choose_gid();
  Status map_memory(uint64_t size, VerbsRegion* r);

  FabricOptions opts_;
  std::string device_;
  ibv_context* ctx_ = nullptr;
  ibv_pd* pd_ = nullptr;
  int gid_index_ = 0;
  verbs::Gid gid_{};
  uint16_t lid_ = 0;
  uint8_t mtu_ = IBV_MTU_1024;
  bool ethernet_ = true;
  uint32_t max_nodes_ = kDefaultMaxNodes;
  uint8_t max_rd_atomic_ = 1;
  std::deque<VerbsRegion> regions_;  // stable addresses
  std::vector<VerbsChannel*> channels_;  // owned by callers
  std::vector<std::unique_ptr<VerbsPeer>> peers_;  // indexed by NodeId, never resized
  std::atomic<uint64_t> gone_gen_{0};
  mutable std::mutex gone_mu_;  // serialises mark_peer_gone writers
};

}  // namespace remora
