// remora — run a node, a local cluster, inspect the machine, benchmark.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"

namespace remora::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

void add_workload_flags(CLI::App* c, WorkloadArgs* w) {
  c->add_option("--workload,-w", w->workload, "check | fabric | serve")
      ->check(CLI::IsMember({"check", "fabric", "serve"}))
      ->capture_default_str();
  c->add_option("--duration", w->duration_s, "fabric: seconds over all four operations")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  c->add_option("--size", w->size, "fabric: bytes per read/write")->check(CLI::Range(1u, 1u << 21))
      ->capture_default_str();
  c->add_option("--rounds", w->rounds, "check: atomics and ring records per peer and thread")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("remora");
  logger->set_pattern("%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

const std::atomic<bool>& stop_flag() { return g_stop; }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace remora::cli

int main(int argc, char** argv) {
  using namespace remora::cli;
  CLI::App app{"Remora: transactions over remote memory (one-sided RDMA / UCX)"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace | debug | info | warn | error | off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  NodeArgs node;
  auto* c_node = app.add_subcommand("node", "run one node of a cluster");
  c_node->add_option("--config,-c", node.config, "cluster config (TOML)")->required();
  c_node->add_option("--id", node.id, "this node's id in the config")->required();
  add_workload_flags(c_node, &node.work);

  UpArgs up;
  auto* c_up = app.add_subcommand("up", "start every node of a local config as processes");
  c_up->add_option("--config,-c", up.config, "cluster config (TOML)")->required();
  add_workload_flags(c_up, &up.work);
  c_up->add_flag("--json", up.json, "also print every node's result as a JSON line");
  c_up->add_option("--timeout", up.timeout_s, "give up after this many seconds (0: derived)")
      ->check(CLI::Range(0.0, 86400.0));

  InfoArgs info;
  auto* c_info = app.add_subcommand("info", "UCX transports, RDMA devices, the parsed config");
  c_info->add_option("--config,-c", info.config, "cluster config (TOML) to validate and show");
  c_info->add_flag("--json", info.json, "print JSON lines instead of text");

  BenchArgs bench;
  auto* c_bench = app.add_subcommand("bench", "benchmarks")->require_subcommand(1);
  auto* c_bf = c_bench->add_subcommand("fabric", "one-sided operation latency, node 0 -> peer");
  c_bf->add_option("--config,-c", bench.config, "cluster config (TOML)")->required();
  c_bf->add_option("--op", bench.ops, "read, write, cas, faa (comma list)")
      ->delimiter(',')
      ->check(CLI::IsMember({"read", "write", "cas", "faa"}));
  c_bf->add_option("--size", bench.size, "bytes per read/write (cas/faa: 8)")
      ->check(CLI::Range(1u, 1u << 21));
  c_bf->add_option("--iters", bench.iters, "measured operations per op")->check(CLI::Range(1, 100000000));
  c_bf->add_option("--warmup", bench.warmup, "unmeasured operations first")->check(CLI::Range(0, 10000000));
  c_bf->add_option("--peer", bench.peer, "target node (default: lowest other node)");
  c_bf->add_option("--batch", bench.batch, "operations per timed batch (per-op = batch time / batch)")
      ->check(CLI::Range(1u, 1000000u));
  c_bf->add_option("--inflight", bench.inflight, "operations posted at once (then all polled back)")
      ->check(CLI::Range(1u, 1024u));
  c_bf->add_flag("--json", bench.json, "print JSON lines instead of a table");

  CLI11_PARSE(app, argc, argv);
  setup_logging(log_level);
  install_stop_handlers();
  if (c_node->parsed()) return cmd_node(node);
  if (c_up->parsed()) return cmd_up(up);
  if (c_info->parsed()) return cmd_info(info);
  if (c_bf->parsed()) return cmd_bench_fabric(bench);
  return 2;
}
