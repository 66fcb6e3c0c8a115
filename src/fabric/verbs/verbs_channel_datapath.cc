// VerbsChannel data path: post() and poll(). Owner thread only; no locks,
// no allocation. See verbs_channel.h for the completion rules.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "fabric/verbs/verbs_channel.h"

namespace remora {
namespace {

bool is_atomic(Op op) { return op == Op::kCas || op == Op::kFaa; }

// Verbs wr_id: the peer in the top 16 bits, the QP sequence number below.
constexpr uint64_t kSeqMask = (1ull << 48) - 1;
uint64_t encode_id(NodeId peer, uint64_t seq) { return (uint64_t{peer} << 48) | (seq & kSeqMask); }

}  // namespace

// The hot check: no Status, no formatting. explain() has a message for
// every condition here.
const VerbsChannel::RemoteRegion* VerbsChannel::valid(const WorkRequest& wr) const {
  if (wr.peer >= peers_.size()) return nullptr;
  const PeerConn& pc = peers_[wr.peer];
  if (!pc.info || pc.errored || pc.reaped || !pc.info->alive.load(std::memory_order_acquire)) return nullptr;
  const uint32_t idx = wr.remote.region() & 0xffff;
  if (idx >= pc.regions.size()) return nullptr;
  const RemoteRegion& r = pc.regions[idx];
  if (!r.present || r.id != wr.remote.region() || wr.length == 0) return nullptr;
  if (uint64_t{wr.remote.offset()} + wr.length > r.size) return nullptr;
  if (is_atomic(wr.op) && (wr.length != 8 || ((wr.remote.offset() | reinterpret_cast<uintptr_t>(wr.local)) & 7) != 0))
    return nullptr;
  if (!local_mr(wr.local, wr.length)) return nullptr;
  return &r;
}

Status VerbsChannel::explain(const WorkRequest& wr) const {
  const PeerConn* pc = wr.peer < peers_.size() ? &peers_[wr.peer] : nullptr;
  if (pc && pc->info && (pc->reaped || !pc->info->alive.load(std::memory_order_acquire)))
    return Status::PeerGone(fmt::format("node {} is gone", wr.peer));
  if (!pc || !pc->info) return Status::NotFound(fmt::format("node {} is not connected", wr.peer));
  if (pc->errored)
    return Status::Transport(fmt::format("QP to node {} is in error state: {}", wr.peer, pc->error));
  const uint32_t idx = wr.remote.region() & 0xffff;
  if (idx >= pc->regions.size() || !pc->regions[idx].present || pc->regions[idx].id != wr.remote.region())
    return Status::NotFound(fmt::format("node {} has no region {}", wr.peer, wr.remote.region()));
  const RemoteRegion& r = pc->regions[idx];
  if (wr.length == 0) return Status::InvalidArgument("zero-length request");
  if (uint64_t{wr.remote.offset()} + wr.length > r.size)
    return Status::OutOfRange(fmt::format("{} of {} bytes at {} on node {}: region size {}", op_name(wr.op),
                                          wr.length, wr.remote.to_string(), wr.peer, r.size));
  if (is_atomic(wr.op) && (wr.length != 8 || wr.remote.offset() % 8 != 0 ||
                           reinterpret_cast<uintptr_t>(wr.local) % 8 != 0))
    return Status::InvalidArgument(
        fmt::format("{} at {}: needs 8 bytes, 8-byte aligned", op_name(wr.op), wr.remote.to_string()));
  if (!local_mr(wr.local, wr.length))
    return Status::OutOfRange(fmt::format("{}: local buffer {} (+{}) is not in a registered region",
                                          op_name(wr.op), wr.local, wr.length));
  return Status::Internal("request refused by valid() but explain() finds nothing wrong");
}

const VerbsRegion* VerbsChannel::local_mr(const void* p, uint32_t len) const {
  if (last_local_ && last_local_->region.contains(p, len)) return last_local_;
  for (const VerbsRegion& r : fabric_->regions()) {
    if (r.region.contains(p, len)) {
      last_local_ = &r;
      return &r;
    }
  }
  return nullptr;
}

Status VerbsChannel::post(std::span<const WorkRequest> batch) {
  if (in_flight() + batch.size() > kMaxInFlight || batch.size() > kSqDepth) [[unlikely]]
    return Status::Full(fmt::format("{} in flight, batch of {} exceeds {} (or {} per batch)", in_flight(),
                                    batch.size(), kMaxInFlight, kSqDepth));
  if (batch.size() == 1) return post_one(batch[0]);
  REMORA_RETURN_IF_ERROR(check_batch(batch));
  // One chain per peer, in batch order; the last of each chain is signaled.
  for (NodeId n : touched_) {
    size_t count = 0;
    for (const WorkRequest& wr : batch) {
      if (wr.peer != n) continue;
      build(wr, *valid(wr), &wrs_[count], &sges_[count]);
      if (count) wrs_[count - 1].next = &wrs_[count];
      ++count;
    }
    wrs_[count - 1].send_flags |= IBV_SEND_SIGNALED;
    peers_[n].batch_count = 0;
    post_chain(n, wrs_.data(), count);
  }
  return Status::OK();
}

// The latency path: one lookup, one signaled request.
Status VerbsChannel::post_one(const WorkRequest& wr) {
  const RemoteRegion* r = valid(wr);
  if (!r) [[unlikely]]
    return explain(wr);
  if (peers_[wr.peer].tail - peers_[wr.peer].head >= kSqDepth) [[unlikely]]
    return Status::Full(fmt::format("send queue to node {} is full ({})", wr.peer, kSqDepth));
  build(wr, *r, &wrs_[0], &sges_[0]);
  wrs_[0].send_flags |= IBV_SEND_SIGNALED;
  post_chain(wr.peer, wrs_.data(), 1);
  return Status::OK();
}

// Checks every request and each peer's send-queue room, so that a bad
// batch posts nothing. On success touched_ lists the batch's peers in
// order of first appearance and their batch_count is set.
Status VerbsChannel::check_batch(std::span<const WorkRequest> batch) {
  touched_.clear();
  auto reset = [this] {
    for (NodeId n : touched_) peers_[n].batch_count = 0;
  };
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!valid(batch[i])) [[unlikely]] {
      reset();
      return explain(batch[i]).with_context(fmt::format("request {} of batch", i));
    }
    if (peers_[batch[i].peer].batch_count++ == 0) touched_.push_back(batch[i].peer);
  }
  for (NodeId n : touched_) {
    const PeerConn& pc = peers_[n];
    if (pc.tail - pc.head + pc.batch_count > kSqDepth) [[unlikely]] {
      reset();
      return Status::Full(fmt::format("send queue to node {} holds {} of {}", n, pc.tail - pc.head, kSqDepth));
    }
  }
  return Status::OK();
}

