// The "fabric" workload: for each of read, write, cas and faa in turn, one
// operation at a time round-robin over every peer, for a quarter of the
// duration each; every sample is one operation's latency.
#include <fmt/format.h>

#include "node/workload_util.h"

namespace remora {
namespace {

constexpr uint32_t kTarget = 8 << 20;  // offset of this workload's area in data region 0

Status one_op(Engine& e, Op op, NodeId peer, GAddr at, std::byte* buf, uint32_t size) {
  switch (op) {
    case Op::kRead: return e.read(peer, at, buf, size);
    case Op::kWrite: return e.write(peer, at, buf, size);
    case Op::kCas: return e.cas(peer, at, 0, 0).status();
    case Op::kFaa: return e.faa(peer, at, 1).status();
  }
  return Status::Internal("bad op");
}

}  // namespace

Status run_fabric(Node& node, Engine& e, const WorkloadOptions& o, FabricSamples& s) {
  const auto peers = node.peers();
  if (peers.empty()) return Status::InvalidArgument("the fabric workload needs at least 2 nodes");
  if (o.size == 0 || o.size > e.scratch().size() / 2)
    return Status::InvalidArgument(fmt::format("--size must be in [1, {}]", e.scratch().size() / 2));
  const uint32_t slot = kTarget + (node.id() * node.threads() + e.index()) * 4096u;
  if (slot + std::max(o.size, 4096u) > node.config().region_size)
    return Status::InvalidArgument("region_size too small for the fabric workload");
  std::byte* buf = e.scratch().data() + 64;
  const uint64_t per_op_ns = static_cast<uint64_t>(o.duration_s * 1e9 / 4);
  for (int k = 0; k < 4; ++k) {
    const Op op = static_cast<Op>(k);
    const uint32_t size = (op == Op::kCas || op == Op::kFaa) ? 8 : o.size;
    REMORA_RETURN_IF_ERROR(node.barrier(e, kBarrierTimeout));
    const uint64_t start = now_ns();
    size_t i = 0;
    for (uint64_t t = start; t - start < per_op_ns; ++i) {
      if (o.stop && o.stop->load(std::memory_order_relaxed)) break;
      const NodeId peer = peers[i % peers.size()];
      REMORA_RETURN_IF_ERROR(one_op(e, op, peer, Node::data_addr(peer, 0, slot), buf, size)
                                 .with_context(fmt::format("{} on node {}", op_name(op), peer)));
      const uint64_t end = now_ns();
      s.op[k].add(end - t);
      t = end;
    }
    s.seconds[k] = static_cast<double>(now_ns() - start) / 1e9;
  }
  return node.barrier(e, kBarrierTimeout);
}

}  // namespace remora
