// remora bench fabric: latency of one-sided operations from node 0 (this
// process) to one peer, through the fabric layer (Channel post + poll), one
// operation in flight. The other nodes of the config run as `serve`
// children so that software-emulated transports (tcp) get their progress.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/launcher.h"
#include "remora/cluster/config.h"
#include "remora/common/json.h"
#include "remora/common/latency.h"
#include "remora/node/node.h"

namespace remora::cli {
namespace {

constexpr uint64_t kBenchTag = 0xbe00'0000'0000'0000ull;
constexpr uint64_t kOpTimeoutNs = 10'000'000'000ull;

Op parse_op(const std::string& s) {
  if (s == "write") return Op::kWrite;
  if (s == "cas") return Op::kCas;
  if (s == "faa") return Op::kFaa;
  return Op::kRead;
}

// Posts one request and polls until its completion arrives.
Status one_op(Channel& ch, const WorkRequest& wr) {
  REMORA_RETURN_IF_ERROR(ch.post({&wr, 1}));
  uint64_t t0 = 0;  // read the clock only once the op is slow: it costs as much as a shm op
  Completion c;
  for (uint32_t turn = 1;; ++turn) {
    if (ch.poll({&c, 1}) == 1 && c.wr_id == wr.wr_id) {  // anything else: not ours, nothing else runs here
      if (c.code != Code::kOk) return Status(c.code, "completion with error");
      return Status::OK();
    }
    if ((turn & 1023) != 0) continue;
    if (t0 == 0) t0 = now_ns();
    else if (now_ns() - t0 > kOpTimeoutNs)
      return Status::Timeout(fmt::format("{} to node {}: no completion within 10 s", op_name(wr.op), wr.peer));
  }
}

struct Progress {
  std::string label;
  uint64_t total;
  uint64_t last_ns = now_ns();
  void maybe(uint64_t done) {
    if (now_ns() - last_ns < 2'000'000'000ull) return;
    last_ns = now_ns();
    fmt::print(stderr, "[bench] {}: {}/{} ({:.0f}%)\n", label, done, total, 100.0 * done / total);
  }
};

Result<LatencySummary> measure(Engine& e, Op op, NodeId peer, const BenchArgs& a) {
  WorkRequest wr;
  wr.op = op;
  wr.peer = peer;
  wr.remote = Node::data_addr(peer, 0, 0);
  wr.local = e.scratch().data();
  wr.length = (op == Op::kCas || op == Op::kFaa) ? 8 : a.size;
  wr.operand = op == Op::kFaa ? 1 : 0;  // cas: 0 -> 0 always succeeds
  if (wr.length > e.scratch().size()) return Status::InvalidArgument("--size larger than the scratch region");
  LatencyRecorder rec(a.iters);
  Progress prog{fmt::format("{} {} B", op_name(op), wr.length), a.warmup + a.iters};
  uint64_t start = now_ns();
  for (uint64_t i = 0; i < a.warmup + a.iters; ++i) {
    if (stop_flag().load(std::memory_order_relaxed)) return Status::Unavailable("interrupted");
    if (i == a.warmup) start = now_ns();
    wr.wr_id = kBenchTag | i;
    const uint64_t t0 = now_ns();
    REMORA_RETURN_IF_ERROR(one_op(e.channel(), wr));
    if (i >= a.warmup) rec.add(now_ns() - t0);
    if ((i & 1023) == 1023) prog.maybe(i + 1);
  }
  return rec.summarize(static_cast<double>(now_ns() - start) / 1e9);
}

void print_result(const BenchArgs& a, const Config& cfg, const std::string& fabric, Op op,
                  const LatencySummary& s, bool first) {
  const uint32_t size = (op == Op::kCas || op == Op::kFaa) ? 8 : a.size;
  if (a.json) {
    fmt::print("{{\"bench\":\"fabric\",\"impl\":\"remora\",\"transport\":{},\"tls\":{},\"op\":\"{}\",\"size\":{},"
               "\"iters\":{},\"p50_us\":{:.3f},\"p99_us\":{:.3f},\"p999_us\":{:.3f},\"mean_us\":{:.3f},"
               "\"mops\":{:.4f}}}\n",
               json_string(fabric), json_string(cfg.ucx_tls), op_name(op), size, s.count, s.p50_us, s.p99_us,
               s.p999_us, s.mean_us, s.ops_per_sec() / 1e6);
    return;
  }
  if (first)
    fmt::print("remora bench fabric over {}, one operation in flight\n{:<6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
               fabric, "op", "bytes", "iters", "p50 us", "p99 us", "p999 us", "mean us", "Mops");
  fmt::print("{:<6} {:>6} {:>9} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>8.3f}\n", op_name(op), size, s.count,
             s.p50_us, s.p99_us, s.p999_us, s.mean_us, s.ops_per_sec() / 1e6);
}

Status run_bench(const Config& cfg, NodeId self, NodeId peer, const BenchArgs& a) {
  auto node = Node::create(cfg, self);
  if (!node.ok()) return node.status();
  REMORA_RETURN_IF_ERROR((*node)->start());
  Status st;
  bool first = true;
  for (const std::string& name : a.ops) {
    const Op op = parse_op(name);
    auto s = measure((*node)->engine(0), op, peer, a);
    if (!s.ok()) {
      st = s.status();
      break;
    }
    print_result(a, cfg, (*node)->fabric().name(), op, *s, first);
    first = false;
    std::fflush(stdout);
  }
  (*node)->leave();
  return st;
}

}  // namespace

int cmd_bench_fabric(const BenchArgs& a) {
  auto cfg = load_config(a.config);
  if (!cfg.ok()) {
    fmt::print(stderr, "remora bench: {}\n", cfg.status().to_string());
    return 2;
  }
  if (cfg->nodes.size() < 2) {
    fmt::print(stderr, "remora bench: {} has {} node(s); the benchmark needs 2\n", cfg->source, cfg->nodes.size());
    return 2;
  }
  const NodeId self = cfg->nodes[0].id;
  const NodeId peer = a.peer == kInvalidNode ? cfg->nodes[1].id : a.peer;
  if (peer == self || !cfg->node(peer)) {
    fmt::print(stderr, "remora bench: --peer {} must be another node of {}\n", peer, cfg->source);
    return 2;
  }
  Launcher l;
  for (size_t i = 1; i < cfg->nodes.size(); ++i) {
    if (Status st = l.spawn(cfg->nodes[i].id, a.config, {"--workload", "serve"}); !st.ok()) {
      fmt::print(stderr, "remora bench: {}\n", st.to_string());
      return 1;
    }
  }
  const Status st = run_bench(*cfg, self, peer, a);
  l.pump(std::chrono::milliseconds(3000), [](const std::string&) {});
  l.terminate(std::chrono::milliseconds(3000));
  if (!st.ok()) {
    fmt::print(stderr, "remora bench: {}\n", st.to_string());
    return 1;
  }
  return 0;
}

}  // namespace remora::cli
