// The apps' pure parts: histograms and the cluster summary (apps/common),
// the generators, TATP population and YCSB records. End-to-end runs of the
// apps are in test/scripts/apps_test.sh.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "app_main.h"
#include "histogram.h"
#include "rng.h"
#include "tatp.h"
#include "ycsb.h"

namespace remora {
namespace {

using app::Histogram;

TEST(Histogram, PercentilesWithinABucketOfTheTruth) {
  Histogram h;
  for (uint64_t ns = 1000; ns <= 100000; ns += 10) h.add(ns);  // uniform 1..100 µs
  EXPECT_EQ(h.count(), 9901u);
  EXPECT_NEAR(h.percentile_us(0.5), 50.5, 50.5 * 0.09);
  EXPECT_NEAR(h.percentile_us(0.99), 99.0, 99.0 * 0.09);
  EXPECT_NEAR(h.mean_us(), 50.5, 0.01);
  EXPECT_EQ(Histogram().percentile_us(0.5), 0);
}

TEST(Histogram, JsonRoundTripMergesAcrossNodes) {
  Histogram a, b;
  for (int i = 0; i < 100; ++i) a.add(2000);
  for (int i = 0; i < 300; ++i) b.add(64000);
  Histogram m;
  ASSERT_TRUE(m.merge_json(a.json()));
  ASSERT_TRUE(m.merge_json(b.json()));
  EXPECT_EQ(m.count(), 400u);
  EXPECT_NEAR(m.percentile_us(0.2), 2.0, 0.2);
  EXPECT_NEAR(m.percentile_us(0.9), 64.0, 6.0);
  Histogram direct = a;
  direct.merge(b);
  EXPECT_EQ(direct.percentile_us(0.9), m.percentile_us(0.9));
}

TEST(Histogram, MalformedJsonIsRefused) {
  Histogram h;
  EXPECT_FALSE(h.merge_json(nlohmann::json::parse(R"({"count":1})")));
  EXPECT_FALSE(h.merge_json(nlohmann::json::parse(R"({"hist":[[1]]})")));
  EXPECT_FALSE(h.merge_json(nlohmann::json::parse(R"({"hist":[["a",1]]})")));
  EXPECT_EQ(h.count(), 0u);
}

nlohmann::json node_json(int id, double tps, uint64_t attempts, uint64_t conflicts, bool replicas_equal) {
  Histogram h;
  for (int i = 0; i < 10; ++i) h.add(1000 * (id + 1));
  nlohmann::json j;
  j["app"] = "bank";
  j["node"] = id;
  j["tx_per_s"] = tps;
  j["attempts"] = attempts;
  j["committed"] = uint64_t{10};
  j["aborts"] = {{"lock_refused", conflicts}, {"application", uint64_t{5}}};
  j["latency"] = h.json();
  j["types"] = {{"x", h.json()}};
  j["replicas"] = replicas_equal ? "equal" : "differs";
  return j;
}

TEST(Summarize, SumsNodesAndMergesHistograms) {
  nlohmann::json out;
  EXPECT_TRUE(app::summarize({node_json(0, 100, 50, 5, true), node_json(1, 300, 50, 15, true)}, &out));
  EXPECT_EQ(out["tx_per_s"].get<double>(), 400);
  EXPECT_EQ(out["committed"].get<uint64_t>(), 20u);
  EXPECT_DOUBLE_EQ(out["abort_rate"].get<double>(), 0.2);  // application aborts do not count
  EXPECT_EQ(out["latency"]["count"].get<uint64_t>(), 20u);
  EXPECT_EQ(out["types"]["x"]["count"].get<uint64_t>(), 20u);
  EXPECT_EQ(out["app"], "bank");
}

TEST(Summarize, AFailedCheckOrReplicaFailsTheCluster) {
  nlohmann::json out;
  EXPECT_FALSE(app::summarize({node_json(0, 1, 1, 0, true), node_json(1, 1, 1, 0, false)}, &out));
  auto bad = node_json(0, 1, 1, 0, true);
  bad["invariant"] = {{"ok", false}};
  nlohmann::json out2;
  EXPECT_FALSE(app::summarize({bad}, &out2));
  EXPECT_FALSE(out2["invariant"]["ok"].get<bool>());
}

TEST(Generators, ZipfFavoursLowRanksAndStaysInRange) {
  app::Zipf z(10000, 0.99);
  app::Rng r(3);
  std::map<uint64_t, int> n;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t k = z.next(r);
    ASSERT_LT(k, 10000u);
    ++n[k];
  }
  EXPECT_GT(n[0], n[1]);
  EXPECT_GT(n[1], n[100]);
  EXPECT_GT(n[0], 200000 / 20);  // rank 0 alone takes > 5 % (uniform: 0.01 %)
  app::Rng a(9), b(9);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Ycsb, KeysAndRecordsRoundTrip) {
  const kv::Key k = kv::key_of(42);
  EXPECT_EQ(std::string(k.data(), k.size()), "user000000000042");
  std::vector<std::byte> v(100);
  kv::fill_record(42, 7, v);
  auto w = kv::check_record(42, v, 100);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(*w, 7u);
  EXPECT_EQ(kv::check_record(43, v, 100).status().code(), Code::kCorrupt);
  EXPECT_EQ(kv::check_record(42, v, 101).status().code(), Code::kCorrupt);
  v[60] ^= std::byte{1};
  EXPECT_EQ(kv::check_record(42, v, 100).status().code(), Code::kCorrupt);
}

TEST(Ycsb, OptionsAreValidatedAndRecordsFitInline) {
  kv::KvOptions o;
  EXPECT_TRUE(kv::validate(o).ok());
  o.workload = 'D';
  EXPECT_EQ(kv::validate(o).code(), Code::kInvalidArgument);
  o.workload = 'F';
  o.record_size = 8;
  EXPECT_EQ(kv::validate(o).code(), Code::kInvalidArgument);
  o.record_size = 1024;
  const HashTableOptions h = kv::table_options(o);
  EXPECT_GE(h.inline_bytes, kv::kKeySize + 1024);
  EXPECT_EQ(h.inline_bytes % 8, 0u);
  EXPECT_GE(uint64_t{h.buckets_per_node} * h.slots * o.load_factor, o.records);
}

TEST(Ycsb, ScrambledZipfSpreadsHotKeysButStaysSkewed) {
  kv::KvOptions o;
  kv::KeyChooser c(o, 30000);
  app::Rng r(1);
  std::map<uint64_t, int> n;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t id = c.next(r);
    ASSERT_LT(id, 30000u);
    ++n[id];
  }
  std::vector<int> counts;
  for (auto& [id, k] : n) counts.push_back(k);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_GT(counts[0], 100000 / 30000 * 50);  // the hottest record: far above uniform
  uint64_t low = 0;  // hot records are not just the first ids
  for (int i = 0; i < 10; ++i) low += static_cast<uint64_t>(n[static_cast<uint64_t>(i)]);
  EXPECT_LT(low, static_cast<uint64_t>(counts[0]) * 10);
}

