#include "fabric/loopback/loopback_channel.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace remora {
namespace {

// Takes one unit of an injected fault, if any is left.
bool take_one(std::atomic<uint32_t>& counter) {
  uint32_t n = counter.load();
  while (n > 0 && !counter.compare_exchange_weak(n, n - 1)) {
  }
  return n > 0;
}

}  // namespace

LoopbackChannel::LoopbackChannel(LoopbackFabric& fabric, uint32_t index)
    : fabric_(fabric), index_(index), efd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (efd_ >= 0) fabric_.network().set_doorbell(fabric_.self(), index_, efd_);
}

LoopbackChannel::~LoopbackChannel() {
  if (efd_ < 0) return;
  fabric_.network().set_doorbell(fabric_.self(), index_, -1);
  ::close(efd_);
}

bool LoopbackChannel::arm() {
  if (efd_ < 0) return false;
  uint64_t n;
  const bool rung = ::read(efd_, &n, sizeof(n)) == sizeof(n);
  return !rung && head_ == queue_.size() && sim_waiting_ == 0;
}

Status LoopbackChannel::doorbell(NodeId peer) {
  if (!fabric_.peer_alive(peer)) return Status::PeerGone(fmt::format("node {} is gone", peer));
  if (!fabric_.network().ring(peer, index_))
    return Status::Unavailable(fmt::format("node {} channel {} has no doorbell", peer, index_));
  return Status::OK();
}

Status LoopbackChannel::post(std::span<const WorkRequest> batch) {
  scratch_.resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i)
    REMORA_RETURN_IF_ERROR(fabric_.resolve(batch[i], i, &scratch_[i]));
  if (LoopbackSim* sim = fabric_.network().sim()) {
    // Simulated: the operation waits in its lane until the simulator lets
    // it land, so the local buffer must stay untouched until completion,
    // as fabric.h requires of every backend.
    for (const LoopbackFabric::Resolved& op : scratch_) {
      lane(op.wr.peer)->ops.push_back(op);
      ++sim_waiting_;
      sim->queued(*this, op.wr.peer);
    }
    return Status::OK();
  }
  for (const LoopbackFabric::Resolved& op : scratch_) {
    execute(op);
    uint64_t delay = op.faults->delay_polls.load();
    queue_.push_back(Queued{Completion{op.wr.wr_id, Code::kOk, op.wr.peer}, polls_ + 1 + delay});
  }
  return Status::OK();
}

void LoopbackChannel::execute(const LoopbackFabric::Resolved& op) {
  const WorkRequest& wr = op.wr;
  switch (wr.op) {
    case Op::kWrite: {
      if (take_one(op.faults->drop_writes)) return;
      if (wr.length == sizeof(uint64_t) && reinterpret_cast<uintptr_t>(op.remote) % 8 == 0) {
        // Aligned words (ring heads, flags) land as one atomic store, as on
        // a NIC, so a reader polling them with atomic loads synchronises.
        uint64_t v;
        std::memcpy(&v, wr.local, sizeof(v));
        std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(op.remote))
            .store(v, std::memory_order_release);
      } else {
        std::memcpy(op.remote, wr.local, wr.length);
      }
      if (take_one(op.faults->corrupt_writes)) {
        uint32_t at = std::min(op.faults->corrupt_offset.load(), wr.length - 1);
        op.remote[at] ^= std::byte{0xff};
      }
      // Publishes the bytes to a receiver thread that acquires before reading.
      std::atomic_thread_fence(std::memory_order_release);
      return;
    }
    case Op::kRead:
      std::atomic_thread_fence(std::memory_order_acquire);
      std::memcpy(wr.local, op.remote, wr.length);
      return;
    case Op::kCas: {
      std::atomic_ref<uint64_t> word(*reinterpret_cast<uint64_t*>(op.remote));
      uint64_t old = wr.compare;
      word.compare_exchange_strong(old, wr.operand);
      std::memcpy(wr.local, &old, sizeof(old));
      return;
    }
    case Op::kFaa: {
      std::atomic_ref<uint64_t> word(*reinterpret_cast<uint64_t*>(op.remote));
      uint64_t old = word.fetch_add(wr.operand);
      std::memcpy(wr.local, &old, sizeof(old));
      return;
    }
  }
}

LoopbackChannel::Lane* LoopbackChannel::lane(NodeId peer) {
  if (lanes_.size() <= peer) lanes_.resize(size_t{peer} + 1);
  return &lanes_[peer];
}

const LoopbackChannel::Lane* LoopbackChannel::lane(NodeId peer) const {
  return peer < lanes_.size() ? &lanes_[peer] : nullptr;
}

bool LoopbackChannel::sim_execute(NodeId peer) {
  Lane* l = lane(peer);
  if (l->executed == l->ops.size()) return false;
  execute(l->ops[l->executed++]);
  return true;
}

bool LoopbackChannel::sim_complete(NodeId peer) {
  Lane* l = lane(peer);
  if (l->executed == 0) return false;
  const LoopbackFabric::Resolved op = l->ops.front();
  l->ops.pop_front();
  --l->executed;
  --sim_waiting_;
  queue_.push_back(Queued{Completion{op.wr.wr_id, Code::kOk, op.wr.peer}, polls_});
  return true;
}

size_t LoopbackChannel::sim_queued(NodeId peer) const {
  const Lane* l = lane(peer);
  return l ? l->ops.size() : 0;
}

size_t LoopbackChannel::sim_executed(NodeId peer) const {
  const Lane* l = lane(peer);
  return l ? l->executed : 0;
}

size_t LoopbackChannel::poll(std::span<Completion> out) {
  ++polls_;
  size_t n = 0;
  while (n < out.size() && head_ < queue_.size() && queue_[head_].ready_at_poll <= polls_) {
    Completion c = queue_[head_].completion;
    pop_front();
    // Operations to a peer that has since gone fail, as on a real fabric
    // where the connection is torn down before the ack arrives.
    if (c.code == Code::kOk && !fabric_.peer_alive(c.peer)) c.code = Code::kPeerGone;
    out[n++] = c;
  }
  return n;
}

void LoopbackChannel::pop_front() {
  if (++head_ == queue_.size()) {
    queue_.clear();
    head_ = 0;
  } else if (head_ >= 64 && 2 * head_ >= queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

}  // namespace remora
