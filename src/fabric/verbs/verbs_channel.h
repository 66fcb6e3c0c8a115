// One completion queue and one RC queue pair per possible peer node id: the
// per-thread verbs context.
//
// Control path (verbs_channel.cc): CQ, completion channel, QP creation and
// the RESET -> INIT -> RTR -> RTS connection.
// Data path (verbs_channel_datapath.cc): post() and poll(). Only the owner
// thread may call post()/poll()/arm(); connect()/attach() are called by the
// control thread before the owner thread starts.
//
// Completions: post() links the requests of a batch per peer into one chain
// (one ibv_post_send each) and signals only the last of each chain. RC
// completes a QP's requests in order, so a completion for sequence number S
// also completes every unsignaled request before S on that QP. A failed
// request always produces a completion (errors and flushes are never
// suppressed), which then carries the error for S; the QP is in error state
// from then on and later requests to that peer fail with kTransport.
//
// Idle support: event_fd() is the completion channel's fd (non-blocking);
// arm() requests a notification for the next completion.
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fabric/verbs/verbs_fabric.h"

namespace remora {

class VerbsChannel final : public Channel {
 public:
  static constexpr uint32_t kMaxInFlight = 4096;  // CQ depth and completion ring
  static constexpr uint32_t kSqDepth = 512;       // per QP
  static constexpr uint32_t kInlineWanted = 128;  // bytes; the device may give less

  static Result<std::unique_ptr<VerbsChannel>> create(VerbsFabric* fabric, uint32_t index);
  ~VerbsChannel() override;

  Status post(std::span<const WorkRequest> batch) override;
  size_t poll(std::span<Completion> out) override;
  size_t in_flight() const override { return posted_ - polled_; }
  int event_fd() override { return comp_ ? comp_->fd : -1; }
  bool arm() override;
  uint32_t index() const override { return index_; }

  // Control path.
  verbs::WireChannel wire() const;
  // Moves our QP for `peer` to RTS against the peer's QP for us.
  Status connect(const VerbsPeer& peer);
  // Makes the peer's regions visible to post() (after connect succeeded
  // on every channel).
  void attach(const VerbsPeer& peer);
  uint32_t max_inline() const { return max_inline_; }

 private:
  struct RemoteRegion {
    RegionId id = 0;
    uint64_t base = 0;
    uint64_t size = 0;
    uint32_t rkey = 0;
    bool present = false;
  };
  struct PeerConn {
    ibv_qp* qp = nullptr;
    const VerbsPeer* info = nullptr;
    std::vector<RemoteRegion> regions;  // indexed by region id & 0xffff
    std::vector<uint64_t> pending;      // caller wr_ids, ring of kSqDepth by sequence
    uint64_t head = 0, tail = 0;        // sequence numbers: oldest pending, next to post
    uint32_t batch_count = 0;           // scratch for post()
    bool errored = false;
    bool reaped = false;                // peer gone: pending already completed
    std::string error;
  };

  VerbsChannel(VerbsFabric* fabric, uint32_t index) : fabric_(fabric), index_(index) {}
  Status init();
  Result<ibv_qp*> create_qp();
  Status to_init(ibv_qp* qp);
  Status to_rtr(ibv_qp* qp, const VerbsPeer& peer);
  Status to_rts(ibv_qp* qp);

  // Data path helpers.
  Status post_one(const WorkRequest& wr);
  Status check_batch(std::span<const WorkRequest> batch);
  const RemoteRegion* valid(const WorkRequest& wr) const;
  [[gnu::cold]] Status explain(const WorkRequest& wr) const;
  const VerbsRegion* local_mr(const void* p, uint32_t len) const;
  void build(const WorkRequest& wr, const RemoteRegion& r, ibv_send_wr* out, ibv_sge* sge);
  void post_chain(NodeId peer, ibv_send_wr* first, size_t count);
  void complete_until(NodeId peer, uint64_t seq, Code last_code);
  void on_wc(const ibv_wc& wc);
  size_t drain_cq();
  void push_completion(uint64_t wr_id, Code code, NodeId peer);
  void reap_gone_peers();
  [[gnu::cold]] void fail_qp(PeerConn& pc, NodeId peer, std::string why);

  VerbsFabric* fabric_;
  uint32_t index_;
  ibv_comp_channel* comp_ = nullptr;
  ibv_cq* cq_ = nullptr;
  uint32_t psn_ = 0;
  uint32_t max_inline_ = 0;
  std::vector<PeerConn> peers_;  // indexed by NodeId, max_nodes entries

  std::vector<Completion> done_;  // ring of kMaxInFlight
  uint64_t done_head_ = 0, done_tail_ = 0;
  uint64_t posted_ = 0, polled_ = 0;
  uint64_t seen_gone_gen_ = 0;
  std::vector<ibv_send_wr> wrs_;  // scratch for one batch (no allocation per post)
  std::vector<ibv_sge> sges_;
  std::vector<NodeId> touched_;
  mutable const VerbsRegion* last_local_ = nullptr;
};

}  // namespace remora
