// Campaigns: many seeds of one workload within a time budget.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/sim_workload.h"

namespace remora::sim {

struct CampaignOptions {
  uint64_t first_seed = 1;
  uint64_t min_seeds = 1;           // run at least this many ...
  uint64_t max_seeds = UINT64_MAX;  // ... and at most this many,
  double seconds = 0;               // stopping once this wall time passed (0: no limit)
  SimOptions sim;
  // Called after each seed (progress, JSON lines).
  std::function<void(const SeedReport&)> on_seed;
};

struct CampaignResult {
  std::string workload;
  uint64_t seeds = 0, clean = 0;
  uint64_t commits = 0, attempts = 0, faults = 0, unknown = 0, steps = 0;
  uint64_t known = 0;  // seeds with a tolerated known-bug check
  double wall_s = 0, slowest_s = 0;
  std::vector<SeedReport> failures;
  std::string summary() const;
  std::string json_line() const;
};

CampaignResult run_campaign(const std::string& workload, const CampaignOptions& opts);

// Seconds the test suite may spend: REMORA_SIM_SECONDS, else `fallback`.
double sim_seconds_from_env(double fallback);

}  // namespace remora::sim
