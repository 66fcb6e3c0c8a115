// Worker: what coroutines call to wait, and the wakeups that end a wait.
#include <fmt/format.h>

#include <algorithm>

#include "remora/runtime/worker.h"
#include "runtime/fiber_switch.h"
#include "runtime/runtime_wr.h"
#include "runtime/slot.h"

namespace remora {

using runtime_detail::Slot;
using runtime_detail::SlotState;

// On the coroutine's stack: back to the scheduler until resumed.
void Worker::suspend(Slot& s) {
  if (current_ != &s) die("suspend() outside the running coroutine");
  runtime_detail::start_switch(&s.fake_stack, sched_bottom_, sched_size_);
  s.sched = std::move(s.sched).resume();
  runtime_detail::finish_switch(s.fake_stack, &sched_bottom_, &sched_size_);
}

void Worker::make_ready(Slot& s) {
  s.state = SlotState::kReady;
  ready_[(ready_head_ + ready_size_) % ready_.size()] = s.ctx.id();
  ++ready_size_;
}

// A new generation: wakeups meant for any earlier wait of this slot are stale.
uint32_t Worker::begin_wait(Slot& s) {
  s.gen = (s.gen + 1) & runtime_detail::kGenMask;
  s.pending = 0;
  s.first_code = Code::kOk;
  s.first_index = 0;
  s.codes = {};
  s.rpc_resp = nullptr;
  s.calls = {};
  return s.gen;
}

void Worker::wait(Slot& s, uint32_t completions) {
  s.pending = completions;
  s.state = SlotState::kWaiting;
  suspend(s);
}

Worker::Slot* Worker::waiting_slot(uint32_t slot, uint32_t gen) {
  if (slot >= slots_.size()) return nullptr;
  Slot* s = slots_[slot].get();
  if (s->state != SlotState::kWaiting || s->gen != gen || s->pending == 0) return nullptr;
  return s;
}

Status Worker::post(Slot& s, std::span<const WorkRequest> batch) {
  uint64_t give_up = 0;
  for (;;) {
    Status st = engine_.channel().post(batch);
    if (st.code() != Code::kFull) {
      if (st.ok()) stats_.ops_posted += batch.size();
      return st;
    }
    // The channel's in-flight limit: let completions drain, then retry.
    const uint64_t now = now_ns();
    if (give_up == 0)
      give_up = now + static_cast<uint64_t>(opts_.full_retry.count());
    else if (now > give_up)
      return st;
    make_ready(s);
    suspend(s);
  }
}

void Worker::add_timer(Slot& s, uint32_t gen, std::chrono::nanoseconds d) {
  const uint64_t at = now_ns() + static_cast<uint64_t>(std::max<int64_t>(d.count(), 0));
  timers_.push_back(Timer{at, timer_seq_++, s.ctx.id(), gen});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void Worker::on_completions(std::span<const Completion> batch) {
  for (const Completion& c : batch) {
    const runtime_detail::RuntimeWr w = runtime_detail::decode_wr(c.wr_id);
    Slot* s = waiting_slot(w.slot, w.gen);
    if (!s) {
      ++stats_.stale_completions;
      continue;
    }
    if (!s->codes.empty() && w.index < s->codes.size()) s->codes[w.index] = c.code;
    if (c.code != Code::kOk && s->first_code == Code::kOk) {
      s->first_code = c.code;
      s->first_index = w.index;
    }
    if (--s->pending == 0) make_ready(*s);
  }
}

void Worker::on_rpc_done(uint32_t slot, uint32_t gen, Status st, std::span<const std::byte> resp) {
  Slot* s = waiting_slot(slot, gen);
  if (!s) {
    ++stats_.stale_completions;
    return;
  }
  if (s->rpc_resp) s->rpc_resp->assign(resp.begin(), resp.end());
  s->rpc_status = std::move(st);
  s->pending = 0;
  make_ready(*s);
}

void Worker::on_rpc_part(uint32_t slot, uint32_t gen, uint32_t index, Status st,
                         std::span<const std::byte> resp) {
  Slot* s = waiting_slot(slot, gen);
  if (!s || index >= s->calls.size()) {
    ++stats_.stale_completions;
    return;
  }
  Context::Call& c = s->calls[index];
  if (c.resp) c.resp->assign(resp.begin(), resp.end());
  c.status = std::move(st);
  if (--s->pending == 0) make_ready(*s);
}

}  // namespace remora
