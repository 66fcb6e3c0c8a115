// One engine thread's context: its fabric channel, message rings and RPC
// endpoint, and the poll loop that drives them.
//
// Owner thread only. poll_once() polls completions (routing ring traffic to
// the messenger), then the rings and RPC. The synchronous helpers (execute,
// read, ...) post and run the poll loop until their completions arrive, so
// the engine keeps serving rings — and, over tcp, the peers' emulated
// one-sided operations — while it waits. The transaction layer will replace
// these waits by coroutine yields; the loop stays the same.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "remora/fabric/fabric.h"
#include "remora/msg/messenger.h"
#include "remora/msg/rpc.h"

namespace remora {

// Receives the completions whose wr_id carries WrOwner::kRuntime: the
// coroutine runtime (runtime/worker.h) registers itself while it drives an
// engine. Called from poll_once(), once per polled batch.
class CompletionSink {
 public:
  virtual void on_completions(std::span<const Completion> batch) = 0;

 protected:
  ~CompletionSink() = default;
};

class Engine {
 public:
  Engine(uint32_t index, NodeId self, std::unique_ptr<Channel> channel, LocalRegion* scratch);
  ~Engine();

  // Called by Node::start() once peers are known.
  Status attach_messaging(std::unique_ptr<Messenger> m, std::unique_ptr<RpcEndpoint> rpc);

  uint32_t index() const { return index_; }
  NodeId self() const { return self_; }
  Channel& channel() { return *channel_; }
  Messenger& messenger() { return *messenger_; }
  RpcEndpoint& rpc() { return *rpc_; }
  bool has_messaging() const { return rpc_ != nullptr; }
  // Registered local memory for this thread's one-sided operations.
  std::span<std::byte> scratch() { return {scratch_->data, scratch_->size}; }

  // One turn of the loop; returns how much work it found (0 = idle).
  size_t poll_once();
  // Back-off for an idle loop: spin, then yield, then nap(max_sleep);
  // max_sleep <= 0 yields instead of sleeping. Loops that wait for
  // something no event announces (another thread's flag) keep the 1 ms
  // default.
  void idle(std::chrono::nanoseconds max_sleep = std::chrono::milliseconds(1));
  // Sleeps at once until an event (a completion, a ring record: peers ring
  // our doorbell, see docs/runtime.md) or for at most `d`, further capped
  // by the next RPC deadline and, if some peer cannot wake us, by 1 ms.
  void nap(std::chrono::nanoseconds d);
  // True if a sleep of this engine ends when a peer sends to it.
  bool can_be_woken() const;
  // Wake-ups on (the default) or off: off, a sleep is announced to no one
  // and lasts at most 1 ms (the runtime's naps), as before doorbells; for
  // comparisons (`--no-wakeups` in the apps and benchmarks).
  void set_wakeups(bool on) { wakeups_ = on; }
  // Sleeps that blocked (or slept) since creation, and those of them that
  // ended by their time limit rather than an event.
  uint64_t sleeps() const { return sleeps_; }
  uint64_t sleeps_timed_out() const { return sleeps_timed_out_; }
  // Work found outside poll_once() (e.g. coroutines resumed): restarts the
  // back-off from its spin phase.
  void mark_busy() { idle_rounds_ = 0; }

  // Routes kRuntime completions to `sink` (nullptr: drop them). kUnavailable
  // if another sink is registered.
  Status set_completion_sink(CompletionSink* sink);
  // Polls until pred() is true or the timeout passes (kTimeout). An idle
  // turn sleeps at most `idle_cap`: as long as pred() may take to notice a
  // change that raises no event.
  template <typename Pred>
  Status run_until(Pred pred, std::chrono::nanoseconds timeout,
                   std::chrono::nanoseconds idle_cap = std::chrono::milliseconds(1));

  // Posts a batch and polls until every request completed. Returns the
  // first failed completion's error (all completions are consumed).
  Status execute(std::span<const WorkRequest> batch);
  Status read(NodeId peer, GAddr remote, void* local, uint32_t len);
  Status write(NodeId peer, GAddr remote, const void* local, uint32_t len);
  Result<uint64_t> cas(NodeId peer, GAddr remote, uint64_t expected, uint64_t desired);
  Result<uint64_t> faa(NodeId peer, GAddr remote, uint64_t add);

  // RPC call that polls until the answer (or error) arrives.
  Status call(NodeId to, uint16_t method, std::span<const std::byte> req,
              std::chrono::nanoseconds timeout, std::vector<std::byte>* resp);

  // Last error the rings reported (a corrupt ring, a broken link), if any.
  const Status& ring_error() const { return ring_error_; }

 private:
  void route(const Completion& c);
  std::chrono::nanoseconds sleep_cap(std::chrono::nanoseconds d) const;

  uint32_t index_;
  NodeId self_;
  std::unique_ptr<Channel> channel_;
  LocalRegion* scratch_;
  std::unique_ptr<Messenger> messenger_;
  std::unique_ptr<RpcEndpoint> rpc_;
  CompletionSink* sink_ = nullptr;
  uint64_t next_wr_ = 1;
  uint64_t user_pending_ = 0;
  Status user_error_;
  Status ring_error_;
  uint32_t idle_rounds_ = 0;
  uint64_t sleeps_ = 0;
  uint64_t sleeps_timed_out_ = 0;
  bool wakeups_ = true;
};

template <typename Pred>
Status Engine::run_until(Pred pred, std::chrono::nanoseconds timeout,
                         std::chrono::nanoseconds idle_cap) {
  // Like execute(): spin for the first 100 us of the wait, then back off.
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  const auto spin_until = start + std::chrono::microseconds(100);
  for (uint32_t turn = 0; !pred(); ++turn) {
    const bool busy = poll_once() != 0;
    if (busy && (turn & 255) != 0) continue;
    const auto now = std::chrono::steady_clock::now();
    if (now > deadline) return Status::Timeout("engine wait");
    if (!busy && now > spin_until) idle(std::min(idle_cap, std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now)));
  }
  return Status::OK();
}

}  // namespace remora
