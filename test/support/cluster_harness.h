// Fork-based multi-process clusters for node tests.
//
// The parent (the gtest process) never initialises UCX: it builds a Config
// from TOML text, forks one child per node and only reads pipes. Each child
// redirects its stdout/stderr to a log file, runs its body (Node::create,
// start, a workload or custom code), writes a ChildReport back through its
// pipe and _exit()s — it never returns into gtest. The parent collects with
// a hard wall-clock deadline and SIGKILLs whatever is left when it passes.
//
//   ProcessCluster pc;
//   auto cfg = make_config(ClusterSpec{.nodes = 3});
//   for (NodeId n = 0; n < 3; ++n) pc.launch(*cfg, n, workload_body({}));
//   pc.wait_all(15s);
//   EXPECT_OK(pc.outcome(0).status()) << pc.summary();
//
// Bodies may send notes ("ready", "gone:2") that the parent waits for with
// wait_note(), e.g. to SIGKILL a node once the cluster is up.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "remora/cluster/config.h"
#include "remora/common/status.h"
#include "remora/node/node.h"
#include "remora/node/workloads.h"

namespace remora::testing {

// A cluster on 127.0.0.1, one control port per node from a base port.
struct ClusterSpec {
  uint32_t nodes = 3;
  uint32_t threads = 1;
  std::string tls = "shm,self";
  std::string cluster_id = "harness";
  uint32_t connect_timeout_ms = 10000;
  uint32_t peer_timeout_ms = 2000;
  std::string region_size = "4MiB";
  std::string ring_size = "64KiB";
};

// `count` consecutive loopback ports that are free right now, distinct for
// every call in this process and unlikely to collide with other processes
// (the search starts at 20000 + pid-based slot and stays below 32768).
uint16_t reserve_ports(uint32_t count);
std::string cluster_toml(const ClusterSpec& spec, uint16_t base_port);
// parse_config(cluster_toml(spec, base_port)); base_port 0 reserves ports.
Result<Config> make_config(const ClusterSpec& spec, uint16_t base_port = 0);

// What a child body hands back to the parent.
struct ChildReport {
  Code code = Code::kOk;
  std::string message;
  std::string json;
  static ChildReport from(const Status& st, std::string json = {});
};

// Given to a body in the child. note() is safe from any thread.
class ChildContext {
 public:
  explicit ChildContext(int fd) : fd_(fd) {}
  void note(std::string_view text) const;

 private:
  int fd_;
};

using ChildBody = std::function<ChildReport(const Config& cfg, NodeId id, ChildContext& ctx)>;

struct Note {
  std::string text;
  std::chrono::steady_clock::time_point at;  // when the parent received it
};

struct ChildOutcome {
  NodeId id = kInvalidNode;
  bool reported = false;   // a full report arrived
  bool exited = false;     // reaped
  bool killed = false;     // the harness sent SIGKILL (kill() or a deadline)
  bool timed_out = false;  // still running at wait_all's deadline
  int wait_status = 0;
  ChildReport report;
  std::vector<Note> notes;
  std::chrono::steady_clock::time_point launched, finished;
  std::string log;  // the child's stdout + stderr, read once it exited

  // The body's status, or kInternal/kTimeout if the child never reported.
  Status status() const;
  double elapsed_s() const;
  bool has_note(std::string_view text) const;
  const Note* find_note(std::string_view text) const;
  // One paragraph for failure messages, with the tail of the log.
  std::string describe() const;
};

class ProcessCluster {
 public:
  ProcessCluster();
  ProcessCluster(const ProcessCluster&) = delete;
  ProcessCluster& operator=(const ProcessCluster&) = delete;
  // SIGKILLs and reaps children still running. With REMORA_TEST_VERBOSE set
  // in the environment, prints summary() to stderr first.
  ~ProcessCluster();

  // Forks the child of node `id`; it sleeps `delay`, then runs `body`.
  void launch(const Config& cfg, NodeId id, ChildBody body,
              std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // True once node `id` sent a note equal to `text`; false if the child
  // exited first or `timeout` passed.
  bool wait_note(NodeId id, std::string_view text, std::chrono::milliseconds timeout);
  void kill(NodeId id, int sig);
  // Waits for every child to exit, `timeout` in total, then SIGKILLs the
  // stragglers (marked timed_out) and reaps them.
  void wait_all(std::chrono::milliseconds timeout);

  const ChildOutcome& outcome(NodeId id) const;
  std::string summary() const;  // describe() of every child

 private:
  struct Child;
  void pump(std::chrono::steady_clock::time_point until);
  void read_from(Child& c);
  void reap(Child& c, bool block);
  void settle(Child& c);
  std::vector<int> open_fds() const;

  std::map<NodeId, std::unique_ptr<Child>> children_;
};

// Node::create + start, with context naming the step that failed.
Result<std::unique_ptr<Node>> start_node(const Config& cfg, NodeId id);
// create, start, note("started"), run_workload, leave; the report carries
// the workload's status and JSON line.
ChildBody workload_body(WorkloadOptions opts);

}  // namespace remora::testing
