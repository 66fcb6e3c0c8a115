// Worker: one engine thread's coroutine scheduler (docs/runtime.md).
//
//   auto w = Worker::create(engine, opts);    // on the engine's thread
//   w->spawn([&](Context& ctx) { ... });     // void or Status(Context&)
//   Status first_error = w->run();            // until every coroutine ended
//
// Coroutines run on Boost.Context fibers with pooled fixed-size stacks.
// Each turn of the loop polls the engine (completions, rings, RPC), starts
// spawned coroutines, resumes the ready ones and fires due timers; an idle
// turn runs the engine's back-off. The Worker registers itself as the
// engine's CompletionSink for its lifetime: at most one Worker per Engine.
//
// Thread safety: owner thread only, except request_stop().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "remora/common/status.h"
#include "remora/node/engine.h"
#include "remora/runtime/context.h"

namespace remora {

namespace runtime_detail {
class StackPool;
}

struct WorkerOptions {
  // Usable stack bytes per coroutine, rounded up to pages; a PROT_NONE guard
  // page lies below. In [16 KiB, 64 MiB].
  size_t stack_size = 64 << 10;
  // Coroutines that run at once (< 2^20); further spawns wait, in order, for
  // a coroutine to end.
  uint32_t max_coroutines = 256;
  // Registered bytes per coroutine (Context::scratch(), rounded up to 64).
  // With 64 private bytes per slot, all slots must fit in the upper half of
  // the engine's scratch region.
  uint32_t scratch_per_coroutine = 4096;
  // An idle turn with operations or RPCs in flight keeps spinning for this
  // long, then sleeps until an event (docs/runtime.md): a shared-memory
  // answer comes within microseconds when the peer runs; when it does not
  // (more busy processes than cores), spinning longer only delays it.
  std::chrono::nanoseconds busy_spin = std::chrono::microseconds(20);
  // After busy_spin, keep polling for this long with a sched_yield() per
  // idle turn: hands the core to a runnable peer process sharing it
  // without the cost of a sleep and a wake-up.
  std::chrono::nanoseconds yield_spin = std::chrono::microseconds(0);
  // Node::run_workers replaces busy_spin and yield_spin by kSharedBusySpin
  // and kSharedYieldSpin when the node's host runs more engine threads than
  // it has cores (Node::shares_cores()): there, a spinning waiter holds the
  // core that the peer it waits for needs, and a sched_yield() hands it
  // over at once. Measured in docs/runtime.md.
  bool adapt_to_host = true;
  static constexpr std::chrono::nanoseconds kSharedBusySpin{0};
  static constexpr std::chrono::nanoseconds kSharedYieldSpin{100'000};
  // Longest sleep of an idle turn when the engine can be woken by every
  // peer (doorbells, or transport events): wakes anyway after this long,
  // for conditions that raise no event (a peer's death seen by another
  // thread). Timers and RPC deadlines end a sleep earlier.
  std::chrono::nanoseconds max_block = std::chrono::milliseconds(10);
  // Longest sleep while answers are due when some peer cannot wake this
  // engine (a transport without doorbells): its ring messages raise no
  // event, so a long sleep would delay them.
  std::chrono::nanoseconds waiting_sleep = std::chrono::microseconds(20);
  // How long a post refused with kFull is retried before the op fails.
  std::chrono::nanoseconds full_retry = std::chrono::seconds(1);
  // Optional external stop flag (e.g. set by a signal handler); must
  // outlive the Worker.
  const std::atomic<bool>* stop = nullptr;
  // Monotonic clock in ns for sleep_for(); empty means steady_clock.
  std::function<uint64_t()> now_ns;
};

struct WorkerStats {
  uint64_t spawned = 0;            // spawn() calls
  uint64_t finished = 0;           // coroutines that ended, OK or not
  uint64_t failed = 0;             // ... with a non-OK Status or an exception
  uint64_t switches = 0;           // scheduler -> coroutine resumes
  uint64_t stacks_mapped = 0;      // stacks the pool had to map (no free one)
  uint64_t ops_posted = 0;         // one-sided requests posted
  uint64_t stale_completions = 0;  // completions/RPC answers nobody waited for
  uint64_t timers_fired = 0;
  uint32_t peak_live = 0;  // most coroutines live at once
};

class Worker final : public CompletionSink {
 public:
  using Fn = std::function<Status(Context&)>;

