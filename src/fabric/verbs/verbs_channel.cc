// VerbsChannel control path: CQ, completion channel, QPs, connection.
#include <fcntl.h>
#include <fmt/format.h>

#include <cerrno>
#include <random>

#include "fabric/verbs/verbs_channel.h"

namespace remora {

Result<std::unique_ptr<VerbsChannel>> VerbsChannel::create(VerbsFabric* fabric, uint32_t index) {
  std::unique_ptr<VerbsChannel> ch(new VerbsChannel(fabric, index));
  REMORA_RETURN_IF_ERROR(ch->init());
  return ch;
}

Status VerbsChannel::init() {
  ibv_context* ctx = fabric_->context();
  comp_ = ibv_create_comp_channel(ctx);
  if (!comp_) return verbs_errno(errno ? errno : ENOMEM, "ibv_create_comp_channel");
  const int fl = fcntl(comp_->fd, F_GETFL);
  if (fl < 0 || fcntl(comp_->fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return verbs_errno(errno, "fcntl O_NONBLOCK on the completion channel");
  cq_ = ibv_create_cq(ctx, kMaxInFlight, this, comp_, 0);
  if (!cq_) return verbs_errno(errno ? errno : ENOMEM, fmt::format("ibv_create_cq ({} entries)", kMaxInFlight));
  psn_ = std::random_device{}() & 0xffffff;
  peers_.resize(fabric_->max_nodes());
  for (PeerConn& pc : peers_) {
    auto qp = create_qp();
    if (!qp.ok()) return qp.status();
    pc.qp = *qp;
    pc.pending.resize(kSqDepth);
    REMORA_RETURN_IF_ERROR(to_init(pc.qp));
  }
  done_.resize(kMaxInFlight);
  wrs_.resize(kSqDepth);
  sges_.resize(kSqDepth);
  touched_.reserve(peers_.size());
  return Status::OK();
}

Result<ibv_qp*> VerbsChannel::create_qp() {
  ibv_qp_init_attr a{};
  a.send_cq = cq_;
  a.recv_cq = cq_;
  a.qp_type = IBV_QPT_RC;
  a.sq_sig_all = 0;
  a.cap.max_send_wr = kSqDepth;
  a.cap.max_recv_wr = 1;
  a.cap.max_send_sge = 1;
  a.cap.max_recv_sge = 1;
  a.cap.max_inline_data = kInlineWanted;
  ibv_qp* qp = ibv_create_qp(fabric_->pd(), &a);
  if (!qp) {
    // Some devices cannot inline at all: retry without before giving up.
    a.cap.max_inline_data = 0;
    qp = ibv_create_qp(fabric_->pd(), &a);
  }
  if (!qp) return verbs_errno(errno ? errno : ENOMEM, "ibv_create_qp (RC)");
  max_inline_ = a.cap.max_inline_data;  // what the device granted
  return qp;
}

Status VerbsChannel::to_init(ibv_qp* qp) {
  ibv_qp_attr a{};
  a.qp_state = IBV_QPS_INIT;
  a.pkey_index = 0;
  a.port_num = fabric_->port();
  a.qp_access_flags = IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC;
  return verbs_errno(ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS),
                     "ibv_modify_qp RESET->INIT");
}

Status VerbsChannel::to_rtr(ibv_qp* qp, const VerbsPeer& peer) {
  const verbs::PeerInfo& pi = peer.info;
  ibv_qp_attr a{};
  a.qp_state = IBV_QPS_RTR;
  a.path_mtu = static_cast<ibv_mtu>(verbs::path_mtu(fabric_->active_mtu(), pi.mtu));
  a.dest_qp_num = pi.channels[index_].qpn[fabric_->self()];
  a.rq_psn = pi.channels[index_].psn;
  a.max_dest_rd_atomic = fabric_->max_rd_atomic();
  a.min_rnr_timer = 12;
  a.ah_attr.port_num = fabric_->port();
  a.ah_attr.dlid = pi.lid;
  if (fabric_->ethernet() || !verbs::gid_is_zero(pi.gid)) {
    a.ah_attr.is_global = 1;
    std::copy(pi.gid.begin(), pi.gid.end(), a.ah_attr.grh.dgid.raw);
    a.ah_attr.grh.sgid_index = static_cast<uint8_t>(fabric_->gid_index());
    a.ah_attr.grh.hop_limit = 64;
  }
  const int mask = IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
                   IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
  return verbs_errno(ibv_modify_qp(qp, &a, mask),
                     fmt::format("ibv_modify_qp INIT->RTR (remote qpn {:#x}, mtu {})", a.dest_qp_num,
                                 verbs::mtu_bytes(a.path_mtu)));
}

Status VerbsChannel::to_rts(ibv_qp* qp) {
  ibv_qp_attr a{};
  a.qp_state = IBV_QPS_RTS;
  a.sq_psn = psn_;
  a.timeout = 14;  // 4.096 us * 2^14 = 67 ms per attempt
  a.retry_cnt = 7;
  a.rnr_retry = 7;
  a.max_rd_atomic = fabric_->max_rd_atomic();
  const int mask = IBV_QP_STATE | IBV_QP_SQ_PSN | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
                   IBV_QP_MAX_QP_RD_ATOMIC;
  return verbs_errno(ibv_modify_qp(qp, &a, mask), "ibv_modify_qp RTR->RTS");
}

verbs::WireChannel VerbsChannel::wire() const {
  verbs::WireChannel w;
  w.psn = psn_;
  for (const PeerConn& pc : peers_) w.qpn.push_back(pc.qp->qp_num);
  return w;
}

Status VerbsChannel::connect(const VerbsPeer& peer) {
  PeerConn& pc = peers_[peer.info.node];
  if (pc.info) return Status::InvalidArgument(fmt::format("node {} already connected", peer.info.node));
  Status st = to_rtr(pc.qp, peer);
  if (st.ok()) st = to_rts(pc.qp);
  if (!st.ok()) {  // back to INIT so that a later add_peer can try again
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_RESET;
    if (ibv_modify_qp(pc.qp, &a, IBV_QP_STATE) == 0) (void)to_init(pc.qp);
  }
  return st;
}

void VerbsChannel::attach(const VerbsPeer& peer) {
  PeerConn& pc = peers_[peer.info.node];
  pc.info = &peer;
  for (const verbs::WireRegion& r : peer.info.regions) {
    const uint32_t idx = r.id & 0xffff;
    if (pc.regions.size() <= idx) pc.regions.resize(idx + 1);
    pc.regions[idx] = RemoteRegion{r.id, r.addr, r.size, r.rkey, true};
  }
}

bool VerbsChannel::arm() {
  // Acknowledge the events that woke us, then ask for the next one. A
  // completion that arrived before the request is found by draining the CQ.
  ibv_cq* ev_cq = nullptr;
  void* ev_ctx = nullptr;
  while (ibv_get_cq_event(comp_, &ev_cq, &ev_ctx) == 0) ibv_ack_cq_events(ev_cq, 1);
  if (ibv_req_notify_cq(cq_, 0) != 0) return false;
  return drain_cq() == 0 && done_head_ == done_tail_;
}

VerbsChannel::~VerbsChannel() {
  for (PeerConn& pc : peers_)
    if (pc.qp) ibv_destroy_qp(pc.qp);
  if (cq_) ibv_destroy_cq(cq_);
  if (comp_) ibv_destroy_comp_channel(comp_);
  fabric_->channel_closed(this);
}

}  // namespace remora
