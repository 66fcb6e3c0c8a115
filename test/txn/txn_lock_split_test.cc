// LOCK records to one primary split over several messages (CommitPlan: the
// records to one node share a message while they fit in max_request()),
// with one message refused: the locks the other messages took must all be
// released by the ABORT, nothing installed, the lock log left empty, and
// the retry must commit. Ordering between the coroutines is explicit.
#include <gtest/gtest.h>

#include <cstring>

#include "remora/txn/object.h"
#include "support/status_matchers.h"
#include "txn/txn_loopback.h"
#include "txn/wire.h"

namespace remora::testing {
namespace {

// Two of these fit in one LOCK message of the loopback's rings, three do
// not (checked in SetUp against the real limit).
struct Big {
  uint64_t tag;
  uint64_t round;
  char fill[2992];
};
static_assert(sizeof(Big) == 3008);

constexpr NodeId kCoordinator = 0, kPrimary = 1;
constexpr uint32_t kObjects = 6;  // three LOCK messages of two records each

enum class Spoil { kChange, kLock };

class TxnLockSplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(build_loopback({}, &c_));
    // The premise: records go whole (not staged), two per message.
    const size_t limit = c_->net().engine(kCoordinator).rpc().max_request();
    const size_t record = sizeof(txn_detail::EntryHeader) + txn_detail::padded(sizeof(Big));
    const size_t room = sizeof(txn_detail::MsgHeader) +
                        sizeof(TxId) * c_->txn(kCoordinator).options().truncate_batch;
    ASSERT_LE(room + record, limit) << "a record would be staged";
    ASSERT_LE(sizeof(txn_detail::MsgHeader) + 2 * record, limit);
    ASSERT_GT(sizeof(txn_detail::MsgHeader) + 3 * record, limit);
    auto t = c_->store(kPrimary).create_table(
        "big", kObjects, sizeof(Big), [](uint32_t row, std::span<std::byte> p) {
          Big b{};
          b.tag = row;
          std::memset(b.fill, 'a' + static_cast<int>(row), sizeof b.fill);
          std::memcpy(p.data(), &b, sizeof b);
        });
    ASSERT_OK(t);
    table_ = *t;
    for (uint32_t i = 0; i < kObjects; ++i) initial_.push_back(snapshot(i));
  }
  GAddr obj_at(uint32_t i) const { return table_.row(i); }
  std::byte* primary_copy(uint32_t i) {
    return c_->store(kPrimary).local_object(obj_at(i), obj::footprint(sizeof(Big)));
  }
  uint64_t word(uint32_t i) { return obj::load_word(primary_copy(i)); }
  std::vector<std::byte> snapshot(uint32_t i) {
    return std::vector<std::byte>(primary_copy(i), primary_copy(i) + obj::footprint(sizeof(Big)));
  }
  Big value(uint32_t i) {
    Big b;
    std::memcpy(&b, primary_copy(i) + obj::kHeaderSize, sizeof b);
    return b;
  }

