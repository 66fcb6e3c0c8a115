// Child bodies of the multi-process runtime suite.
#include "runtime/runtime_bodies.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "remora/common/json.h"
#include "remora/runtime/worker.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kBarrier = 20s;
constexpr uint32_t kBlock = 256;
constexpr uint32_t kBlocksAt = 4096;  // data-region offset of the first block

Status register_echo(Node& n) {
  return n.run([&](Engine& e) -> Status {
    REMORA_RETURN_IF_ERROR(e.rpc().register_handler(
        kEchoMethod, [](NodeId, std::span<const std::byte> req, std::vector<std::byte>& resp) {
          resp.assign(req.begin(), req.end());
          return Status::OK();
        }));
    return n.barrier(e, kBarrier);
  });
}

Status barrier_all(Node& n) {
  return n.run([&](Engine& e) { return n.barrier(e, kBarrier); });
}

size_t node_index(const Config& cfg, NodeId id) {
  for (size_t i = 0; i < cfg.nodes.size(); ++i)
    if (cfg.nodes[i].id == id) return i;
  return 0;
}

std::byte pattern(uint32_t who, uint32_t round, uint32_t i) {
  return std::byte((who * 131 + round * 17 + i * 7 + 3) & 0xff);
}

struct ThreadLog {
  std::vector<uint64_t> faa_old;
  uint64_t checked = 0, rpc_ok = 0;
  uint32_t peak = 0;
};

// One round of coroutine `who`: FAA, write + read back, echo call.
Status traffic_round(Context& ctx, const Config& cfg, uint32_t who, uint32_t r, ThreadLog& log) {
  const NodeId home = cfg.nodes.front().id;
  auto old = ctx.faa(home, Node::data_addr(home, 0, 0), 1);
  if (!old.ok()) return old.status().with_context("faa");
  log.faa_old.push_back(*old);
  const size_t me = node_index(cfg, ctx.self()), n = cfg.nodes.size();
  const NodeId target = cfg.nodes[(me + r) % n].id;  // every node, itself included
  std::byte* buf = ctx.scratch().data();
  for (uint32_t i = 0; i < kBlock; ++i) buf[i] = pattern(who, r, i);
  const GAddr block = Node::data_addr(target, 0, kBlocksAt + who * kBlock);
  REMORA_RETURN_IF_ERROR(ctx.write(target, block, buf, kBlock).with_context("write"));
  std::memset(buf, 0, kBlock);
  REMORA_RETURN_IF_ERROR(ctx.read(target, block, buf, kBlock).with_context("read"));
  for (uint32_t i = 0; i < kBlock; ++i)
    if (buf[i] != pattern(who, r, i))
      return Status::Corrupt(
          fmt::format("coroutine {} round {}: byte {} on node {}", who, r, i, target));
  log.checked += kBlock;
  const NodeId callee = cfg.nodes[(me + 1 + r % (n - 1)) % n].id;  // never itself
  const uint32_t req[2] = {who, r};
  std::vector<std::byte> resp;
  REMORA_RETURN_IF_ERROR(
      ctx.call(callee, kEchoMethod, std::as_bytes(std::span(req)), 5s, &resp).with_context("call"));
  if (resp.size() != sizeof(req) || std::memcmp(resp.data(), req, sizeof(req)) != 0)
    return Status::Corrupt(fmt::format("echo from node {} differs", callee));
  ++log.rpc_ok;
  return Status::OK();
}

Result<uint64_t> read_faa_word(Node& n) {
  uint64_t value = 0;
  const NodeId home = n.config().nodes.front().id;
  REMORA_RETURN_IF_ERROR(n.run([&](Engine& e) -> Status {
    if (e.index() == 0) {
      auto* buf = reinterpret_cast<uint64_t*>(e.scratch().data() + 64);
      REMORA_RETURN_IF_ERROR(e.read(home, Node::data_addr(home, 0, 0), buf, 8));
      value = *buf;
    }
    return n.barrier(e, kBarrier);  // home serves (tcp) until everyone read
  }));
  return value;
}

std::string traffic_json(NodeId id, const std::vector<ThreadLog>& logs, uint64_t final_value) {
  std::vector<uint64_t> olds;
  std::vector<uint32_t> peaks;
  uint64_t checked = 0, rpc_ok = 0;
  for (const ThreadLog& l : logs) {
    olds.insert(olds.end(), l.faa_old.begin(), l.faa_old.end());
    peaks.push_back(l.peak);
    checked += l.checked;
    rpc_ok += l.rpc_ok;
  }
  return fmt::format(
      "{{\"node\":{},\"faa_old\":[{}],\"faa_final\":{},\"checked_bytes\":{},\"rpc_ok\":{},"
      "\"peak_live\":[{}]}}",
      id, fmt::join(olds, ","), final_value, checked, rpc_ok, fmt::join(peaks, ","));
}

}  // namespace

