// remora_sim: runs deterministic simulation seeds (docs/simulation.md).
//
//   remora_sim --workload bank --seed 12345 -v      # replay one seed
//   remora_sim --workload all --seeds 1000 --first-seed 1
//   remora_sim --workload mix --seconds 600 --json  # a campaign
//
// Exit status 1 if any seed failed (they are listed), 0 otherwise.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "sim/sim_campaign.h"

using namespace remora::sim;

int main(int argc, char** argv) {
  CLI::App app{"Deterministic simulation of a Remora cluster"};
  std::string workload = "all";
  uint64_t seed = 0, seeds = 0, first_seed = 1;
  double seconds = 0;
  bool json = false, verbose = false, strict = false, twice = false;
  app.add_option("--workload", workload, "bank, hash, mix or all")->check(CLI::IsMember({"bank", "hash", "mix", "all"}));
  auto* one = app.add_option("--seed", seed, "run this one seed");
  app.add_option("--seeds", seeds, "seeds per workload (default 100, or unlimited with --seconds)")->excludes(one);
  app.add_option("--first-seed", first_seed, "first seed of a campaign")->excludes(one);
  app.add_option("--seconds", seconds, "stop each workload's campaign after this long")->excludes(one);
  app.add_flag("--json", json, "JSON lines instead of the human summary");
  app.add_flag("-v,--verbose", verbose, "per-seed details");
  app.add_flag("--strict", strict, "fail seeds on known-bug checks too");
  app.add_flag("--twice", twice, "run every seed twice and compare trace hashes");
  CLI11_PARSE(app, argc, argv);
  // Coordinators log refused one-way records as warnings; under injected
  // faults these are expected noise.
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::err);

  std::vector<std::string> names = workload == "all" ? workload_names() : std::vector<std::string>{workload};
  CampaignOptions opts;
  opts.sim.verbose = verbose && !json;
  opts.sim.tolerate_known_bugs = !strict && std::getenv("REMORA_SIM_STRICT") == nullptr;
  if (*one) {
    opts.first_seed = seed;
    opts.min_seeds = opts.max_seeds = 1;
  } else {
    opts.first_seed = first_seed;
    opts.seconds = seconds;
    opts.max_seeds = seeds > 0 ? seeds : (seconds > 0 ? UINT64_MAX : 100);
    opts.min_seeds = seeds > 0 ? seeds : 1;
    if (seconds > 0 && seeds > 0) opts.min_seeds = 1;
  }
  bool failed = false;
  std::vector<std::string> nondeterministic;
  for (const std::string& w : names) {
    uint64_t done = 0;
    opts.on_seed = [&](const SeedReport& r) {
      ++done;
      if (json) fmt::print("{}\n", r.json_line());
      if (twice) {
        SeedReport again = run_seed(r.workload, r.seed, SimOptions{false, opts.sim.tolerate_known_bugs});
        if (again.trace_hash != r.trace_hash)
          nondeterministic.push_back(fmt::format("{} seed {}: {:016x} then {:016x}", r.workload, r.seed,
                                                 r.trace_hash, again.trace_hash));
      }
      if (!json && !verbose && done % 100 == 0) fmt::print(stderr, "  {}: {} seeds...\n", w, done);
      std::fflush(stdout);
    };
    CampaignResult res = run_campaign(w, opts);
    failed |= !res.failures.empty();
    if (json)
      fmt::print("{}\n", res.json_line());
    else
      fmt::print("{}\n", res.summary());
  }
  for (const std::string& n : nondeterministic) fmt::print("NOT DETERMINISTIC: {}\n", n);
  return failed || !nondeterministic.empty() ? 1 : 0;
}
