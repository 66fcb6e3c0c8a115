// Fabric vocabulary: node ids, region ids, global addresses, work requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "remora/common/status.h"

namespace remora {

using NodeId = uint16_t;
using RegionId = uint32_t;

constexpr NodeId kInvalidNode = 0xffff;

// A 64-bit global address: region id in the high 32 bits, byte offset inside
// the region in the low 32 bits (regions are at most 2 GiB).
class GAddr {
 public:
  constexpr GAddr() = default;
  constexpr GAddr(RegionId region, uint32_t offset)
      : raw_((static_cast<uint64_t>(region) << 32) | offset) {}
  static constexpr GAddr from_raw(uint64_t raw) {
    GAddr a;
    a.raw_ = raw;
    return a;
  }
  constexpr RegionId region() const { return static_cast<RegionId>(raw_ >> 32); }
  constexpr uint32_t offset() const { return static_cast<uint32_t>(raw_); }
  constexpr uint64_t raw() const { return raw_; }
  constexpr GAddr plus(uint32_t delta) const { return GAddr(region(), offset() + delta); }
  constexpr bool operator==(const GAddr&) const = default;
  std::string to_string() const;  // "r3+0x40"

 private:
  uint64_t raw_ = 0;
};
static_assert(sizeof(GAddr) == 8);

constexpr uint64_t kMaxRegionSize = 2ull << 30;

// Region ids: node n owns ids [n << 16, (n + 1) << 16). Local index 0 is the
// node's system region (message rings and ring heads); data regions follow.
constexpr RegionId region_id(NodeId node, uint32_t local_index) {
  return (static_cast<RegionId>(node) << 16) | (local_index & 0xffff);
}
constexpr NodeId region_owner(RegionId id) { return static_cast<NodeId>(id >> 16); }
constexpr RegionId system_region_id(NodeId node) { return region_id(node, 0); }

enum class Op : uint8_t {
  kRead,   // remote -> local, `length` bytes
  kWrite,  // local -> remote, `length` bytes
  kCas,    // 64-bit compare-and-swap at remote; old value into *local (8 B)
  kFaa,    // 64-bit fetch-and-add at remote; old value into *local (8 B)
};
std::string_view op_name(Op op);

// One one-sided operation. `local` must lie inside a region registered with
// the same Fabric (register_region or register_local); the fabric checks it.
// Atomics need an 8-byte aligned remote address and length 8.
struct WorkRequest {
  Op op = Op::kRead;
  NodeId peer = kInvalidNode;
  GAddr remote;
  void* local = nullptr;
  uint32_t length = 0;
  uint64_t compare = 0;  // kCas: expected value
  uint64_t operand = 0;  // kCas: new value; kFaa: addend
  uint64_t wr_id = 0;    // returned in the Completion
};

struct Completion {
  uint64_t wr_id = 0;
  Code code = Code::kOk;
  NodeId peer = kInvalidNode;
};

}  // namespace remora
