// Regression tests for the commit protocol's edges (issue #10): each failed
// before its fix. On in-process nodes (loopback fabric) with the TxnFaults
// seam: outcomes after the commit point, aborts after COMMIT_BACKUP, full
// rings, re-validation before errors, message counts, reuse of freed runs.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>

#include "remora/common/latency.h"
#include "remora/txn/object.h"
#include "support/status_matchers.h"
#include "txn/block_allocator.h"
#include "txn/txn_loopback.h"
#include "txn/wire.h"

namespace remora::testing {
namespace {

using txn_detail::Method;

struct Cell {
  uint64_t value;
  uint64_t tag;
};
struct Huge {  // larger than half a 64 KiB block: a run of one block
  std::array<uint64_t, 6000> words;
};
struct Huger {  // a run of two blocks
  std::array<uint64_t, 10000> words;
};
struct Mid {  // a slab size class of its own (64 B slots)
  std::array<uint64_t, 5> words;
};

// Faults chosen by the test, as functions (empty: no fault).
struct ScriptedFaults : TxnFaults {
  std::function<Status(NodeId self, uint16_t method, NodeId from)> serve;
  std::function<Status(NodeId self, NodeId to, uint16_t method)> post;
  Status before_serve(NodeId self, uint16_t method, NodeId from, const TxId&) override {
    return serve ? serve(self, method, from) : Status::OK();
  }
  Status before_post(NodeId self, NodeId to, uint16_t method) override {
    return post ? post(self, to, method) : Status::OK();
  }
};

class TxnEdgesTest : public ::testing::Test {
 protected:
  void build(TxnLoopbackSpec spec = {}) {
    spec.txn.faults = &faults_;
    ASSERT_NO_FATAL_FAILURE(build_loopback(spec, &c_));
    for (NodeId n = 0; n < c_->config().nodes.size(); ++n) {
      auto t = c_->store(n).create_table("cells", 4, sizeof(Cell));
      ASSERT_OK(t);
      tables_.push_back(*t);
    }
    // What Store::push_replicas does at load time: backups start equal.
    const uint64_t size = c_->config().region_size;
    for (NodeId p = 0; p < nodes(); ++p) {
      const GAddr base(region_id(p, 1), 0);
      for (NodeId b : c_->store(p).map().backups(base.region()))
        std::memcpy(c_->store(b).replica_object(base, static_cast<uint32_t>(size)),
                    c_->store(p).local_object(base, static_cast<uint32_t>(size)), size);
    }
  }
  uint32_t nodes() const { return static_cast<uint32_t>(c_->config().nodes.size()); }
  GAddr cell(NodeId n, uint32_t row = 0) const { return tables_[n].row(row); }
  uint64_t word(GAddr a) { return obj::load_word(c_->store(region_owner(a.region())).local_object(a, 16)); }
  template <typename T>
  T primary_value(GAddr a) {
    T out;
    std::memcpy(&out, c_->store(region_owner(a.region())).local_object(a, obj::footprint(sizeof(T))) + 16, sizeof out);
    return out;
  }
  // Adds 1 to the cell at `a` in a transaction of node `on`.
  Status bump(NodeId on, GAddr a) {
    return c_->on(on, [&](Context& ctx) {
      return c_->txn(on).transact(ctx, [&](Tx& tx) -> Status {
        auto x = tx.read<Cell>(a);
        if (!x.ok()) return x.status();
        tx.write(*x)->value += 1;
        return Status::OK();
      });
    });
  }
  template <typename T, typename Init>
  Result<GAddr> alloc_on(NodeId n, Init init) {
    return c_->alloc<T>(n, init);
  }
  template <typename T>
  Status free_on(NodeId n, GAddr a) {
    return c_->free(n, a, sizeof(T));
  }
  // Every record at every participant ended (TRUNCATE, COMMIT_PRIMARY, ABORT).
  void expect_logs_empty() {
    for (NodeId n = 0; n < nodes(); ++n) {
      EXPECT_EQ(c_->txn(n).backup_log_size(), 0u) << "node " << n;
      EXPECT_EQ(c_->txn(n).lock_log_size(), 0u) << "node " << n;
      EXPECT_EQ(c_->txn(n).staged_size(), 0u) << "node " << n;
    }
  }
  // Every backup's replica of every data region equals its primary.
  void expect_replicas_equal() {
    const uint64_t size = c_->config().region_size;
    for (NodeId p = 0; p < nodes(); ++p) {
      const GAddr base(region_id(p, 1), 0);
      const std::byte* primary = c_->store(p).local_object(base, static_cast<uint32_t>(size));
      for (NodeId b : c_->store(p).map().backups(base.region())) {
        const std::byte* replica = c_->store(b).replica_object(base, static_cast<uint32_t>(size));
        ASSERT_NE(replica, nullptr);
        EXPECT_EQ(std::memcmp(primary, replica, size), 0) << "region of node " << p << " on backup " << b;
      }
    }
  }
  ScriptedFaults faults_;
  std::unique_ptr<TxnLoopback> c_;
  std::vector<Table> tables_;
};

// Bug 1: truncation is not the transaction's outcome.
TEST_F(TxnEdgesTest, RefusedTruncationsDoNotFailCommittedTransactions) {
  TxnLoopbackSpec spec;
  spec.txn.truncate_batch = 0;  // an explicit TRUNCATE after every commit
  build(spec);
  faults_.serve = [](NodeId, uint16_t m, NodeId) {
    return m == Method::kTruncate ? Status::Refused("no truncations today") : Status::OK();
  };
  const GAddr a = cell(1);
  for (int i = 0; i < 10; ++i) ASSERT_OK(bump(0, a));
  EXPECT_EQ(primary_value<Cell>(a).value, 10u);
  EXPECT_EQ(c_->txn(0).stats().commits, 10u);
  EXPECT_GT(c_->txn(0).stats().truncation_failures, 0u) << "the fault did hit";
  faults_.serve = nullptr;
  ASSERT_OK(c_->flush());
  expect_logs_empty();
  expect_replicas_equal();
}

// Bug 4: an abort after COMMIT_BACKUP reached some backups.
TEST_F(TxnEdgesTest, AbortAfterCommitBackupDropsTheBackupsRecords) {
  TxnLoopbackSpec spec;
  spec.backups = 2;  // node 0's region is backed up on nodes 1 and 2
  build(spec);
  faults_.serve = [](NodeId self, uint16_t m, NodeId) {
    return self == 2 && m == Method::kCommitBackup ? Status::Refused("backup 2 refuses") : Status::OK();
  };
  const uint64_t before = word(cell(0));
  Status st = bump(1, cell(0));
  EXPECT_EQ(st.code(), Code::kRefused) << st.to_string();
  EXPECT_EQ(word(cell(0)), before) << "unlocked, unchanged";
  EXPECT_EQ(c_->txn(1).backup_log_size(), 0u) << "node 1 had logged the record; ABORT dropped it";
  EXPECT_GE(c_->txn(1).stats().backup_aborted, 1u);
  faults_.serve = nullptr;
  ASSERT_OK(bump(1, cell(0)));
  ASSERT_OK(c_->flush());
  expect_logs_empty();
  expect_replicas_equal();
  EXPECT_EQ(primary_value<Cell>(cell(0)).value, 1u);
}

TEST_F(TxnEdgesTest, AbortAfterStagedCommitBackupDropsStagedPieces) {
  TxnLoopbackSpec spec;
  spec.backups = 2;
  build(spec);
  auto big = alloc_on<Huge>(0, [](Huge& h) { h.words.fill(7); });
  ASSERT_OK(big);
  faults_.serve = [](NodeId self, uint16_t m, NodeId) {
    return self == 2 && m == Method::kCommitBackup ? Status::Refused("backup 2 refuses") : Status::OK();
  };
  Status st = c_->on(1, [&](Context& ctx) {
    return c_->txn(1).transact(ctx, [&](Tx& tx) -> Status {
      auto h = tx.read<Huge>(*big);
      if (!h.ok()) return h.status();
      tx.write(*h)->words[0] = 8;
      return Status::OK();
    });
  });
  EXPECT_EQ(st.code(), Code::kRefused) << st.to_string();
  faults_.serve = nullptr;
  ASSERT_OK(c_->flush());
  expect_logs_empty();
  expect_replicas_equal();
  EXPECT_EQ(primary_value<Huge>(*big).words[0], 7u);
}

// Bug 5: a decided outcome is delivered however long the ring stays full.
TEST_F(TxnEdgesTest, CommitPrimaryWaitsOutAFullRingLongerThanTheRpcTimeout) {
  TxnLoopbackSpec spec;
  spec.txn.rpc_timeout = std::chrono::milliseconds(2);
  build(spec);
  uint64_t full_until = 0;
  uint32_t refused = 0;
  faults_.post = [&](NodeId, NodeId to, uint16_t m) {
    if (to != 1 || m != Method::kCommitPrimary) return Status::OK();
    if (full_until == 0) full_until = now_ns() + 40'000'000;  // 20 rpc timeouts
    if (now_ns() >= full_until) return Status::OK();
    ++refused;
    return Status::Full("ring full (injected)");
  };
  ASSERT_OK(bump(0, cell(1)));
  EXPECT_GT(refused, 10u);
  EXPECT_FALSE(obj::locked(word(cell(1))));
  EXPECT_EQ(primary_value<Cell>(cell(1)).value, 1u);
  EXPECT_GT(c_->txn(0).stats().full_ring_waits, 0u);
  ASSERT_OK(c_->flush());
  expect_logs_empty();
  expect_replicas_equal();
}

TEST_F(TxnEdgesTest, AbortWaitsOutAFullRingSoNoLockIsLeftBehind) {
  TxnLoopbackSpec spec;
  spec.txn.rpc_timeout = std::chrono::milliseconds(2);
  spec.txn.max_attempts = 1;
  build(spec);
  // Lock granted at node 1, validation of a changed object fails, ABORT
  // meets a full ring for 20 rpc timeouts.
  uint64_t full_until = 0;
  faults_.post = [&](NodeId, NodeId to, uint16_t m) {
    if (to != 1 || m != Method::kAbort) return Status::OK();
    if (full_until == 0) full_until = now_ns() + 40'000'000;
    return now_ns() < full_until ? Status::Full("ring full (injected)") : Status::OK();
  };
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      auto r = tx.read<Cell>(cell(2));
      if (!r.ok()) return r.status();
      auto w = tx.read<Cell>(cell(1));
      if (!w.ok()) return w.status();
      tx.write(*w)->value = 99;
      // Another transaction changes the read-only object before commit.
      return c_->txn(0).transact(ctx, [&](Tx& t2) -> Status {
        auto x = t2.read<Cell>(cell(2));
        if (!x.ok()) return x.status();
        t2.write(*x)->value += 1;
        return Status::OK();
      });
    });
  });
  EXPECT_EQ(st.code(), Code::kConflict) << st.to_string();
  EXPECT_FALSE(obj::locked(word(cell(1))));
  EXPECT_EQ(primary_value<Cell>(cell(1)).value, 0u);
  ASSERT_OK(c_->flush());
  expect_logs_empty();
}

