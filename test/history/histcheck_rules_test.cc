// The checker's stricter rules (issue #10): load records, lock-free reads,
// unknown outcomes. Each history here passes or fails because of one rule.
#include <gtest/gtest.h>

#include "histcheck/checker.h"
#include "support/status_matchers.h"

namespace remora::histcheck {
namespace {

using Pairs = std::vector<std::pair<uint64_t, uint64_t>>;
constexpr uint64_t kX = 0x10000, kY = 0x10040, kFresh = 0x90000;

HistoryRecord tx(uint64_t seq, uint64_t start, uint64_t end, Pairs reads, Pairs writes,
                 TxOutcome outcome = TxOutcome::kCommit) {
  HistoryRecord r;
  r.tx = TxId{1, 0, 0, seq};
  r.start_ns = start;
  r.end_ns = end;
  r.outcome = outcome;
  r.reads = std::move(reads);
  r.writes = std::move(writes);
  return r;
}

HistoryRecord lockfree(uint64_t seq, uint64_t start, uint64_t end, Pairs reads) {
  HistoryRecord r = tx(seq, start, end, std::move(reads), {});
  r.lockfree = true;
  return r;
}

HistoryRecord unknown(uint64_t seq, uint64_t start, uint64_t end, Pairs reads, Pairs writes) {
  return tx(seq, start, end, std::move(reads), std::move(writes), TxOutcome::kUnknown);
}

// kX and kY loaded at version 1: two rows of a 64-byte-stride table.
std::vector<HistoryLoad> table() { return {{kX, 2, 0x40, 1}}; }

CheckResult check(std::vector<HistoryRecord> records, std::vector<HistoryLoad> loads = {}) {
  History h{std::move(records), std::move(loads)};
  Result<CheckResult> r = check_history(h);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? std::move(r).value() : CheckResult{};
}

bool mentions(const CheckResult& r, const std::string& text) { return r.summary().find(text) != std::string::npos; }

// --- load records ----------------------------------------------------------

TEST(HistcheckLoads, DirtyReadOfTheLowestVersionIsCaughtWithLoadRecords) {
  // x2 was only ever written by an aborted attempt; T2 read it.
  std::vector<HistoryRecord> h = {tx(1, 10, 20, {{kX, 1}}, {{kX, 2}}, TxOutcome::kAbort),
                                  tx(2, 30, 40, {{kX, 2}}, {})};
  CheckResult lax = check(h);
  EXPECT_TRUE(lax.ok()) << lax.summary();  // the old rule: x2 is the lowest seen, so "loaded"
  EXPECT_FALSE(lax.strict);
  ASSERT_EQ(lax.warnings.size(), 1u);
  EXPECT_TRUE(mentions(lax, "warning: no load records")) << lax.summary();

  CheckResult strict = check(h, table());
  EXPECT_TRUE(strict.strict);
  EXPECT_TRUE(strict.warnings.empty());
  ASSERT_FALSE(strict.ok()) << strict.summary();
  EXPECT_TRUE(mentions(strict, "tx 1.0.0.2 read object 0x10000 version 2, which no committed transaction wrote "
                               "(initial version 1, loaded)"))
      << strict.summary();
  EXPECT_EQ(strict.loaded, 2u);
  EXPECT_EQ(strict.load_ranges, 1u);
}

TEST(HistcheckLoads, ReadOfANeverWrittenVersionOfAnUnloadedObjectFails) {
  CheckResult r = check({tx(1, 10, 20, {{kFresh, 3}}, {})}, table());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "version 3, which no committed transaction wrote (initial version 0, never loaded)"))
      << r.summary();
}

TEST(HistcheckLoads, FreeSlotsReadAsVersionZeroAndAllocInstallsOne) {
  // 1 reads a never-allocated slot (v0, free); 2 allocates it (reads
  // nothing, installs v1); 3 reads v1; loaded rows read at v1.
  CheckResult r = check({tx(1, 10, 20, {{kFresh, 0}, {kX, 1}}, {}), tx(2, 30, 40, {}, {{kFresh, 1}}),
                         tx(3, 50, 60, {{kFresh, 1}, {kY, 1}}, {})},
                        table());
  EXPECT_TRUE(r.ok()) << r.summary();
}

