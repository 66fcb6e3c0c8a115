// bank: SmallBank on a Remora cluster.
//
//   bank --config configs/local-3.toml            every node of the config as
//                                                 a process on this machine
//   bank --config cluster.toml --id 2             only node 2 (multi-host)
//
// Prints a human summary on stderr and JSON lines on stdout (one per node,
// then a "cluster" line in the first form). Exit 1 if a node failed, the
// money invariant broke or a replica differs from its primary.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>

#include "bank_node.h"
#include "cli/launcher.h"

namespace remora::bank {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

struct Args {
  std::string config;
  int id = -1;
  uint32_t threads = 0;
  double duration_s = 10;
  std::string history;
  NodeRunOptions run;
};

std::vector<std::string> child_args(const Args& a, NodeId id) {
  std::vector<std::string> v = {self_exe(), "--config", a.config, "--id", std::to_string(id),
                                "--accounts", std::to_string(a.run.bank.accounts), "--hot",
                                std::to_string(a.run.bank.hot), "--coroutines", std::to_string(a.run.coroutines),
                                "--duration", fmt::format("{}", a.duration_s), "--seed",
                                std::to_string(a.run.bank.seed), "--max-txns", std::to_string(a.run.bank.max_txns)};
  if (a.threads) v.insert(v.end(), {"--threads", std::to_string(a.threads)});
  if (!a.history.empty()) v.insert(v.end(), {"--history", a.history});
  return v;
}

double hist_percentile(const std::map<int, uint64_t>& h, uint64_t total, double q) {
  uint64_t seen = 0;
  for (auto [b, n] : h) {
    seen += n;
    if (static_cast<double>(seen) >= q * static_cast<double>(total)) return std::exp2((b + 0.5) / 8.0) / 1000.0;
  }
  return 0;
}

std::string node_line(const nlohmann::json& j) {
  const auto& l = j["latency"];
  return fmt::format("node {}: {:.0f} tx/s committed ({} in {:.1f} s), abort rate {:.1f}%, latency p50 {:.1f} us "
                     "p99 {:.1f} us p999 {:.1f} us; transfer p50 {:.1f} us; baselines p50: 64 B read {:.2f} us, "
                     "message round trip {:.2f} us",
                     j["node"].get<int>(), j["tx_per_s"].get<double>(), j["committed"].get<uint64_t>(),
                     j["seconds"].get<double>(), 100 * j["abort_rate"].get<double>(), l["p50_us"].get<double>(),
                     l["p99_us"].get<double>(), l["p999_us"].get<double>(),
                     j["send_payment"]["p50_us"].get<double>(), j["fabric_read_64b"]["p50_us"].get<double>(),
                     j["message_rtt_64b"]["p50_us"].get<double>());
}

// Sums the nodes' results into one "cluster" object; false if any check failed.
bool summarize(const std::vector<nlohmann::json>& nodes, nlohmann::json* out) {
  bool ok = true;
  double tps = 0;
  uint64_t attempts = 0, committed = 0;
  std::map<std::string, uint64_t> aborts;
  std::map<int, uint64_t> hist;
  uint64_t lat_total = 0;
  for (const auto& j : nodes) {
    tps += j["tx_per_s"].get<double>();
    attempts += j["attempts"].get<uint64_t>();
    committed += j["committed"].get<uint64_t>();
    for (auto& [k, v] : j["aborts"].items()) aborts[k] += v.get<uint64_t>();
    for (const auto& b : j["latency"]["hist"]) {
      hist[b[0].get<int>()] += b[1].get<uint64_t>();
      lat_total += b[1].get<uint64_t>();
    }
    if (j.contains("invariant")) {
      (*out)["invariant"] = j["invariant"];
      ok &= j["invariant"]["ok"].get<bool>();
    }
    if (j.contains("replicas") && j["replicas"] != "equal") ok = false;
  }
  uint64_t conflicts = 0;
  for (auto& [k, v] : aborts)
    if (k != "application") conflicts += v;
  (*out)["cluster"] = true;
  (*out)["nodes"] = nodes.size();
  (*out)["tx_per_s"] = tps;
  (*out)["committed"] = committed;
  (*out)["attempts"] = attempts;
  (*out)["aborts"] = aborts;
  (*out)["abort_rate"] = attempts ? static_cast<double>(conflicts) / static_cast<double>(attempts) : 0;
  (*out)["latency_p50_us"] = hist_percentile(hist, lat_total, 0.5);
  (*out)["latency_p99_us"] = hist_percentile(hist, lat_total, 0.99);
  (*out)["latency_p999_us"] = hist_percentile(hist, lat_total, 0.999);
  (*out)["ok"] = ok;
  return ok;
}

int run_all(const Args& a, const Config& cfg) {
  Launcher l;
  for (const NodeConfig& n : cfg.nodes) {
    Status st = l.spawn_args(n.id, child_args(a, n.id));
    if (!st.ok()) {
      spdlog::error("starting node {}: {}", n.id, st.to_string());
      return 1;
    }
  }
  std::vector<nlohmann::json> results;
  const auto t0 = std::chrono::steady_clock::now();
  const double limit = a.duration_s * 3 + 180 + cfg.connect_timeout_ms / 1000.0;
  auto last = t0;
  auto on_json = [&](const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return;
    // The histograms are for merging here; the printed line stays readable.
    nlohmann::json shown = j;
    for (const char* k : {"latency", "send_payment", "fabric_read_64b", "message_rtt_64b"})
      if (shown.contains(k)) shown[k].erase("hist");
    fmt::print("{}\n", shown.dump());
    std::fflush(stdout);  // whole lines: stdout and stderr may share a pipe
    fmt::print(stderr, "[bank] {}\n", node_line(j));
    results.push_back(std::move(j));
  };
  while (!l.pump(std::chrono::milliseconds(200), on_json)) {
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (g_stop.load() || el > limit) {
      fmt::print(stderr, "[bank] {}; stopping the cluster\n", g_stop.load() ? "interrupted" : "timed out");
      break;
    }
    if (std::chrono::steady_clock::now() - last > std::chrono::seconds(5)) {
      last = std::chrono::steady_clock::now();
      fmt::print(stderr, "[bank] {:.0f} s: {}/{} nodes finished\n", el, results.size(), cfg.nodes.size());
    }
  }
  l.terminate(std::chrono::milliseconds(5000));
  bool ok = results.size() == cfg.nodes.size();
  for (const auto& c : l.children())
    if (c.exit_code != 0) {
      fmt::print(stderr, "[bank] node {} exited with {}\n", c.id, c.exit_code);
      ok = false;
    }
  if (results.empty()) return 1;
  nlohmann::json sum;
  ok &= summarize(results, &sum);
  fmt::print("{}\n", sum.dump());
  std::fflush(stdout);
  fmt::print(stderr, "[bank] cluster: {:.0f} tx/s committed, abort rate {:.1f}%, latency p50 {:.1f} us p99 {:.1f} us "
                     "p999 {:.1f} us (merged histogram)\n",
             sum["tx_per_s"].get<double>(), 100 * sum["abort_rate"].get<double>(), sum["latency_p50_us"].get<double>(),
             sum["latency_p99_us"].get<double>(), sum["latency_p999_us"].get<double>());
  if (sum.contains("invariant"))
    fmt::print(stderr, "[bank] money: expected {} actual {} -> {}\n", sum["invariant"]["expected"].dump(),
               sum["invariant"]["actual"].dump(), sum["invariant"]["ok"].get<bool>() ? "ok" : "BROKEN");
  fmt::print(stderr, "[bank] {}\n", ok ? "all checks passed" : "FAILED");
  return ok ? 0 : 1;
}

int run_one(const Args& a, const Config& cfg) {
  auto j = run_node(cfg, static_cast<NodeId>(a.id), a.run);
  if (!j.ok()) {
    spdlog::error("node {}: {}", a.id, j.status().to_string());
    return 1;
  }
  fmt::print("{}\n", j->dump());
  std::fflush(stdout);
  bool ok = !j->contains("replicas") || (*j)["replicas"] == "equal";
  if (j->contains("invariant")) ok &= (*j)["invariant"]["ok"].get<bool>();
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace remora::bank

int main(int argc, char** argv) {
  using namespace remora;
  using namespace remora::bank;
  Args a;
  CLI::App app{"SmallBank on Remora: every node of a local config, or one node with --id"};
  app.add_option("--config", a.config, "cluster TOML")->required()->check(CLI::ExistingFile);
  app.add_option("--id", a.id, "run only this node (multi-host clusters)");
  app.add_option("--accounts", a.run.bank.accounts, "accounts per node")->check(CLI::Range(1u, 10000000u));
  app.add_option("--hot", a.run.bank.hot, "hot accounts cluster-wide (90% of accesses); 0 = uniform");
  app.add_option("--threads", a.threads, "engine threads per node (default: the config's)")->check(CLI::Range(1u, 64u));
  app.add_option("--coroutines", a.run.coroutines, "coroutines per thread")->check(CLI::Range(1u, 4096u));
  app.add_option("--duration", a.duration_s, "seconds of load")->check(CLI::Range(0.0, 86400.0));
  app.add_option("--seed", a.run.bank.seed, "random seed");
  app.add_option("--max-txns", a.run.bank.max_txns, "stop each coroutine after this many (0: duration only)");
  app.add_option("--history", a.history, "write every node's transaction history (JSON lines) here");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto cfg = load_config(a.config);
  if (!cfg.ok()) {
    fmt::print(stderr, "bank: {}\n", cfg.status().to_string());
    return 2;
  }
  if (a.threads) cfg->threads = a.threads;
  a.run.bank.duration = std::chrono::nanoseconds(static_cast<int64_t>(a.duration_s * 1e9));
  a.run.history_dir = a.history;
  a.run.stop = &g_stop;
  if (a.id < 0) return run_all(a, *cfg);
  if (!cfg->node(static_cast<NodeId>(a.id))) {
    fmt::print(stderr, "bank: node {} is not in {}\n", a.id, a.config);
    return 2;
  }
  return run_one(a, *cfg);
}
