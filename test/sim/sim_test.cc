// Deterministic simulation campaigns (docs/simulation.md): every workload
// for as many seeds as fit in the time budget, and a determinism check.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "sim/sim_campaign.h"

namespace remora::sim {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Per workload: a share of REMORA_SIM_SECONDS (default 40 s in all; the
// sanitizer tree, ~10x slower, gets a smaller budget and minimum).
double budget() { return sim_seconds_from_env(kSanitized ? 30.0 : 36.0) / 3; }
uint64_t min_seeds() { return kSanitized ? 20 : 200; }

void campaign(const std::string& workload) {
  spdlog::set_level(spdlog::level::err);
  CampaignOptions o;
  o.first_seed = 1;
  o.min_seeds = min_seeds();
  o.seconds = budget();
  CampaignResult r = run_campaign(workload, o);
  std::printf("%s\n", r.summary().c_str());
  EXPECT_GE(r.seeds, o.min_seeds);
  EXPECT_TRUE(r.failures.empty()) << r.summary();
}

TEST(SimTest, Bank) { campaign("bank"); }
TEST(SimTest, Hash) { campaign("hash"); }
TEST(SimTest, Mix) { campaign("mix"); }

TEST(SimTest, SameSeedSameTrace) {
  spdlog::set_level(spdlog::level::err);
  for (const std::string& w : workload_names())
    for (uint64_t seed : {7ull, 1234ull, 99999ull}) {
      const SeedReport a = run_seed(w, seed, {});
      const SeedReport b = run_seed(w, seed, {});
      EXPECT_EQ(a.trace_hash, b.trace_hash) << w << " seed " << seed << ": " << a.repro();
      EXPECT_EQ(a.sim.steps, b.sim.steps) << w << " seed " << seed;
      EXPECT_EQ(a.commits, b.commits) << w << " seed " << seed;
    }
}

TEST(SimTest, SeedsDiffer) {
  spdlog::set_level(spdlog::level::err);
  EXPECT_NE(run_seed("bank", 1, {}).trace_hash, run_seed("bank", 2, {}).trace_hash);
}

}  // namespace
}  // namespace remora::sim
