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

}  // namespace remora
