// wr_id convention: who owns a Completion.
//
// One Channel is shared by every component of an engine thread, so the
// thread's poll loop routes each Completion by the owner tag in the top 8
// bits of its wr_id. The low 56 bits belong to the owner.
#pragma once

#include <cstdint>

namespace remora {

enum class WrOwner : uint8_t {
  kUser = 0,       // application / transaction layer
  kMessenger = 1,  // rings (Messenger::on_completion)
  kRpc = 2,        // RPC and other internal users
  kRuntime = 3,    // coroutine runtime (runtime/worker.h), routed by Engine
};

constexpr int kWrTagShift = 56;
constexpr uint64_t kWrPayloadMask = (uint64_t{1} << kWrTagShift) - 1;

constexpr uint64_t make_wr_id(WrOwner owner, uint64_t payload) {
  return (static_cast<uint64_t>(owner) << kWrTagShift) | (payload & kWrPayloadMask);
}
constexpr WrOwner wr_owner(uint64_t wr_id) { return static_cast<WrOwner>(wr_id >> kWrTagShift); }
constexpr uint64_t wr_payload(uint64_t wr_id) { return wr_id & kWrPayloadMask; }

static_assert(wr_owner(make_wr_id(WrOwner::kMessenger, 7)) == WrOwner::kMessenger);
static_assert(wr_payload(make_wr_id(WrOwner::kRpc, ~uint64_t{0})) == kWrPayloadMask);

}  // namespace remora