void VerbsChannel::build(const WorkRequest& wr, const RemoteRegion& r, ibv_send_wr* out, ibv_sge* sge) {
  PeerConn& pc = peers_[wr.peer];
  const uint64_t seq = pc.tail++;
  pc.pending[seq % kSqDepth] = wr.wr_id;
  ++posted_;
  *sge = ibv_sge{reinterpret_cast<uint64_t>(wr.local), wr.length, local_mr(wr.local, wr.length)->mr->lkey};
  *out = ibv_send_wr{};
  out->wr_id = encode_id(wr.peer, seq);
  out->sg_list = sge;
  out->num_sge = 1;
  const uint64_t raddr = r.base + wr.remote.offset();
  switch (wr.op) {
    case Op::kRead:
    case Op::kWrite:
      out->opcode = wr.op == Op::kRead ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE;
      out->wr.rdma.remote_addr = raddr;
      out->wr.rdma.rkey = r.rkey;
      if (wr.op == Op::kWrite && wr.length <= max_inline_) out->send_flags = IBV_SEND_INLINE;
      break;
    case Op::kCas:
    case Op::kFaa:
      out->opcode = wr.op == Op::kCas ? IBV_WR_ATOMIC_CMP_AND_SWP : IBV_WR_ATOMIC_FETCH_AND_ADD;
      out->wr.atomic.remote_addr = raddr;
      out->wr.atomic.rkey = r.rkey;
      out->wr.atomic.compare_add = wr.op == Op::kCas ? wr.compare : wr.operand;
      out->wr.atomic.swap = wr.operand;
      break;
  }
}