TEST_F(TxnEdgesTest, APrimaryDeclaredFailedBeforeCommitPrimaryMakesTheOutcomeUnknown) {
  build();
  faults_.post = [](NodeId, NodeId to, uint16_t m) {
    return to == 1 && m == Method::kCommitPrimary ? Status::PeerGone("node 1 is gone (injected)") : Status::OK();
  };
  Status st = bump(0, cell(1));
  EXPECT_EQ(st.code(), Code::kPeerGone);
  EXPECT_NE(st.message().find("outcome unknown"), std::string::npos) << st.to_string();
  EXPECT_EQ(c_->txn(0).stats().unknown_outcomes, 1u);
  EXPECT_EQ(c_->txn(0).stats().gave_up, 0u);
}

// Bug 2: an error after exactly one earlier read re-validates that read.
TEST_F(TxnEdgesTest, SizeMismatchAfterOneChangedReadIsAConflict) {
  build();
  bool interfere = true;
  Status first_mismatch;
  int attempts = 0;
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      ++attempts;
      auto holder = tx.read<Cell>(cell(1, 0));  // the one earlier read
      if (!holder.ok()) return holder.status();
      if (interfere) {
        interfere = false;
        // A concurrent commit changes it: what it pointed to is stale.
        Status b = c_->txn(0).transact(ctx, [&](Tx& t2) -> Status {
          auto x = t2.read<Cell>(cell(1, 0));
          if (!x.ok()) return x.status();
          t2.write(*x)->value += 1;
          return Status::OK();
        });
        if (!b.ok()) return b;
        auto wrong = tx.read<Mid>(cell(2, 0));  // a Cell read as a Mid
        first_mismatch = wrong.status();
        return wrong.status();
      }
      return Status::OK();
    });
  });
  ASSERT_OK(st);
  EXPECT_EQ(first_mismatch.code(), Code::kConflict) << first_mismatch.to_string();
  EXPECT_EQ(attempts, 2);
}

