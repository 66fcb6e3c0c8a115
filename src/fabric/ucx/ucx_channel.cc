// UcxChannel control path: worker, endpoints, remote keys, teardown.
#include <fmt/format.h>

#include "fabric/ucx/ucx_channel.h"

namespace remora {
namespace {

void on_ep_error(void* arg, ucp_ep_h /*ep*/, ucs_status_t status) {
  auto* a = static_cast<UcxEpErrorArg*>(arg);
  a->fabric->mark_peer_gone(a->peer, fmt::format("ucx endpoint error: {}", ucs_status_string(status)));
}

}  // namespace

Result<std::unique_ptr<UcxChannel>> UcxChannel::create(UcxFabric* fabric, uint32_t index) {
  std::unique_ptr<UcxChannel> ch(new UcxChannel(fabric, index));
  REMORA_RETURN_IF_ERROR(ch->init());
  return ch;
}

Status UcxChannel::init() {
  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE | UCP_WORKER_PARAM_FIELD_FLAGS;
  wp.thread_mode = UCS_THREAD_MODE_SINGLE;
  wp.flags = UCP_WORKER_FLAG_IGNORE_REQUEST_LEAK;
  REMORA_RETURN_IF_ERROR(
      ucx_status(ucp_worker_create(fabric_->context(), &wp, &worker_), "ucp_worker_create"));
  if (ucp_worker_get_efd(worker_, &efd_) != UCS_OK) efd_ = -1;  // idle loop then sleeps instead
  ucp_am_handler_param_t am{};
  am.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                  UCP_AM_HANDLER_PARAM_FIELD_ARG;
  am.id = kDoorbellAm;
  am.cb = &UcxChannel::on_doorbell;
  am.arg = this;
  REMORA_RETURN_IF_ERROR(ucx_status(ucp_worker_set_am_recv_handler(worker_, &am),
                                    "ucp_worker_set_am_recv_handler"));
  slots_.resize(kMaxInFlight);
  for (uint32_t i = 0; i < kMaxInFlight; ++i) {
    slots_[i].owner = this;
    slots_[i].next_free = i + 1;
  }
  free_head_ = 0;
  cq_.resize(kMaxInFlight);
  peers_.resize(4096);
  return Status::OK();
}

UcxChannel::~UcxChannel() {
  for (auto& pc : peers_)
    if (pc.ep && !pc.closed) close_peer(pc);
  // Let force-closed requests run their callbacks before the worker goes.
  for (int i = 0; i < 1000 && ucp_worker_progress(worker_) != 0; ++i) {
  }
  if (worker_) ucp_worker_destroy(worker_);
  fabric_->channel_closed(this);
}

Result<std::vector<uint8_t>> UcxChannel::address() const {
  ucp_address_t* addr = nullptr;
  size_t len = 0;
  REMORA_RETURN_IF_ERROR(ucx_status(ucp_worker_get_address(worker_, &addr, &len), "ucp_worker_get_address"));
  auto* p = reinterpret_cast<const uint8_t*>(addr);
  std::vector<uint8_t> out(p, p + len);
  ucp_worker_release_address(worker_, addr);
  return out;
}

Status UcxChannel::connect(const UcxPeer& peer) {
  PeerConn& pc = peers_[peer.id];
  if (pc.ep) return Status::InvalidArgument(fmt::format("node {} already connected", peer.id));
  const auto& addr = peer.worker_addrs[index_ % peer.worker_addrs.size()];
  // The error callback argument must outlive the endpoint: the PeerConn owns it.
  pc.err_arg = std::make_unique<UcxEpErrorArg>(UcxEpErrorArg{fabric_, peer.id});
  ucp_ep_params_t ep{};
  ep.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                  UCP_EP_PARAM_FIELD_ERR_HANDLER;
  ep.address = reinterpret_cast<const ucp_address_t*>(addr.data());
  ep.err_mode = UCP_ERR_HANDLING_MODE_PEER;
  ep.err_handler.cb = on_ep_error;
  ep.err_handler.arg = pc.err_arg.get();
  // Peer-failure handling only where every transport supports it: UCX 1.13's
  // shared-memory transports do not, and asking for it would push all
  // traffic onto tcp. The bootstrap's control connection detects a dead
  // peer either way.
  if (!fabric_->peer_error_handling())
    ep.field_mask &= ~(UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER);
  REMORA_RETURN_IF_ERROR(ucx_status(ucp_ep_create(worker_, &ep, &pc.ep), "ucp_ep_create"));
  pc.info = &peer;
  void* probe = nullptr;
  for (const auto& r : peer.regions) {
    uint32_t idx = r.id & 0xffff;
    if (pc.regions.size() <= idx) pc.regions.resize(idx + 1);
    RemoteRegion& rr = pc.regions[idx];
    if (rr.rkey) return Status::InvalidArgument(fmt::format("node {} exports region {} twice", peer.id, r.id));
    rr.id = r.id;
    rr.base = r.base;
    rr.size = r.size;
    REMORA_RETURN_IF_ERROR(ucx_status(ucp_ep_rkey_unpack(pc.ep, r.rkey.data(), &rr.rkey),
                                      fmt::format("ucp_ep_rkey_unpack region {}", r.id)));
    if (ucp_rkey_ptr(rr.rkey, rr.base, &probe) == UCS_OK) pc.mapped = true;
  }
  return Status::OK();
}

void UcxChannel::close_peer(PeerConn& pc) {
  pc.closed = true;
  for (RemoteRegion& r : pc.regions)
    if (r.rkey) ucp_rkey_destroy(r.rkey), r.rkey = nullptr;
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  p.flags = UCP_EP_CLOSE_FLAG_FORCE;
  ucs_status_ptr_t req = ucp_ep_close_nbx(pc.ep, &p);
  if (UCS_PTR_IS_PTR(req)) {
    for (int i = 0; i < 100000 && ucp_request_check_status(req) == UCS_INPROGRESS; ++i)
      ucp_worker_progress(worker_);
    ucp_request_free(req);
  }
  pc.ep = nullptr;
}

bool UcxChannel::arm() {
  if (efd_ < 0) return false;
  return ucp_worker_arm(worker_) == UCS_OK;
}

// ---- Wake-ups (docs/runtime.md) ----

const std::atomic<uint64_t>* UcxChannel::map_peer_word(NodeId peer, GAddr addr) {
  if (peer >= peers_.size() || !peers_[peer].ep || peers_[peer].closed) return nullptr;
  const PeerConn& pc = peers_[peer];
  const uint32_t idx = addr.region() & 0xffff;
  if (idx >= pc.regions.size() || !pc.regions[idx].rkey || pc.regions[idx].id != addr.region())
    return nullptr;
  const RemoteRegion& r = pc.regions[idx];
  if (addr.offset() % 8 != 0 || uint64_t{addr.offset()} + 8 > r.size) return nullptr;
  void* p = nullptr;
  if (ucp_rkey_ptr(r.rkey, r.base + addr.offset(), &p) != UCS_OK) return nullptr;
  return static_cast<const std::atomic<uint64_t>*>(p);
}

// Over shared memory the active message lands in the peer's FIFO and UCX
// signals the peer's event fd only if the peer armed it (it sleeps): the
// doorbell costs a few hundred ns when the peer is awake.
Status UcxChannel::doorbell(NodeId peer) {
  if (peer >= peers_.size() || !peers_[peer].ep || peers_[peer].closed)
    return Status::PeerGone(fmt::format("node {} is not connected", peer));
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  p.flags = UCP_AM_SEND_FLAG_EAGER;
  doorbell_payload_ = fabric_->self();
  ucs_status_ptr_t r = ucp_am_send_nbx(peers_[peer].ep, kDoorbellAm, nullptr, 0, &doorbell_payload_,
                                       sizeof(doorbell_payload_), &p);
  if (UCS_PTR_IS_PTR(r)) {
    ucp_request_free(r);  // released by UCX once sent
    return Status::OK();
  }
  const ucs_status_t st = UCS_PTR_STATUS(r);
  return st == UCS_OK ? Status::OK() : ucx_status(st, "doorbell");
}

// Without shared memory UCX emulates one-sided operations with messages
// that the target's progress engine executes (tcp here): they raise events
// on its fd like any message. (UCX over RDMA hardware maps nothing either
// and its writes raise no event; such a peer would need a doorbell of its
// own: see docs/runtime.md.)
bool UcxChannel::writes_wake(NodeId peer) const {
  return peer < peers_.size() && peers_[peer].ep && !peers_[peer].mapped;
}

ucs_status_t UcxChannel::on_doorbell(void* arg, const void* /*header*/, size_t /*header_length*/,
                                     void* /*data*/, size_t /*length*/,
                                     const ucp_am_recv_param_t* /*param*/) {
  ++static_cast<UcxChannel*>(arg)->doorbells_in_;
  return UCS_OK;
}

}  // namespace remora
