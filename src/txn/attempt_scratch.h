// AttemptScratch: every buffer one coroutine's transaction needs, kept by
// the TxnEngine and lent to one transact() call at a time (or to a flush of
// truncations), so that in steady state a committed transaction allocates
// nothing on the coordinator (docs/transactions.md, "Allocations on the
// commit path"). Buffers are cleared, never shrunk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "remora/fabric/types.h"
#include "remora/runtime/context.h"
#include "remora/txn/tx.h"
#include "txn/outgoing.h"

namespace remora {
class TxnEngine;
}

namespace remora::txn_detail {

// Why an attempt last conflicted locally, formatted only when asked (a
// transaction that gives up): validation found `addr` at word `now`, read
// at word `seen`.
struct LocalConflict {
  uint64_t addr = 0;
  uint64_t now = 0;
  uint64_t seen = 0;
  bool set = false;
  std::string describe() const;
};

// The buffers of send(): RPCs in flight and the in-place answer.
struct SendScratch {
  std::vector<Context::Call> calls;
  std::vector<size_t> remote;
  std::vector<std::byte> resp;
};

struct AttemptScratch {
  Tx::Buffers tx;  // lent to the Tx of each attempt
  // The commit's messages (CommitPlan), its ABORTs, validation.
  OutList stage_lock, lock, stage_backup, backup, primary, aborts, validate, truncs;
  SendScratch io;
  std::vector<const Tx::Entry*> reads;      // read-only entries, by primary
  std::vector<const Tx::Entry*> one_sided;  // of them, validated by READs
  std::vector<WorkRequest> batch;
  LocalConflict conflict;
};

// Lends an AttemptScratch of `engine`'s pool for its lifetime.
class ScratchLease {
 public:
  explicit ScratchLease(std::vector<std::unique_ptr<AttemptScratch>>& pool);
  ~ScratchLease();
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  AttemptScratch& operator*() { return *s_; }
  AttemptScratch* operator->() { return s_.get(); }

 private:
  std::vector<std::unique_ptr<AttemptScratch>>& pool_;
  std::unique_ptr<AttemptScratch> s_;
};

}  // namespace remora::txn_detail
