// The SmallBank mix, in one place for the bank app and the Redis comparator
// (bench/redis_smallbank.cc), so both always run the same workload
// (../shared/notes/workloads.md): SendPayment 25, Amalgamate 15, Balance 15,
// DepositChecking 15, TransactSavings 15, WriteCheck 15; a hot set of the
// first `hot` accounts takes `hot_fraction` of the accesses.
#pragma once

#include <algorithm>
#include <cstdint>

#include "rng.h"

namespace remora::smallbank {

enum class TxType : uint8_t { kSendPayment, kAmalgamate, kBalance, kDepositChecking, kTransactSavings, kWriteCheck, kCount };

inline const char* tx_type_name(TxType t) {
  static const char* names[] = {"send_payment", "amalgamate", "balance", "deposit_checking", "transact_savings",
                                "write_check"};
  return t < TxType::kCount ? names[static_cast<int>(t)] : "?";
}

inline TxType pick_type(app::Rng& r) {
  const uint64_t x = r.below(100);
  if (x < 25) return TxType::kSendPayment;
  if (x < 40) return TxType::kAmalgamate;
  if (x < 55) return TxType::kBalance;
  if (x < 70) return TxType::kDepositChecking;
  if (x < 85) return TxType::kTransactSavings;
  return TxType::kWriteCheck;
}

// An account of [0, accounts): from the hot set with probability
// hot_fraction (hot 0: uniform).
inline uint64_t pick_account(app::Rng& r, uint64_t accounts, uint64_t hot, double hot_fraction) {
  hot = std::min(hot, accounts);
  if (hot > 0 && r.unit() < hot_fraction) return r.below(hot);
  return r.below(accounts);
}

}  // namespace remora::smallbank
