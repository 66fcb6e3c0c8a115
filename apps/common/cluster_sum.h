// A per-node counter that node 0 sums over the cluster at check time (the
// bank's net money, TATP's forwarding inserts - deletes, KV's writes): each
// node serves its value under an app RPC method; sum_counter() adds this
// node's value to every other node's answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "remora/common/status.h"
#include "remora/runtime/context.h"

namespace remora {
class Engine;
}

namespace remora::app {

// Registers `method` on `e` (call on one engine per node, e.g. index 0):
// answers with value() as 8 bytes.
Status serve_counter(Engine& e, uint16_t method, std::function<int64_t()> value);

// local + the answers of every other node of `nodes` to `method`.
// kCorrupt for a malformed answer; the call's error otherwise.
Result<int64_t> sum_counter(Context& ctx, const std::vector<NodeId>& nodes, uint16_t method, int64_t local,
                            std::chrono::nanoseconds timeout = std::chrono::seconds(10));

}  // namespace remora::app
