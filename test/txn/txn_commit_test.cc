// The commit protocol's state transitions on in-process nodes (loopback
// fabric): commit, lock refused, validation failure, reading a locked or
// torn object, read-only commits, application aborts, replicas after
// truncation.
#include <gtest/gtest.h>

#include <cstring>

#include "remora/txn/object.h"
#include "support/status_matchers.h"
#include "txn/txn_loopback.h"

namespace remora::testing {
namespace {

struct Account {
  int64_t balance;
  uint64_t tag;
};

class TxnCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { build({}); }
  void build(TxnLoopbackSpec spec) {
    ASSERT_NO_FATAL_FAILURE(build_loopback(spec, &c_));
    // Two accounts per node in a table "acct": balance 100 each.
    for (NodeId n = 0; n < c_->config().nodes.size(); ++n) {
      auto t = c_->store(n).create_table("acct", 2, sizeof(Account), [&](uint32_t row, std::span<std::byte> p) {
        Account a{100, n * 10u + row};
        std::memcpy(p.data(), &a, sizeof a);
      });
      ASSERT_OK(t);
      tables_.push_back(*t);
    }
  }
  GAddr acct(NodeId n, uint32_t row) const { return tables_[n].row(row); }
  std::byte* primary_copy(GAddr a) { return c_->store(region_owner(a.region())).local_object(a, 32); }
  uint64_t word(GAddr a) { return obj::load_word(primary_copy(a)); }
  int64_t balance(GAddr a) {
    Account x;
    std::memcpy(&x, primary_copy(a) + obj::kHeaderSize, sizeof x);
    return x.balance;
  }
  // Moves `amount` from a to b in one transaction of node `on`.
  Status transfer(NodeId on, GAddr a, GAddr b, int64_t amount) {
    return c_->on(on, [&](Context& ctx) {
      return c_->txn(on).transact(ctx, [&](Tx& tx) -> Status {
        auto x = tx.read<Account>(a);
        if (!x.ok()) return x.status();
        auto y = tx.read<Account>(b);
        if (!y.ok()) return y.status();
        tx.write(*x)->balance -= amount;
        tx.write(*y)->balance += amount;
        return Status::OK();
      });
    });
  }
  std::unique_ptr<TxnLoopback> c_;
  std::vector<Table> tables_;
};

TEST_F(TxnCommitTest, CommitInstallsOnPrimariesBumpsVersionsAndUnlocks) {
  const GAddr a = acct(1, 0), b = acct(2, 1);
  ASSERT_EQ(obj::version(word(a)), 1u);
  ASSERT_OK(transfer(0, a, b, 30));
  EXPECT_EQ(balance(a), 70);
  EXPECT_EQ(balance(b), 130);
  EXPECT_EQ(word(a), obj::kAllocBit | 2);
  EXPECT_EQ(word(b), obj::kAllocBit | 2);
  EXPECT_EQ(obj::check({primary_copy(a), 32}), obj::Check::kOk);
  const TxnStats& s = c_->txn(0).stats();
  EXPECT_EQ(s.commits, 1u);
  EXPECT_EQ(s.attempts, 1u);
  EXPECT_EQ(s.aborts_total(), 0u);
}

TEST_F(TxnCommitTest, BackupsApplyOnlyAtTruncationThenMatchPrimaries) {
  const GAddr a = acct(0, 0), b = acct(1, 0);  // backups: node 1 for a, node 2 for b
  ASSERT_OK(transfer(2, a, b, 5));
  const std::byte* rep_a = c_->store(1).replica_object(a, 32);
  ASSERT_NE(rep_a, nullptr);
  // Replicas start empty here (no push_replicas): nothing applied yet, one
  // record logged on each backup (node 2 backs up b for itself).
  EXPECT_EQ(obj::load_word(rep_a), 0u);
  EXPECT_EQ(c_->txn(1).backup_log_size(), 1u);
  EXPECT_EQ(c_->txn(2).backup_log_size(), 1u);
  ASSERT_OK(c_->flush());
  EXPECT_EQ(c_->txn(1).backup_log_size() + c_->txn(2).backup_log_size(), 0u);
  EXPECT_EQ(std::memcmp(rep_a, primary_copy(a), 32), 0);
  EXPECT_EQ(std::memcmp(c_->store(2).replica_object(b, 32), primary_copy(b), 32), 0);
}

TEST_F(TxnCommitTest, LockRefusedWhenAnotherTransactionCommittedFirstThenRetrySucceeds) {
  const GAddr a = acct(1, 0), b = acct(2, 0);
  bool other_done = false;
  int attempts = 0;
  c_->worker(0).spawn([&](Context& ctx) {
    Status st = c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      ++attempts;
      auto x = tx.read<Account>(a);
      if (!x.ok()) return x.status();
      while (!other_done) ctx.yield();  // the other transaction commits now
      tx.write(*x)->balance += 1;
      return Status::OK();
    });
    EXPECT_OK(st);
  });
  c_->worker(1).spawn([&](Context& ctx) {
    Status st = c_->txn(1).transact(ctx, [&](Tx& tx) -> Status {
      auto x = tx.read<Account>(a);
      if (!x.ok()) return x.status();
      auto y = tx.read<Account>(b);
      if (!y.ok()) return y.status();
      tx.write(*x)->balance += 10;
      return Status::OK();
    });
    EXPECT_OK(st);
    other_done = true;
  });
  ASSERT_OK(c_->run());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(balance(a), 111);
  EXPECT_EQ(obj::version(word(a)), 3u);
  EXPECT_EQ(c_->txn(0).stats().aborts[static_cast<int>(AbortCause::kLockRefused)], 1u);
  EXPECT_EQ(c_->txn(1).stats().locks_refused, 1u) << "node 1 is a's primary";
}

