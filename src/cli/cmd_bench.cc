// remora bench fabric: latency of one-sided operations from node 0 (this
// process) to one peer, through the fabric layer (Channel post + poll), one
// operation in flight or --inflight posted at once. Each clock-read pair
// times --batch operations; figures are per operation (batch time / batch),
// percentiles over batches. The other nodes of the config run as `serve`
// children so that software-emulated transports (tcp) get their progress.
#include <algorithm>
#include <cstdio>
#include <vector>

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

// Posts `n` requests at once and polls until all of their completions arrived.
Status burst(Channel& ch, std::span<WorkRequest> wrs, Completion* cs) {
  REMORA_RETURN_IF_ERROR(ch.post(wrs));
  uint64_t t0 = 0;
  for (size_t left = wrs.size(), turn = 1; left > 0; ++turn) {
    const size_t n = ch.poll({cs, left});
    for (size_t k = 0; k < n; ++k)
      if (cs[k].code != Code::kOk) return Status(cs[k].code, "completion with error");
    left -= n;
    if ((turn & 1023) != 0) continue;
    if (t0 == 0) t0 = now_ns();
    else if (now_ns() - t0 > kOpTimeoutNs)
      return Status::Timeout(fmt::format("{} to node {}: no completion within 10 s", op_name(wrs[0].op), wrs[0].peer));
  }
  return Status::OK();
}

// `count` operations: one at a time, or in bursts of `inflight`.
Status run_ops(Channel& ch, std::vector<WorkRequest>& wrs, std::vector<Completion>& cs, uint64_t* next_id,
               uint64_t count) {
  if (wrs.size() == 1) {
    for (uint64_t i = 0; i < count; ++i) {
      wrs[0].wr_id = kBenchTag | (*next_id)++;
      REMORA_RETURN_IF_ERROR(one_op(ch, wrs[0]));
    }
    return Status::OK();
  }
  for (uint64_t done = 0; done < count;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(wrs.size(), count - done));
    for (size_t k = 0; k < n; ++k) wrs[k].wr_id = kBenchTag | (*next_id)++;
    REMORA_RETURN_IF_ERROR(burst(ch, std::span(wrs).first(n), cs.data()));
    done += n;
  }
  return Status::OK();
}

// Percentiles over batches of `batch` operations, scaled to one operation.
LatencySummary per_op(LatencyRecorder& rec, double seconds, uint32_t batch) {
  LatencySummary s = rec.summarize(seconds);
  const double b = batch;
  s.p50_us /= b, s.p99_us /= b, s.p999_us /= b, s.mean_us /= b, s.max_us /= b;
  s.count *= batch;
  return s;
}

Result<LatencySummary> measure(Engine& e, Op op, NodeId peer, const BenchArgs& a) {
  WorkRequest wr;
  wr.op = op;
  wr.peer = peer;
  wr.remote = Node::data_addr(peer, 0, 0);
  wr.local = e.scratch().data();
  wr.length = (op == Op::kCas || op == Op::kFaa) ? 8 : a.size;
  wr.operand = op == Op::kFaa ? 1 : 0;  // cas: 0 -> 0 always succeeds
  if (wr.length > e.scratch().size()) return Status::InvalidArgument("--size larger than the scratch region");
  // Requests in flight get their own local buffers where the scratch has room.
  std::vector<WorkRequest> wrs(a.inflight, wr);
  const size_t stride = (wr.length + 63) & ~size_t{63};
  if (stride * a.inflight <= e.scratch().size())
    for (size_t k = 0; k < wrs.size(); ++k) wrs[k].local = e.scratch().data() + k * stride;
  std::vector<Completion> cs(a.inflight);
  const uint64_t batches = (a.iters + a.batch - 1) / a.batch;
  LatencyRecorder rec(batches);
  Progress prog{fmt::format("{} {} B", op_name(op), wr.length), a.warmup + batches * a.batch};
  uint64_t id = 0;
  REMORA_RETURN_IF_ERROR(run_ops(e.channel(), wrs, cs, &id, a.warmup));
  const uint64_t start = now_ns();
  for (uint64_t i = 0; i < batches; ++i) {
    if (stop_flag().load(std::memory_order_relaxed)) return Status::Unavailable("interrupted");
    const uint64_t t0 = now_ns();
    REMORA_RETURN_IF_ERROR(run_ops(e.channel(), wrs, cs, &id, a.batch));
    rec.add(now_ns() - t0);
    if (i % std::max<uint64_t>(1, 1024 / a.batch) == 0) prog.maybe(a.warmup + (i + 1) * a.batch);
  }
  return per_op(rec, static_cast<double>(now_ns() - start) / 1e9, a.batch);
}

void print_result(const BenchArgs& a, const Config& cfg, const std::string& fabric, Op op,
                  const LatencySummary& s, bool first) {
  const uint32_t size = (op == Op::kCas || op == Op::kFaa) ? 8 : a.size;
  if (a.json) {
    fmt::print("{{\"bench\":\"fabric\",\"impl\":\"remora\",\"transport\":{},\"tls\":{},\"op\":\"{}\",\"size\":{},"
               "\"iters\":{},\"batch\":{},\"inflight\":{},\"p50_us\":{:.4f},\"p99_us\":{:.4f},\"p999_us\":{:.4f},"
               "\"mean_us\":{:.4f},\"mops\":{:.4f}}}\n",
               json_string(fabric), json_string(cfg.ucx_tls), op_name(op), size, s.count, a.batch, a.inflight,
               s.p50_us, s.p99_us, s.p999_us, s.mean_us, s.ops_per_sec() / 1e6);
    return;
  }
  if (first)
    fmt::print("remora bench fabric over {}, {} in flight, per operation over batches of {}\n{:<6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
               fabric, a.inflight, a.batch, "op", "bytes", "iters", "p50 us", "p99 us", "p999 us", "mean us", "Mops");
  fmt::print("{:<6} {:>6} {:>9} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>8.3f}\n", op_name(op), size, s.count,
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