TEST(Tatp, SubNbrRoundTrips) {
  for (uint64_t s : {0ull, 1ull, 42ull, 999999999999999ull}) EXPECT_EQ(tatp::s_id_of(tatp::sub_nbr(s)), s);
  const auto n = tatp::sub_nbr(123);
  EXPECT_EQ(std::string(n.data(), n.size()), "000000000000123");
}

TEST(Tatp, PopulationFollowsTheSpecAndIsDeterministic) {
  uint64_t ai = 0, sf = 0, cf = 0, active = 0;
  const uint64_t subs = 4000;
  for (uint64_t s = 0; s < subs; ++s) {
    const tatp::SubscriberRows r = tatp::generate(7, s);
    ASSERT_EQ(r.sub.s_id, s);
    ASSERT_GE(r.ai.size(), 1u);
    ASSERT_LE(r.ai.size(), 4u);
    ASSERT_GE(r.sf.size(), 1u);
    ASSERT_LE(r.sf.size(), 4u);
    std::set<uint8_t> types;
    for (const auto& a : r.ai) types.insert(a.type);
    EXPECT_EQ(types.size(), r.ai.size()) << "distinct ai_type";
    std::set<std::pair<uint8_t, uint8_t>> starts;
    for (const auto& c : r.cf) {
      EXPECT_TRUE(c.start == 0 || c.start == 8 || c.start == 16);
      EXPECT_GT(c.v.end_time, c.start);
      EXPECT_LE(c.v.end_time, c.start + 8);
      starts.insert({c.sf_type, c.start});
    }
    EXPECT_EQ(starts.size(), r.cf.size()) << "distinct (sf_type, start_time)";
    ai += r.ai.size();
    sf += r.sf.size();
    cf += r.cf.size();
    for (const auto& f : r.sf) active += f.v.is_active;
  }
  EXPECT_NEAR(static_cast<double>(ai) / subs, 2.5, 0.1);
  EXPECT_NEAR(static_cast<double>(sf) / subs, 2.5, 0.1);
  EXPECT_NEAR(static_cast<double>(cf) / sf, 1.5, 0.1);
  EXPECT_NEAR(static_cast<double>(active) / sf, 0.85, 0.03);
  const auto a = tatp::generate(7, 99), b = tatp::generate(7, 99);
  EXPECT_EQ(std::memcmp(&a.sub, &b.sub, sizeof a.sub), 0);
  EXPECT_EQ(a.cf.size(), b.cf.size());
}

TEST(Tatp, KeysOfDifferentRowsDiffer) {
  std::set<uint64_t> keys;
  for (uint64_t s = 0; s < 300; ++s)
    for (uint8_t t = 1; t <= 4; ++t)
      for (uint8_t st : {0, 8, 16}) EXPECT_TRUE(keys.insert(tatp::cf_key(s, t, st)).second);
  EXPECT_NE(tatp::ai_key(1, 2), tatp::ai_key(2, 1));
}

}  // namespace
}  // namespace remora