TEST(HistcheckLoads, ReadOfVersionZeroOfALoadedObjectFails) {
  CheckResult r = check({tx(1, 10, 20, {{kY, 0}}, {})}, table());
  EXPECT_FALSE(r.ok()) << r.summary();
}

TEST(HistcheckLoads, AddressBetweenRowsIsNotLoaded) {
  CheckResult r = check({tx(1, 10, 20, {{kX + 0x20, 1}}, {})}, table());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "never loaded")) << r.summary();
}

TEST(HistcheckLoads, WriteNotAboveTheLoadVersionFails) {
  CheckResult r = check({tx(1, 10, 20, {}, {{kX, 1}})}, table());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "tx 1.0.0.1 installed object 0x10000 version 1, not above its initial version 1"))
      << r.summary();
}

TEST(HistcheckLoads, OverlappingOrEmptyRangesAreBadInput) {
  History h{{}, {{kX, 2, 0x40, 1}, {kX + 0x40, 1, 0x40, 1}}};
  Result<CheckResult> r = check_history(h);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("overlap"), std::string::npos) << r.status().to_string();
  h.loads = {{kX, 0, 0x40, 1}};
  EXPECT_EQ(check_history(h).status().code(), Code::kInvalidArgument);
  h.loads = {{UINT64_MAX - 8, 2, 0x40, 1}};
  EXPECT_EQ(check_history(h).status().code(), Code::kInvalidArgument);
}

// --- lock-free reads -------------------------------------------------------

TEST(HistcheckLockfree, StaleReadAfterANewerWriteEndedIsAViolation) {
  // 1 installed x2 and finished at 20; the lock-free read began at 30 and saw x1.
  CheckResult r = check({tx(1, 10, 20, {{kX, 1}}, {{kX, 2}}), lockfree(2, 30, 40, {{kX, 1}})}, table());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.cycle.size(), 2u) << r.summary();
  EXPECT_TRUE(mentions(r, "1.0.0.2 [lock-free] -rw-> 1.0.0.1 (object 0x10000: read v1, next wrote v2)"))
      << r.summary();
  EXPECT_EQ(r.lockfree, 1u);
  EXPECT_EQ(r.transactions, 1u);  // lock-free reads are counted apart
}

TEST(HistcheckLockfree, ReadsConsistentWithRealTimePass) {
  CheckResult r = check({lockfree(1, 1, 5, {{kX, 1}}),                  // before the write
                         tx(2, 10, 20, {{kX, 1}}, {{kX, 2}}),
                         lockfree(3, 12, 30, {{kX, 1}}),                // overlaps it: old
                         lockfree(4, 15, 30, {{kX, 2}}),                // overlaps it: new
                         lockfree(5, 40, 50, {{kX, 2}, {kY, 1}})},      // after it (a lookup miss)
                        table());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.lockfree, 4u);
  EXPECT_EQ(r.committed, 1u);
  EXPECT_GT(r.edges_rw, 0u);
}

TEST(HistcheckLockfree, NewThenOldAcrossTwoReadersIsAViolation) {
  // Reader 3 saw x2, then reader 4 (started after 3 ended) saw x1 again.
  CheckResult r = check({tx(2, 10, 100, {{kX, 1}}, {{kX, 2}}), lockfree(3, 20, 30, {{kX, 2}}),
                         lockfree(4, 40, 50, {{kX, 1}})},
                        table());
  EXPECT_FALSE(r.ok()) << r.summary();
}

TEST(HistcheckLockfree, AWritingOrAbortedLockfreeRecordIsBadInput) {
  HistoryRecord w = lockfree(1, 10, 20, {{kX, 1}});
  w.writes = {{kX, 2}};
  EXPECT_EQ(check_history(std::vector<HistoryRecord>{w}).status().code(), Code::kInvalidArgument);
  HistoryRecord a = lockfree(1, 10, 20, {{kX, 1}});
  a.outcome = TxOutcome::kAbort;
  EXPECT_EQ(check_history(std::vector<HistoryRecord>{a}).status().code(), Code::kInvalidArgument);
}

// --- unknown outcomes ------------------------------------------------------

