// Worker control: creation, spawning, the loop, timers. Waits and wakeups
// (what a coroutine calls) are in worker_wait.cc.
#include "remora/runtime/worker.h"

#include <sched.h>

#include <sys/prctl.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "runtime/fiber_switch.h"
#include "runtime/runtime_wr.h"
#include "runtime/slot.h"
#include "runtime/stack_pool.h"

namespace remora {

using runtime_detail::Slot;
using runtime_detail::SlotState;
namespace ctx = boost::context;

namespace {

constexpr size_t kMinStack = 16 << 10;
constexpr size_t kMaxStack = 64 << 20;
constexpr uint32_t kPrivateBytes = 64;  // per slot: the CAS/FAA result word

Status check_options(const WorkerOptions& o) {
  if (o.stack_size < kMinStack || o.stack_size > kMaxStack)
    return Status::InvalidArgument(
        fmt::format("stack_size {} outside [{}, {}]", o.stack_size, kMinStack, kMaxStack));
  if (o.max_coroutines == 0 || o.max_coroutines > runtime_detail::kMaxSlots)
    return Status::InvalidArgument(fmt::format("max_coroutines {} outside [1, {}]",
                                               o.max_coroutines, runtime_detail::kMaxSlots));
  if (o.scratch_per_coroutine > (64u << 20))
    return Status::InvalidArgument(
        fmt::format("scratch_per_coroutine {} above 64 MiB", o.scratch_per_coroutine));
  return Status::OK();
}

// Runs the coroutine's function; nothing may escape across the fiber.
Status invoke(Worker::Fn& fn, Context& c) {
  try {
    return fn(c);
  } catch (const ctx::detail::forced_unwind&) {
    throw;  // ~Worker unwinding a suspended coroutine: let Boost finish it
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("coroutine threw: {}", e.what()));
  } catch (...) {
    return Status::Internal("coroutine threw a non-std exception");
  }
}

}  // namespace