// A refused post (the device rejects a request) must still complete every
// request exactly once: the ones before `bad` may be on the wire, so the QP
// is forced into error (flushing them with completions) and the rest are
// completed here with kTransport.
void VerbsChannel::post_chain(NodeId peer, ibv_send_wr* first, size_t count) {
  PeerConn& pc = peers_[peer];
  ibv_send_wr* bad = nullptr;
  const int err = ibv_post_send(pc.qp, first, &bad);
  if (err == 0) [[likely]]
    return;
  size_t at = static_cast<size_t>(bad ? bad - first : 0);
  fail_qp(pc, peer, fmt::format("ibv_post_send: {} (errno {})", std::strerror(err), err));
  const uint64_t first_unposted = pc.tail - (count - at);
  for (uint64_t s = first_unposted; s < pc.tail; ++s) push_completion(pc.pending[s % kSqDepth], Code::kTransport, peer);
  pc.tail = first_unposted;
  if (at == 0) return;
  ibv_qp_attr a{};
  a.qp_state = IBV_QPS_ERR;
  (void)ibv_modify_qp(pc.qp, &a, IBV_QP_STATE);
}

void VerbsChannel::fail_qp(PeerConn& pc, NodeId peer, std::string why) {
  if (pc.errored) return;
  pc.errored = true;
  pc.error = std::move(why);
  fmt::print(stderr, "remora verbs: channel {} QP to node {} failed: {}\n", index_, peer, pc.error);
}

size_t VerbsChannel::poll(std::span<Completion> out) {
  if (fabric_->gone_generation() != seen_gone_gen_) [[unlikely]]
    reap_gone_peers();
  if (done_head_ == done_tail_) drain_cq();
  const size_t n = std::min<size_t>(out.size(), done_tail_ - done_head_);
  for (size_t i = 0; i < n; ++i) out[i] = done_[(done_head_ + i) % kMaxInFlight];
  done_head_ += n;
  polled_ += n;
  return n;
}

size_t VerbsChannel::drain_cq() {
  ibv_wc wcs[32];
  size_t total = 0;
  for (;;) {
    const int n = ibv_poll_cq(cq_, 32, wcs);
    if (n <= 0) return total;
    for (int i = 0; i < n; ++i) on_wc(wcs[i]);
    total += static_cast<size_t>(n);
    if (n < 32) return total;
  }
}

void VerbsChannel::on_wc(const ibv_wc& wc) {
  const NodeId peer = static_cast<NodeId>(wc.wr_id >> 48);
  if (peer >= peers_.size()) [[unlikely]]
    return;
  PeerConn& pc = peers_[peer];
  if (pc.reaped) return;  // already completed with kPeerGone
  // Rebuild the full sequence number from its low 48 bits.
  const uint64_t seq = (pc.head & ~kSeqMask) | (wc.wr_id & kSeqMask);
  if (seq < pc.head || seq >= pc.tail) [[unlikely]]
    return;
  const Code code = verbs_wc_code(wc.status);
  if (code != Code::kOk) [[unlikely]]
    fail_qp(pc, peer, verbs_wc_text(wc));
  complete_until(peer, seq, code);
}

// Completes [head, seq]: the earlier ones succeeded (RC completes in order
// and errors are always reported), `seq` gets `last_code`.
void VerbsChannel::complete_until(NodeId peer, uint64_t seq, Code last_code) {
  PeerConn& pc = peers_[peer];
  for (; pc.head < seq; ++pc.head) push_completion(pc.pending[pc.head % kSqDepth], Code::kOk, peer);
  push_completion(pc.pending[seq % kSqDepth], last_code, peer);
  pc.head = seq + 1;
}

void VerbsChannel::push_completion(uint64_t wr_id, Code code, NodeId peer) {
  done_[done_tail_ % kMaxInFlight] = Completion{wr_id, code, peer};
  ++done_tail_;
}

// Completes everything in flight to a gone peer with kPeerGone and forces
// its QP into error; the flushed completions that follow are ignored.
void VerbsChannel::reap_gone_peers() {
  seen_gone_gen_ = fabric_->gone_generation();
  for (NodeId id = 0; id < peers_.size(); ++id) {
    PeerConn& pc = peers_[id];
    if (!pc.info || pc.reaped || pc.info->alive.load(std::memory_order_acquire)) continue;
    for (; pc.head < pc.tail; ++pc.head) push_completion(pc.pending[pc.head % kSqDepth], Code::kPeerGone, id);
    pc.reaped = true;
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_ERR;
    (void)ibv_modify_qp(pc.qp, &a, IBV_QP_STATE);
  }
}

}  // namespace remora
