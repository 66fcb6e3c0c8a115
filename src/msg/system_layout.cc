#include "remora/msg/system_layout.h"

#include <bit>

#include <fmt/format.h>

namespace remora {

Result<SystemLayout> SystemLayout::create(uint32_t node_slots, uint32_t threads,
                                          uint32_t ring_size) {
  if (node_slots == 0 || node_slots > uint32_t{kInvalidNode} || threads == 0)
    return Status::InvalidArgument(
        fmt::format("layout needs node slots in [1, 65535] and threads >= 1, got {} and {}",
                    node_slots, threads));
  if (!std::has_single_bit(ring_size) || ring_size < kMinRingSize || ring_size > kMaxRingSize)
    return Status::InvalidArgument(fmt::format(
        "ring size {} is not a power of two in [{}, {}]", ring_size, kMinRingSize, kMaxRingSize));
  const uint64_t rings = uint64_t{node_slots} * threads;
  const uint64_t total =
      rings * (2 * uint64_t{ring_size} + 2 * kHeadStride) + uint64_t{threads} * kHeadStride;
  if (total > kMaxRegionSize)
    return Status::InvalidArgument(fmt::format(
        "system region of {} bytes ({} nodes x {} threads x 2 rings of {}) exceeds 2 GiB", total,
        node_slots, threads, ring_size));
  SystemLayout l;
  l.node_slots_ = node_slots;
  l.threads_ = threads;
  l.ring_size_ = ring_size;
  l.mirrors_ = static_cast<uint32_t>(rings * ring_size);
  l.heads_ = static_cast<uint32_t>(2 * rings * ring_size);
  l.staging_ = static_cast<uint32_t>(l.heads_ + rings * kHeadStride);
  l.wake_ = static_cast<uint32_t>(l.staging_ + rings * kHeadStride);
  l.total_ = total;
  return l;
}

}  // namespace remora
