// Child bodies of the multi-process transaction suite.
#pragma once

#include <string>

#include "bank_node.h"
#include "support/cluster_harness.h"

namespace remora::testing {

// bank::run_node; the report's JSON is the node's result.
ChildBody bank_body(bank::NodeRunOptions opts);

// Every coroutine repeatedly picks a random pointer row of any node, frees
// the object it points to (checking its content) and allocates a new one on
// its own node. Reports counts and the first inconsistency.
ChildBody alloc_free_body(uint32_t coroutines, uint32_t rounds);

// One writer per node rewrites its 256-byte object (every word = a counter)
// while every coroutine lock-free-reads all objects. Reports reads, torn
// payloads seen (must be 0) and version regressions (must be 0).
ChildBody lockfree_body(uint32_t readers, uint32_t rounds);

}  // namespace remora::testing
