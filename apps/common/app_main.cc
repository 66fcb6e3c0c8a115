#include "app_main.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <map>

#include "cli/launcher.h"

namespace remora::app {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

const char* const kLatencyKeys[] = {"latency", "fabric_read_64b", "message_rtt_64b"};

std::string node_line(const nlohmann::json& j) {
  const auto& l = j["latency"];
  std::string types;
  for (auto& [k, v] : j["types"].items())
    if (v["count"].get<uint64_t>() > 0) types += fmt::format(" {} {:.1f}", k, v["p50_us"].get<double>());
  return fmt::format("node {}: {:.0f} ops/s committed ({} in {:.1f} s), abort rate {:.1f}%, latency p50 {:.1f} us "
                     "p99 {:.1f} us p999 {:.1f} us; p50 by type (us):{}; baselines p50: 64 B read {:.2f} us, "
                     "message round trip {:.2f} us",
                     j["node"].get<int>(), j["tx_per_s"].get<double>(), j["committed"].get<uint64_t>(),
                     j["seconds"].get<double>(), 100 * j["abort_rate"].get<double>(), l["p50_us"].get<double>(),
                     l["p99_us"].get<double>(), l["p999_us"].get<double>(), types,
                     j["fabric_read_64b"]["p50_us"].get<double>(), j["message_rtt_64b"]["p50_us"].get<double>());
}

nlohmann::json without_buckets(nlohmann::json j) {
  for (const char* k : kLatencyKeys)
    if (j.contains(k)) j[k].erase("hist");
  if (j.contains("types"))
    for (auto& [k, v] : j["types"].items()) v.erase("hist");
  return j;
}

std::vector<std::string> child_args(int argc, char** argv, NodeId id) {
  std::vector<std::string> v = {self_exe()};
  for (int i = 1; i < argc; ++i) v.emplace_back(argv[i]);
  v.insert(v.end(), {"--id", std::to_string(id)});
  return v;
}

void print_summary(const Workload& w, const nlohmann::json& sum, bool ok) {
  const std::string app = w.name();
  fmt::print(stderr, "[{}] cluster: {:.0f} ops/s committed, abort rate {:.1f}%, latency p50 {:.1f} us p99 {:.1f} us "
                     "p999 {:.1f} us (merged histogram)\n",
             app, sum["tx_per_s"].get<double>(), 100 * sum["abort_rate"].get<double>(),
             sum["latency_p50_us"].get<double>(), sum["latency_p99_us"].get<double>(),
             sum["latency_p999_us"].get<double>());
  if (sum.contains("invariant"))
    fmt::print(stderr, "[{}] {}\n", app, w.describe_check(sum["invariant"]));
  fmt::print(stderr, "[{}] {}\n", app, ok ? "all checks passed" : "FAILED");
}

int run_all(int argc, char** argv, const CommonArgs& a, const Config& cfg, const Workload& w) {
  const std::string app = w.name();
  Launcher l;
  for (const NodeConfig& n : cfg.nodes) {
    Status st = l.spawn_args(n.id, child_args(argc, argv, n.id));
    if (!st.ok()) {
      spdlog::error("starting node {}: {}", n.id, st.to_string());
      return 1;
    }
  }
  std::vector<nlohmann::json> results;
  const auto t0 = std::chrono::steady_clock::now();
  const double limit = a.duration_s * 3 + 600 + cfg.connect_timeout_ms / 1000.0;
  auto last = t0;
  auto on_json = [&](const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("node")) return;
    // The histograms are for merging here; the printed line stays readable.
    fmt::print("{}\n", without_buckets(j).dump());
    std::fflush(stdout);  // whole lines: stdout and stderr may share a pipe
    fmt::print(stderr, "[{}] {}\n", app, node_line(j));
    results.push_back(std::move(j));
  };
  while (!l.pump(std::chrono::milliseconds(200), on_json)) {
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (g_stop.load() || el > limit) {
      fmt::print(stderr, "[{}] {}; stopping the cluster\n", app, g_stop.load() ? "interrupted" : "timed out");
      break;
    }
    if (std::chrono::steady_clock::now() - last > std::chrono::seconds(5)) {
      last = std::chrono::steady_clock::now();
      fmt::print(stderr, "[{}] {:.0f} s: {}/{} nodes finished\n", app, el, results.size(), cfg.nodes.size());
    }
  }
  l.terminate(std::chrono::milliseconds(5000));
  bool ok = results.size() == cfg.nodes.size();
  for (const auto& c : l.children())
    if (c.exit_code != 0) {
      fmt::print(stderr, "[{}] node {} exited with {}\n", app, c.id, c.exit_code);
      ok = false;
    }
  if (results.empty()) return 1;
  nlohmann::json sum;
  ok &= summarize(results, &sum);
  sum["ok"] = ok;
  fmt::print("{}\n", sum.dump());
  std::fflush(stdout);
  print_summary(w, sum, ok);
  return ok ? 0 : 1;
}

