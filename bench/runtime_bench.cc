// runtime_bench: cost of the coroutine runtime.
//
//   runtime_bench --config configs/local-2.toml [--coroutines 1,2,4,8,16,32,64]
//                 [--op read|write|faa] [--size 64] [--seconds 1] [--json]
//
// 1. switch: a raw Boost.Context fiber ping-pong (ns per switch), and a
//    Worker's yield turn (ns per coroutine resume, the engine polled every
//    turn) with 1 and 64 coroutines, on node 0's real engine.
// 2. ops/s vs coroutines: node 0 (this process) runs C coroutines per
//    engine thread, each issuing the op to node 1 back to back for
//    --seconds; node 1 is a forked child that only serves (polls).
// Prints a human table and, with --json, one JSON line per figure.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "remora/cluster/config.h"
#include "remora/node/node.h"
#include "remora/runtime/worker.h"

namespace remora {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kBarrier = std::chrono::seconds(30);

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Args {
  std::string config = "configs/local-2.toml";
  std::vector<uint32_t> coroutines = {1, 2, 4, 8, 16, 32, 64};
  std::string op = "read";
  uint32_t size = 64;
  double seconds = 1.0;
  bool json = false;
};

// Raw fiber ping-pong: ns per one-way switch.
double raw_switch_ns(uint64_t rounds) {
  namespace ctx = boost::context;
  bool stop = false;
  ctx::fiber f([&stop](ctx::fiber&& main) {
    while (!stop) main = std::move(main).resume();
    return std::move(main);
  });
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < rounds; ++i) f = std::move(f).resume();
  const double s = seconds_since(t0);
  stop = true;
  f = std::move(f).resume();
  return s * 1e9 / (2.0 * rounds);
}

// ns per coroutine resume when `n` coroutines only yield.
Result<double> yield_ns(Node& node, uint32_t n, uint64_t yields) {
  double ns = 0;
  REMORA_RETURN_IF_ERROR(node.run([&](Engine& e) -> Status {
    if (e.index() != 0) return Status::OK();
    auto w = Worker::create(e);
    if (!w.ok()) return w.status();
    for (uint32_t c = 0; c < n; ++c)
      (*w)->spawn([&](Context& ctx) {
        for (uint64_t i = 0; i < yields / n; ++i) ctx.yield();
      });
    const auto t0 = Clock::now();
    REMORA_RETURN_IF_ERROR((*w)->run());
    ns = seconds_since(t0) * 1e9 / static_cast<double>((*w)->stats().switches);
    return Status::OK();
  }));
  return ns;
}

// Baseline without coroutines: Engine's synchronous helper, one op at a time.
Result<double> sync_ops_per_s(Node& node, const Args& a) {
  uint64_t ops = 0;
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration<double>(a.seconds);
  REMORA_RETURN_IF_ERROR(node.run([&](Engine& e) -> Status {
    if (e.index() != 0) return Status::OK();
    for (; (ops & 63) != 0 || Clock::now() < until; ++ops)
      REMORA_RETURN_IF_ERROR(e.read(1, Node::data_addr(1, 0, 0), e.scratch().data() + 64, a.size));
    return Status::OK();
  }));
  return static_cast<double>(ops) / seconds_since(t0);
}

Op parse_op(const std::string& s) {
  if (s == "write") return Op::kWrite;
  if (s == "faa") return Op::kFaa;
  return Op::kRead;
}

// One point of the sweep: total ops/s from `c` coroutines per thread.
Result<double> ops_per_s(Node& node, const Args& a, uint32_t c) {
  std::atomic<uint64_t> ops{0};
  const Op op = parse_op(a.op);
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration<double>(a.seconds);
  WorkerOptions wo;
  wo.max_coroutines = std::max<uint32_t>(c, 1);
  REMORA_RETURN_IF_ERROR(node.run_workers(
      [&](Worker& w) {
        for (uint32_t i = 0; i < c; ++i)
          w.spawn([&, i](Context& ctx) -> Status {
            const uint32_t off = (w.engine().index() * c + i) * 4096;
            uint64_t n = 0;
            for (; (n & 63) != 0 || Clock::now() < until; ++n) {
              WorkRequest wr{op, 1, Node::data_addr(1, 0, off), ctx.scratch().data(), a.size, 0,
                             1,  0};
              if (op == Op::kFaa) wr.length = 8;
              REMORA_RETURN_IF_ERROR(ctx.execute({&wr, 1}));
            }
            ops += n;
            return Status::OK();
          });
      },
      wo));
  return static_cast<double>(ops.load()) / seconds_since(t0);
}