  // Node kCoordinator writes every object (round = its attempt); between
  // its reads and its commit, object `victim` is changed by a transaction
  // of kPrimary or locked until the second attempt starts. The first
  // attempt's LOCK message holding `victim` is refused, the others are
  // granted. At the start of the second attempt every other object must be
  // back as it was: unlocked, same version, same bytes.
  void run_refusal(uint32_t victim, Spoil spoil) {
    bool read_done = false, spoiled = false, released = false, finished = false;
    int attempts = 0;
    const uint64_t victim_word = word(victim);
    c_->worker(kCoordinator).spawn([&](Context& ctx) {
      EXPECT_OK(c_->txn(kCoordinator).transact(ctx, [&](Tx& tx) -> Status {
        if (++attempts == 2) {
          while (!released) ctx.yield();
          check_released_after_abort(ctx, victim, spoil);
        }
        std::vector<ObjRef<Big>> refs;
        for (uint32_t i = 0; i < kObjects; ++i) {
          auto r = tx.read<Big>(obj_at(i));
          if (!r.ok()) return r.status();
          refs.push_back(*r);
        }
        read_done = true;
        while (!spoiled) ctx.yield();
        for (ObjRef<Big>& r : refs) {
          Big* b = tx.write(r);
          b->round = static_cast<uint64_t>(attempts);
          std::memset(b->fill, 'z', sizeof b->fill);
        }
        return Status::OK();
      }));
      finished = true;
    });
    c_->worker(kPrimary).spawn([&](Context& ctx) {
      while (!read_done) ctx.yield();
      if (spoil == Spoil::kChange) {
        EXPECT_OK(c_->txn(kPrimary).transact(ctx, [&](Tx& tx) -> Status {
          auto r = tx.read<Big>(obj_at(victim));
          if (!r.ok()) return r.status();
          tx.write(*r)->round = 99;
          return Status::OK();
        }));
        spoiled = released = true;
        return;
      }
      obj::store_word(primary_copy(victim), victim_word | obj::kLockBit);
      spoiled = true;
      while (attempts < 2 && !finished) ctx.yield();  // `finished`: a wrong commit
      obj::store_word(primary_copy(victim), victim_word);
      released = true;
    });
    ASSERT_OK(c_->run());
    EXPECT_EQ(attempts, 2);
    const TxnStats& s = c_->txn(kCoordinator).stats();
    EXPECT_EQ(s.aborts[static_cast<int>(AbortCause::kLockRefused)], 1u);
    EXPECT_EQ(s.aborts_total(), 1u);
    EXPECT_EQ(c_->txn(kPrimary).stats().locks_refused, 1u);
    EXPECT_EQ(c_->txn(kPrimary).lock_log_size(), 0u);
    // The retry installed every object, once.
    for (uint32_t i = 0; i < kObjects; ++i) {
      const uint64_t v = i == victim && spoil == Spoil::kChange ? 3 : 2;
      EXPECT_EQ(word(i), obj::kAllocBit | v) << "object " << i;
      EXPECT_EQ(value(i).round, 2u) << "object " << i;
      EXPECT_EQ(value(i).tag, i) << "object " << i;
      EXPECT_EQ(value(i).fill[0], 'z') << "object " << i;
    }
  }

  // At the start of the second attempt: the ABORT (one-way) has been or is
  // about to be served by kPrimary, which this coroutine lets run.
  void check_released_after_abort(Context& ctx, uint32_t victim, Spoil spoil) {
    for (int i = 0; i < 1000 && c_->txn(kPrimary).lock_log_size() != 0; ++i) ctx.yield();
    EXPECT_EQ(c_->txn(kPrimary).lock_log_size(), 0u) << "the ABORT left LOCK records";
    for (uint32_t i = 0; i < kObjects; ++i) {
      if (i == victim && spoil == Spoil::kChange) continue;
      EXPECT_FALSE(obj::locked(word(i))) << "object " << i << " still locked";
      EXPECT_TRUE(snapshot(i) == initial_[i])
          << "object " << i << " changed (word, size, crc or payload)";
    }
    // Only the spoiling transaction installed anything.
    EXPECT_EQ(c_->txn(kPrimary).stats().installs, spoil == Spoil::kChange ? 1u : 0u);
  }

  std::unique_ptr<TxnLoopback> c_;
  Table table_;
  std::vector<std::vector<std::byte>> initial_;
};

TEST_F(TxnLockSplitTest, LastMessageRefusedReleasesTheLocksOfTheEarlierMessages) {
  run_refusal(kObjects - 1, Spoil::kChange);
}

TEST_F(TxnLockSplitTest, MiddleMessageLockedReleasesTheLocksOfTheOthers) {
  run_refusal(kObjects / 2, Spoil::kLock);
}

TEST_F(TxnLockSplitTest, FirstMessageRefusedReleasesTheLocksOfTheLaterMessages) {
  run_refusal(0, Spoil::kChange);
}

TEST_F(TxnLockSplitTest, FirstMessageLockedReleasesTheLocksOfTheLaterMessages) {
  run_refusal(1, Spoil::kLock);
}

}  // namespace
}  // namespace remora::testing
