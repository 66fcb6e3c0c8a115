// SmallBank over Remora transactions (../shared/notes/workloads.md).
//
// Two tables per node, "checking" and "savings", one 8-byte balance per
// account. Accounts are numbered over the whole cluster: account g lives on
// the node at position g % nodes, row g / nodes. A hot set of the first
// `hot` accounts takes `hot_fraction` of the accesses. Mix: SendPayment 25,
// Amalgamate 15, Balance 15 (read-only), DepositChecking 15,
// TransactSavings 15, WriteCheck 15.
//
// Money only moves, except through deposits and checks, which every worker
// counts (`net`): at the end, the sum over all accounts must equal
// accounts * 2 * kInitialBalance + the sum of every node's net.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "remora/common/status.h"
#include "smallbank_mix.h"
#include "workload.h"
#include "remora/runtime/context.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"

namespace remora::bank {

constexpr int64_t kInitialBalance = 10000;

using smallbank::TxType;
using smallbank::tx_type_name;

struct BankOptions {
  uint32_t accounts = 100000;   // per node
  uint32_t hot = 4000;          // cluster-wide hot set (first accounts); 0 = uniform
  double hot_fraction = 0.9;
};

// Where every node's tables are, by node position.
struct BankLayout {
  std::vector<NodeId> nodes;
  std::vector<Table> checking, savings;
  GAddr checking_of(uint64_t account) const;
  GAddr savings_of(uint64_t account) const;
  uint64_t accounts() const;  // cluster-wide
};

// Load time on every node: the two tables with kInitialBalance each.
Status load(Store& store, uint32_t accounts);

// In a coroutine, after every node loaded (and a barrier): both tables of
// every node through the catalog.
Result<BankLayout> resolve(Context& ctx, TxnEngine& txn, const std::vector<NodeId>& nodes);

// What one worker thread (all its coroutines) did besides `rec`'s
// latencies by type.
struct BankStats {
  uint64_t insufficient = 0;  // SendPayment refused by the application (no write, not in rec)
  int64_t net = 0;            // deposits - checks, committed only
};

// Runs transactions back to back until `info` says stop; records each
// committed one in `rec` (by TxType), ones that ran out of attempts in
// rec.gave_up. Returns the first non-retryable error.
Status run_coroutine(Context& ctx, TxnEngine& txn, const BankLayout& layout, const BankOptions& opts,
                     const app::RunInfo& info, app::Recorder& rec, BankStats& stats);

// Sums every account of every node with one-sided reads of whole tables
// (run when no transaction is running); kCorrupt if a row is locked or torn.
Result<int64_t> total_balance(Context& ctx, TxnEngine& txn, const BankLayout& layout);

}  // namespace remora::bank
