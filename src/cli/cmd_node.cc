// remora node: one node of a cluster; prints one JSON result line on stdout.
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "remora/cluster/config.h"
#include "remora/common/json.h"
#include "remora/node/node.h"
#include "remora/node/workloads.h"

namespace remora::cli {
namespace {

// The result line of a node that never got to run its workload.
void print_failure(NodeId id, const std::string& workload, const Status& st) {
  fmt::print("{{\"node\":{},\"workload\":{},\"ok\":false,\"error\":{}}}\n", id, json_string(workload),
             json_string(st.to_string()));
  std::fflush(stdout);
}

}  // namespace

std::vector<std::string> WorkloadArgs::as_flags() const {
  return {"--workload", workload, "--duration", fmt::format("{}", duration_s),
          "--size", std::to_string(size), "--rounds", std::to_string(rounds)};
}

int cmd_node(const NodeArgs& a) {
  auto cfg = load_config(a.config);
  if (!cfg.ok()) {
    spdlog::error("{}", cfg.status().to_string());
    print_failure(a.id, a.work.workload, cfg.status());
    return 2;
  }
  auto node = Node::create(*cfg, a.id);
  if (!node.ok()) {
    spdlog::error("node {}: {}", a.id, node.status().to_string());
    print_failure(a.id, a.work.workload, node.status());
    return 2;
  }
  if (Status st = (*node)->start(); !st.ok()) {
    spdlog::error("node {}: start: {}", a.id, st.to_string());
    print_failure(a.id, a.work.workload, st);
    return 1;
  }
  spdlog::info("node {} ready: {} peers over {}, workload {}", a.id, (*node)->peers().size(),
               (*node)->fabric().name(), a.work.workload);
  WorkloadOptions o;
  o.name = a.work.workload;
  o.duration_s = a.work.duration_s;
  o.size = a.work.size;
  o.rounds = a.work.rounds;
  o.stop = &stop_flag();
  WorkloadResult r = run_workload(**node, o);
  (*node)->leave();
  if (!r.status.ok()) spdlog::error("node {}: {}", a.id, r.status.to_string());
  fmt::print("{}\n", r.json);
  std::fflush(stdout);
  return r.status.ok() ? 0 : 1;
}

}  // namespace remora::cli
