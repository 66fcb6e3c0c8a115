#include "remora/node/engine.h"

#include <poll.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "remora/common/latency.h"
#include "remora/msg/wr_tag.h"

namespace remora {
namespace {
constexpr uint32_t kSpinRounds = 2000;
constexpr uint32_t kYieldRounds = 4000;
constexpr int kSleepMs = 1;
constexpr uint64_t kBusySpinNs = 100'000;  // see Engine::execute
constexpr size_t kPollBatch = 32;
}  // namespace

Engine::Engine(uint32_t index, NodeId self, std::unique_ptr<Channel> channel, LocalRegion* scratch)
    : index_(index), self_(self), channel_(std::move(channel)), scratch_(scratch) {}

Engine::~Engine() {
  rpc_.reset();
  messenger_.reset();
}

Status Engine::attach_messaging(std::unique_ptr<Messenger> m, std::unique_ptr<RpcEndpoint> rpc) {
  if (messenger_) return Status::Internal("messaging attached twice");
  messenger_ = std::move(m);
  rpc_ = std::move(rpc);
  return Status::OK();
}

Status Engine::set_completion_sink(CompletionSink* sink) {
  if (sink && sink_ && sink != sink_) return Status::Unavailable("engine already has a completion sink");
  sink_ = sink;
  return Status::OK();
}

void Engine::route(const Completion& c) {
  if (Messenger::owns(c.wr_id)) {
    if (messenger_) messenger_->on_completion(c);
    return;
  }
  if (user_pending_ == 0) return;  // a straggler of an abandoned wait
  --user_pending_;
  if (c.code != Code::kOk && user_error_.ok())
    user_error_ = Status(c.code, fmt::format("operation {} to node {} failed", c.wr_id, c.peer));
}

size_t Engine::poll_once() {
  Completion cs[kPollBatch];
  size_t n = channel_->poll(cs);
  size_t runtime = 0;  // kRuntime completions, compacted to the front
  for (size_t i = 0; i < n; ++i) {
    if (wr_owner(cs[i].wr_id) == WrOwner::kRuntime) cs[runtime++] = cs[i];
    else route(cs[i]);
  }
  if (runtime && sink_) sink_->on_completions({cs, runtime});
  size_t work = n + channel_->take_served();
  if (rpc_) {
    auto r = rpc_->poll();
    if (r.ok()) work += *r;
    else ring_error_ = r.status();
  }
  if (work) idle_rounds_ = 0;
  return work;
}

void Engine::idle(std::chrono::nanoseconds max_sleep) {
  ++idle_rounds_;
  if (idle_rounds_ < kSpinRounds) return;
  if (idle_rounds_ < kYieldRounds || max_sleep.count() <= 0) {
    sched_yield();
    return;
  }
  nap(max_sleep);
}

std::chrono::nanoseconds Engine::sleep_cap(std::chrono::nanoseconds d) const {
  // Without wake-ups from every peer a ring record waits out the sleep.
  if (!can_be_woken()) d = std::min<std::chrono::nanoseconds>(d, std::chrono::milliseconds(kSleepMs));
  if (rpc_) {
    const uint64_t due = rpc_->next_deadline_ns();
    if (due != UINT64_MAX) {
      const uint64_t now = now_ns();
      d = std::min<std::chrono::nanoseconds>(d, std::chrono::nanoseconds(due > now ? due - now : 0));
    }
  }
  return d;
}

bool Engine::can_be_woken() const {
  return wakeups_ && channel_->event_fd() >= 0 && (!messenger_ || messenger_->peers_can_wake());
}

void Engine::nap(std::chrono::nanoseconds d) {
  d = sleep_cap(d);
  if (d.count() <= 0) return;
  // Announce the sleep, then look at the rings once more (Messenger::
  // prepare_sleep), then arm the fd: a record or event that arrives after
  // either check rings the doorbell or raises the event we wait for.
  const bool announce = wakeups_ && messenger_;
  if (announce && !messenger_->prepare_sleep()) {
    messenger_->awake();
    return;
  }
  const timespec ts{static_cast<time_t>(d.count() / 1000000000), static_cast<long>(d.count() % 1000000000)};
  const int fd = channel_->event_fd();
  if (fd >= 0 && channel_->arm()) {
    pollfd p{fd, POLLIN, 0};
    if (::ppoll(&p, 1, &ts, nullptr) == 0) ++sleeps_timed_out_;
    ++sleeps_;
  } else if (fd < 0) {
    nanosleep(&ts, nullptr);
    ++sleeps_;
  }
  if (announce) messenger_->awake();
}

Status Engine::execute(std::span<const WorkRequest> batch) {
  REMORA_RETURN_IF_ERROR(channel_->post(batch));
  user_pending_ += batch.size();
  user_error_ = Status::OK();
  // Spin (no yield, no sleep) for kBusySpin while our own requests are in
  // flight: a tcp round trip takes ~20 us and a sched_yield on a loaded host
  // can cost milliseconds. Only then back off.
  uint64_t spin_until = 0;
  while (user_pending_ > 0) {
    if (poll_once() != 0) continue;
    const uint64_t now = now_ns();
    if (spin_until == 0) spin_until = now + kBusySpinNs;
    if (now > spin_until) idle();
  }
  return user_error_;
}

Status Engine::read(NodeId peer, GAddr remote, void* local, uint32_t len) {
  WorkRequest wr{Op::kRead, peer, remote, local, len, 0, 0, next_wr_++};
  return execute({&wr, 1});
}

Status Engine::write(NodeId peer, GAddr remote, const void* local, uint32_t len) {
  WorkRequest wr{Op::kWrite, peer, remote, const_cast<void*>(local), len, 0, 0, next_wr_++};
  return execute({&wr, 1});
}

Result<uint64_t> Engine::cas(NodeId peer, GAddr remote, uint64_t expected, uint64_t desired) {
  auto* out = reinterpret_cast<uint64_t*>(scratch_->data);
  WorkRequest wr{Op::kCas, peer, remote, out, 8, expected, desired, next_wr_++};
  REMORA_RETURN_IF_ERROR(execute({&wr, 1}));
  return *out;
}

Result<uint64_t> Engine::faa(NodeId peer, GAddr remote, uint64_t add) {
  auto* out = reinterpret_cast<uint64_t*>(scratch_->data);
  WorkRequest wr{Op::kFaa, peer, remote, out, 8, 0, add, next_wr_++};
  REMORA_RETURN_IF_ERROR(execute({&wr, 1}));
  return *out;
}

Status Engine::call(NodeId to, uint16_t method, std::span<const std::byte> req,
                    std::chrono::nanoseconds timeout, std::vector<std::byte>* resp) {
  bool done = false;
  Status result;
  auto cb = [&](Status st, std::span<const std::byte> body) {
    result = std::move(st);
    if (resp) resp->assign(body.begin(), body.end());
    done = true;
  };
  Status st;
  // A full ring drains as the callee consumes: poll and retry.
  REMORA_RETURN_IF_ERROR(run_until([&] {
    st = rpc_->call(to, method, req, timeout, cb);
    return st.code() != Code::kFull;
  }, timeout));
  REMORA_RETURN_IF_ERROR(st);
  // The RPC layer itself expires the call after `timeout`.
  while (!done) {
    if (poll_once() == 0) idle();
  }
  return result;
}

}  // namespace remora
