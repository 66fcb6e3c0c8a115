// Context: one coroutine's handle on its Worker (see worker.h).
//
// A remote operation posts on the engine's Channel and suspends the
// coroutine until its completions arrive; the other coroutines of the
// thread run meanwhile. Owner thread only; a Context is valid only inside
// the coroutine it was given to.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"

namespace remora {

class Engine;
class Worker;
namespace runtime_detail {
struct Slot;
}

class Context {
 public:
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Slot number: unique among the worker's live coroutines, reused later.
  uint32_t id() const { return slot_; }
  Worker& worker() { return *worker_; }
  Engine& engine();
  NodeId self() const;

  // Registered memory owned by this coroutine while it lives
  // (WorkerOptions::scratch_per_coroutine bytes, 64-byte aligned): a valid
  // `local` buffer for the operations below.
  std::span<std::byte> scratch() const { return scratch_; }

  // One-sided operations. `local` must lie in registered memory (e.g.
  // scratch()). Errors (kOutOfRange, kPeerGone, ...) concern this
  // coroutine only.
  Status read(NodeId peer, GAddr remote, void* local, uint32_t len);
  Status write(NodeId peer, GAddr remote, const void* local, uint32_t len);
  // Return the old value of the remote word.
  Result<uint64_t> cas(NodeId peer, GAddr remote, uint64_t expected, uint64_t desired);
  Result<uint64_t> faa(NodeId peer, GAddr remote, uint64_t add);

  // Posts the whole batch (overwriting every wr_id) and resumes once every
  // request completed. Returns the first failure, naming the request; if
  // `codes` is given (same size as `batch`) it receives every request's code.
  // A post refused with kFull is retried after yielding, for at most
  // WorkerOptions::full_retry. REQUIRES: batch.size() <= kMaxBatch.
  static constexpr size_t kMaxBatch = 1 << 16;
  Status execute(std::span<WorkRequest> batch, std::span<Code> codes = {});

  // RPC through the engine's RpcEndpoint; the coroutine sleeps until the
  // answer, the callee's error, kTimeout after `timeout`, or kPeerGone.
  // `resp` (optional) receives the response body.
  Status call(NodeId to, uint16_t method, std::span<const std::byte> req,
              std::chrono::nanoseconds timeout, std::vector<std::byte>* resp = nullptr);

  // One call of call_all(): `status` (and `*resp`, if given) are outputs.
  struct Call {
    NodeId to = kInvalidNode;
    uint16_t method = 0;
    std::span<const std::byte> req;
    std::vector<std::byte>* resp = nullptr;
    Status status;
  };
  // Sends every call, then sleeps until each was answered or failed (each
  // call's outcome in its `status`). Returns the first failure, or OK.
  // Calls refused with kFull are sent again once the others answered.
  Status call_all(std::span<Call> calls, std::chrono::nanoseconds timeout);

  // Lets every other ready coroutine run (and the engine poll) first.
  void yield();
  // Resumes no earlier than `d` from now (by the worker's clock).
  void sleep_for(std::chrono::nanoseconds d);
  // Worker::request_stop() was called or the external stop flag is set.
  bool stop_requested() const;

 private:
  friend struct runtime_detail::Slot;
  Context(Worker* worker, uint32_t slot, std::span<std::byte> scratch, uint64_t* word)
      : worker_(worker), slot_(slot), scratch_(scratch), word_(word) {}
  runtime_detail::Slot& slot() const;
  Result<uint64_t> atomic(WorkRequest wr);

  Worker* worker_;
  uint32_t slot_;
  std::span<std::byte> scratch_;
  uint64_t* word_;  // registered 8 bytes for CAS/FAA results
};

}  // namespace remora
