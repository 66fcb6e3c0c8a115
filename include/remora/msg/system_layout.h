// SystemLayout: where rings and ring heads live in a node's system region.
//
// Every node registers a system region (id system_region_id(node)) of
// total_size() bytes, laid out identically on all nodes:
//
//   incoming rings   [sender slot][thread]   ring_size each   written by senders
//   outgoing mirrors [dest slot][thread]     ring_size each   local staging copy
//   head slots       [receiver slot][thread] 64 B each        written by receivers
//   head staging     [sender slot][thread]   64 B each        local source of those
//   wake words       [thread]                64 B each        written by their owner
//
// incoming_ring(s, t) on node r is the ring from (node s, thread t) to r.
// outgoing_mirror(d, t) on node s holds the bytes s's thread t last wrote to
// its ring on d, at the same offsets: a WRITE's local buffer must stay valid
// until the write completes, and the mirror is only overwritten once the
// receiver reports the space consumed. head_slot(r, t) on node s is where r
// writes (one 8-byte WRITE) how many bytes of ring (s, t -> r) it consumed,
// from head_staging(s, t) on r. wake_word(t) on node r is thread t's sleep
// announcement (docs/runtime.md): senders that map r's memory read it after
// writing a record and ring r's doorbell if it says "asleep". Every slot is
// a node id (0 .. node_slots-1).
#pragma once

#include <cstdint>

#include "remora/common/status.h"
#include "remora/fabric/types.h"

namespace remora {

class SystemLayout {
 public:
  static constexpr uint32_t kHeadStride = 64;  // one cache line per head
  static constexpr uint32_t kMinRingSize = 256;
  static constexpr uint32_t kMaxRingSize = 1u << 26;

  // REQUIRES (else kInvalidArgument): node_slots >= 1, threads >= 1,
  // ring_size a power of two in [kMinRingSize, kMaxRingSize], and the whole
  // layout at most kMaxRegionSize bytes.
  static Result<SystemLayout> create(uint32_t node_slots, uint32_t threads, uint32_t ring_size);

  uint32_t node_slots() const { return node_slots_; }
  uint32_t threads() const { return threads_; }
  uint32_t ring_size() const { return ring_size_; }

  // Offsets inside a system region. REQUIRES: node < node_slots, thread < threads.
  uint32_t incoming_ring(NodeId sender, uint32_t thread) const {
    return ring_index(sender, thread) * ring_size_;
  }
  uint32_t outgoing_mirror(NodeId dest, uint32_t thread) const {
    return mirrors_ + ring_index(dest, thread) * ring_size_;
  }
  uint32_t head_slot(NodeId receiver, uint32_t thread) const {
    return heads_ + ring_index(receiver, thread) * kHeadStride;
  }
  uint32_t head_staging(NodeId sender, uint32_t thread) const {
    return staging_ + ring_index(sender, thread) * kHeadStride;
  }
  uint32_t wake_word(uint32_t thread) const { return wake_ + thread * kHeadStride; }
  uint64_t total_size() const { return total_; }

 private:
  SystemLayout() = default;
  uint32_t ring_index(NodeId node, uint32_t thread) const { return node * threads_ + thread; }

  uint32_t node_slots_ = 0;
  uint32_t threads_ = 0;
  uint32_t ring_size_ = 0;
  uint32_t mirrors_ = 0;
  uint32_t heads_ = 0;
  uint32_t staging_ = 0;
  uint32_t wake_ = 0;
  uint64_t total_ = 0;
};

}  // namespace remora
