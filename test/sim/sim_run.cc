// run_seed(): one seed of one workload, from cluster to verdict.
#include <fmt/format.h>

#include <chrono>
#include <map>

#include "histcheck/checker.h"
#include "remora/txn/object.h"
#include "sim/sim_workload.h"

namespace remora::sim {
namespace {

constexpr uint64_t kRunLimitNs = 20'000'000'000;   // virtual; a healthy run needs < 1 s
constexpr uint64_t kFlushLimitNs = 2'000'000'000;

// The checks whose failures come from bugs known and being fixed in src/txn
// (see docs/simulation.md, "Known bugs"); tolerated unless strict.
bool known_bug(const std::string& check, const std::string& message) {
  // None open. Fixed on main since the simulator found them (examples of
  // entries): backup-log entries of aborted transactions ("logs",
  // "backup-log"); stale freed bytes on backups ("replicas", "stale bytes
  // only where the primary is zero"; 993cec0, then its padding, 2ddf1c5).
  (void)check, (void)message;
  return false;
}

// Samples the version word of every fixed object: it must never decrease.
class VersionSampler {
 public:
  VersionSampler(SimCluster& c, std::vector<GAddr> objects) : c_(c), objects_(std::move(objects)) {
    last_.resize(objects_.size(), 0);
  }
  void sample() {
    for (size_t i = 0; i < objects_.size(); ++i) {
      const GAddr a = objects_[i];
      const std::byte* p = c_.store(c_.store(0).map().primary(a.region())).local_object(a, obj::kHeaderSize);
      if (!p) continue;
      const uint64_t v = obj::version(obj::load_word(p));
      if (v < last_[i] && error_.empty())
        error_ = fmt::format("version of {} went from {} down to {}", a.to_string(), last_[i], v);
      last_[i] = std::max(last_[i], v);
    }
    ++samples_;
  }
  const std::string& error() const { return error_; }