int run_one(const CommonArgs& a, const Config& cfg, Workload& w) {
  auto j = run_node(cfg, static_cast<NodeId>(a.id), w, a.run);
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

// Raises region_size to what the workload needs (same on every node: each
// derives it from the same flags).
Status fit_regions(const Workload& w, Config& cfg) {
  constexpr uint64_t kMiB = 1 << 20, kMax = 2ull << 30;
  const uint64_t want = (w.region_size_hint() + kMiB - 1) / kMiB * kMiB;
  if (want <= cfg.region_size) return Status::OK();
  if (want > kMax)
    return Status::InvalidArgument(fmt::format("the data set needs {} MiB of region per node, more than the 2 GiB "
                                               "limit: use fewer rows or more regions", want / kMiB));
  spdlog::info("region_size raised from {} to {} MiB for this data set", cfg.region_size / kMiB, want / kMiB);
  cfg.region_size = want;
  return Status::OK();
}

}  // namespace

std::string Workload::describe_check(const nlohmann::json& inv) const {
  std::string s = "invariant:";
  for (auto& [k, v] : inv.items())
    if (k != "ok") s += fmt::format(" {}={}", k, v.dump());
  return s + (inv.value("ok", false) ? " -> ok" : " -> BROKEN");
}

void add_common_options(CLI::App& app, CommonArgs& a) {
  app.add_option("--config", a.config, "cluster TOML")->required()->check(CLI::ExistingFile);
  app.add_option("--id", a.id, "run only this node (multi-host clusters)");
  app.add_option("--threads", a.threads, "engine threads per node (default: the config's)")->check(CLI::Range(1u, 64u));
  app.add_option("--coroutines", a.run.coroutines, "coroutines per thread")->check(CLI::Range(1u, 4096u));
  app.add_option("--duration", a.duration_s, "seconds of load")->check(CLI::Range(0.0, 86400.0));
  app.add_option("--seed", a.run.seed, "random seed");
  app.add_option("--max-txns", a.run.max_ops, "stop each coroutine after this many (0: duration only)");
  app.add_option("--history", a.history, "write every node's transaction history (JSON lines) here");
  app.add_option("--busy-spin-us", a.busy_spin_us, "workers spin this long while answers are due, then nap")
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--nap-us", a.nap_us, "length of one nap while answers are due, on transports without wake-ups")
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--yield-us", a.yield_us, "then poll with sched_yield this long before sleeping")
      ->check(CLI::Range(0.0, 1e6));
  app.add_flag("--no-wakeups", a.no_wakeups, "no doorbells: idle workers nap (--nap-us) instead (for comparisons)");
  app.add_option("--max-block-us", a.max_block_us, "longest sleep of an idle worker that peers can wake")
      ->check(CLI::Range(1.0, 1e7));
}