TEST_F(TxnCommitTest, ValidationFailsWhenAReadOnlyObjectChanged) {
  const GAddr ro = acct(1, 0), rw = acct(2, 0);
  bool other_done = false;
  int attempts = 0;
  c_->worker(0).spawn([&](Context& ctx) {
    EXPECT_OK(c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      ++attempts;
      auto x = tx.read<Account>(ro);
      if (!x.ok()) return x.status();
      auto y = tx.read<Account>(rw);
      if (!y.ok()) return y.status();
      while (!other_done) ctx.yield();
      tx.write(*y)->balance = (*x)->balance;  // depends on ro
      return Status::OK();
    }));
  });
  c_->worker(1).spawn([&](Context& ctx) {
    EXPECT_OK(c_->txn(1).transact(ctx, [&](Tx& tx) -> Status {
      auto x = tx.read<Account>(ro);
      if (!x.ok()) return x.status();
      tx.write(*x)->balance = 7;
      return Status::OK();
    }));
    other_done = true;
  });
  ASSERT_OK(c_->run());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(balance(rw), 7) << "the retry saw the new value";
  EXPECT_EQ(c_->txn(0).stats().aborts[static_cast<int>(AbortCause::kValidation)], 1u);
  EXPECT_EQ(obj::locked(word(rw)), false) << "the failed attempt released its lock";
}

TEST_F(TxnCommitTest, ManyReadOnlyObjectsOnOnePrimaryAreValidatedByRpc) {
  TxnLoopbackSpec spec;
  spec.txn.validate_rpc_threshold = 1;
  tables_.clear();
  build(spec);
  const GAddr r0 = acct(1, 0), r1 = acct(1, 1), w = acct(2, 0);
  ASSERT_OK(c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      auto x = tx.read<Account>(r0);
      auto y = tx.read<Account>(r1);
      auto z = tx.read<Account>(w);
      if (!x.ok() || !y.ok() || !z.ok()) return Status::Internal("read failed");
      tx.write(*z)->balance = (*x)->balance + (*y)->balance;
      return Status::OK();
    });
  }));
  EXPECT_EQ(balance(w), 200);
}

