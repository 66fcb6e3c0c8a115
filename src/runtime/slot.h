// Slot: the Worker's record of one coroutine (runtime/worker.h).
#pragma once

#include <boost/context/fiber.hpp>
#include <cstdint>
#include <span>
#include <vector>

#include "remora/runtime/context.h"
#include "remora/runtime/worker.h"

namespace remora::runtime_detail {

enum class SlotState : uint8_t {
  kFree,     // no coroutine
  kReady,    // in the ready queue
  kRunning,  // on the CPU
  kWaiting,  // suspended until a completion, an RPC answer or a timer
  kDone,     // returned; the scheduler frees the slot
};

struct Slot {
  Slot(Worker* w, uint32_t index, std::span<std::byte> scratch, uint64_t* word)
      : ctx(w, index, scratch, word) {}

  Context ctx;
  boost::context::fiber fiber;  // the coroutine, while it is not running
  boost::context::fiber sched;  // the scheduler, while the coroutine runs
  Worker::Fn fn;
  Status result;  // what fn returned (or the exception it threw)
  SlotState state = SlotState::kFree;

  // The current wait. A wakeup counts only if it carries `gen`.
  uint32_t gen = 0;
  uint32_t pending = 0;         // completions still expected
  Code first_code = Code::kOk;  // first failed completion of the wait
  uint32_t first_index = 0;
  std::span<Code> codes;  // per-request codes, if the caller asked
  Status rpc_status;
  std::vector<std::byte>* rpc_resp = nullptr;
  std::span<Context::Call> calls;  // the current call_all(), if any
  // call_all()'s work lists, kept across calls: no allocation per call.
  std::vector<uint32_t> todo, full;

  // This coroutine's stack, for the sanitizer's fiber annotations.
  const void* stack_bottom = nullptr;
  size_t stack_size = 0;
  void* fake_stack = nullptr;
};

}  // namespace remora::runtime_detail