bool summarize(const std::vector<nlohmann::json>& nodes, nlohmann::json* out) {
  bool ok = true;
  double tps = 0;
  uint64_t attempts = 0, committed = 0, gave_up = 0;
  std::map<std::string, uint64_t> aborts;
  Histogram all;
  std::map<std::string, Histogram> types;
  for (const auto& j : nodes) {
    tps += j["tx_per_s"].get<double>();
    attempts += j["attempts"].get<uint64_t>();
    committed += j["committed"].get<uint64_t>();
    gave_up += j.value("gave_up", uint64_t{0});
    for (auto& [k, v] : j["aborts"].items()) aborts[k] += v.get<uint64_t>();
    ok &= all.merge_json(j["latency"]);
    for (auto& [k, v] : j["types"].items()) ok &= types[k].merge_json(v);
    if (j.contains("invariant")) {
      (*out)["invariant"] = j["invariant"];
      ok &= j["invariant"].value("ok", false);
    }
    if (j.contains("replicas") && j["replicas"] != "equal") ok = false;
  }
  uint64_t conflicts = 0;
  for (auto& [k, v] : aborts)
    if (k != "application") conflicts += v;
  const nlohmann::json& first = nodes.front();
  (*out)["cluster"] = true;
  for (const char* k : {"app", "transport", "threads", "coroutines"})
    if (first.contains(k)) (*out)[k] = first[k];
  (*out)["nodes"] = nodes.size();
  (*out)["tx_per_s"] = tps;
  (*out)["committed"] = committed;
  (*out)["attempts"] = attempts;
  (*out)["gave_up"] = gave_up;
  (*out)["aborts"] = aborts;
  (*out)["abort_rate"] = attempts ? static_cast<double>(conflicts) / static_cast<double>(attempts) : 0;
  (*out)["latency_p50_us"] = all.percentile_us(0.5);
  (*out)["latency_p99_us"] = all.percentile_us(0.99);
  (*out)["latency_p999_us"] = all.percentile_us(0.999);
  (*out)["latency"] = all.json();
  nlohmann::json t = nlohmann::json::object();
  for (auto& [k, h] : types) t[k] = h.json();
  (*out)["types"] = t;
  for (const char* k : {"fabric_read_64b", "message_rtt_64b"})
    if (first.contains(k)) {
      (*out)[k] = first[k];
      (*out)[k].erase("hist");
    }
  return ok;
}

int run_app(int argc, char** argv, CommonArgs& a, Workload& w) {
  spdlog::set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto cfg = load_config(a.config);
  if (!cfg.ok()) {
    fmt::print(stderr, "{}: {}\n", w.name(), cfg.status().to_string());
    return 2;
  }
  if (a.threads) cfg->threads = a.threads;
  if (Status st = fit_regions(w, *cfg); !st.ok()) {
    fmt::print(stderr, "{}: {}\n", w.name(), st.to_string());
    return 2;
  }
  a.run.duration = std::chrono::nanoseconds(static_cast<int64_t>(a.duration_s * 1e9));
  a.run.history_dir = a.history;
  a.run.stop = &g_stop;
  auto us = [](double v) { return std::chrono::nanoseconds(static_cast<int64_t>(v * 1e3)); };
  // An explicit idle policy replaces the one chosen for the host.
  // --no-wakeups is the runtime as it was before wake-ups: no adaptation.
  a.run.adapt_to_host = a.busy_spin_us < 0 && a.yield_us < 0 && !a.no_wakeups;
  if (a.busy_spin_us >= 0) a.run.busy_spin = us(a.busy_spin_us);
  if (a.nap_us >= 0) a.run.waiting_sleep = us(a.nap_us);
  if (a.max_block_us >= 0) a.run.max_block = us(a.max_block_us);
  a.run.wakeups = !a.no_wakeups;
  if (a.yield_us >= 0) a.run.yield_spin = us(a.yield_us);
  if (a.id < 0) return run_all(argc, argv, a, *cfg, w);
  if (!cfg->node(static_cast<NodeId>(a.id))) {
    fmt::print(stderr, "{}: node {} is not in {}\n", w.name(), a.id, a.config);
    return 2;
  }
  return run_one(a, *cfg, w);
}

}  // namespace remora::app