ChildBody coroutine_traffic_body(uint32_t coroutines, uint32_t rounds) {
  return [=](const Config& cfg, NodeId id, ChildContext&) {
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    Node& n = **node;
    Status st = register_echo(n);
    if (!st.ok()) return ChildReport::from(st.with_context("register echo"));
    std::vector<ThreadLog> logs(n.threads());
    const uint32_t base = static_cast<uint32_t>(node_index(cfg, id)) * n.threads() * coroutines;
    st = n.run_workers([&](Worker& w) {
      const uint32_t t = w.engine().index();
      for (uint32_t c = 0; c < coroutines; ++c)
        w.spawn([&, t, c](Context& ctx) -> Status {
          logs[t].peak = std::max(logs[t].peak, ctx.worker().live());
          for (uint32_t r = 0; r < rounds; ++r)
            REMORA_RETURN_IF_ERROR(traffic_round(ctx, cfg, base + t * coroutines + c, r, logs[t]));
          return Status::OK();
        });
    });
    if (!st.ok()) return ChildReport::from(st.with_context("run_workers"));
    st = barrier_all(n);
    if (!st.ok()) return ChildReport::from(st.with_context("barrier after workers"));
    auto final_value = read_faa_word(n);
    if (!final_value.ok()) return ChildReport::from(final_value.status());
    n.leave();
    return ChildReport::from(Status::OK(), traffic_json(id, logs, *final_value));
  };
}

namespace {

struct GoneLog {
  std::mutex mu;
  std::map<std::string, uint32_t> ended;
  SteadyClock::time_point last_end{};
};

// One survivor coroutine: an echo call (even c) or reads until an error.
// `started` counts the coroutines of this thread that got here; each goes
// on into its first wait without yielding.
Status wait_on_victim(Context& ctx, NodeId victim, uint32_t c,
                      std::chrono::milliseconds call_timeout, uint32_t& started) {
  ++started;
  if (c % 2 == 0) {
    const uint32_t req = c;
    return ctx.call(victim, kEchoMethod, std::as_bytes(std::span(&req, 1)), call_timeout);
  }
  const auto give_up = SteadyClock::now() + call_timeout;
  while (SteadyClock::now() < give_up) {
    REMORA_RETURN_IF_ERROR(
        ctx.read(victim, Node::data_addr(victim, 0, 0), ctx.scratch().data(), 64));
    ctx.sleep_for(200us);
  }
  return Status::Timeout("reads from the victim kept succeeding");
}

ChildReport survive(Node& n, ChildContext& note, NodeId victim, uint32_t coroutines,
                    std::chrono::milliseconds call_timeout) {
  GoneLog log;
  // Threads whose coroutines all wait on the victim; kAll is added when
  // run_workers returned (e.g. early, on an error), so the watcher ends.
  constexpr uint32_t kAll = 1u << 20;
  std::atomic<uint32_t> threads_waiting{0};
  SteadyClock::time_point waiting_at{};
  const uint32_t expected = n.threads() * coroutines;
  std::thread watcher([&] {  // no blocking calls inside coroutines: note from here
    for (uint32_t v = threads_waiting.load(); v < n.threads(); v = threads_waiting.load())
      threads_waiting.wait(v);
    waiting_at = SteadyClock::now();
    note.note("waiting");
  });
  std::vector<uint32_t> started(n.threads(), 0);
  Status st = n.run_workers([&](Worker& w) {
    uint32_t* mine = &started[w.engine().index()];
    for (uint32_t c = 0; c < coroutines; ++c)
      w.spawn([&, c, mine](Context& ctx) -> Status {
        Status s = wait_on_victim(ctx, victim, c, call_timeout, *mine);
        std::lock_guard<std::mutex> g(log.mu);
        ++log.ended[std::string(code_name(s.code()))];
        log.last_end = SteadyClock::now();
        return s.code() == Code::kPeerGone ? Status::OK() : s;
      });
    // Runs after every coroutine above reached its first wait: coroutines
    // of one thread take turns, and each suspends there right after
    // counting itself.
    w.spawn([&, mine](Context& ctx) -> Status {
      while (*mine < coroutines) ctx.yield();
      threads_waiting.fetch_add(1);
      threads_waiting.notify_all();
      return Status::OK();
    });
  });
  threads_waiting.fetch_add(kAll);
  threads_waiting.notify_all();
  watcher.join();
  std::vector<std::string> ended;
  for (const auto& [code, count] : log.ended)
    ended.push_back(fmt::format("\"{}\":{}", code, count));
  const auto max_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(log.last_end - waiting_at).count();
  return ChildReport::from(st, fmt::format("{{\"ended\":{{{}}},\"coroutines\":{},\"max_ms\":{}}}",
                                           fmt::join(ended, ","), expected, max_ms));
}

}  // namespace

