// Shared bits of the multi-process node tests: the transports they run on
// and JSON access to the children's reports.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

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

}  // namespace remora::testing
