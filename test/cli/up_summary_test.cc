// The summaries `remora up` prints from node result lines.
#include "cli/up_summary.h"

#include <gtest/gtest.h>

namespace remora::cli {
namespace {

TEST(ParseResult, ValidObject) {
  auto r = parse_result(R"({"node":2,"workload":"check","ok":true,"elapsed_s":1.5})");
  EXPECT_EQ(r.value("node", -1), 2);
  EXPECT_TRUE(r.value("ok", false));
}

TEST(ParseResult, MalformedLineBecomesFailure) {
  for (const char* bad : {"{", "{\"node\":", "[1,2]", "{\"a\":1} trailing", ""}) {
    auto r = parse_result(bad);
    EXPECT_FALSE(r.value("ok", true)) << bad;
    EXPECT_NE(r.value("error", std::string()).find("malformed result line"), std::string::npos) << bad;
  }
}

TEST(ResultLine, NamesNodeVerdictAndError) {
  EXPECT_EQ(result_line(parse_result(R"({"node":1,"workload":"check","ok":true,"elapsed_s":0.25})")),
            "node 1: ok (check, 0.25 s)");
  EXPECT_EQ(result_line(parse_result(R"({"node":0,"workload":"fabric","ok":false,"error":"PeerGone: node 2"})")),
            "node 0: FAILED (fabric): PeerGone: node 2");
}

std::string fabric_line(int node, double rate, double p50) {
  std::string op = R"({"count":10,"p50_us":)" + std::to_string(p50) + R"(,"p99_us":2,"p999_us":3,"ops_per_sec":)" +
                   std::to_string(rate) + "}";
  return R"({"node":)" + std::to_string(node) + R"(,"workload":"fabric","ok":true,"ops":{"read":)" + op +
         R"(,"write":)" + op + R"(,"cas":)" + op + R"(,"faa":)" + op + "}}";
}

TEST(SummaryTable, FabricSumsRatesAndTakesWorstLatency) {
  const std::string t = summary_table({parse_result(fabric_line(1, 1000, 0.5)), parse_result(fabric_line(0, 3000, 1.5))});
  // Per-node rows sorted by node, then an "all" row per operation.
  EXPECT_LT(t.find("read        0"), t.find("read        1"));
  EXPECT_NE(t.find("read      all         4000       1.50"), std::string::npos) << t;
  EXPECT_NE(t.find("faa       all         4000"), std::string::npos) << t;
}

TEST(SummaryTable, CheckShowsCountersAndFailures) {
  const std::string t = summary_table(
      {parse_result(R"({"node":0,"workload":"check","ok":true,"atomics":400,"ring_records":1600,"elapsed_s":0.1})"),
       parse_result(R"({"node":1,"workload":"check","ok":false,"error":"Corrupt: ring"})")});
  EXPECT_NE(t.find("400"), std::string::npos) << t;
  EXPECT_NE(t.find("1600"), std::string::npos) << t;
  EXPECT_NE(t.find("node 1: FAILED (check): Corrupt: ring"), std::string::npos) << t;
}

TEST(SummaryTable, EmptyRunPrintsNothing) { EXPECT_EQ(summary_table({}), ""); }

}  // namespace
}  // namespace remora::cli