TEST_F(TxnEdgesTest, SizeMismatchAfterOneUnchangedReadStaysAnError) {
  build();
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      auto holder = tx.read<Cell>(cell(1, 0));
      if (!holder.ok()) return holder.status();
      return tx.read<Mid>(cell(2, 0)).status();
    });
  });
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.to_string();
}

// Bug 7: counts refuse instead of wrapping; large VALIDATE sets are split.
TEST(WireLimitsTest, EntryAndTruncationCountsRefuseInsteadOfWrapping) {
  txn_detail::MsgWriter w(TxId{1, 0, 0, 1}, 1);
  for (uint32_t i = 0; i < txn_detail::MsgWriter::kMaxCount; ++i) ASSERT_OK(w.add_trunc(TxId{1, 0, 0, i}));
  EXPECT_EQ(w.add_trunc(TxId{1, 0, 0, 0}).code(), Code::kOutOfRange);
  txn_detail::MsgWriter e(TxId{1, 0, 0, 1}, 1);
  for (uint32_t i = 0; i < txn_detail::MsgWriter::kMaxCount; ++i)
    ASSERT_OK(e.add_entry(txn_detail::EntryHeader{i, 0, 0, 0, 0}, {}));
  EXPECT_EQ(e.add_entry(txn_detail::EntryHeader{0, 0, 0, 0, 0}, {}).code(), Code::kOutOfRange);
  EXPECT_EQ(e.entries(), txn_detail::MsgWriter::kMaxCount);
  auto m = txn_detail::parse_msg(e.bytes());
  ASSERT_OK(m);
  EXPECT_EQ(m->entries.size(), txn_detail::MsgWriter::kMaxCount);
  EXPECT_EQ(e.add_trunc(TxId{}).code(), Code::kInvalidArgument) << "truncations go first";
}

