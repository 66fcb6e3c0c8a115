// redis_bank: SmallBank on Redis (WATCH/MULTI/EXEC), the comparator for
// apps/bank at equal client concurrency. See bench/redis_smallbank.h for the
// transactions and docs/benchmarks.md for how it is run.
//
//   redis_bank --port 6400 --load-only                 load 3 x 100000 accounts
//   redis_bank --port 6400 --clients 16 --duration 5 --check
//
// One JSON line on stdout (fields as the bank's cluster line where they make
// sense), a human summary on stderr. Exit 1 on a connection or server error,
// an interrupt, or a broken money invariant; 2 on bad arguments.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "redis_smallbank.h"
#include "remora/common/latency.h"

namespace remora::redis {
namespace {

using namespace std::chrono_literals;
constexpr auto kConnectTimeout = 2s;
constexpr auto kReplyTimeout = 10s;

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

struct Args {
  std::string host = "127.0.0.1";
  int port = 6379;
  uint32_t clients = 1;
  uint64_t accounts_per_node = 100000;
  uint32_t nodes = 3;
  double duration_s = 10;
  uint64_t seed = 1;
  bool load = false, load_only = false, check = false;
  WorkloadOptions w;
};

nlohmann::json load_avg() {
  std::ifstream f("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  f >> a >> b >> c;
  return {a, b, c};
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%FT%TZ", &tm);
  return buf;
}

// "7.0.15" from INFO server, "?" if absent.
Result<std::string> server_version(RedisClient& c) {
  auto r = c.command({"INFO", "server"});
  if (!r.ok()) return r.status();
  const std::string info((*r)->str ? (*r)->str : "", (*r)->str ? (*r)->len : 0);
  const std::string key = "redis_version:";
  const size_t at = info.find(key);
  if (at == std::string::npos) return std::string("?");
  return info.substr(at + key.size(), info.find_first_of("\r\n", at) - at - key.size());
}

Result<std::vector<std::unique_ptr<RedisClient>>> connect_all(const Args& a) {
  std::vector<std::unique_ptr<RedisClient>> v;
  for (uint32_t i = 0; i < a.clients; ++i) {
    auto c = RedisClient::connect(a.host, a.port, kConnectTimeout, kReplyTimeout);
    if (!c.ok()) return c.status().with_context(fmt::format("client {}", i));
    v.push_back(std::move(*c));
  }
  return v;
}

// Runs every client on its own thread; the first error stops the others.
Status run_clients(const Args& a, ClientStats* all, double* seconds) {
  auto clients = connect_all(a);
  if (!clients.ok()) return clients.status();
  std::vector<ClientStats> stats(a.clients);
  std::vector<Status> errors(a.clients);
  std::vector<std::thread> threads;
  const uint64_t t0 = now_ns();
  for (uint32_t i = 0; i < a.clients; ++i) {
    threads.emplace_back([&, i] {
      errors[i] = run_client(*(*clients)[i], a.w, a.seed * 1000003 + i, g_stop, stats[i]);
      if (!errors[i].ok()) g_stop.store(true);
    });
  }
  for (std::thread& t : threads) t.join();
  *seconds = static_cast<double>(now_ns() - t0) / 1e9;
  for (uint32_t i = 0; i < a.clients; ++i) {
    if (!errors[i].ok()) return errors[i].with_context(fmt::format("client {}", i));
    all->merge(stats[i]);
  }
  if (g_stop.load()) return Status::Aborted("interrupted");
  return Status::OK();
}

nlohmann::json report(const Args& a, const ClientStats& s, double seconds) {
  nlohmann::json j;
  j["system"] = "redis";
  j["clients"] = a.clients;
  j["nodes"] = a.nodes;
  j["accounts"] = a.w.accounts;
  j["hot"] = a.w.hot;
  j["hot_fraction"] = a.w.hot_fraction;
  j["seconds"] = seconds;
  j["committed"] = s.total();
  j["tx_per_s"] = seconds > 0 ? static_cast<double>(s.total()) / seconds : 0;
  j["attempts"] = s.attempts;
  // As the bank: "application" (insufficient funds) is an attempt but not
  // a conflict; abort_rate counts the conflicts (nil EXEC replies).
  j["aborts"] = {{"watch", s.aborts}, {"application", s.insufficient}};
  j["abort_rate"] = s.attempts ? static_cast<double>(s.aborts) / static_cast<double>(s.attempts) : 0;
  nlohmann::json by, types;
  for (int k = 0; k < kTxTypes; ++k) {
    by[tx_type_name(static_cast<TxType>(k))] = s.types[k].count();
    types[tx_type_name(static_cast<TxType>(k))] = s.types[k].json();
  }
  j["by_type"] = by;
  j["insufficient_funds"] = s.insufficient;
  j["gave_up"] = s.gave_up;
  j["latency"] = s.latency.json();
  j["latency_p50_us"] = s.latency.percentile_us(0.5);
  j["latency_p99_us"] = s.latency.percentile_us(0.99);
  j["latency_p999_us"] = s.latency.percentile_us(0.999);
  j["types"] = types;
  j["send_payment"] = s.types[static_cast<size_t>(TxType::kSendPayment)].json(false);
  j["net"] = s.net;
  j["load_avg"] = load_avg();
  j["utc"] = utc_now();
  return j;
}

// The money check around the run: the sum before plus the clients' net
// must be the sum after.
nlohmann::json invariant(int64_t before, int64_t net, int64_t after) {
  return {{"initial", before}, {"net", net}, {"expected", before + net}, {"actual", after},
          {"ok", before + net == after}};
}

Status load(const Args& a, RedisClient& c) {
  REMORA_RETURN_IF_ERROR(load_accounts(c, a.w.accounts));
  auto sum = total_balance(c, a.w.accounts);
  if (!sum.ok()) return sum.status();
  const int64_t want = static_cast<int64_t>(a.w.accounts) * 2 * kInitialBalance;
  if (*sum != want) return Status::Corrupt(fmt::format("after loading, the balances sum to {}, not {}", *sum, want));
  return Status::OK();
}

// The human summary of report()'s JSON, on stderr.
void print_summary(const Args& a, const nlohmann::json& j) {
  const auto& l = j["latency"];
  fmt::print(stderr,
             "[redis_bank] {} clients: {:.0f} tx/s committed ({} in {:.1f} s), abort rate {:.1f}%, latency p50 "
             "{:.1f} us p99 {:.1f} us p999 {:.1f} us; transfer p50 {:.1f} us (Redis {}, load {})\n",
             a.clients, j["tx_per_s"].get<double>(), j["committed"].get<uint64_t>(), j["seconds"].get<double>(),
             100 * j["abort_rate"].get<double>(), l["p50_us"].get<double>(), l["p99_us"].get<double>(),
             l["p999_us"].get<double>(), j["send_payment"]["p50_us"].get<double>(),
             j["redis_version"].get<std::string>(), j["load_avg"].dump());
  if (j.contains("invariant"))
    fmt::print(stderr, "[redis_bank] money: expected {} actual {} -> {}\n", j["invariant"]["expected"].dump(),
               j["invariant"]["actual"].dump(), j["invariant"]["ok"].get<bool>() ? "ok" : "BROKEN");
}

int fail(const Status& st) {
  fmt::print(stderr, "redis_bank: {}\n", st.to_string());
  return 1;
}

int run(const Args& a) {
  auto control = RedisClient::connect(a.host, a.port, kConnectTimeout, kReplyTimeout);
  if (!control.ok()) return fail(control.status());
  RedisClient& c = **control;
  auto version = server_version(c);
  Status st = version.status();
  if (st.ok() && a.load) st = load(a, c);
  if (!st.ok()) return fail(st);
  if (a.load_only) return 0;
  auto before = a.check ? total_balance(c, a.w.accounts) : Result<int64_t>(int64_t{0});
  if (!before.ok()) return fail(before.status());
  ClientStats s;
  double seconds = 0;
  st = run_clients(a, &s, &seconds);
  if (!st.ok()) return fail(st);
  nlohmann::json j = report(a, s, seconds);
  j["redis_version"] = *version;
  bool ok = true;
  if (a.check) {
    auto after = total_balance(c, a.w.accounts);
    if (!after.ok()) return fail(after.status());
    j["invariant"] = invariant(*before, s.net, *after);
    ok = j["invariant"]["ok"].get<bool>();
  }
  j["ok"] = ok;
  fmt::print("{}\n", j.dump());
  std::fflush(stdout);
  print_summary(a, j);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace remora::redis

int main(int argc, char** argv) {
  using namespace remora::redis;
  Args a;
  CLI::App app{"SmallBank on Redis with WATCH/MULTI/EXEC: the comparator for the bank app"};
  app.add_option("--host", a.host, "Redis server address; loopback only");
  app.add_option("--port", a.port, "Redis server port")->check(CLI::Range(1, 65535));
  app.add_option("--clients", a.clients, "client threads, one connection each")->check(CLI::Range(1u, 1024u));
  app.add_option("--accounts", a.accounts_per_node, "accounts per bank node")->check(CLI::Range(1u, 10000000u));
  app.add_option("--nodes", a.nodes, "bank nodes matched: accounts in all = accounts * nodes")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--hot", a.w.hot, "hot accounts (first ones), taking --hot-fraction of accesses; 0 = uniform");
  app.add_option("--hot-fraction", a.w.hot_fraction, "share of accesses to the hot set")->check(CLI::Range(0.0, 1.0));
  app.add_option("--duration", a.duration_s, "seconds of load")->check(CLI::Range(0.0, 86400.0));
  app.add_option("--max-txns", a.w.max_txns, "stop each client after this many (0: duration only)");
  app.add_option("--seed", a.seed, "random seed");
  app.add_flag("--load", a.load, "first set every account's balances to 10000 (pipelined)");
  app.add_flag("--load-only", a.load_only, "load, check the sum, and exit (no run, no JSON)");
  app.add_flag("--check", a.check, "money check: balances before + net == after");
  CLI11_PARSE(app, argc, argv);
  auto host = loopback_host(a.host);
  if (!host.ok()) {
    fmt::print(stderr, "redis_bank: {}\n", host.status().message());
    return 2;
  }
  a.host = *host;
  a.load |= a.load_only;
  a.w.accounts = a.accounts_per_node * a.nodes;
  if (a.w.accounts < 2) {
    fmt::print(stderr, "redis_bank: SmallBank needs at least 2 accounts\n");
    return 2;
  }
  a.w.duration = std::chrono::nanoseconds(static_cast<int64_t>(a.duration_s * 1e9));
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a dead server must be an error reply from write(), not a kill
  return run(a);
}
