// wr_id layout of the coroutine runtime's one-sided operations.
//
// make_wr_id(WrOwner::kRuntime, slot:20 | generation:20 | index:16): the
// engine routes kRuntime completions to its Worker, which resumes the slot
// only if it still waits with that generation.
#pragma once

#include <cstdint>

#include "remora/msg/wr_tag.h"

namespace remora::runtime_detail {

constexpr int kIndexBits = 16;
constexpr int kGenBits = 20;
constexpr int kSlotBits = 20;
static_assert(kIndexBits + kGenBits + kSlotBits == kWrTagShift);
constexpr uint32_t kGenMask = (1u << kGenBits) - 1;
constexpr uint32_t kMaxSlots = (1u << kSlotBits) - 1;

struct RuntimeWr {
  uint32_t slot = 0;
  uint32_t gen = 0;
  uint32_t index = 0;  // position in the posted batch
};

constexpr uint64_t encode_wr(uint32_t slot, uint32_t gen, uint32_t index) {
  return make_wr_id(WrOwner::kRuntime, (uint64_t{slot} << (kGenBits + kIndexBits)) |
                                           (uint64_t{gen & kGenMask} << kIndexBits) |
                                           (index & ((1u << kIndexBits) - 1)));
}

constexpr RuntimeWr decode_wr(uint64_t wr_id) {
  const uint64_t p = wr_payload(wr_id);
  return RuntimeWr{static_cast<uint32_t>(p >> (kGenBits + kIndexBits)),
                   static_cast<uint32_t>(p >> kIndexBits) & kGenMask,
                   static_cast<uint32_t>(p & ((1u << kIndexBits) - 1))};
}

static_assert(wr_owner(encode_wr(kMaxSlots, kGenMask, 0xffff)) == WrOwner::kRuntime);
static_assert(decode_wr(encode_wr(77, 5, 3)).slot == 77);
static_assert(decode_wr(encode_wr(77, 5, 3)).gen == 5);
static_assert(decode_wr(encode_wr(77, 5, 3)).index == 3);
static_assert(decode_wr(encode_wr(kMaxSlots, kGenMask, 0xffff)).slot == kMaxSlots);

}  // namespace remora::runtime_detail