Result<std::unique_ptr<Worker>> Worker::create(Engine& engine, WorkerOptions options) {
  REMORA_RETURN_IF_ERROR(check_options(options));
  options.scratch_per_coroutine = (options.scratch_per_coroutine + 63) / 64 * 64;
  const std::span<std::byte> scratch = engine.scratch();
  const std::span<std::byte> area = scratch.subspan(scratch.size() / 2);
  const uint64_t need =
      uint64_t{options.max_coroutines} * (kPrivateBytes + options.scratch_per_coroutine);
  if (need > area.size())
    return Status::InvalidArgument(fmt::format(
        "{} coroutines x ({} + {}) scratch bytes exceed the {} bytes of the engine's scratch area",
        options.max_coroutines, kPrivateBytes, options.scratch_per_coroutine, area.size()));
  std::unique_ptr<Worker> w(new Worker(engine, std::move(options), area));
  REMORA_RETURN_IF_ERROR(engine.set_completion_sink(w.get()));
  // Short sleeps should be short: 1 us of timer slack instead of 50 us, for
  // this (the engine's) thread.
  (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  return w;
}

Worker::Worker(Engine& engine, WorkerOptions options, std::span<std::byte> scratch_area)
    : engine_(engine),
      opts_(std::move(options)),
      scratch_area_(scratch_area),
      slot_bytes_(kPrivateBytes + opts_.scratch_per_coroutine),
      pool_(std::make_unique<runtime_detail::StackPool>(opts_.stack_size)),
      ready_(opts_.max_coroutines),
      self_ref_(std::make_shared<Worker*>(this)) {
  timers_.reserve(opts_.max_coroutines);
}

Worker::~Worker() {
  *self_ref_ = nullptr;
  (void)engine_.set_completion_sink(nullptr);
  // Destroying a suspended fiber throws forced_unwind inside it: its frames
  // unwind, then its stack goes back to the pool.
  for (auto& s : slots_) {
    if (!s->fiber) continue;
    runtime_detail::start_switch(&sched_fake_, s->stack_bottom, s->stack_size);
    s->fiber = ctx::fiber();
    runtime_detail::finish_switch(sched_fake_, nullptr, nullptr);
  }
  slots_.clear();
  pool_.reset();
}

void Worker::die(const char* why) {
  std::fprintf(stderr, "remora: Worker: %s\n", why);
  std::abort();
}

bool Worker::stop_requested() const {
  return stop_.load(std::memory_order_relaxed) ||
         (opts_.stop && opts_.stop->load(std::memory_order_relaxed));
}

uint64_t Worker::now_ns() const {
  if (opts_.now_ns) return opts_.now_ns();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t Worker::next_timer_ns() const {
  return timers_.empty() ? UINT64_MAX : timers_.front().deadline;
}

void Worker::enqueue(Fn fn) {
  ++stats_.spawned;
  pending_.push_back(std::move(fn));
}

Slot* Worker::take_slot() {
  if (!free_slots_.empty()) {
    Slot* s = slots_[free_slots_.back()].get();
    free_slots_.pop_back();
    return s;
  }
  if (slots_.size() >= opts_.max_coroutines) return nullptr;
  const auto i = static_cast<uint32_t>(slots_.size());
  std::byte* base = scratch_area_.data() + uint64_t{i} * slot_bytes_;
  slots_.push_back(std::make_unique<Slot>(
      this, i, std::span<std::byte>(base + kPrivateBytes, opts_.scratch_per_coroutine),
      reinterpret_cast<uint64_t*>(base)));
  return slots_.back().get();
}

size_t Worker::start_queued() {
  size_t n = 0;
  while (!pending_.empty() && (!free_slots_.empty() || slots_.size() < opts_.max_coroutines)) {
    Fn fn = std::move(pending_.front());
    pending_.pop_front();
    start(std::move(fn));
    ++n;
  }
  return n;
}

// Creates the coroutine on a pooled stack and makes it ready. Runs on the
// scheduler's stack only.
void Worker::start(Fn fn) {
  auto stack = pool_->take();
  if (!stack.ok()) {
    ++stats_.finished, ++stats_.failed;
    if (first_error_.ok()) first_error_ = stack.status().with_context("spawn");
    return;
  }
  stats_.stacks_mapped = pool_->mapped();
  Slot* s = take_slot();
  if (!s) die("no free slot in start()");
  s->fn = std::move(fn);
  s->result = Status::OK();
  s->stack_size = stack->size;
  s->stack_bottom = static_cast<std::byte*>(stack->sp) - stack->size;
  runtime_detail::unpoison_stack(const_cast<void*>(s->stack_bottom), s->stack_size);
  const uint32_t idx = s->ctx.id();
  s->fiber = ctx::fiber(std::allocator_arg, ctx::preallocated(stack->sp, stack->size, *stack),
                        runtime_detail::PooledStack{pool_.get()}, [this, idx](ctx::fiber&& sched) {
                          Slot& me = *slots_[idx];
                          me.sched = std::move(sched);
                          runtime_detail::finish_switch(nullptr, &sched_bottom_, &sched_size_);
                          me.result = invoke(me.fn, me.ctx);
                          me.fn = nullptr;
                          me.state = SlotState::kDone;
                          runtime_detail::start_switch(nullptr, sched_bottom_, sched_size_);
                          return std::move(me.sched);
                        });
  ++live_;
  stats_.peak_live = std::max(stats_.peak_live, live_);
  make_ready(*s);
}

void Worker::resume(Slot& s) {
  s.state = SlotState::kRunning;
  current_ = &s;
  ++stats_.switches;
  runtime_detail::start_switch(&sched_fake_, s.stack_bottom, s.stack_size);
  s.fiber = std::move(s.fiber).resume();
  runtime_detail::finish_switch(sched_fake_, nullptr, nullptr);
  current_ = nullptr;
  if (s.state == SlotState::kDone) finish(s);
}

// The coroutine returned and its stack is back in the pool.
void Worker::finish(Slot& s) {
  ++stats_.finished;
  if (!s.result.ok()) {
    ++stats_.failed;
    if (first_error_.ok())
      first_error_ = s.result.with_context(fmt::format("coroutine {}", s.ctx.id()));
  }
  s.result = Status::OK();
  s.state = SlotState::kFree;
  free_slots_.push_back(s.ctx.id());
  --live_;
}

size_t Worker::resume_ready() {
  // Only those ready now: a coroutine that yields runs again next turn,
  // after the engine polled.
  const size_t n = ready_size_;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t idx = ready_[ready_head_];
    ready_head_ = (ready_head_ + 1) % ready_.size();
    --ready_size_;
    resume(*slots_[idx]);
  }
  return n;
}

size_t Worker::fire_timers() {
  if (timers_.empty()) return 0;
  const uint64_t now = now_ns();
  size_t n = 0;
  while (!timers_.empty() && timers_.front().deadline <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    const Timer t = timers_.back();
    timers_.pop_back();
    if (Slot* s = waiting_slot(t.slot, t.gen)) {
      s->pending = 0;
      make_ready(*s);
      ++stats_.timers_fired;
      ++n;
    }
  }
  return n;
}

std::chrono::nanoseconds Worker::sleep_budget() const {
  // Without wake-ups, ring messages raise no event: while answers are due,
  // sleep briefly.
  const std::chrono::nanoseconds cap =
      engine_.can_be_woken() ? opts_.max_block
      : expecting()          ? opts_.waiting_sleep
                             : std::chrono::nanoseconds(std::chrono::milliseconds(1));
  if (timers_.empty()) return cap;
  const uint64_t now = now_ns(), due = timers_.front().deadline;
  return std::min(cap, std::chrono::nanoseconds(due > now ? due - now : 0));
}

size_t Worker::poll_once() {
  if (current_) die("poll_once() called from a coroutine");
  size_t work = engine_.poll_once();
  work += start_queued();
  work += resume_ready();
  work += fire_timers();
  return work;
}

// Completions or RPC answers are on their way to some coroutine.
bool Worker::expecting() const {
  return engine_.channel().in_flight() > 0 ||
         (engine_.has_messaging() && engine_.rpc().pending_calls() > 0);
}

// An idle turn: spin while answers are due (up to busy_spin), then the
// engine's back-off, capped by the next timer.
void Worker::idle(uint64_t& idle_since) {
  if (!expecting()) return engine_.idle(sleep_budget());
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count());
  if (idle_since == 0) idle_since = now;
  if (now - idle_since < static_cast<uint64_t>(opts_.busy_spin.count())) return;
  if (now - idle_since < static_cast<uint64_t>((opts_.busy_spin + opts_.yield_spin).count())) {
    sched_yield();
    return;
  }
  // Answers are due but late: the peer needs a core. Sleep until they come
  // (or nap briefly without wake-ups), skipping the engine's long spin and
  // yield phases.
  engine_.nap(sleep_budget());
}

Status Worker::run() {
  if (current_) return Status::Internal("Worker::run() called from a coroutine");
  uint64_t idle_since = 0;
  while (live_ > 0 || !pending_.empty()) {
    if (poll_once() > 0) {
      engine_.mark_busy();
      idle_since = 0;
    } else {
      idle(idle_since);
    }
  }
  return first_error_;
}

}  // namespace remora
