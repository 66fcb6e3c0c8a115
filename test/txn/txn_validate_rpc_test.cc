// VALIDATE by RPC: a primary holding more than validate_rpc_threshold of a
// transaction's read-only objects checks them itself. The path must run
// (and the one-sided one must not), and it must refuse an object that
// changed or is locked since it was read. Ordering between the coroutines
// is explicit (flags they yield on), never timed.
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

constexpr NodeId kCoordinator = 0, kReadPrimary = 1, kWritePrimary = 2;
constexpr uint32_t kReadRows = 6;  // read-only objects on kReadPrimary: above the threshold (4)

class TxnValidateRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(build_loopback({}, &c_));
    ASSERT_EQ(c_->txn(kCoordinator).options().validate_rpc_threshold, 4u);
    for (NodeId n = 0; n < c_->config().nodes.size(); ++n) {
      auto t = c_->store(n).create_table("acct", kReadRows, sizeof(Account),
                                         [&](uint32_t row, std::span<std::byte> p) {
                                           Account a{100, n * 100u + row};
                                           std::memcpy(p.data(), &a, sizeof a);
                                         });
      ASSERT_OK(t);
      tables_.push_back(*t);
    }
  }
  GAddr acct(NodeId n, uint32_t row) const { return tables_[n].row(row); }
  std::byte* primary_copy(GAddr a) {
    return c_->store(region_owner(a.region())).local_object(a, 32);
  }
  uint64_t word(GAddr a) { return obj::load_word(primary_copy(a)); }
  int64_t balance(GAddr a) {
    Account x;
    std::memcpy(&x, primary_copy(a) + obj::kHeaderSize, sizeof x);
    return x.balance;
  }
  const TxnStats& stats(NodeId n) { return c_->txn(n).stats(); }

  // The body of the transaction under test: reads every row of
  // kReadPrimary, writes their sum into one object of kWritePrimary. Calls
  // `pause` (on every attempt) between the reads and the commit.
  template <typename Pause>
  Status sum_into(Tx& tx, GAddr dst, Pause&& pause) {
    int64_t sum = 0;
    for (uint32_t r = 0; r < kReadRows; ++r) {
      auto x = tx.read<Account>(acct(kReadPrimary, r));
      if (!x.ok()) return x.status();
      sum += (*x)->balance;
    }
    auto y = tx.read<Account>(dst);
    if (!y.ok()) return y.status();
    pause();
    tx.write(*y)->balance = sum;
    return Status::OK();
  }

  std::unique_ptr<TxnLoopback> c_;
  std::vector<Table> tables_;
};

TEST_F(TxnValidateRpcTest, ManyReadOnlyObjectsOnOneRemotePrimaryGoByOneRpcOthersOneSided) {
  const GAddr dst = acct(kWritePrimary, 0), few = acct(kWritePrimary, 1);
  ASSERT_OK(c_->on(kCoordinator, [&](Context& ctx) {
    return c_->txn(kCoordinator).transact(ctx, [&](Tx& tx) -> Status {
      auto f = tx.read<Account>(few);  // one read-only object on kWritePrimary: one-sided
      if (!f.ok()) return f.status();
      return sum_into(tx, dst, [] {});
    });
  }));
  EXPECT_EQ(balance(dst), 100 * kReadRows);
  EXPECT_EQ(stats(kCoordinator).validate_rpcs, 1u);
  EXPECT_EQ(stats(kCoordinator).validated_one_sided, 1u) << "only the object of kWritePrimary";
  EXPECT_EQ(stats(kReadPrimary).validations_served, 1u);
  EXPECT_EQ(stats(kReadPrimary).validations_refused, 0u);
  EXPECT_EQ(stats(kWritePrimary).validations_served, 0u);

  // A read-only transaction validates the same way (no LOCK before it).
  ASSERT_OK(c_->on(kCoordinator, [&](Context& ctx) {
    return c_->txn(kCoordinator).transact(ctx, [&](Tx& tx) -> Status {
      for (uint32_t r = 0; r < kReadRows; ++r)
        if (Status st = tx.read<Account>(acct(kReadPrimary, r)).status(); !st.ok()) return st;
      return Status::OK();
    });
  }));
  EXPECT_EQ(stats(kCoordinator).read_only_commits, 1u);
  EXPECT_EQ(stats(kCoordinator).validate_rpcs, 2u);
  EXPECT_EQ(stats(kCoordinator).validated_one_sided, 1u);
  EXPECT_EQ(stats(kReadPrimary).validations_served, 2u);
}

