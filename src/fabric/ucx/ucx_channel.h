// One UCX worker and its endpoints: the per-thread fabric context.
//
// Control path (ucx_channel.cc): worker creation, endpoint and rkey set-up.
// Data path (ucx_channel_datapath.cc): post() and poll().
// Only the owner thread may call post()/poll()/arm(); connect() is called by
// the control thread before the owner thread starts.
#pragma once

#include <ucp/api/ucp.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "fabric/ucx/ucx_fabric.h"

namespace remora {

struct UcxEpErrorArg {
  UcxFabric* fabric;
  NodeId peer;
};

class UcxChannel final : public Channel {
 public:
  static constexpr uint32_t kMaxInFlight = 4096;
  static constexpr uint32_t kDoorbellAm = 1;  // active message id of doorbells

  static Result<std::unique_ptr<UcxChannel>> create(UcxFabric* fabric, uint32_t index);
  ~UcxChannel() override;

  Status post(std::span<const WorkRequest> batch) override;
  size_t poll(std::span<Completion> out) override;
  size_t take_served() override { return std::exchange(served_, 0); }
  size_t in_flight() const override { return posted_ - polled_; }
  int event_fd() override { return efd_; }
  bool arm() override;
  const std::atomic<uint64_t>* map_peer_word(NodeId peer, GAddr addr) override;
  Status doorbell(NodeId peer) override;
  bool writes_wake(NodeId peer) const override;
  // Doorbells received (active messages handled by progress).
  uint64_t doorbells_received() const { return doorbells_in_; }
  uint32_t index() const override { return index_; }

  // Control path.
  Result<std::vector<uint8_t>> address() const;
  Status connect(const UcxPeer& peer);

 private:
  // A posted request that UCX has not completed yet. `operand` keeps the
  // source of an atomic alive until completion.
  struct Slot {
    UcxChannel* owner = nullptr;
    uint64_t wr_id = 0;
    uint64_t operand = 0;
    NodeId peer = kInvalidNode;
    bool in_use = false;
    bool orphaned = false;  // already reported (peer gone); free on callback
    uint32_t next_free = 0;
  };
  struct RemoteRegion {
    RegionId id = 0;
    uint64_t base = 0;
    uint64_t size = 0;
    ucp_rkey_h rkey = nullptr;
  };
  struct PeerConn {
    ucp_ep_h ep = nullptr;
    const UcxPeer* info = nullptr;
    std::vector<RemoteRegion> regions;  // indexed by region id & 0xffff
    bool closed = false;
    std::unique_ptr<UcxEpErrorArg> err_arg;
    bool mapped = false;  // ucp_rkey_ptr works: the peer's memory is shared with us
  };

  UcxChannel(UcxFabric* fabric, uint32_t index) : fabric_(fabric), index_(index) {}
  Status init();

  // Data path helpers.
  // The target region if `wr` is valid, else nullptr; explain() then says why.
  const RemoteRegion* valid(const WorkRequest& wr) const;
  [[gnu::cold]] Status explain(const WorkRequest& wr) const;
  bool local_registered(const void* p, uint32_t len) const;
  void issue(const WorkRequest& wr, const RemoteRegion& region);
  void push_completion(uint64_t wr_id, Code code, NodeId peer);
  uint32_t alloc_slot();
  void free_slot(uint32_t i);
  void reap_gone_peers();
  void close_peer(PeerConn& pc);
  static void on_send_done(void* request, ucs_status_t status, void* user_data);
  static ucs_status_t on_doorbell(void* arg, const void* header, size_t header_length, void* data,
                                  size_t length, const ucp_am_recv_param_t* param);

  UcxFabric* fabric_;
  uint32_t index_;
  ucp_worker_h worker_ = nullptr;
  int efd_ = -1;
  std::vector<PeerConn> peers_;  // indexed by NodeId

  std::vector<Slot> slots_;
  uint32_t free_head_ = 0;
  uint64_t slots_used_ = 0;  // > in_flight() while orphaned requests linger
  std::vector<Completion> cq_;  // ring of kMaxInFlight
  uint64_t cq_head_ = 0, cq_tail_ = 0;
  uint64_t posted_ = 0, polled_ = 0;
  uint64_t seen_gone_gen_ = 0;
  uint32_t poll_count_ = 0;
  size_t served_ = 0;  // ucp_worker_progress events since take_served()
  uint64_t doorbells_in_ = 0;
  uint64_t doorbell_payload_ = 0;  // source of doorbell messages (stays valid)
  // The local region the last request's buffer was in (regions never move).
  mutable const LocalRegion* last_local_ = nullptr;
};

}  // namespace remora
