// Recorded histories of the real transaction layer: contended transfers,
// audits and lock-free reads on three in-process nodes (loopback fabric, all
// coroutines in the test's thread, the tables as load records) must pass
// the checker; the same history with one read moved to an older version
// must not.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "histcheck/checker.h"
#include "history/temp_dir.h"
#include "remora/history/history.h"
#include "support/status_matchers.h"
#include "txn/txn_loopback.h"

namespace remora::testing {
namespace {

struct Account {
  int64_t balance;
  uint64_t pad;
};

constexpr uint32_t kRowsPerNode = 2;  // few hot accounts: heavy contention
constexpr int kCoroutinesPerNode = 6;
constexpr int kTxPerCoroutine = 25;
constexpr int64_t kInitial = 1000;

class TxnHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = HistoryWriter::open(tmp_.path(), 0);
    ASSERT_OK(w);
    writer_ = std::move(*w);
    TxnLoopbackSpec spec;
    spec.txn.history = writer_.get();  // one writer shared by the three nodes: one file
    auto c = TxnLoopback::create(spec);
    ASSERT_OK(c);
    c_ = std::move(*c);
    for (NodeId n = 0; n < c_->config().nodes.size(); ++n) {
      auto t = c_->store(n).create_table("acct", kRowsPerNode, sizeof(Account), [](uint32_t, std::span<std::byte> p) {
        Account a{kInitial, 0};
        std::memcpy(p.data(), &a, sizeof a);
      });
      ASSERT_OK(t);
      for (uint32_t r = 0; r < kRowsPerNode; ++r) accounts_.push_back(t->row(r));
      writer_->append_tables(c_->store(n));
    }
  }

  // Moves money between two random accounts, or (one in four) reads every
  // account and checks the total.
  void client(NodeId n, Context& ctx, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < kTxPerCoroutine; ++i) {
      size_t a = rng() % accounts_.size(), b = (a + 1 + rng() % (accounts_.size() - 1)) % accounts_.size();
      bool audit = rng() % 4 == 0;
      int64_t amount = static_cast<int64_t>(1 + rng() % 5), total = 0;
      Status st = c_->txn(n).transact(ctx, [&](Tx& tx) -> Status {
        total = 0;
        if (audit) {
          for (GAddr x : accounts_) {
            auto r = tx.read<Account>(x);
            if (!r.ok()) return r.status();
            total += (*r)->balance;
          }
          return Status::OK();
        }
        auto x = tx.read<Account>(accounts_[a]);
        if (!x.ok()) return x.status();
        auto y = tx.read<Account>(accounts_[b]);
        if (!y.ok()) return y.status();
        tx.write(*x)->balance -= amount;
        tx.write(*y)->balance += amount;
        return Status::OK();
      });
      EXPECT_OK(st);
      if (st.ok()) ++committed_;
      // A lock-free read now and then: recorded, checked like the rest.
      if (rng() % 2 == 0) {
        auto r = c_->txn(n).lockfree_read<Account>(ctx, accounts_[b]);
        if (r.ok()) ++lockfree_ok_;
      }
      if (st.ok() && audit) {
        EXPECT_EQ(total, kInitial * static_cast<int64_t>(accounts_.size()));
      }
    }
  }

  Result<History> run_workload() {
    for (NodeId n = 0; n < c_->config().nodes.size(); ++n) {
      for (int k = 0; k < kCoroutinesPerNode; ++k) {
        c_->worker(n).spawn([this, n, k](Context& ctx) { client(n, ctx, n * 100u + static_cast<uint64_t>(k)); });
      }
    }
    REMORA_RETURN_IF_ERROR(c_->run(std::chrono::milliseconds(60000)));
    REMORA_RETURN_IF_ERROR(writer_->flush());
    return histcheck::load_history({tmp_.path()});
  }

  TempDir tmp_;
  std::unique_ptr<HistoryWriter> writer_;
  std::unique_ptr<TxnLoopback> c_;
  std::vector<GAddr> accounts_;
  uint64_t committed_ = 0;
  uint64_t lockfree_ok_ = 0;
};

// Moves one committed read-modify-write's read back to the version before
// the one it saw: the transaction now skipped a version it overwrote.
bool inject_skipped_version(std::vector<HistoryRecord>* h) {
  std::map<uint64_t, std::vector<uint64_t>> versions;  // object -> versions read or written
  for (const HistoryRecord& r : *h) {
    if (!r.committed()) continue;
    for (const auto& [a, v] : r.reads) versions[a].push_back(v);
    for (const auto& [a, v] : r.writes) versions[a].push_back(v);
  }
  for (auto& [a, vs] : versions) std::sort(vs.begin(), vs.end());
  for (HistoryRecord& r : *h) {
    if (!r.committed() || r.writes.empty()) continue;
    for (auto& [a, v] : r.reads) {
      const std::vector<uint64_t>& vs = versions[a];
      auto it = std::lower_bound(vs.begin(), vs.end(), v);
      if (it == vs.begin()) continue;
      v = *(it - 1);
      return true;
    }
  }
  return false;
}

TEST_F(TxnHistoryTest, ContendedHistoryIsStrictlySerializable) {
  Result<History> h = run_workload();
  ASSERT_OK(h);
  Result<histcheck::CheckResult> r = histcheck::check_history(*h);
  ASSERT_OK(r);
  std::printf("%s", r->summary().c_str());
  EXPECT_TRUE(r->ok()) << r->summary();
  EXPECT_EQ(r->committed, committed_);
  uint64_t attempts = 0;
  for (NodeId n = 0; n < c_->config().nodes.size(); ++n) attempts += c_->txn(n).stats().attempts;
  EXPECT_EQ(r->transactions, attempts);
  EXPECT_GT(r->edges_rw, 0u);
  EXPECT_TRUE(r->strict);
  EXPECT_EQ(r->loaded, accounts_.size());
  EXPECT_GE(r->lockfree, lockfree_ok_);
  EXPECT_GT(lockfree_ok_, 0u);

  ASSERT_TRUE(inject_skipped_version(&h->records));
  r = histcheck::check_history(*h);
  ASSERT_OK(r);
  EXPECT_FALSE(r->ok());
  EXPECT_FALSE(r->cycle.empty()) << r->summary();
}

}  // namespace
}  // namespace remora::testing
