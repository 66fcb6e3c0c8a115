#include "sim/sim_campaign.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace remora::sim {

CampaignResult run_campaign(const std::string& workload, const CampaignOptions& opts) {
  CampaignResult out;
  out.workload = workload;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  for (uint64_t i = 0; i < opts.max_seeds; ++i) {
    if (i >= opts.min_seeds && opts.seconds > 0 && elapsed() >= opts.seconds) break;
    SeedReport r = run_seed(workload, opts.first_seed + i, opts.sim);
    ++out.seeds;
    out.commits += r.commits;
    out.attempts += r.attempts;
    out.faults += r.sim.faults();
    out.unknown += r.ops.unknown;
    out.steps += r.sim.steps;
    out.slowest_s = std::max(out.slowest_s, r.wall_s);
    if (!r.known.empty()) ++out.known;
    if (r.ok)
      ++out.clean;
    else
      out.failures.push_back(r);
    if (opts.on_seed) opts.on_seed(r);
  }
  out.wall_s = elapsed();
  return out;
}

std::string CampaignResult::summary() const {
  std::string s = fmt::format(
      "{}: {} seeds ({} clean, {} failed, {} with known bugs tolerated) in {:.1f} s = {:.1f} seeds/s "
      "(slowest {:.0f} ms); {} simulated commits of {} attempts, {} unknown outcomes, {} faults, {} steps",
      workload, seeds, clean, failures.size(), known, wall_s, wall_s > 0 ? seeds / wall_s : 0.0,
      slowest_s * 1e3, commits, attempts, unknown, faults, steps);
  for (const SeedReport& f : failures)
    s += fmt::format("\n  seed {} failed {}: {}\n    repro: {}", f.seed, f.failed_check, f.message, f.repro());
  return s;
}

std::string CampaignResult::json_line() const {
  std::string failed;
  for (const SeedReport& f : failures) failed += fmt::format("{}{}", failed.empty() ? "" : ",", f.seed);
  return fmt::format(
      "{{\"workload\":\"{}\",\"seeds\":{},\"clean\":{},\"known\":{},\"failed\":[{}],\"commits\":{},"
      "\"attempts\":{},\"faults\":{},\"wall_s\":{:.3f},\"seeds_per_s\":{:.2f}}}",
      workload, seeds, clean, known, failed, commits, attempts, faults, wall_s, wall_s > 0 ? seeds / wall_s : 0.0);
}

double sim_seconds_from_env(double fallback) {
  const char* v = std::getenv("REMORA_SIM_SECONDS");
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  return end != v && d >= 0 ? d : fallback;
}

}  // namespace remora::sim