 private:
  SimCluster& c_;
  std::vector<GAddr> objects_;
  std::vector<uint64_t> last_;
  uint64_t samples_ = 0;
  std::string error_;
};

uint64_t name_salt(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char ch : s) h = (h ^ static_cast<uint8_t>(ch)) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::string SeedReport::repro() const {
  return fmt::format("build/test/sim/remora_sim --workload {} --seed {} -v", workload, seed);
}

std::string SeedReport::json_line() const {
  std::string known_list;
  // Check names only: the messages span lines (see summary()).
  for (const std::string& k : known)
    known_list += fmt::format("{}\"{}\"", known_list.empty() ? "" : ",", k.substr(0, k.find(':')));
  return fmt::format(
      "{{\"workload\":\"{}\",\"seed\":{},\"ok\":{},\"check\":\"{}\",\"trace\":\"{:016x}\","
      "\"commits\":{},\"attempts\":{},\"unknown\":{},\"gave_up\":{},\"faults\":{},\"steps\":{},"
      "\"virtual_ms\":{:.3f},\"wall_ms\":{:.1f},\"known\":[{}]}}",
      workload, seed, ok, failed_check, trace_hash, commits, attempts, ops.unknown, ops.gave_up,
      sim.faults(), sim.steps, virtual_ns / 1e6, wall_s * 1e3, known_list);
}

std::string SeedReport::summary() const {
  std::string s = fmt::format(
      "{} seed {}: {} trace {:016x}, {} commits / {} attempts, {} unknown, {} faults "
      "(delay {}, timeout {}, full ring {}, lock {}), {} steps, {:.1f} virtual ms, {:.1f} ms",
      workload, seed, ok ? "ok" : "FAILED (" + failed_check + ")", trace_hash, commits, attempts,
      ops.unknown, sim.faults(), sim.faults_delay, sim.faults_timeout, sim.faults_ring_full,
      sim.faults_lock, sim.steps, virtual_ns / 1e6, wall_s * 1e3);
  if (!ok) s += "\n  " + message + "\n  repro: " + repro();
  for (const std::string& k : known) s += "\n  known bug (tolerated): " + k;
  return s;
}

SeedReport run_seed(const std::string& workload, uint64_t seed, const SimOptions& opts) {
  // Wall time is measured for the report only; nothing below depends on it.
  const auto wall0 = std::chrono::steady_clock::now();
  SeedReport r;
  r.workload = workload;
  r.seed = seed;
  auto fail = [&](const std::string& check, const Status& st) {
    if (opts.tolerate_known_bugs && known_bug(check, st.message())) {
      r.known.push_back(check + ": " + st.to_string());
      return;
    }
    if (!r.ok) return;  // keep the first failure
    r.ok = false;
    r.failed_check = check;
    r.message = st.to_string();
  };
  SimRng rng(seed ^ name_salt(workload));
  SimClusterSpec spec;
  spec.nodes = static_cast<uint32_t>(rng.range(3, 4));
  spec.backups = static_cast<uint32_t>(rng.range(1, 2));
  const FaultPlan plan = FaultPlan::draw(rng, spec.rpc_timeout_ns);
  Simulator sim(rng.next(), plan, spec.rpc_timeout_ns);
  auto wl = make_workload(workload);
  if (!wl) {
    fail("setup", Status::InvalidArgument("unknown workload " + workload));
    return r;
  }
  auto c = SimCluster::create(spec, sim, seed);
  if (!c.ok()) {
    fail("setup", c.status());
    return r;
  }
  SimCluster& cl = **c;
  Status st = wl->load(cl, rng);
  if (st.ok()) st = cl.push_replicas();
  if (!st.ok()) {
    fail("setup", st);
    return r;
  }
  if (opts.verbose)
    fmt::print("{} seed {}: {} nodes, {} backups, faults: {}\n", workload, seed, spec.nodes,
               spec.backups, plan.to_string());
  VersionSampler versions(cl, wl->fixed_objects());
  sim.set_sampler([&] { versions.sample(); }, 97);
  cl.attach();
  wl->start(cl, rng);
  st = cl.run(kRunLimitNs);
  if (!st.ok()) fail("run", st);
  sim.quiesce();
  if (r.ok) {
    st = cl.flush(kFlushLimitNs);
    if (!st.ok()) fail("flush", st);
  }
  if (r.ok) {
    st = wl->check(cl);
    if (!st.ok()) fail("invariant", st);
  }
  versions.sample();
  cl.detach();
  if (r.ok) {
    // With the load records of every table, the checker is strict: an
    // object's initial version is the one it was loaded at.
    History hist{cl.history(), {}};
    for (NodeId n = 0; n < cl.size(); ++n)
      for (const Table& t : cl.store(n).tables())
        hist.loads.push_back({t.base.raw(), t.rows, t.stride, Store::kLoadVersion});
    auto h = histcheck::check_history(hist);
    if (!h.ok())
      fail("history", h.status());
    else if (!h->ok())
      fail("history", Status::Corrupt(h->summary()));
    st = cl.check_replicas();
    if (!st.ok()) fail("replicas", st);
    st = cl.check_logs_empty();
    if (!st.ok()) fail("logs", st);
    if (!versions.error().empty()) fail("versions", Status::Corrupt(versions.error()));
  }
  for (NodeId n = 0; n < cl.size(); ++n) {
    r.attempts += cl.txn(n).stats().attempts;
    r.commits += cl.txn(n).stats().commits;
  }
  r.ops = wl->ops();
  r.sim = sim.counters();
  r.virtual_ns = sim.now_ns() - Simulator::kStartNs;
  TraceHash h;
  h.add(sim.trace().value());
  h.add(cl.memory_hash());
  r.trace_hash = h.value();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (opts.verbose) fmt::print("{}\n", r.summary());
  return r;
}

void SimWorkload::count(const Status& st, std::initializer_list<Code> app) {
  if (st.ok()) {
    ++ops_.committed;
    return;
  }
  for (Code c : app)
    if (st.code() == c) {
      ++ops_.refused;
      return;
    }
  if (st.code() == Code::kConflict)
    ++ops_.gave_up;
  else
    ++ops_.unknown;
}

void SimWorkload::spawn_clients(SimCluster& c, SimRng& rng, uint64_t max_clients, ClientBody body) {
  auto shared = std::make_shared<ClientBody>(std::move(body));
  for (NodeId n = 0; n < c.size(); ++n) {
    const uint64_t clients = rng.range(1, max_clients);
    for (uint64_t k = 0; k < clients; ++k) {
      auto r = std::make_shared<SimRng>(rng.fork());
      const uint64_t ops = rng.range(5, 25);
      c.worker(n).spawn([shared, n, k, r, ops](Context& ctx) { return (*shared)(n, k, ctx, *r, ops); });
    }
  }
}

std::unique_ptr<SimWorkload> make_workload(const std::string& name) {
  if (name == "bank") return make_bank();
  if (name == "hash") return make_hash();
  if (name == "mix") return make_mix();
  return nullptr;
}

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names{"bank", "hash", "mix"};
  return names;
}

}  // namespace remora::sim
