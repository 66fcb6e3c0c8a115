// raw_ucp_lat: the raw-UCP baseline that `remora bench fabric` is compared
// against. It uses no Remora code, only UCP, so the ratio remora/raw is the
// cost of Remora's fabric layer.
//
// The process fork()s before touching UCX (UCX is not fork-safe). The child
// is the target: it maps a UCX-allocated buffer (UCP_MEM_MAP_ALLOCATE, so
// shared-memory transports are truly one-sided), sends its worker address,
// the buffer's address and its packed rkey through a socketpair, then spins
// ucp_worker_progress (needed over tcp, where one-sided ops are emulated)
// until it reads a stop byte or EOF. The parent is the initiator and times
// --iters operations after --warmup untimed ones: one at a time, or
// --inflight issued at once and then all waited for. Each clock-read pair
// times --batch operations; figures are per operation (batch time / batch),
// percentiles over batches, so a 30 ns operation is resolved far below the
// clock's tick (as in `remora bench fabric --batch`).
//
// Completion is defined as in Remora's UCX fabric: an operation is done when
// its ucp_*_nbx request completes (or the call returns UCS_OK at once). For a
// write that is local completion: the source buffer may be reused; it does
// not by itself prove the data reached remote memory (no flush per write).
// CAS and FAA are 64-bit fetching atomics (reply buffer), so --size is
// ignored for them and reported as 8. One at a time, the value they fetch
// is checked; in flight, each has its own reply word and none is checked
// (a CAS may then fail to swap: it costs the same).
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <ucp/api/ucp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "raw_ucp_common.h"

