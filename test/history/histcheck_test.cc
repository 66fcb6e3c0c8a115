// The checker on hand-made histories, one anomaly each.
#include "histcheck/checker.h"

#include <gtest/gtest.h>

#include "history/temp_dir.h"
#include "support/status_matchers.h"

namespace remora::histcheck {
namespace {

using Pairs = std::vector<std::pair<uint64_t, uint64_t>>;
constexpr uint64_t kX = 0x10000, kY = 0x10040;

HistoryRecord tx(uint64_t seq, uint64_t start, uint64_t end, Pairs reads, Pairs writes, bool commit = true) {
  HistoryRecord r;
  r.tx = TxId{1, 0, 0, seq};
  r.start_ns = start;
  r.end_ns = end;
  r.outcome = commit ? TxOutcome::kCommit : TxOutcome::kAbort;
  r.reads = std::move(reads);
  r.writes = std::move(writes);
  return r;
}

CheckResult check(const std::vector<HistoryRecord>& h) {
  Result<CheckResult> r = check_history(h);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : CheckResult{};
}

std::vector<EdgeKind> kinds(const CheckResult& r) {
  std::vector<EdgeKind> k;
  for (const CycleStep& s : r.cycle) k.push_back(s.kind);
  return k;
}

TEST(Histcheck, SerialHistoryIsOk) {
  CheckResult r = check({
      tx(1, 10, 20, {{kX, 0}}, {{kX, 1}}),
      tx(2, 30, 40, {{kX, 1}, {kY, 5}}, {{kX, 2}, {kY, 6}}),
      tx(3, 35, 45, {{kX, 2}}, {}, false),  // aborted: ignored
      tx(4, 50, 60, {{kX, 2}, {kY, 6}}, {}),
  });
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.transactions, 4u);
  EXPECT_EQ(r.committed, 3u);
  EXPECT_EQ(r.aborted, 1u);
  EXPECT_EQ(r.edges_ww, 1u);  // x1 (by 1) -> x2 (by 2)
  EXPECT_GT(r.edges_wr, 0u);
  EXPECT_NE(r.json_line().find("\"transactions\":4,\"committed\":3,"), std::string::npos) << r.json_line();
  EXPECT_NE(r.json_line().find("\"ok\":true"), std::string::npos);
}

TEST(Histcheck, OverlappingTransactionsMayOrderEitherWay) {
  // 2 starts before 1 ends, so it may serialize before 1 and read x's old version.
  CheckResult r = check({tx(1, 10, 20, {{kX, 0}}, {{kX, 1}}), tx(2, 15, 40, {{kX, 0}}, {})});
  EXPECT_TRUE(r.ok()) << r.summary();
}

TEST(Histcheck, LostUpdateIsADuplicateVersion) {
  CheckResult r = check({tx(1, 10, 30, {{kX, 1}}, {{kX, 2}}), tx(2, 15, 35, {{kX, 1}}, {{kX, 2}})});
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.violations.empty());
  EXPECT_NE(r.violations[0].find("version 2 installed by two committed transactions, 1.0.0.1 and 1.0.0.2"),
            std::string::npos)
      << r.summary();
  EXPECT_NE(r.json_line().find("\"ok\":false"), std::string::npos);
}

TEST(Histcheck, WriteSkewIsAnRwCycle) {
  // Both read x0 and y0; 1 writes x, 2 writes y: each misses the other's write.
  CheckResult r = check({tx(1, 10, 30, {{kX, 0}, {kY, 0}}, {{kX, 1}}),
                         tx(2, 12, 32, {{kX, 0}, {kY, 0}}, {{kY, 1}})});
  ASSERT_FALSE(r.ok()) << r.summary();
  EXPECT_EQ(kinds(r), (std::vector<EdgeKind>{EdgeKind::kRw, EdgeKind::kRw})) << r.summary();
  EXPECT_NE(r.summary().find("-rw-> 1.0.0.2 (object 0x10040: read v0, next wrote v1)"), std::string::npos)
      << r.summary();
}