TEST_F(TxnEdgesTest, ThousandsOfReadOnlyObjectsOnOnePrimaryAreValidatedInSeveralMessages) {
  build();
  auto many = c_->store(1).create_table("many", 3000, sizeof(Cell));
  ASSERT_OK(many);
  uint64_t sum = 1;
  ASSERT_OK(c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      sum = 0;
      for (uint32_t i = 0; i < many->rows; ++i) {
        auto r = tx.read<Cell>(many->row(i));
        if (!r.ok()) return r.status();
        sum += (*r)->value;
      }
      auto w = tx.read<Cell>(cell(0));
      if (!w.ok()) return w.status();
      tx.write(*w)->value = 5;  // a read-write transaction: VALIDATE runs
      return Status::OK();
    });
  }));
  EXPECT_EQ(sum, 0u);
  EXPECT_EQ(primary_value<Cell>(cell(0)).value, 5u);
}

// Bug 3: blocks of freed runs come back with other layouts, versions only
// grow at every address, and backups stay equal.
TEST_F(TxnEdgesTest, FreedRunComesBackAsSlabSlotsWithHigherVersions) {
  build();
  // Payload bytes that look like locked, allocated headers at every slot.
  auto big = alloc_on<Huge>(1, [](Huge& h) { h.words.fill(~uint64_t{0}); });
  ASSERT_OK(big);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(c_->on(0, [&](Context& ctx) {
      return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
        auto h = tx.read<Huge>(*big);
        if (!h.ok()) return h.status();
        tx.write(*h)->words[1] = ~uint64_t{0} - 1;
        return Status::OK();
      });
    }));
  }
  const uint64_t last = obj::version(word(*big)) + 1;  // the free's version
  ASSERT_OK(free_on<Huge>(0, *big));
  EXPECT_EQ(obj::version(word(*big)), last);
  // Mid objects on node 1 take a fresh slab block: the freed run's.
  bool reused = false;
  for (int i = 0; i < 64; ++i) {
    auto m = alloc_on<Mid>(1, [&](Mid& x) { x.words.fill(static_cast<uint64_t>(i)); });
    ASSERT_OK(m);
    const uint64_t off = m->offset() - big->offset();
    if (m->region() != big->region() || m->offset() < big->offset() || off >= sizeof(Huge)) continue;
    reused = true;
    EXPECT_GT(obj::version(word(*m)), last) << "slot at +" << off;
  }
  EXPECT_TRUE(reused) << "the test needs the freed block to come back as a slab";
  ASSERT_OK(c_->flush());
  expect_logs_empty();
  expect_replicas_equal();
}