namespace {

using namespace raw_ucp;

constexpr uint64_t kMaxIters = 10'000'000;
constexpr uint64_t kMaxSize = 64 << 20;

struct Options {
  std::string op = "read";
  uint64_t size = 64;
  uint64_t iters = 100'000;
  uint64_t warmup = 10'000;
  uint32_t batch = 1;
  uint32_t inflight = 1;
  double max_seconds = 60;
  bool json = false;
};

struct Initiator {
  Ucp u;
  ucp_ep_h ep = nullptr;
  ucp_rkey_h rkey = nullptr;
  uint64_t raddr = 0;
  uint64_t rlen = 0;
  Clock::time_point deadline;
};

// Waits for a request; gives up at the deadline (a dead or silent target).
ucs_status_t wait_req(Initiator& in, ucs_status_ptr_t r) {
  if (r == nullptr) return UCS_OK;
  if (UCS_PTR_IS_ERR(r)) return UCS_PTR_STATUS(r);
  ucs_status_t s;
  uint32_t spins = 0;
  while ((s = ucp_request_check_status(r)) == UCS_INPROGRESS) {
    ucp_worker_progress(in.u.worker);
    if ((++spins & 0xffff) == 0 && Clock::now() > in.deadline) return UCS_ERR_TIMED_OUT;
  }
  ucp_request_free(r);
  return s;
}

bool connect(Initiator& in, int fd, uint64_t local_len) {
  TargetInfo info{};
  if (!read_all(fd, &info, sizeof info)) {
    fmt::print(stderr, "raw_ucp_lat: target did not send its address\n");
    return false;
  }
  std::vector<char> addr(info.worker_addr_len), rkey(info.rkey_len);
  if (!read_all(fd, addr.data(), addr.size()) || !read_all(fd, rkey.data(), rkey.size()))
    return false;
  in.raddr = info.remote_addr;
  in.rlen = info.remote_len;
  if (!ucp_open(in.u, local_len)) return false;
  ucp_ep_params_t ep{};
  ep.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
  ep.address = reinterpret_cast<const ucp_address_t*>(addr.data());
  if (!check(ucp_ep_create(in.u.worker, &ep, &in.ep), "ucp_ep_create")) return false;
  if (!check(ucp_ep_rkey_unpack(in.ep, rkey.data(), &in.rkey), "ucp_ep_rkey_unpack")) return false;
  ucp_request_param_t p{};
  return check(wait_req(in, ucp_ep_flush_nbx(in.ep, &p)), "ucp_ep_flush_nbx (wire-up)");
}

// One operation of kind `op`; `seq` is the number of operations done so far,
// which lets CAS and FAA check the value they got back.
ucs_status_t one_op(Initiator& in, char op, uint64_t size, uint64_t seq) {
  ucp_request_param_t p{};
  auto* local = static_cast<uint64_t*>(in.u.buf);
  if (op == 'r') return wait_req(in, ucp_get_nbx(in.ep, local, size, in.raddr, in.rkey, &p));
  if (op == 'w') {
    local[0] = seq;
    return wait_req(in, ucp_put_nbx(in.ep, local, size, in.raddr, in.rkey, &p));
  }
  // Remote word 0 counts operations: CAS seq -> seq+1 always succeeds, FAA
  // adds 1; both must fetch `seq`.
  uint64_t operand = op == 'c' ? seq : 1;
  local[0] = seq + 1;  // CSWAP: new value in, old value out
  p.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE | UCP_OP_ATTR_FIELD_REPLY_BUFFER;
  p.datatype = ucp_dt_make_contig(8);
  p.reply_buffer = local;
  ucs_status_t s =
      wait_req(in, ucp_atomic_op_nbx(in.ep, op == 'c' ? UCP_ATOMIC_OP_CSWAP : UCP_ATOMIC_OP_ADD,
                                     &operand, 1, in.raddr, in.rkey, &p));
  if (s == UCS_OK && local[0] != seq) {
    fmt::print(stderr, "raw_ucp_lat: op {} fetched {}, expected {}\n", seq, local[0], seq);
    return UCS_ERR_IO_ERROR;
  }
  return s;
}

// Byte-exact round trip after the run: write a pattern, read it back.
bool verify_rw(Initiator& in, uint64_t size) {
  auto* b = static_cast<unsigned char*>(in.u.buf);
  for (uint64_t i = 0; i < size; ++i) b[i] = static_cast<unsigned char>(i * 31 + 7);
  ucp_request_param_t p{};
  if (!check(wait_req(in, ucp_put_nbx(in.ep, b, size, in.raddr, in.rkey, &p)), "verify put"))
    return false;
  if (!check(wait_req(in, ucp_ep_flush_nbx(in.ep, &p)), "verify flush")) return false;
  std::memset(b, 0, size);
  if (!check(wait_req(in, ucp_get_nbx(in.ep, b, size, in.raddr, in.rkey, &p)), "verify get"))
    return false;
  for (uint64_t i = 0; i < size; ++i) {
    if (b[i] != static_cast<unsigned char>(i * 31 + 7)) {
      fmt::print(stderr, "raw_ucp_lat: verify: byte {} differs\n", i);
      return false;
    }
  }
  return true;
}

// `k` operations issued at once (op k gets reply word k), then all waited for.
ucs_status_t burst(Initiator& in, char op, uint64_t size, uint32_t k) {
  ucs_status_ptr_t reqs[1024];
  auto* local = static_cast<uint64_t*>(in.u.buf);
  for (uint32_t j = 0; j < k; ++j) {
    ucp_request_param_t p{};
    if (op == 'r') {
      reqs[j] = ucp_get_nbx(in.ep, local, size, in.raddr, in.rkey, &p);
    } else if (op == 'w') {
      reqs[j] = ucp_put_nbx(in.ep, local, size, in.raddr, in.rkey, &p);
    } else {
      uint64_t operand = op == 'c' ? 0 : 1;
      local[j] = 0;
      p.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE | UCP_OP_ATTR_FIELD_REPLY_BUFFER;
      p.datatype = ucp_dt_make_contig(8);
      p.reply_buffer = local + j;
      reqs[j] = ucp_atomic_op_nbx(in.ep, op == 'c' ? UCP_ATOMIC_OP_CSWAP : UCP_ATOMIC_OP_ADD, &operand, 1,
                                  in.raddr, in.rkey, &p);
    }
  }
  ucs_status_t first = UCS_OK;
  for (uint32_t j = 0; j < k; ++j) {
    const ucs_status_t s = wait_req(in, reqs[j]);
    if (first == UCS_OK) first = s;
  }
  return first;
}

// `count` operations, one at a time or in bursts of --inflight.
ucs_status_t run_ops(Initiator& in, const Options& o, uint64_t size, uint64_t count, uint64_t* seq) {
  const char op = o.op[0];
  if (o.inflight == 1) {
    for (uint64_t i = 0; i < count; ++i, ++*seq)
      if (ucs_status_t s = one_op(in, op, size, *seq); s != UCS_OK) return s;
    return UCS_OK;
  }
  for (uint64_t done = 0; done < count;) {
    const auto k = static_cast<uint32_t>(std::min<uint64_t>(o.inflight, count - done));
    if (ucs_status_t s = burst(in, op, size, k); s != UCS_OK) return s;
    done += k;
    *seq += k;
  }
  return UCS_OK;
}

struct Stats {
  uint64_t n = 0;
  double p50 = 0, p99 = 0, p999 = 0, mean = 0, mops = 0;
  bool truncated = false;
};

Stats summarize(std::vector<uint32_t>& ns, double elapsed_s, bool truncated) {
  Stats st;
  st.n = ns.size();
  st.truncated = truncated;
  if (ns.empty()) return st;
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double q) {
    return ns[std::min<size_t>(ns.size() - 1, static_cast<size_t>(q * ns.size()))] / 1e3;
  };
  st.p50 = pct(0.5);
  st.p99 = pct(0.99);
  st.p999 = pct(0.999);
  double sum = 0;
  for (uint32_t v : ns) sum += v;
  st.mean = sum / ns.size() / 1e3;
  st.mops = elapsed_s > 0 ? ns.size() / elapsed_s / 1e6 : 0;
  return st;
}

// The same over batches of `batch` operations, scaled to one operation.
Stats per_op(std::vector<uint32_t>& ns, double elapsed_s, bool truncated, uint32_t batch) {
  Stats st = summarize(ns, elapsed_s, truncated);
  st.n *= batch;
  st.p50 /= batch, st.p99 /= batch, st.p999 /= batch, st.mean /= batch, st.mops *= batch;
  return st;
}