TEST(Histcheck, WwCycle) {
  // 1 installs x1 then y2, 2 installs x2 then y1: no order fits both objects.
  CheckResult r = check({tx(1, 10, 30, {}, {{kX, 1}, {kY, 2}}), tx(2, 12, 32, {}, {{kX, 2}, {kY, 1}})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(kinds(r), (std::vector<EdgeKind>{EdgeKind::kWw, EdgeKind::kWw})) << r.summary();
}

TEST(Histcheck, WrCycle) {
  // Each reads what the other wrote.
  CheckResult r = check({tx(1, 10, 30, {{kY, 1}}, {{kX, 1}}), tx(2, 12, 32, {{kX, 1}}, {{kY, 1}})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(kinds(r), (std::vector<EdgeKind>{EdgeKind::kWr, EdgeKind::kWr})) << r.summary();
}

TEST(Histcheck, StaleReadAfterCommitBreaksRealTime) {
  // 1 wrote x1 and finished; 2 started later but read x0.
  CheckResult r = check({tx(1, 10, 20, {{kX, 0}}, {{kX, 1}}), tx(2, 30, 40, {{kX, 0}}, {})});
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.cycle.size(), 2u) << r.summary();
  const CycleStep& rt = r.cycle[0].kind == EdgeKind::kRealTime ? r.cycle[0] : r.cycle[1];
  const CycleStep& rw = r.cycle[0].kind == EdgeKind::kRealTime ? r.cycle[1] : r.cycle[0];
  EXPECT_EQ(rt.kind, EdgeKind::kRealTime);
  EXPECT_EQ(rt.from.seq, 1u);
  EXPECT_EQ(rt.from_end, 20u);
  EXPECT_EQ(rt.to_start, 30u);
  EXPECT_EQ(rw.kind, EdgeKind::kRw);
  EXPECT_EQ(rw.addr, kX);
  EXPECT_EQ(rw.from_version, 0u);
  EXPECT_EQ(rw.to_version, 1u);
}

TEST(Histcheck, RealTimeCycleThroughAChainOfTransactions) {
  // 2 saw 1's write of x and ended before 3 started, so 3 must see 1's write
  // of z too; it read z0. No two of them alone form a cycle.
  CheckResult r = check({tx(1, 10, 45, {}, {{kX, 1}, {kY, 1}}), tx(2, 15, 30, {{kX, 1}}, {}),
                         tx(3, 35, 50, {{kY, 0}}, {})});
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.cycle.size(), 3u) << r.summary();
  EXPECT_NE(r.summary().find("1.0.0.1 -wr-> 1.0.0.2"), std::string::npos) << r.summary();
  EXPECT_NE(r.summary().find("1.0.0.2 -rt-> 1.0.0.3"), std::string::npos) << r.summary();
  EXPECT_NE(r.summary().find("1.0.0.3 -rw-> 1.0.0.1"), std::string::npos) << r.summary();
}

TEST(Histcheck, ReadOfAVersionNobodyWrote) {
  // x0 is the initial version; x5 was never installed (an aborted write leaked?).
  CheckResult r = check({tx(1, 10, 20, {{kX, 0}}, {{kX, 1}}), tx(2, 30, 40, {{kX, 5}}, {}),
                         tx(3, 50, 60, {{kX, 7}}, {}, false)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.violations[0].find("tx 1.0.0.2 read object 0x10000 version 5, which no committed transaction wrote"),
            std::string::npos)
      << r.summary();
}

TEST(Histcheck, InitialVersionMayBeAnyNumber) {
  CheckResult r = check({tx(1, 10, 20, {{kX, 100}}, {}), tx(2, 30, 40, {{kX, 100}}, {{kX, 101}}),
                         tx(3, 50, 60, {{kX, 101}}, {})});
  EXPECT_TRUE(r.ok()) << r.summary();
}

TEST(Histcheck, SkippedVersionInsideOneTransactionIsACycle) {
  // 2 read x1 and installed x3, but 1 installed x2 in between.
  CheckResult r = check({tx(1, 10, 30, {{kX, 1}}, {{kX, 2}}), tx(2, 12, 32, {{kX, 1}}, {{kX, 3}})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.cycle.size(), 2u) << r.summary();
}

TEST(Histcheck, BadInputIsRefused) {
  auto code = [](std::vector<HistoryRecord> h) {
    Result<CheckResult> r = check_history(h);
    return r.ok() ? Code::kOk : r.status().code();
  };
  EXPECT_EQ(code({tx(1, 20, 10, {}, {})}), Code::kInvalidArgument);  // ends before it starts
  EXPECT_EQ(code({tx(1, 10, 20, {}, {}), tx(1, 30, 40, {}, {})}), Code::kInvalidArgument);  // id twice
  EXPECT_EQ(code({tx(1, 10, 20, {}, {{kX, 1}, {kX, 1}})}), Code::kInvalidArgument);  // object twice
  EXPECT_EQ(code({tx(1, 20, 10, {}, {}, false)}), Code::kOk);  // aborted attempts are not checked
}

TEST(Histcheck, EmptyHistoryIsOk) {
  CheckResult r = check({});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.edges(), 0u);
}

TEST(HistcheckLoad, ReadsEveryNodeFileOfADirectory) {
  testing::TempDir tmp;
  std::string a, b;
  format_history_line(tx(1, 10, 20, {{kX, 0}}, {{kX, 1}}), &a);
  format_history_line(tx(2, 30, 40, {{kX, 1}}, {}), &b);
  tmp.write("node-0.jsonl", a);
  tmp.write("node-1.jsonl", b);
  tmp.write("notes.txt", "not a history");
  Result<History> recs = load_history({tmp.path()});
  ASSERT_OK(recs);
  EXPECT_EQ(recs->records.size(), 2u);
  recs = load_history({tmp.path() + "/node-1.jsonl"});
  ASSERT_OK(recs);
  EXPECT_EQ(recs->records.size(), 1u);
}

TEST(HistcheckLoad, ErrorsNameTheProblem) {
  testing::TempDir tmp;
  Result<History> recs = load_history({tmp.path()});
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().code(), Code::kNotFound);
  std::string bad = tmp.write("node-3.jsonl", "{\"tx\":\"1.2.3.4\"\n");
  recs = load_history({tmp.path()});
  ASSERT_FALSE(recs.ok());
  EXPECT_NE(recs.status().message().find(bad + ":1:"), std::string::npos) << recs.status().to_string();
}

}  // namespace
}  // namespace remora::histcheck
