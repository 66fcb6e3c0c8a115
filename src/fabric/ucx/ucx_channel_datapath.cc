// UcxChannel data path: post() and poll(). Owner thread only; no locks, no
// allocation. A request either completes inside ucp_*_nbx (shared memory:
// the usual case) and its completion is queued at once, or UCX returns a
// request handle and on_send_done() queues it during a later progress call.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "fabric/ucx/ucx_channel.h"

namespace remora {

namespace {

bool is_atomic(Op op) { return op == Op::kCas || op == Op::kFaa; }

}  // namespace

// The hot check: no Status, no formatting. Every condition here has a
// message in explain().
const UcxChannel::RemoteRegion* UcxChannel::valid(const WorkRequest& wr) const {
  if (wr.peer >= peers_.size()) return nullptr;
  const PeerConn& pc = peers_[wr.peer];
  if (!pc.ep || pc.closed || !pc.info->alive.load(std::memory_order_acquire)) return nullptr;
  const uint32_t idx = wr.remote.region() & 0xffff;
  if (idx >= pc.regions.size()) return nullptr;
  const RemoteRegion& r = pc.regions[idx];
  if (!r.rkey || r.id != wr.remote.region() || wr.length == 0) return nullptr;
  if (uint64_t{wr.remote.offset()} + wr.length > r.size) return nullptr;
  if (is_atomic(wr.op) && (wr.length != 8 || ((wr.remote.offset() | reinterpret_cast<uintptr_t>(wr.local)) & 7) != 0))
    return nullptr;
  if (!local_registered(wr.local, wr.length)) return nullptr;
  return &r;
}

Status UcxChannel::explain(const WorkRequest& wr) const {
  // A gone peer's endpoint is closed (ep == nullptr): check that first.
  if (wr.peer < peers_.size() && (peers_[wr.peer].closed || (peers_[wr.peer].info &&
                                  !peers_[wr.peer].info->alive.load(std::memory_order_acquire))))
    return Status::PeerGone(fmt::format("node {} is gone", wr.peer));
  if (wr.peer >= peers_.size() || !peers_[wr.peer].ep)
    return Status::NotFound(fmt::format("node {} is not connected", wr.peer));
  const PeerConn& pc = peers_[wr.peer];
  const uint32_t idx = wr.remote.region() & 0xffff;
  if (idx >= pc.regions.size() || !pc.regions[idx].rkey || pc.regions[idx].id != wr.remote.region())
    return Status::NotFound(fmt::format("node {} has no region {}", wr.peer, wr.remote.region()));
  const RemoteRegion& r = pc.regions[idx];
  if (wr.length == 0) return Status::InvalidArgument("zero-length request");
  if (uint64_t{wr.remote.offset()} + wr.length > r.size)
    return Status::OutOfRange(fmt::format("{} of {} bytes at {} on node {}: region size {}",
                                          op_name(wr.op), wr.length, wr.remote.to_string(),
                                          wr.peer, r.size));
  if (is_atomic(wr.op) && (wr.length != 8 || wr.remote.offset() % 8 != 0 ||
                           reinterpret_cast<uintptr_t>(wr.local) % 8 != 0))
    return Status::InvalidArgument(
        fmt::format("{} at {}: needs 8 bytes, 8-byte aligned", op_name(wr.op), wr.remote.to_string()));
  if (!local_registered(wr.local, wr.length))
    return Status::OutOfRange(fmt::format("{}: local buffer {} (+{}) is not in a registered region",
                                          op_name(wr.op), wr.local, wr.length));
  return Status::Internal("request refused by valid() but explain() finds nothing wrong");
}

bool UcxChannel::local_registered(const void* p, uint32_t len) const {
  if (last_local_ && last_local_->contains(p, len)) return true;
  for (const LocalRegion& l : fabric_->regions()) {
    if (l.contains(p, len)) {
      last_local_ = &l;
      return true;
    }
  }
  return false;
}

Status UcxChannel::post(std::span<const WorkRequest> batch) {
  if (slots_used_ + (cq_tail_ - cq_head_) + batch.size() > kMaxInFlight) [[unlikely]]
    return Status::Full(fmt::format("{} in flight, batch of {} exceeds {}", in_flight(),
                                    batch.size(), kMaxInFlight));
  if (batch.size() == 1) {  // the latency path: look the region up once
    const RemoteRegion* r = valid(batch[0]);
    if (!r) [[unlikely]]
      return explain(batch[0]);
    issue(batch[0], *r);
    return Status::OK();
  }
  // Check everything first so that a bad request posts nothing.
  for (size_t i = 0; i < batch.size(); ++i)
    if (!valid(batch[i])) return explain(batch[i]).with_context(fmt::format("request {} of batch", i));
  for (const WorkRequest& wr : batch) issue(wr, *valid(wr));
  return Status::OK();
}

void UcxChannel::issue(const WorkRequest& wr, const RemoteRegion& region) {
  // The slot is taken only if UCX keeps the request: shared memory usually
  // completes it inside the call. post() checked that a free slot exists.
  const uint32_t si = free_head_;
  Slot& s = slots_[si];
  s.wr_id = wr.wr_id;
  s.peer = wr.peer;
  ucp_request_param_t p;
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  p.cb.send = &UcxChannel::on_send_done;
  p.user_data = &s;
  const uint64_t raddr = region.base + wr.remote.offset();
  ucp_ep_h ep = peers_[wr.peer].ep;
  ucs_status_ptr_t r = nullptr;
  switch (wr.op) {
    case Op::kRead: r = ucp_get_nbx(ep, wr.local, wr.length, raddr, region.rkey, &p); break;
    case Op::kWrite: r = ucp_put_nbx(ep, wr.local, wr.length, raddr, region.rkey, &p); break;
    case Op::kCas:
    case Op::kFaa: {
      // CSWAP: `buffer` is the expected value; the reply buffer holds the new
      // value in and the old value out. ADD: `buffer` is the addend.
      if (wr.op == Op::kCas) *static_cast<uint64_t*>(wr.local) = wr.operand;
      s.operand = wr.op == Op::kCas ? wr.compare : wr.operand;
      p.op_attr_mask |= UCP_OP_ATTR_FIELD_DATATYPE | UCP_OP_ATTR_FIELD_REPLY_BUFFER;
      p.datatype = ucp_dt_make_contig(8);
      p.reply_buffer = wr.local;
      r = ucp_atomic_op_nbx(ep, wr.op == Op::kCas ? UCP_ATOMIC_OP_CSWAP : UCP_ATOMIC_OP_ADD,
                            &s.operand, 1, raddr, region.rkey, &p);
      break;
    }
  }
  ++posted_;
  if (UCS_PTR_IS_PTR(r)) {
    alloc_slot();  // == si: UCX holds the request until on_send_done()
    return;
  }
  const ucs_status_t st = UCS_PTR_STATUS(r);
  push_completion(wr.wr_id, st == UCS_OK ? Code::kOk : ucx_code(st), wr.peer);
}

void UcxChannel::on_send_done(void* request, ucs_status_t status, void* user_data) {
  auto* s = static_cast<Slot*>(user_data);
  UcxChannel* ch = s->owner;
  if (!s->orphaned) ch->push_completion(s->wr_id, ucx_code(status), s->peer);
  ch->free_slot(static_cast<uint32_t>(s - ch->slots_.data()));
  ucp_request_free(request);
}

size_t UcxChannel::poll(std::span<Completion> out) {
  if (fabric_->gone_generation() != seen_gone_gen_) reap_gone_peers();
  // Progress when nothing is queued, and regularly anyway: over tcp the
  // peers' emulated one-sided operations on our memory need it.
  if (cq_head_ == cq_tail_ || (++poll_count_ & 15) == 0) served_ += ucp_worker_progress(worker_);
  const size_t n = std::min<size_t>(out.size(), cq_tail_ - cq_head_);
  for (size_t i = 0; i < n; ++i) out[i] = cq_[(cq_head_ + i) % kMaxInFlight];
  cq_head_ += n;
  polled_ += n;
  return n;
}

void UcxChannel::push_completion(uint64_t wr_id, Code code, NodeId peer) {
  cq_[cq_tail_ % kMaxInFlight] = Completion{wr_id, code, peer};
  ++cq_tail_;
}

uint32_t UcxChannel::alloc_slot() {
  // post() reserved capacity: a free slot always exists here.
  const uint32_t i = free_head_;
  free_head_ = slots_[i].next_free;
  slots_[i].in_use = true;
  ++slots_used_;
  slots_[i].orphaned = false;
  return i;
}

void UcxChannel::free_slot(uint32_t i) {
  slots_[i].in_use = false;
  --slots_used_;
  slots_[i].next_free = free_head_;
  free_head_ = i;
}

// Fails every request still in flight to a gone peer with kPeerGone, then
// force-closes the endpoint so UCX releases those requests too.
void UcxChannel::reap_gone_peers() {
  seen_gone_gen_ = fabric_->gone_generation();
  for (NodeId id = 0; id < peers_.size(); ++id) {
    PeerConn& pc = peers_[id];
    if (!pc.ep || pc.closed || pc.info->alive.load(std::memory_order_acquire)) continue;
    for (Slot& s : slots_) {
      if (!s.in_use || s.orphaned || s.peer != id) continue;
      s.orphaned = true;
      push_completion(s.wr_id, Code::kPeerGone, id);
    }
    close_peer(pc);
  }
}

}  // namespace remora