  // kInvalidArgument for options out of range or slots that do not fit the
  // engine's scratch region; kUnavailable if the engine has a Worker.
  static Result<std::unique_ptr<Worker>> create(Engine& engine, WorkerOptions options = {});
  // Coroutines still suspended are unwound (their destructors run).
  ~Worker();

  // Queues a coroutine; it starts at the next turn of the loop. `fn` returns
  // void or Status; a non-OK Status or an exception is recorded as the
  // coroutine's error. May be called from a coroutine.
  template <typename F>
  void spawn(F&& fn);

  // Drives the loop until every spawned coroutine has ended; returns the
  // first coroutine error (OK if none). Not from inside a coroutine.
  Status run();
  // One turn; returns the work it found (0 = idle). Not from a coroutine.
  size_t poll_once();

  void request_stop() { stop_.store(true, std::memory_order_relaxed); }
  bool stop_requested() const;

  Engine& engine() { return engine_; }
  const WorkerOptions& options() const { return opts_; }
  const WorkerStats& stats() const { return stats_; }
  const Status& first_error() const { return first_error_; }
  uint32_t live() const { return live_; }  // started and not yet ended
  size_t queued() const { return pending_.size(); }
  uint64_t now_ns() const;
  // Deadline (now_ns() clock) of the earliest pending timer, or UINT64_MAX:
  // lets a simulator's virtual clock jump to it when every node is idle.
  uint64_t next_timer_ns() const;

  void on_completions(std::span<const Completion> batch) override;

 private:
  friend class Context;
  using Slot = runtime_detail::Slot;
  struct Timer {
    uint64_t deadline;
    uint64_t seq;
    uint32_t slot;
    uint32_t gen;
    bool operator>(const Timer& o) const {
      return deadline != o.deadline ? deadline > o.deadline : seq > o.seq;
    }
  };

  Worker(Engine& engine, WorkerOptions options, std::span<std::byte> scratch_area);
  void enqueue(Fn fn);
  size_t start_queued();
  void start(Fn fn);
  Slot* take_slot();
  size_t resume_ready();
  void resume(Slot& s);
  void finish(Slot& s);
  size_t fire_timers();
  std::chrono::nanoseconds sleep_budget() const;
  bool expecting() const;
  void idle(uint64_t& idle_since);

  // Used by Context, on the coroutine's stack.
  void suspend(Slot& s);
  void make_ready(Slot& s);
  uint32_t begin_wait(Slot& s);
  void wait(Slot& s, uint32_t completions);
  Status post(Slot& s, std::span<const WorkRequest> batch);
  void add_timer(Slot& s, uint32_t gen, std::chrono::nanoseconds d);
  void on_rpc_done(uint32_t slot, uint32_t gen, Status st, std::span<const std::byte> resp);
  void on_rpc_part(uint32_t slot, uint32_t gen, uint32_t index, Status st,
                   std::span<const std::byte> resp);
  Slot* waiting_slot(uint32_t slot, uint32_t gen);
  [[noreturn]] static void die(const char* why);

  Engine& engine_;
  const WorkerOptions opts_;
  const std::span<std::byte> scratch_area_;
  const uint32_t slot_bytes_;
  std::unique_ptr<runtime_detail::StackPool> pool_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> ready_;  // FIFO ring of slot numbers
  size_t ready_head_ = 0, ready_size_ = 0;
  std::deque<Fn> pending_;
  std::vector<Timer> timers_;  // min-heap
  uint64_t timer_seq_ = 0;
  Slot* current_ = nullptr;
  uint32_t live_ = 0;
  Status first_error_;
  WorkerStats stats_;
  std::atomic<bool> stop_{false};
  // Cleared on destruction: RPC callbacks that outlive us see nullptr.
  std::shared_ptr<Worker*> self_ref_;
  // The scheduler's stack, for the sanitizer's fiber annotations.
  void* sched_fake_ = nullptr;
  const void* sched_bottom_ = nullptr;
  size_t sched_size_ = 0;
};

template <typename F>
void Worker::spawn(F&& fn) {
  using R = std::invoke_result_t<std::decay_t<F>&, Context&>;
  if constexpr (std::is_void_v<R>) {
    enqueue([f = std::forward<F>(fn)](Context& c) mutable {
      f(c);
      return Status::OK();
    });
  } else {
    static_assert(std::is_convertible_v<R, Status>, "a coroutine returns void or Status");
    enqueue(Fn(std::forward<F>(fn)));
  }
}

}  // namespace remora