void print_line(const Args& a, const std::string& what, const std::string& json_fields,
                const std::string& human) {
  fmt::print("{}\n", human);
  if (a.json) fmt::print("{{\"bench\":\"runtime\",\"what\":\"{}\",{}}}\n", what, json_fields);
}

Status leader(const Config& cfg, const Args& a) {
  auto node = Node::create(cfg, 0);
  if (!node.ok()) return node.status();
  Node& n = **node;
  REMORA_RETURN_IF_ERROR(n.start());
  const std::string tls = cfg.ucx_tls.empty() ? "default" : cfg.ucx_tls;
  const double raw = raw_switch_ns(10'000'000);
  print_line(a, "fiber_switch", fmt::format("\"ns\":{:.2f}", raw),
             fmt::format("raw fiber switch: {:.1f} ns", raw));
  for (uint32_t c : {1u, 64u}) {
    auto y = yield_ns(n, c, 2'000'000);
    if (!y.ok()) return y.status();
    print_line(a, "yield",
               fmt::format("\"coroutines\":{},\"ns\":{:.2f},\"transport\":\"{}\"", c, *y, tls),
               fmt::format("worker yield turn, {:>2} coroutines: {:.1f} ns per resume", c, *y));
  }
  REMORA_RETURN_IF_ERROR(n.run([&](Engine& e) { return n.barrier(e, kBarrier); }));
  auto sync = sync_ops_per_s(n, a);
  if (!sync.ok()) return sync.status();
  print_line(
      a, "sync_read",
      fmt::format("\"size\":{},\"mops\":{:.4f},\"transport\":\"{}\"", a.size, *sync / 1e6, tls),
      fmt::format("Engine::read (no coroutines), 1 thread, {} B: {:8.3f} Mops/s ({})", a.size,
                  *sync / 1e6, tls));
  for (uint32_t c : a.coroutines) {
    auto r = ops_per_s(n, a, c);
    if (!r.ok()) return r.status();
    print_line(a, "ops",
               fmt::format("\"op\":\"{}\",\"size\":{},\"threads\":{},\"coroutines\":{},\"mops\":{:."
                           "4f},\"transport\":\"{}\"",
                           a.op, a.size, cfg.threads, c, *r / 1e6, tls),
               fmt::format("{} {} B, {} thread(s) x {:>2} coroutines: {:8.3f} Mops/s ({})", a.op,
                           a.size, cfg.threads, c, *r / 1e6, tls));
  }
  REMORA_RETURN_IF_ERROR(n.run([&](Engine& e) { return n.barrier(e, kBarrier); }));
  n.leave();
  return Status::OK();
}

// Node 1: serves (polls) through the two barriers of the leader.
Status follower(const Config& cfg) {
  auto node = Node::create(cfg, 1);
  if (!node.ok()) return node.status();
  Node& n = **node;
  REMORA_RETURN_IF_ERROR(n.start());
  const auto long_wait = std::chrono::minutes(10);
  REMORA_RETURN_IF_ERROR(n.run([&](Engine& e) { return n.barrier(e, kBarrier); }));
  REMORA_RETURN_IF_ERROR(n.run([&](Engine& e) {
    return n.barrier(e, std::chrono::duration_cast<std::chrono::milliseconds>(long_wait));
  }));
  n.leave();
  return Status::OK();
}

int run(const Args& a) {
  auto cfg = load_config(a.config);
  if (!cfg.ok()) {
    fmt::print(stderr, "{}\n", cfg.status().to_string());
    return 2;
  }
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    Status st = follower(*cfg);
    if (!st.ok()) fmt::print(stderr, "node 1: {}\n", st.to_string());
    std::fflush(nullptr);
    _exit(st.ok() ? 0 : 1);
  }
  Status st = leader(*cfg, a);
  if (!st.ok()) {
    fmt::print(stderr, "node 0: {}\n", st.to_string());
    kill(pid, SIGKILL);
  }
  int ws = 0;
  waitpid(pid, &ws, 0);
  return st.ok() && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace remora

int main(int argc, char** argv) {
  remora::Args a;
  CLI::App app{"Remora coroutine runtime benchmark"};
  app.add_option("--config", a.config, "two-node config (node 0 here, node 1 forked)");
  app.add_option("--coroutines", a.coroutines, "coroutines per thread to sweep")->delimiter(',');
  app.add_option("--op", a.op, "read|write|faa")->check(CLI::IsMember({"read", "write", "faa"}));
  app.add_option("--size", a.size, "bytes per read/write")->check(CLI::Range(1u, 4096u));
  app.add_option("--seconds", a.seconds, "duration of each sweep point");
  app.add_flag("--json", a.json, "also print JSON lines");
  CLI11_PARSE(app, argc, argv);
  return remora::run(a);
}
