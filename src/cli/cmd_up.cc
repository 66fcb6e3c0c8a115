// remora up: every node of a local config as a child process; waits for
// their results, prints a summary, stops them on Ctrl-C or timeout.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/launcher.h"
#include "cli/up_summary.h"
#include "remora/cluster/config.h"

namespace remora::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Seconds after which `up` gives up; 0 = run until stopped (serve).
double derived_timeout(const Config& cfg, const WorkloadArgs& w) {
  const double connect = cfg.connect_timeout_ms / 1000.0;
  if (w.workload == "serve") return 0;
  if (w.workload == "fabric") return connect + w.duration_s * 2 + 60;
  return connect + 120 + w.rounds * cfg.nodes.size() * 0.01;
}

struct Run {
  std::vector<nlohmann::json> results;
  bool stopped = false;
  bool timed_out = false;
};

void wait_for_nodes(Launcher& l, size_t n, double timeout_s, Run* run) {
  const auto t0 = Clock::now();
  auto last_progress = t0;
  auto on_json = [&](const std::string& line) {
    run->results.push_back(parse_result(line));
    fmt::print(stderr, "[up] {}\n", result_line(run->results.back()));
  };
  while (!l.pump(std::chrono::milliseconds(200), on_json)) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    if (stop_flag().load()) {
      fmt::print(stderr, "[up] stopping the cluster (signal)\n");
      run->stopped = true;
      break;
    }
    if (timeout_s > 0 && elapsed > timeout_s) {
      fmt::print(stderr, "[up] timed out after {:.0f} s; stopping the cluster\n", elapsed);
      run->timed_out = true;
      break;
    }
    if (Clock::now() - last_progress > std::chrono::seconds(5)) {
      last_progress = Clock::now();
      fmt::print(stderr, "[up] {:.0f} s: {}/{} nodes finished\n", elapsed, run->results.size(), n);
    }
  }
  l.terminate(std::chrono::milliseconds(5000));
  l.pump(std::chrono::milliseconds(0), on_json);
}

bool all_ok(const Launcher& l, const Run& run, size_t n) {
  if (run.timed_out || run.results.size() != n) return false;
  for (const auto& r : run.results)
    if (!r.value("ok", false)) return false;
  for (const auto& c : l.children())
    if (c.exit_code != 0) return false;
  return true;
}

}  // namespace

int cmd_up(const UpArgs& a) {
  auto cfg = load_config(a.config);
  if (!cfg.ok()) {
    fmt::print(stderr, "remora up: {}\n", cfg.status().to_string());
    return 2;
  }
  Launcher l;
  for (const NodeConfig& nc : cfg->nodes) {
    if (Status st = l.spawn(nc.id, a.config, a.work.as_flags()); !st.ok()) {
      fmt::print(stderr, "remora up: cannot start node {}: {}\n", nc.id, st.to_string());
      return 1;
    }
  }
  const size_t n = cfg->nodes.size();
  const double timeout = a.timeout_s > 0 ? a.timeout_s : derived_timeout(*cfg, a.work);
  fmt::print(stderr, "[up] started {} nodes of {} (cluster \"{}\", transport {}{}), workload {}{}\n", n,
             cfg->source, cfg->cluster_id, cfg->transport, cfg->ucx_tls.empty() ? "" : " tls=" + cfg->ucx_tls,
             a.work.workload, a.work.workload == "serve" ? "; Ctrl-C stops it" : "");
  Run run;
  wait_for_nodes(l, n, timeout, &run);
  fmt::print("\n{}", summary_table(run.results));
  for (const auto& c : l.children())
    if (c.exit_code != 0 && !run.stopped)
      fmt::print("node {}: process exit status {}\n", c.id, c.exit_code);
  if (a.json)
    for (const auto& r : run.results) fmt::print("{}\n", r.dump());
  const bool ok = all_ok(l, run, n) || (run.stopped && a.work.workload == "serve");
  fmt::print("{}: {} of {} nodes reported ok\n", ok ? "OK" : "FAILED",
             std::count_if(run.results.begin(), run.results.end(),
                           [](const auto& r) { return r.value("ok", false); }),
             n);
  return ok ? 0 : 1;
}

}  // namespace remora::cli
