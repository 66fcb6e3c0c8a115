// Child bodies for the multi-process runtime suite (support/cluster_harness.h).
#pragma once

#include <chrono>
#include <cstdint>

#include "support/cluster_harness.h"

namespace remora::testing {

inline constexpr uint16_t kEchoMethod = 21;

// Every engine thread of every node runs `coroutines` coroutines through
// Node::run_workers; each, `rounds` times: FAA on one word of the first
// node, a patterned write of its own 256 B block on the next node (round
// robin over all nodes, itself included) read back and compared, and an
// echo RPC to that node checked byte for byte. Barriers before and after.
// JSON: {"node", "faa_old":[...], "faa_final", "checked_bytes", "rpc_ok",
// "peak_live":[per thread]}.
ChildBody coroutine_traffic_body(uint32_t coroutines, uint32_t rounds);

// A pipe made by the parent before it forks the children, so that one child
// can release others (one byte per waiter) with no timing assumption. The
// parent keeps it open for the test's duration.
class ChildGate {
 public:
  ChildGate();
  ~ChildGate();
  ChildGate(const ChildGate&) = delete;
  ChildGate& operator=(const ChildGate&) = delete;
  // In a child: lets `waiters` calls of wait() through.
  Status open(uint32_t waiters) const;
  // In a child: blocks until open() let this call through; kTimeout after
  // `timeout`.
  Status wait(std::chrono::milliseconds timeout) const;

 private:
  int fds_[2] = {-1, -1};
};

// Survivors (every node but `victim`) run `coroutines` coroutines per
// thread: even ones make one echo call to the victim (timeout `call_timeout`),
// odd ones read from it in a loop until an error; they note "waiting" once
// every one of them is suspended in its wait. The victim opens `gate` and
// notes "ready" once it has stopped polling after the warm-up (survivors
// start only then, so no call is ever answered), then waits to be killed.
// Survivor JSON: {"ended":{"<code>":n,...}, "coroutines", "max_ms" (from
// "waiting" to the last coroutine's end)}; status OK iff every coroutine
// ended with kPeerGone. `gate` must outlive the children.
ChildBody peer_gone_body(NodeId victim, uint32_t coroutines,
                         std::chrono::milliseconds call_timeout, const ChildGate& gate);

// One node: run_workers with an invalid option, with an fn that throws, with
// a coroutine that fails on one thread only, and a clean run. JSON:
// {"bad_option", "throwing_fn", "one_failed", "one_failed_msg", "clean",
// "ran"} (codes by name; "ran": coroutines that ran in the clean run).
ChildBody run_workers_errors_body(uint32_t coroutines);

}  // namespace remora::testing
