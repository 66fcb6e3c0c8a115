#include "support/cluster_harness.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

namespace remora::testing {
namespace {

constexpr uint32_t kPortLow = 20000;
constexpr uint32_t kPortHigh = 32000;  // below Linux's ephemeral range
constexpr uint32_t kPortSlot = 40;     // ports per pid slot
constexpr size_t kLogTailLines = 40;

bool port_free(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // as listen_tcp does
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::string tail_lines(const std::string& text, size_t lines) {
  size_t pos = text.size();
  for (size_t n = 0; n <= lines; ++n) {
    if (pos == 0) return text;
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

}  // namespace

uint16_t reserve_ports(uint32_t count) {
  static std::atomic<uint32_t> counter{0};
  const uint32_t span = kPortHigh - kPortLow;
  const uint32_t start = (static_cast<uint32_t>(getpid()) % (span / kPortSlot)) * kPortSlot;
  for (uint32_t attempt = 0; attempt < span / count; ++attempt) {
    uint32_t off = (start + counter.fetch_add(count)) % span;
    if (off + count > span) continue;
    bool all = true;
    for (uint32_t i = 0; i < count && all; ++i)
      all = port_free(static_cast<uint16_t>(kPortLow + off + i));
    if (all) return static_cast<uint16_t>(kPortLow + off);
  }
  return 0;  // parse_config then refuses port 0 loudly
}

std::string cluster_toml(const ClusterSpec& s, uint16_t base_port) {
  std::string t = fmt::format(
      "[cluster]\nid = \"{}\"\ntransport = \"ucx\"\nthreads = {}\nregion_size = \"{}\"\n"
      "regions_per_node = 1\nring_size = \"{}\"\nconnect_timeout_ms = {}\npeer_timeout_ms = {}\n\n"
      "[ucx]\ntls = \"{}\"\n",
      s.cluster_id, s.threads, s.region_size, s.ring_size, s.connect_timeout_ms, s.peer_timeout_ms,
      s.tls);
  for (uint32_t n = 0; n < s.nodes; ++n)
    t += fmt::format("\n[[node]]\nid = {}\nhost = \"127.0.0.1\"\nport = {}\n", n, base_port + n);
  return t;
}

Result<Config> make_config(const ClusterSpec& spec, uint16_t base_port) {
  if (base_port == 0) base_port = reserve_ports(spec.nodes);
  return parse_config(cluster_toml(spec, base_port), fmt::format("harness-{}", spec.cluster_id));
}

ChildReport ChildReport::from(const Status& st, std::string json) {
  return ChildReport{st.code(), st.message(), std::move(json)};
}

Status ChildOutcome::status() const {
  if (reported)
    return report.code == Code::kOk ? Status::OK() : Status(report.code, report.message);
  if (timed_out) return Status::Timeout(fmt::format("node {} did not finish in time (killed)", id));
  return Status::Internal(
      fmt::format("node {} exited without a report (wait status {:#x})", id, wait_status));
}

double ChildOutcome::elapsed_s() const {
  return std::chrono::duration<double>(finished - launched).count();
}

const Note* ChildOutcome::find_note(std::string_view text) const {
  for (const Note& n : notes)
    if (n.text == text) return &n;
  return nullptr;
}

bool ChildOutcome::has_note(std::string_view text) const { return find_note(text) != nullptr; }

std::string ChildOutcome::describe() const {
  std::string exit = !exited ? "still running"
                     : WIFSIGNALED(wait_status)
                         ? fmt::format("killed by signal {}", WTERMSIG(wait_status))
                         : fmt::format("exit code {}", WEXITSTATUS(wait_status));
  std::string notes_text;
  for (const Note& n : notes) notes_text += " " + n.text;
  return fmt::format(
      "--- node {}: {} ({}{}), {:.2f} s, notes:{}\n    json: {}\n    log tail:\n{}\n", id,
      status().to_string(), exit, killed ? ", by the harness" : "", elapsed_s(), notes_text,
      report.json.empty() ? "-" : report.json, tail_lines(log, kLogTailLines));
}

Result<std::unique_ptr<Node>> start_node(const Config& cfg, NodeId id) {
  auto node = Node::create(cfg, id);
  if (!node.ok()) return node.status().with_context(fmt::format("Node::create({})", id));
  Status st = (*node)->start();
  if (!st.ok()) return st.with_context(fmt::format("node {} start", id));
  return std::move(*node);
}

ChildBody workload_body(WorkloadOptions opts) {
  return [opts](const Config& cfg, NodeId id, ChildContext& ctx) {
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    ctx.note("started");
    WorkloadResult r = run_workload(**node, opts);
    (*node)->leave();
    return ChildReport::from(r.status, r.json);
  };
}

}  // namespace remora::testing
