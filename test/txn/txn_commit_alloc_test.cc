// Heap allocations per committed transaction, on the coordinator and on
// the participants (docs/transactions.md, "Allocations on the commit
// path"). This binary alone links the counting operator new
// (alloc_counter.cc).
//
// The loopback cluster runs every node in this thread, so allocations are
// told apart by the worker being polled: the test drives the workers
// itself and sets the counter's bucket to node n while it polls node n's
// worker. Node 0 coordinates and holds nothing the transactions touch: with
// four nodes and one backup (node n's regions are backed up on n + 1), they
// write nodes 1 and 2 (backups on 2 and 3) and only read node 3. So node
// 0's bucket counts the coordinator's work — executing the transaction,
// building and sending the messages, waiting for the answers — and nothing
// else; nodes 1-3 count the participants'.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "remora/txn/object.h"
#include "support/status_matchers.h"
#include "txn/alloc_counter.h"
#include "txn/txn_loopback.h"

namespace remora::testing {
namespace {

namespace ac = alloc_counter;

struct Account {
  int64_t balance;
  uint64_t tag;
};

constexpr uint32_t kRows = 16;
constexpr NodeId kCoordinator = 0;

struct Counts {
  uint64_t by_node[ac::kBuckets] = {};
  uint64_t commits = 0;
};

class TxnCommitAllocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TxnLoopbackSpec spec;
    spec.nodes = 4;
    ASSERT_NO_FATAL_FAILURE(build_loopback(spec, &c_));
    for (NodeId n = 0; n < spec.nodes; ++n) {
      auto t = c_->store(n).create_table("acct", kRows, sizeof(Account), [&](uint32_t row, std::span<std::byte> p) {
        Account a{1000, n * 100u + row};
        std::memcpy(p.data(), &a, sizeof a);
      });
      ASSERT_OK(t);
      tables_.push_back(*t);
    }
  }
  void TearDown() override { ac::set_bucket(ac::kNone); }

  GAddr acct(NodeId n, uint32_t row) const { return tables_[n].row(row % kRows); }

  // Transaction i of a SmallBank-like mix (all coordinated by node 0):
  // transfers between nodes 1 and 2 (with local_: 1 and 0), some also
  // reading node 3 (validated one-sided), and read-only balances of six
  // accounts of node 1 (validated with a VALIDATE RPC, more than
  // validate_rpc_threshold).
  Status one(Context& ctx, uint32_t i) {
    const NodeId second = local_ ? kCoordinator : 2;
    return c_->txn(kCoordinator).transact(ctx, [&](Tx& tx) -> Status {
      if (i % 4 == 3) {
        int64_t sum = 0;
        for (uint32_t k = 0; k < 6; ++k) {
          auto a = tx.read<Account>(acct(1, i + k));
          if (!a.ok()) return a.status();
          sum += (*a)->balance;
        }
        return sum > 0 ? Status::OK() : Status::Internal("negative bank");
      }
      auto x = tx.read<Account>(acct(1, i));
      if (!x.ok()) return x.status();
      auto y = tx.read<Account>(acct(second, i + 1));
      if (!y.ok()) return y.status();
      if (i % 4 == 2) {
        for (uint32_t k = 0; k < 2; ++k) {
          auto z = tx.read<Account>(acct(3, i + k));
          if (!z.ok()) return z.status();
        }
      }
      tx.write(*x)->balance -= 1;
      tx.write(*y)->balance += 1;
      return Status::OK();
    });
  }

  Counts snapshot() {
    Counts c;
    for (int b = 0; b < ac::kBuckets; ++b) c.by_node[b] = ac::count(b);
    c.commits = c_->txn(kCoordinator).stats().commits;
    return c;
  }

  // Drives every worker, each with its own bucket, until all coroutines ended.
  void drive() {
    for (bool busy = true; busy;) {
      busy = false;
      for (NodeId n = 0; n < c_->config().nodes.size(); ++n) {
        Worker& w = c_->worker(n);
        ac::set_bucket(static_cast<int>(n));
        busy |= w.poll_once() > 0;
        busy |= w.live() > 0 || w.queued() > 0;
        ac::set_bucket(ac::kNone);
      }
    }
  }

  // Runs `warmup` then `measured` transactions on one coroutine of node 0;
  // the counts at the start and end of the measured ones.
  void run(uint32_t warmup, uint32_t measured, Counts* before, Counts* after) {
    Status out = Status::Internal("did not run");
    c_->worker(kCoordinator).spawn([&](Context& ctx) {
      for (uint32_t i = 0; i < warmup + measured; ++i) {
        if (i == warmup) *before = snapshot();
        out = one(ctx, i);
        if (!out.ok()) return;
      }
      *after = snapshot();
    });
    drive();
    ASSERT_OK(out);
  }

  uint64_t since(const Counts& before, const Counts& after, NodeId n) const {
    return after.by_node[n] - before.by_node[n];
  }

  std::unique_ptr<TxnLoopback> c_;
  std::vector<Table> tables_;
  bool local_ = false;
};

TEST_F(TxnCommitAllocTest, CoordinatorAllocatesNothingPerCommitInSteadyState) {
  constexpr uint32_t kWarmup = 400, kMeasured = 2000;
  Counts before, after;
  ASSERT_NO_FATAL_FAILURE(run(kWarmup, kMeasured, &before, &after));
  const uint64_t commits = after.commits - before.commits;
  ASSERT_EQ(commits, kMeasured) << "no conflicts with one coroutine";
  const uint64_t coord = after.by_node[kCoordinator] - before.by_node[kCoordinator];
  uint64_t part = 0;
  for (NodeId n = 1; n < c_->config().nodes.size(); ++n) part += after.by_node[n] - before.by_node[n];
  std::printf("allocations per committed transaction: coordinator %.3f, participants (3 nodes) %.3f\n",
              static_cast<double>(coord) / commits, static_cast<double>(part) / commits);
  std::printf("{\"bench\":\"commit_allocs\",\"commits\":%llu,\"coordinator\":%llu,\"participants\":%llu}\n",
              static_cast<unsigned long long>(commits), static_cast<unsigned long long>(coord),
              static_cast<unsigned long long>(part));
  // The coordinated transactions did commit and the counter does count.
  EXPECT_GT(ac::count(kCoordinator), 0u) << "warm-up allocates (pools, first messages): the counter works";
  EXPECT_EQ(coord, 0u) << "heap allocations on the coordinator in " << commits << " commits";
  // Participants pool their log records and map nodes too (the last
  // transactions' COMMIT_PRIMARY records may still be in flight: a bound,
  // not an exact count, would do; none are expected).
  EXPECT_EQ(part, 0u) << "heap allocations on the participants in " << commits << " commits";
}

// Node 0 is also a primary (served in place, without the rings) and a
// backup (of node 3): its count is the coordinator's plus its participant's.
TEST_F(TxnCommitAllocTest, LocalPrimaryServedInPlaceAllocatesNothingEither) {
  local_ = true;
  Counts before, after;
  ASSERT_NO_FATAL_FAILURE(run(400, 2000, &before, &after));
  ASSERT_EQ(after.commits - before.commits, 2000u);
  for (NodeId n = 0; n < c_->config().nodes.size(); ++n)
    EXPECT_EQ(since(before, after, n), 0u) << "heap allocations on node " << n;
}

}  // namespace
}  // namespace remora::testing
