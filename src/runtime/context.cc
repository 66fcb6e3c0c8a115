// Context: a coroutine's remote operations, RPC calls, yields and sleeps.
#include "remora/runtime/context.h"

#include <fmt/format.h>

#include "remora/node/engine.h"
#include "remora/runtime/worker.h"
#include "runtime/runtime_wr.h"
#include "runtime/slot.h"

namespace remora {

using runtime_detail::Slot;

runtime_detail::Slot& Context::slot() const { return *worker_->slots_[slot_]; }
Engine& Context::engine() { return worker_->engine_; }
NodeId Context::self() const { return worker_->engine_.self(); }
bool Context::stop_requested() const { return worker_->stop_requested(); }

Status Context::execute(std::span<WorkRequest> batch, std::span<Code> codes) {
  if (batch.empty()) return Status::OK();
  if (batch.size() > kMaxBatch)
    return Status::InvalidArgument(fmt::format("batch of {} above {}", batch.size(), kMaxBatch));
  if (!codes.empty() && codes.size() != batch.size())
    return Status::InvalidArgument(
        fmt::format("{} codes for a batch of {}", codes.size(), batch.size()));
  Worker& w = *worker_;
  Slot& s = slot();
  const uint32_t gen = w.begin_wait(s);
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i].wr_id = runtime_detail::encode_wr(slot_, gen, static_cast<uint32_t>(i));
  REMORA_RETURN_IF_ERROR(w.post(s, batch));
  s.codes = codes;
  w.wait(s, static_cast<uint32_t>(batch.size()));
  if (s.first_code == Code::kOk) return Status::OK();
  const WorkRequest& bad = batch[s.first_index];
  return Status(s.first_code, fmt::format("{} of {} B at {} on node {} (request {} of {})",
                                          op_name(bad.op), bad.length, bad.remote.to_string(),
                                          bad.peer, s.first_index, batch.size()));
}

Status Context::read(NodeId peer, GAddr remote, void* local, uint32_t len) {
  WorkRequest wr{Op::kRead, peer, remote, local, len, 0, 0, 0};
  return execute({&wr, 1});
}

Status Context::write(NodeId peer, GAddr remote, const void* local, uint32_t len) {
  WorkRequest wr{Op::kWrite, peer, remote, const_cast<void*>(local), len, 0, 0, 0};
  return execute({&wr, 1});
}

Result<uint64_t> Context::atomic(WorkRequest wr) {
  REMORA_RETURN_IF_ERROR(execute({&wr, 1}));
  return *word_;
}

Result<uint64_t> Context::cas(NodeId peer, GAddr remote, uint64_t expected, uint64_t desired) {
  return atomic(WorkRequest{Op::kCas, peer, remote, word_, 8, expected, desired, 0});
}

Result<uint64_t> Context::faa(NodeId peer, GAddr remote, uint64_t add) {
  return atomic(WorkRequest{Op::kFaa, peer, remote, word_, 8, 0, add, 0});
}

Status Context::call(NodeId to, uint16_t method, std::span<const std::byte> req,
                     std::chrono::nanoseconds timeout, std::vector<std::byte>* resp) {
  Worker& w = *worker_;
  if (!w.engine_.has_messaging()) return Status::Unavailable("the engine has no RPC endpoint");
  Slot& s = slot();
  const uint32_t gen = w.begin_wait(s);
  // The RPC layer runs the callback exactly once; if the Worker is gone by
  // then, self_ref_ holds nullptr.
  auto done = [ref = w.self_ref_, idx = slot_, gen](Status st, std::span<const std::byte> body) {
    if (Worker* me = *ref) me->on_rpc_done(idx, gen, std::move(st), body);
  };
  const uint64_t give_up = w.now_ns() + static_cast<uint64_t>(timeout.count());
  Status st = w.engine_.rpc().call(to, method, req, timeout, done);
  // A full ring drains as the callee consumes: let the loop poll, retry.
  while (st.code() == Code::kFull && w.now_ns() < give_up) {
    yield();
    st = w.engine_.rpc().call(to, method, req, timeout, done);
  }
  if (!st.ok()) return st.with_context(fmt::format("call to node {}", to));
  s.rpc_resp = resp;
  s.rpc_status = Status::OK();
  w.wait(s, 1);
  s.rpc_resp = nullptr;
  return std::move(s.rpc_status);
}

Status Context::call_all(std::span<Call> calls, std::chrono::nanoseconds timeout) {
  Worker& w = *worker_;
  if (!w.engine_.has_messaging()) return Status::Unavailable("the engine has no RPC endpoint");
  Slot& s = slot();
  const uint64_t give_up = w.now_ns() + static_cast<uint64_t>(timeout.count());
  std::vector<uint32_t>& todo = s.todo;
  std::vector<uint32_t>& full = s.full;
  todo.resize(calls.size());
  for (uint32_t i = 0; i < calls.size(); ++i) {
    todo[i] = i;
    calls[i].status = Status::OK();
  }
  while (!todo.empty()) {
    const uint32_t gen = w.begin_wait(s);
    uint32_t sent = 0;
    full.clear();
    for (uint32_t i : todo) {
      Call& c = calls[i];
      auto done = [ref = w.self_ref_, idx = slot_, gen, i](Status st, std::span<const std::byte> b) {
        if (Worker* me = *ref) me->on_rpc_part(idx, gen, i, std::move(st), b);
      };
      Status st = w.engine_.rpc().call(c.to, c.method, c.req, timeout, done);
      if (st.ok()) {
        ++sent;
      } else if (st.code() == Code::kFull && w.now_ns() < give_up) {
        full.push_back(i);
      } else {
        c.status = st.with_context(fmt::format("call to node {}", c.to));
      }
    }
    if (sent > 0) {
      s.calls = calls;
      w.wait(s, sent);
      s.calls = {};
    } else if (!full.empty()) {
      yield();  // nothing outstanding: the rings drain while others run
    }
    todo.swap(full);
  }
  for (Call& c : calls)
    if (!c.status.ok()) return c.status;
  return Status::OK();
}

void Context::yield() {
  Slot& s = slot();
  worker_->make_ready(s);
  worker_->suspend(s);
}

void Context::sleep_for(std::chrono::nanoseconds d) {
  if (d.count() <= 0) return yield();
  Slot& s = slot();
  const uint32_t gen = worker_->begin_wait(s);
  worker_->add_timer(s, gen, d);
  worker_->wait(s, 1);
}

}  // namespace remora