ChildGate::ChildGate() {
  // Non-blocking: waiters poll, then race for the bytes.
  if (::pipe2(fds_, O_NONBLOCK) != 0) throw std::runtime_error("pipe failed");
}

ChildGate::~ChildGate() {
  for (int fd : fds_)
    if (fd >= 0) ::close(fd);
}

Status ChildGate::open(uint32_t waiters) const {
  const std::vector<char> bytes(waiters, 'g');
  if (::write(fds_[1], bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    return Status::Internal(fmt::format("gate write: {}", std::strerror(errno)));
  return Status::OK();
}

Status ChildGate::wait(std::chrono::milliseconds timeout) const {
  const auto give_up = SteadyClock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - SteadyClock::now());
    if (left.count() <= 0) return Status::Timeout("the gate was not opened");
    pollfd p{fds_[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno != EINTR) return Status::Internal(fmt::format("gate poll: {}", std::strerror(errno)));
    if (r <= 0) continue;
    char b;  // another waiter may have taken the byte first: then wait on
    const ssize_t got = ::read(fds_[0], &b, 1);
    if (got == 1) return Status::OK();
  }
}

ChildBody peer_gone_body(NodeId victim, uint32_t coroutines,
                         std::chrono::milliseconds call_timeout, const ChildGate& gate) {
  const ChildGate* g = &gate;
  return [=](const Config& cfg, NodeId id, ChildContext& ctx) {
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    Node& n = **node;
    Status st = register_echo(n);
    if (!st.ok()) return ChildReport::from(st.with_context("register echo"));
    if (id != victim) {
      // The victim may still be polling in its barrier (and so answer
      // calls): start once it has left it.
      st = g->wait(kBarrier);
      if (!st.ok()) return ChildReport::from(st.with_context("waiting for the victim"));
      return survive(n, ctx, victim, coroutines, call_timeout);
    }
    // Out of Node::run: nothing polls this node's rings any more.
    st = g->open(static_cast<uint32_t>(cfg.nodes.size() - 1));
    if (!st.ok()) return ChildReport::from(st);
    ctx.note("ready");
    // Not an ordering: a cap on how long the victim stays unresponsive if
    // the test never kills it (calls to it hang meanwhile).
    std::this_thread::sleep_for(call_timeout * 2);
    return ChildReport::from(Status::Timeout("the victim was never killed"));
  };
}

ChildBody run_workers_errors_body(uint32_t coroutines) {
  return [=](const Config& cfg, NodeId id, ChildContext&) {
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    Node& n = **node;
    WorkerOptions bad;
    bad.max_coroutines = 0;
    const Status bad_option = n.run_workers([](Worker&) {}, bad);
    const Status throwing = n.run_workers([](Worker& w) {
      if (w.engine().index() == 0) throw std::runtime_error("spawn failed");
    });
    const Status one_failed = n.run_workers([](Worker& w) {
      const bool fail = w.engine().index() == 1;
      w.spawn([fail](Context& ctx) -> Status {
        ctx.yield();
        return fail ? Status::Corrupt("thread 1 broke") : Status::OK();
      });
    });
    std::atomic<uint32_t> ran{0};
    const Status clean = n.run_workers([&](Worker& w) {
      for (uint32_t c = 0; c < coroutines; ++c)
        w.spawn([&](Context& ctx) {
          ctx.sleep_for(1ms);
          ++ran;
        });
    });
    n.leave();
    return ChildReport::from(
        Status::OK(),
        fmt::format("{{\"bad_option\":\"{}\",\"throwing_fn\":\"{}\",\"one_failed\":\"{}\","
                    "\"one_failed_msg\":{},\"clean\":\"{}\",\"ran\":{}}}",
                    code_name(bad_option.code()), code_name(throwing.code()),
                    code_name(one_failed.code()), json_string(one_failed.message()),
                    code_name(clean.code()), ran.load()));
  };
}

}  // namespace remora::testing
