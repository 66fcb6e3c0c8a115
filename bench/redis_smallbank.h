// SmallBank on Redis with optimistic WATCH/MULTI/EXEC transactions: the
// comparator for apps/bank (same mix, same account choice, same money
// semantics as apps/bank/smallbank.cc; keep the two in step).
//
// Accounts 0..N-1 are the keys checking:<id> and savings:<id>, decimal
// integers. A transaction that writes runs in two round trips:
//   1. WATCH <its keys> + MGET <its keys> (pipelined: Redis runs them in
//      order, so the values read are covered by the watch);
//   2. MULTI + SET ... + EXEC (pipelined); a nil EXEC reply means a watched
//      key changed since the WATCH: an abort, retried from step 1.
// Insufficient funds ends the transaction after step 1 with an UNWATCH
// (one more round trip), counted like the bank counts it: an attempt, not a
// commit, no write. Balance (read-only) is MULTI + GET + GET + EXEC in one
// pipelined round trip: Redis runs a MULTI block atomically, so the two
// reads are one snapshot and never abort (no WATCH needed).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "histogram.h"  // apps/common: the bank's latency histogram
#include "redis_client.h"
#include "smallbank_mix.h"  // apps/bank: the SmallBank mix
#include "remora/common/status.h"

namespace remora::redis {

constexpr int64_t kInitialBalance = 10000;  // as apps/bank

using smallbank::TxType;  // the bank's mix (apps/bank/smallbank_mix.h)
using smallbank::tx_type_name;
constexpr int kTxTypes = static_cast<int>(TxType::kCount);

struct WorkloadOptions {
  uint64_t accounts = 300000;  // in all (the bank's per-node count times nodes)
  uint64_t hot = 4000;         // the first `hot` accounts take hot_fraction of the accesses; 0 = uniform
  double hot_fraction = 0.9;
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  uint64_t max_txns = 0;       // per client; 0 = duration only
  uint32_t max_attempts = 1000;  // as the bank's TxnOptions: then the transaction is given up
};

// What one client did. Latencies are per committed transaction, retries
// included, in the bank's histograms (same buckets, same percentiles).
struct ClientStats {
  app::Histogram latency;                       // every committed transaction
  std::array<app::Histogram, kTxTypes> types;   // by TxType
  uint64_t attempts = 0;      // every try, including application aborts
  uint64_t aborts = 0;        // nil EXEC replies (conflicts)
  uint64_t insufficient = 0;  // SendPayment/Amalgamate refused for lack of funds
  uint64_t gave_up = 0;       // ran out of attempts
  int64_t net = 0;            // deposits - checks, committed only
  uint64_t total() const { return latency.count(); }
  void merge(const ClientStats& o);
};

// Runs transactions back to back until the duration or max_txns passes
// (whichever comes first) or `stop` is set. Returns the first error (a
// broken connection, a missing account, an error reply).
Status run_client(RedisClient& c, const WorkloadOptions& o, uint64_t seed, const std::atomic<bool>& stop,
                  ClientStats& stats);

// Sets every account's two balances to kInitialBalance (pipelined MSETs),
// reporting progress on stderr.
Status load_accounts(RedisClient& c, uint64_t accounts);

// The sum of every balance (pipelined MGETs); NotFound if an account is
// missing. Run when no transaction is running.
Result<int64_t> total_balance(RedisClient& c, uint64_t accounts);

}  // namespace remora::redis