TEST(HistcheckUnknown, ObservedWriteCountsAsCommitted) {
  // Nobody committed x2, but 2 read it: 1 must have committed.
  CheckResult r = check({unknown(1, 10, 20, {{kX, 1}}, {{kX, 2}}), tx(2, 30, 40, {{kX, 2}}, {})}, table());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.unknown, 1u);
  EXPECT_EQ(r.unknown_committed, 1u);
  EXPECT_EQ(r.committed, 1u);
  EXPECT_EQ(r.edges_wr, 1u);
  EXPECT_NE(r.json_line().find("\"unknown\":1,\"unknown_committed\":1,"), std::string::npos) << r.json_line();
}

TEST(HistcheckUnknown, ObservedByAnAbortedReaderToo) {
  // Attempts read only installed versions, whatever became of them.
  CheckResult r = check({unknown(1, 10, 20, {{kX, 1}}, {{kX, 2}}),
                         tx(2, 30, 40, {{kX, 2}}, {}, TxOutcome::kAbort)},
                        table());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.unknown_committed, 1u);
}

TEST(HistcheckUnknown, UnobservedWriteIsDropped) {
  // 1 and 2 both claim x2; nobody saw 1's: it aborted, no lost update.
  CheckResult r = check({unknown(1, 10, 20, {{kX, 1}}, {{kX, 2}}), tx(2, 15, 40, {{kX, 1}}, {{kX, 2}}),
                         tx(3, 50, 60, {{kX, 2}}, {})},
                        table());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.unknown, 1u);
  EXPECT_EQ(r.unknown_committed, 0u);
}

TEST(HistcheckUnknown, SuccessorVersionIsEvidence) {
  // 1 freed a fresh slot (v1 -> v2, unknown); 2 allocated it again without
  // reading it and installed v3; 3 read v3. v3 rests on v2: 1 committed.
  CheckResult r = check({tx(0, 1, 5, {}, {{kFresh, 1}}), unknown(1, 10, 20, {{kFresh, 1}}, {{kFresh, 2}}),
                         tx(2, 30, 40, {}, {{kFresh, 3}}), tx(3, 50, 60, {{kFresh, 3}}, {})},
                        table());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.unknown_committed, 1u);
}

TEST(HistcheckUnknown, ObservedUnknownOnACycleIsAViolation) {
  // 2 installed y2 and ended before 1 started; 1 read y1 and wrote x2.
  std::vector<HistoryRecord> h = {tx(2, 10, 20, {{kY, 1}}, {{kY, 2}}),
                                  unknown(1, 30, 40, {{kY, 1}}, {{kX, 2}})};
  CheckResult dropped = check(h, table());
  EXPECT_TRUE(dropped.ok()) << dropped.summary();  // unobserved: it may have aborted
  h.push_back(tx(3, 50, 60, {{kX, 2}}, {}));        // now someone saw x2
  CheckResult r = check(h, table());
  ASSERT_FALSE(r.ok()) << r.summary();
  EXPECT_TRUE(mentions(r, "1.0.0.1 [unknown] -rw-> 1.0.0.2")) << r.summary();
}

TEST(HistcheckUnknown, ObservedDuplicateOfACommittedVersionIsDroppedNotBlamed) {
  // 2 committed x2 and 3 read x2: the sighting is 2's, so 1 is dropped.
  CheckResult r = check({unknown(1, 10, 20, {{kX, 1}}, {{kX, 2}}), tx(2, 10, 20, {{kX, 1}}, {{kX, 2}}),
                         tx(3, 30, 40, {{kX, 2}}, {})},
                        table());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.unknown_committed, 0u);
}

TEST(HistcheckUnknown, ItsEndBoundsNothing) {
  // 1's coordinator gave up at 20, but the write was applied later: 2
  // (from 30) still read x1, 3 (from 40) read x2. Real time from 1's end
  // would close a cycle 1 -rt-> 2 -rw-> 1.
  CheckResult r = check({unknown(1, 10, 20, {{kX, 1}}, {{kX, 2}}), tx(2, 30, 35, {{kX, 1}}, {}),
                         tx(3, 40, 50, {{kX, 2}}, {})},
                        table());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.unknown_committed, 1u);
}

}  // namespace
}  // namespace remora::histcheck