TEST_F(TxnCommitTest, ReadingALockedObjectConflictsAndGivesUpAfterMaxAttempts) {
  TxnLoopbackSpec spec;
  spec.txn.max_attempts = 3;
  tables_.clear();
  build(spec);
  const GAddr a = acct(1, 0);
  obj::store_word(primary_copy(a), word(a) | obj::kLockBit);
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status { return tx.read<Account>(a).status(); });
  });
  EXPECT_EQ(st.code(), Code::kConflict) << st.to_string();
  EXPECT_EQ(c_->txn(0).stats().aborts[static_cast<int>(AbortCause::kReadLocked)], 3u);
  EXPECT_EQ(c_->txn(0).stats().gave_up, 1u);
  // The lock-free read refuses it too, and succeeds once it is released.
  EXPECT_EQ(c_->on(0, [&](Context& ctx) { return c_->txn(0).lockfree_read<Account>(ctx, a).status(); }).code(),
            Code::kConflict);
  obj::store_word(primary_copy(a), word(a) & ~obj::kLockBit);
  uint64_t version = 0;
  ASSERT_OK(c_->on(0, [&](Context& ctx) {
    auto r = c_->txn(0).lockfree_read<Account>(ctx, a, &version);
    if (r.ok()) {
      EXPECT_EQ(r->balance, 100);
    }
    return r.status();
  }));
  EXPECT_EQ(version, 1u);
}

TEST_F(TxnCommitTest, TornObjectIsNeverReturned) {
  const GAddr a = acct(2, 1);
  primary_copy(a)[obj::kHeaderSize] ^= std::byte{1};  // payload changed, CRC not
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status { return tx.read<Account>(a).status(); });
  });
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_GT(c_->txn(0).stats().aborts[static_cast<int>(AbortCause::kReadTorn)], 0u);
  EXPECT_EQ(c_->on(1, [&](Context& ctx) { return c_->txn(1).lockfree_read<Account>(ctx, a).status(); }).code(),
            Code::kConflict);
}

TEST_F(TxnCommitTest, ApplicationAbortWritesNothingAndIsNotRetried) {
  const GAddr a = acct(1, 0);
  int attempts = 0;
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status {
      ++attempts;
      auto x = tx.read<Account>(a);
      if (!x.ok()) return x.status();
      tx.write(*x)->balance = -1;
      return Status::Aborted("insufficient funds");
    });
  });
  EXPECT_EQ(st.code(), Code::kAborted);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(balance(a), 100);
  EXPECT_EQ(obj::version(word(a)), 1u);
  EXPECT_EQ(c_->txn(0).stats().aborts[static_cast<int>(AbortCause::kApplication)], 1u);
}

TEST_F(TxnCommitTest, ReadOnlyTransactionsCommitWithoutLocking) {
  const GAddr a = acct(0, 0), b = acct(1, 1);
  int64_t sum = 0;
  ASSERT_OK(c_->on(2, [&](Context& ctx) {
    return c_->txn(2).transact(ctx, [&](Tx& tx) -> Status {
      auto x = tx.read<Account>(a);
      auto y = tx.read<Account>(b);
      if (!x.ok() || !y.ok()) return Status::Internal("read failed");
      sum = (*x)->balance + (*y)->balance;
      return Status::OK();
    });
  }));
  EXPECT_EQ(sum, 200);
  EXPECT_EQ(c_->txn(2).stats().read_only_commits, 1u);
  EXPECT_EQ(c_->txn(0).stats().installs + c_->txn(1).stats().installs, 0u);
  EXPECT_EQ(obj::version(word(a)), 1u);
}

TEST_F(TxnCommitTest, BadAddressesAreErrorsNotCrashes) {
  auto read_at = [&](GAddr a) {
    return c_->on(0, [&](Context& ctx) {
      return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status { return tx.read<Account>(a).status(); });
    });
  };
  EXPECT_EQ(read_at(GAddr(system_region_id(1), 0)).code(), Code::kOutOfRange);
  EXPECT_EQ(read_at(GAddr(region_id(1, 1), (1 << 20) - 8)).code(), Code::kOutOfRange);
  EXPECT_EQ(read_at(GAddr(region_id(9, 1), 0)).code(), Code::kOutOfRange);
  // A size mismatch: a 16-byte object read as 32 bytes.
  struct Big {
    char b[32];
  };
  Status st = c_->on(0, [&](Context& ctx) {
    return c_->txn(0).transact(ctx, [&](Tx& tx) -> Status { return tx.read<Big>(acct(1, 0)).status(); });
  });
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.to_string();
}

}  // namespace
}  // namespace remora::testing
