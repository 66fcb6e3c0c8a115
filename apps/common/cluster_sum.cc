#include "cluster_sum.h"

#include <fmt/format.h>

#include <cstring>

#include "remora/node/engine.h"

namespace remora::app {

Status serve_counter(Engine& e, uint16_t method, std::function<int64_t()> value) {
  return e.rpc().register_handler(
      method, [value = std::move(value)](NodeId, std::span<const std::byte>, std::vector<std::byte>& resp) {
        const int64_t v = value();
        resp.resize(sizeof v);
        std::memcpy(resp.data(), &v, sizeof v);
        return Status::OK();
      });
}

Result<int64_t> sum_counter(Context& ctx, const std::vector<NodeId>& nodes, uint16_t method, int64_t local,
                            std::chrono::nanoseconds timeout) {
  int64_t sum = local;
  for (NodeId n : nodes) {
    if (n == ctx.self()) continue;
    std::vector<std::byte> resp;
    REMORA_RETURN_IF_ERROR(ctx.call(n, method, {}, timeout, &resp));
    if (resp.size() != sizeof(int64_t))
      return Status::Corrupt(fmt::format("node {}: counter answer of {} B (method {})", n, resp.size(), method));
    int64_t v;
    std::memcpy(&v, resp.data(), sizeof v);
    sum += v;
  }
  return sum;
}

}  // namespace remora::app