TEST_F(TxnEdgesTest, FreedRunComesBackAsRunsOfAnotherShapeWithHigherVersions) {
  build();
  auto two = alloc_on<Huger>(1, [](Huger& h) { h.words.fill(~uint64_t{0}); });
  ASSERT_OK(two);
  const uint64_t last = obj::version(word(*two)) + 1;
  ASSERT_OK(free_on<Huger>(2, *two));
  auto one = alloc_on<Huge>(1, [](Huge& h) { h.words.fill(3); });
  auto other = alloc_on<Huge>(1, [](Huge& h) { h.words.fill(4); });
  ASSERT_OK(one);
  ASSERT_OK(other);
  const uint32_t bs = c_->store(1).block_size();
  EXPECT_EQ(one->offset(), two->offset()) << "first fit: the freed run's first block";
  EXPECT_EQ(other->offset(), two->offset() + bs) << "its second block, whose header was payload";
  EXPECT_GT(obj::version(word(*one)), last);
  EXPECT_GT(obj::version(word(*other)), last);
  ASSERT_OK(free_on<Huge>(0, *other));
  ASSERT_OK(c_->flush());
  expect_logs_empty();
  expect_replicas_equal();
}

// Found by the simulator (mix workload): a free truncated at a backup after
// a later, smaller object in the same slot left the freed bytes there.
TEST_F(TxnEdgesTest, LateFreeAtABackupZeroesTheFreedTailPastTheSlotsNewObject) {
  build();
  struct Big {  // 40 B and 20 B objects share the 64 B slot class
    std::array<uint64_t, 5> w;
  };
  struct Small {  // 20 B: its padding must be zero on the backup too
    std::array<uint32_t, 5> w;
  };
  auto big = alloc_on<Big>(1, [](Big& b) { b.w.fill(0x5a5a5a5a5a5a5a5aull); });
  ASSERT_OK(big);
  ASSERT_OK(c_->flush());
  ASSERT_OK(free_on<Big>(0, *big));  // node 0's truncation of it stays pending
  auto small = alloc_on<Small>(1, [](Small& x) { x.w.fill(1); });
  ASSERT_OK(small);
  ASSERT_EQ(*small, *big) << "the test needs the slot reused";
  ASSERT_OK(c_->on(1, [&](Context& ctx) { return c_->txn(1).flush_truncations(ctx); }));
  ASSERT_OK(c_->on(0, [&](Context& ctx) { return c_->txn(0).flush_truncations(ctx); }));
  expect_logs_empty();
  expect_replicas_equal();
}

TEST(BlockAllocatorFloorTest, ReleasedRunsRaiseTheFloorAndSlabBlocksNeverBecomeRuns) {
  std::vector<std::byte> mem(8 * 4096);
  LocalRegion r{region_id(0, 1), mem.data(), mem.size()};
  txn_detail::BlockAllocator b({&r}, 4096);
  auto slab = b.take_slab_block(64);
  ASSERT_OK(slab);
  auto run = b.take_run(3);
  ASSERT_OK(run);
  EXPECT_EQ(b.floor(*run, 3 * 4096), 0u);
  ASSERT_OK(b.release_run(*run, 17));
  EXPECT_EQ(b.floor(run->plus(4096), 1), 17u);
  EXPECT_EQ(b.floor(*slab, 64), 0u);
  EXPECT_EQ(b.release_run(*slab).code(), Code::kInvalidArgument) << "a slab block is not a run";
  auto big = b.take_run(8);
  EXPECT_EQ(big.status().code(), Code::kOutOfMemory) << "the slab block stays a slab";
  auto again = b.take_run(2);
  ASSERT_OK(again);
  EXPECT_EQ(b.floor(*again, 2 * 4096), 17u);
  ASSERT_OK(b.release_run(*again, 5));
  EXPECT_EQ(b.floor(*again, 1), 17u) << "floors never go down";
}

}  // namespace
}  // namespace remora::testing