TEST_F(TxnValidateRpcTest, ObjectChangedBetweenReadAndCommitIsRefusedAndTheRetrySeesTheNewValue) {
  const GAddr dst = acct(kWritePrimary, 0), changed = acct(kReadPrimary, 3);
  bool read_done = false, other_done = false;
  int attempts = 0;
  c_->worker(kCoordinator).spawn([&](Context& ctx) {
    EXPECT_OK(c_->txn(kCoordinator).transact(ctx, [&](Tx& tx) -> Status {
      ++attempts;
      return sum_into(tx, dst, [&] {
        read_done = true;
        while (!other_done) ctx.yield();  // the other transaction commits now
      });
    }));
  });
  // On the primary itself, so the new version is installed (unlocked) at
  // once: the VALIDATE sees "changed", not "locked".
  c_->worker(kReadPrimary).spawn([&](Context& ctx) {
    while (!read_done) ctx.yield();
    EXPECT_OK(c_->txn(kReadPrimary).transact(ctx, [&](Tx& tx) -> Status {
      auto x = tx.read<Account>(changed);
      if (!x.ok()) return x.status();
      tx.write(*x)->balance = 1000;
      return Status::OK();
    }));
    EXPECT_EQ(word(changed), obj::kAllocBit | 2);
    other_done = true;
  });
  ASSERT_OK(c_->run());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(stats(kCoordinator).aborts[static_cast<int>(AbortCause::kValidation)], 1u);
  EXPECT_EQ(stats(kCoordinator).aborts_total(), 1u);
  EXPECT_EQ(stats(kCoordinator).validate_rpcs, 2u);
  EXPECT_EQ(stats(kCoordinator).validated_one_sided, 0u);
  EXPECT_EQ(stats(kReadPrimary).validations_served, 2u);
  EXPECT_EQ(stats(kReadPrimary).validations_refused, 1u);
  EXPECT_EQ(balance(dst), 100 * (kReadRows - 1) + 1000) << "the retry read the new value";
  EXPECT_EQ(word(dst), obj::kAllocBit | 2) << "the refused attempt installed nothing and unlocked";
  EXPECT_EQ(c_->txn(kWritePrimary).lock_log_size(), 0u);
}

TEST_F(TxnValidateRpcTest, LockedObjectInTheValidateSetIsRefused) {
  const GAddr dst = acct(kWritePrimary, 0), locked = acct(kReadPrimary, 2);
  const uint64_t unlocked_word = word(locked);
  bool read_done = false, is_locked = false, released = false, finished = false;
  int attempts = 0;
  c_->worker(kCoordinator).spawn([&](Context& ctx) {
    EXPECT_OK(c_->txn(kCoordinator).transact(ctx, [&](Tx& tx) -> Status {
      if (++attempts == 2)
        while (!released) ctx.yield();  // reading it locked would be another abort cause
      return sum_into(tx, dst, [&] {
        read_done = true;
        while (!is_locked) ctx.yield();
      });
    }));
    finished = true;
  });
  // Holds the lock bit, as a committing transaction would, until the
  // coordinator starts its second attempt.
  c_->worker(kReadPrimary).spawn([&](Context& ctx) {
    while (!read_done) ctx.yield();
    obj::store_word(primary_copy(locked), unlocked_word | obj::kLockBit);
    is_locked = true;
    while (attempts < 2 && !finished) ctx.yield();  // `finished`: a wrong commit
    obj::store_word(primary_copy(locked), unlocked_word);
    released = true;
  });
  ASSERT_OK(c_->run());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(stats(kCoordinator).aborts[static_cast<int>(AbortCause::kValidation)], 1u);
  EXPECT_EQ(stats(kCoordinator).aborts_total(), 1u);
  EXPECT_EQ(stats(kReadPrimary).validations_served, 2u);
  EXPECT_EQ(stats(kReadPrimary).validations_refused, 1u);
  EXPECT_EQ(word(locked), unlocked_word);
  EXPECT_EQ(balance(dst), 100 * kReadRows);
  EXPECT_EQ(word(dst), obj::kAllocBit | 2);
  EXPECT_EQ(c_->txn(kWritePrimary).lock_log_size(), 0u);
}

}  // namespace
}  // namespace remora::testing
