// Participant: what one engine thread does for other nodes' transactions.
//
// Primary side: LOCK (CAS-lock each object at the version the coordinator
// read, refuse at once on conflict, keep the record), VALIDATE, COMMIT_PRIMARY
// (install the logged writes, bump versions, unlock), ABORT (unlock).
// Backup side: COMMIT_BACKUP (keep the record in the log) and TRUNCATE
// (apply logged records to the replicas, newest version wins, then forget
// them). Requests from coordinator thread t of any node reach thread t
// here, so the logs need no locks; replicas and objects are shared by the
// node's threads and change only through atomic words.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "remora/common/status.h"
#include "remora/txn/store.h"
#include "remora/txn/txid.h"
#include "txn/slabs.h"
#include "txn/wire.h"

namespace remora {
struct TxnStats;
class TxnFaults;
}

namespace remora::txn_detail {

class Participant {
 public:
  // `faults` may be null (production).
  Participant(Store& store, Slabs& slabs, TxnStats& stats, TxnFaults* faults);

  // Serves one request of `method` (wire.h). OK or the reason to refuse.
  Status handle(uint16_t method, NodeId from, std::span<const std::byte> req,
                std::vector<std::byte>& resp);

  size_t backup_log_size() const { return backup_log_.size(); }
  size_t lock_log_size() const { return lock_log_.size(); }
  size_t staged_size() const { return staging_.size(); }

 private:
  using Records = std::vector<std::vector<std::byte>>;  // one or more messages
  using Log = std::unordered_map<TxId, Records, TxIdHash>;
  // The request with every staged payload inlined (consumed from staging_),
  // in a buffer of spare_bufs_.
  Result<std::vector<std::byte>> materialize(const MsgView& m, std::span<const std::byte> req);
  // `tx`'s records in `log` (a new, empty entry if none).
  Records& records_of(Log& log, const TxId& tx);
  // Forgets `it`, keeping its map node and buffers for later records.
  void forget(Log& log, Log::iterator it);
  std::vector<std::byte> take_buffer();
  Status stage(const MsgView& m);
  Status lock(const MsgView& m, std::span<const std::byte> req);
  Status lock_entries(const MsgView& m);
  Status validate(const MsgView& m);
  Status commit_backup(const MsgView& m, std::span<const std::byte> req);
  Status commit_primary(const MsgView& m);
  Status abort(const MsgView& m);
  Status release(const MsgView& m);
  void truncate(const TruncList& ids);
  void apply_to_replica(const EntryView& e);
  void zero_freed_tail(std::byte* o, uint32_t freed_size);
  void unlock(const MsgView& logged, size_t count);
  Status catalog(std::span<const std::byte> req, std::vector<std::byte>& resp);

  Store& store_;
  Slabs& slabs_;
  TxnStats& stats_;
  TxnFaults* const faults_;
  // LOCK records until COMMIT_PRIMARY or ABORT.
  Log lock_log_;
  // COMMIT_BACKUP records until TRUNCATE.
  Log backup_log_;
  // Map nodes and record buffers of forgotten records, reused by the next
  // ones: a participant allocates nothing per transaction once warm.
  std::vector<Log::node_type> spare_nodes_;
  std::vector<std::vector<std::byte>> spare_bufs_;
  // Payloads staged ahead of their LOCK / COMMIT_BACKUP, by tx and address.
  struct Staged {
    std::vector<std::byte> data;
    uint64_t got = 0;
  };
  std::unordered_map<TxId, std::unordered_map<uint64_t, Staged>, TxIdHash> staging_;
};

}  // namespace remora::txn_detail
