// Failure bodies: start-up only, waiting for a peer to die, serve + SIGTERM.
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "node/node_bodies.h"
#include "remora/common/json.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

int64_t ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0).count();
}

struct WatchResult {
  int64_t detect_ms = -1, read_ms = -1, barrier_ms = -1;
  Status read, barrier;
};

// Runs on every engine thread of a survivor.
Status watch(Node& n, Engine& e, NodeId victim, std::chrono::milliseconds max_wait,
             ChildContext& ctx, WatchResult& r) {
  const auto t0 = SteadyClock::now();
  REMORA_RETURN_IF_ERROR(e.run_until([&] { return !n.fabric().peer_alive(victim); }, max_wait)
                             .with_context(fmt::format("node {} still alive", victim)));
  if (e.index() != 0) return Status::OK();  // one thread reports and probes
  r.detect_ms = ms_since(t0);
  ctx.note(fmt::format("gone:{}", victim));
  auto t1 = SteadyClock::now();
  r.read = e.read(victim, Node::data_addr(victim, 0, 0), e.scratch().data() + 64, 64);
  r.read_ms = ms_since(t1);
  return Status::OK();
}

std::string watch_json(const WatchResult& r) {
  return fmt::format(
      "{{\"detect_ms\":{},\"read_code\":{},\"read_ms\":{},\"barrier_code\":{},\"barrier_ms\":{}}}",
      r.detect_ms, json_string(code_name(r.read.code())), r.read_ms,
      json_string(code_name(r.barrier.code())), r.barrier_ms);
}

// Every engine reads from every peer between barriers, so UCX has wired up
// every endpoint before the test kills anyone (see serve_body()).
Status warm_up(Node& n) {
  return n.run([&](Engine& e) {
    REMORA_RETURN_IF_ERROR(n.barrier(e, 20s));
    for (NodeId p : n.peers())
      REMORA_RETURN_IF_ERROR(e.read(p, Node::data_addr(p, 0, 0), e.scratch().data() + 64, 8));
    return n.barrier(e, 20s);
  });
}

std::atomic<bool> g_stop{false};
extern "C" void on_sigterm(int) { g_stop.store(true); }

}  // namespace

ChildBody start_only_body() {
  return [](const Config& cfg, NodeId id, ChildContext&) {
    auto node = Node::create(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    const auto t0 = SteadyClock::now();
    Status st = (*node)->start();
    return ChildReport::from(st, fmt::format("{{\"start_ms\":{}}}", ms_since(t0)));
  };
}

ChildBody watch_peer_body(NodeId victim, std::chrono::milliseconds max_wait) {
  return [=](const Config& cfg, NodeId id, ChildContext& ctx) {
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    Node& n = **node;
    Status st = warm_up(n);
    if (!st.ok()) return ChildReport::from(st.with_context("warm-up"));
    ctx.note("ready");
    if (id == victim) {  // wait to be killed
      st = n.run([&](Engine& e) { return e.run_until([] { return false; }, max_wait); });
      return ChildReport::from(st.with_context("the victim was not killed"));
    }
    WatchResult r;
    st = n.run([&](Engine& e) { return watch(n, e, victim, max_wait, ctx, r); });
    if (!st.ok()) return ChildReport::from(st);
    const auto t0 = SteadyClock::now();
    r.barrier = n.run([&](Engine& e) { return n.barrier(e, 10s); });
    r.barrier_ms = ms_since(t0);
    n.leave();
    return ChildReport::from(Status::OK(), watch_json(r));
  };
}

ChildBody serve_body(NodeId victim, bool warm) {
  return [=](const Config& cfg, NodeId id, ChildContext& ctx) {
    struct sigaction sa {};
    sa.sa_handler = on_sigterm;
    sigaction(SIGTERM, &sa, nullptr);
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    Node& n = **node;
    if (Status st = warm ? warm_up(n) : Status::OK(); !st.ok())
      return ChildReport::from(st.with_context("warm-up"));
    ctx.note("started");
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      while (!done && n.fabric().peer_alive(victim)) std::this_thread::sleep_for(5ms);
      if (!n.fabric().peer_alive(victim)) ctx.note(fmt::format("gone:{}", victim));
    });
    WorkloadOptions o;
    o.name = "serve";
    o.stop = &g_stop;
    WorkloadResult r = run_workload(n, o);
    done = true;
    watcher.join();
    n.leave();
    return ChildReport::from(r.status, r.json);
  };
}

}  // namespace remora::testing
