// Shared bits of the multi-process node tests: the transports they run on
// and JSON access to the children's reports.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "support/cluster_harness.h"

namespace remora::testing {

struct Transport {
  const char* name;  // test-name suffix
  const char* tls;   // [ucx] tls
};

inline void PrintTo(const Transport& t, std::ostream* os) { *os << t.name; }

// A cluster of `nodes` x `threads` over transport `t`, with a cluster id
// unique to the suite (`prefix`) and the transport.
inline ClusterSpec spec_for(const Transport& t, const std::string& prefix, uint32_t nodes, uint32_t threads) {
  ClusterSpec s;
  s.nodes = nodes;
  s.threads = threads;
  s.tls = t.tls;
  s.cluster_id = prefix + t.name;
  return s;
}

inline constexpr Transport kTransports[] = {{"shm", "shm,self"}, {"tcp", "tcp"}};

inline std::string transport_name(const ::testing::TestParamInfo<Transport>& info) {
  return info.param.name;
}

// The child's JSON line, or null (with a test failure) if it is not JSON.
inline nlohmann::json report_json(const ChildOutcome& out) {
  auto j = nlohmann::json::parse(out.report.json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "node " << out.id << " reported no JSON object:\n" << out.describe();
    return nullptr;
  }
  return j;
}


// The children of an atomics_body() run: every FAA old value and every won
// CAS expected value is 0..total-1 exactly once, and every node read `total`
// at the end.
inline void expect_exact_atomics(const ProcessCluster& pc, uint32_t nodes, uint64_t total) {
  auto permutation = [](std::vector<uint64_t> v, uint64_t n, const char* what) {
    ASSERT_EQ(v.size(), n) << what;
    std::sort(v.begin(), v.end());
    std::vector<uint64_t> want(n);
    std::iota(want.begin(), want.end(), 0);
    EXPECT_TRUE(v == want) << what << " values are not 0.." << n - 1 << " each exactly once";
  };
  std::vector<uint64_t> faa, cas;
  for (NodeId id = 0; id < nodes; ++id) {
    auto j = report_json(pc.outcome(id));
    ASSERT_TRUE(j.is_object());
    for (uint64_t v : j["faa_old"]) faa.push_back(v);
    for (uint64_t v : j["cas_won"]) cas.push_back(v);
    for (uint64_t v : j["faa_final"]) EXPECT_EQ(v, total) << "FAA word read by node " << id;
    for (uint64_t v : j["cas_final"]) EXPECT_EQ(v, total) << "CAS word read by node " << id;
  }
  permutation(faa, total, "FAA old");
  permutation(cas, total, "CAS expected");
}

}  // namespace remora::testing