// Warmup, then the timed batches; stops early (truncated) at --max-seconds.
bool measure(Initiator& in, const Options& o, uint64_t size, Stats* out) {
  uint64_t seq = 0;
  if (!check(run_ops(in, o, size, o.warmup, &seq), "warmup")) return false;
  const uint64_t batches = (o.iters + o.batch - 1) / o.batch;
  std::vector<uint32_t> ns;
  ns.reserve(batches);
  const auto start = Clock::now();
  const auto stop_at = after_seconds(o.max_seconds);
  bool truncated = false;
  const uint64_t check_every = std::max<uint64_t>(1, 1024 / o.batch);
  for (uint64_t i = 0; i < batches; ++i) {
    const auto t0 = Clock::now();
    if (!check(run_ops(in, o, size, o.batch, &seq), o.op.c_str())) return false;
    const auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0);
    ns.push_back(static_cast<uint32_t>(std::min<int64_t>(d.count(), UINT32_MAX)));
    if (i % check_every == check_every - 1 && Clock::now() > stop_at) {
      truncated = true;
      break;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  *out = per_op(ns, elapsed, truncated, o.batch);
  return true;
}

void report(const Options& o, uint64_t size, const Stats& st) {
  const char* env = std::getenv("UCX_TLS");
  const std::string tls = env && *env ? env : "default";
  fmt::print(
      "raw_ucp {} {} B tls={} inflight={} batch={}: n={}{} p50 {:.4f} us  p99 {:.3f} us  p99.9 {:.3f} us"
      "  mean {:.3f} us  {:.3f} Mops\n",
      o.op, size, tls, o.inflight, o.batch, st.n, st.truncated ? " (time limit)" : "", st.p50, st.p99, st.p999, st.mean,
      st.mops);
  if (o.json)
    fmt::print(
        "{{\"bench\":\"fabric\",\"impl\":\"raw_ucp\",\"transport\":\"ucx\",\"tls\":\"{}\","
        "\"op\":\"{}\",\"size\":{},\"iters\":{},\"batch\":{},\"inflight\":{},\"p50_us\":{:.4f},\"p99_us\":{:.4f},"
        "\"p999_us\":{:.4f},\"mean_us\":{:.4f},\"mops\":{:.4f}}}\n",
        tls, o.op, size, st.n, o.batch, o.inflight, st.p50, st.p99, st.p999, st.mean, st.mops);
}

int run_initiator(int fd, pid_t child, const Options& o, uint64_t size) {
  Initiator in;
  in.deadline = after_seconds(o.max_seconds + 20);
  Stats st;
  bool ok = connect(in, fd, std::max<uint64_t>({size, 64, uint64_t{o.inflight} * 8}));
  ok = ok && measure(in, o, size, &st);
  ok = ok && (o.op != "read" && o.op != "write" ? true : verify_rw(in, size));
  if (ok) report(o, size, st);
  if (in.rkey) ucp_rkey_destroy(in.rkey);
  if (in.ep) {
    ucp_request_param_t p{};
    p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    p.flags = UCP_EP_CLOSE_FLAG_FORCE;
    (void)wait_req(in, ucp_ep_close_nbx(in.ep, &p));
  }
  const char stop = 'q';
  (void)write_all(fd, &stop, 1);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ucp_close(in.u);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    fmt::print(stderr, "raw_ucp_lat: target exited abnormally (status {})\n", wstatus);
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"raw UCP one-sided latency baseline (no Remora code)"};
  app.add_option("--op", o.op, "read|write|cas|faa")
      ->check(CLI::IsMember({"read", "write", "cas", "faa"}));
  app.add_option("--size", o.size, "bytes per read/write (cas/faa: 8)")
      ->check(CLI::Range(uint64_t{1}, kMaxSize));
  app.add_option("--iters", o.iters, "timed operations")->check(CLI::Range(uint64_t{1}, kMaxIters));
  app.add_option("--warmup", o.warmup, "untimed operations first")
      ->check(CLI::Range(uint64_t{0}, kMaxIters));
  app.add_option("--max-seconds", o.max_seconds, "wall-clock limit of the timed loop")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--batch", o.batch, "operations per timed batch (per-op = batch time / batch)")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--inflight", o.inflight, "operations issued at once (then all waited for)")
      ->check(CLI::Range(1u, 1024u));
  app.add_flag("--json", o.json, "also print one JSON line");
  CLI11_PARSE(app, argc, argv);

  const uint64_t size = (o.op == "cas" || o.op == "faa") ? 8 : o.size;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    fmt::print(stderr, "raw_ucp_lat: socketpair: {}\n", std::strerror(errno));
    return 1;
  }
  const pid_t child = fork();
  if (child < 0) {
    fmt::print(stderr, "raw_ucp_lat: fork: {}\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    close(sv[0]);
    _exit(run_target(sv[1], std::max<uint64_t>({size, 64, uint64_t{o.inflight} * 8}), o.max_seconds + 60));
  }
  close(sv[1]);
  return run_initiator(sv[0], child, o, size);
}
