#include <fmt/format.h>

#include "node/workload_util.h"
#include "remora/common/json.h"

namespace remora {
namespace {

std::string head(Node& node, const WorkloadOptions& o, const Status& st) {
  return fmt::format("{{\"node\":{},\"workload\":{},\"ok\":{},\"transport\":{},\"threads\":{},\"peers\":{}",
                     node.id(), json_string(o.name), st.ok() ? "true" : "false",
                     json_string(node.fabric().name()), node.threads(), node.peers().size());
}

std::string tail(const Status& st, uint64_t t0) {
  std::string s = fmt::format(",\"elapsed_s\":{:.3f}", static_cast<double>(now_ns() - t0) / 1e9);
  if (!st.ok()) s += ",\"error\":" + json_string(st.to_string());
  return s + "}";
}

WorkloadResult check(Node& node, const WorkloadOptions& o, uint64_t t0) {
  Status st = check_layout_fits(node);
  std::vector<CheckCounters> per(node.threads());
  if (st.ok()) {
    fill_home_area(node);
    st = node.run([&](Engine& e) { return run_check(node, e, o, per[e.index()]); });
  }
  CheckCounters sum;
  for (const auto& c : per) sum.add(c);
  return {st, head(node, o, st) + "," + sum.json_fields() + tail(st, t0)};
}

WorkloadResult fabric(Node& node, const WorkloadOptions& o, uint64_t t0) {
  std::vector<FabricSamples> per(node.threads());
  Status st = node.run([&](Engine& e) { return run_fabric(node, e, o, per[e.index()]); });
  std::string ops;
  for (int k = 0; k < 4; ++k) {
    LatencyRecorder all;
    double secs = 0;
    for (auto& s : per) all.merge(s.op[k]), secs = std::max(secs, s.seconds[k]);
    ops += fmt::format("{}\"{}\":{{{}}}", k ? "," : "", op_name(static_cast<Op>(k)),
                       all.summarize(secs).json_fields());
  }
  return {st, head(node, o, st) + fmt::format(",\"size\":{},\"ops\":{{{}}}", o.size, ops) + tail(st, t0)};
}

WorkloadResult serve(Node& node, const WorkloadOptions& o, uint64_t t0) {
  Status st = node.run([&](Engine& e) {
    return e.run_until([&] { return (o.stop && o.stop->load()) || node.live_peers() == 0; },
                       std::chrono::hours(24 * 365), std::chrono::milliseconds(50));
  });
  return {st, head(node, o, st) + tail(st, t0)};
}

}  // namespace

std::string CheckCounters::json_fields() const {
  return fmt::format(
      "\"read_bytes\":{},\"write_bytes\":{},\"refusals\":{},\"atomics\":{},\"cas_retries\":{},"
      "\"rpc_calls\":{},\"ring_records\":{},\"ring_full\":{}",
      read_bytes, write_bytes, refusals, atomics, cas_retries, rpc_calls, ring_records, ring_full);
}

WorkloadResult run_workload(Node& node, const WorkloadOptions& o) {
  const uint64_t t0 = now_ns();
  if (o.name == "check") return check(node, o, t0);
  if (o.name == "fabric") return fabric(node, o, t0);
  if (o.name == "serve") return serve(node, o, t0);
  Status st = Status::InvalidArgument("unknown workload \"" + o.name + "\" (check, fabric, serve)");
  return {st, head(node, o, st) + tail(st, t0)};
}

}  // namespace remora
