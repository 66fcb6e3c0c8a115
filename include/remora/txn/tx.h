// Tx: one attempt of a transaction, handed to the function given to
// TxnEngine::transact() (docs/transactions.md).
//
//   Status s = txn.transact(ctx, [&](Tx& tx) -> Status {
//     auto from = tx.read<Account>(a);   // Result<ObjRef<Account>>
//     if (!from.ok()) return from.status();
//     tx.write(*from)->balance -= 10;    // the transaction's private copy
//     return Status::OK();               // commit; any error aborts
//   });
//
// Reads are one-sided and consistent (unlocked, checksum verified); writes
// are buffered until commit. Reading an object twice returns the same copy.
// Objects are trivially copyable types whose size is the object's size.
// Owner coroutine only; a Tx and its ObjRefs live until the attempt ends.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"
#include "remora/txn/txid.h"

namespace remora {

class Context;
class Tx;
class TxnEngine;
namespace txn_detail {
struct AttemptScratch;
struct CommitPlan;
}

// Why an attempt ended without committing.
enum class AbortCause : uint8_t {
  kLockRefused,  // a primary refused a lock (locked or changed since read)
  kValidation,   // a read-only object changed before commit
  kReadLocked,   // execution read a locked object
  kReadTorn,     // execution kept reading torn copies
  kApplication,  // the function returned an error
  kError,        // the fabric or a peer failed (not retried)
  kCount,
};
const char* abort_cause_name(AbortCause c);

// A typed handle on an object in a transaction's read or write set.
template <typename T>
class ObjRef {
 public:
  ObjRef() = default;
  GAddr addr() const;
  // The transaction's copy: what it read, or what it has written so far.
  const T* get() const;
  const T* operator->() const { return get(); }
  const T& operator*() const { return *get(); }

 private:
  friend class Tx;
  ObjRef(Tx* tx, uint32_t entry) : tx_(tx), entry_(entry) {}
  Tx* tx_ = nullptr;
  uint32_t entry_ = 0;
};

class Tx {
 public:
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  ~Tx();

  const TxId& id() const { return id_; }

  // Reads the object at `a` (its size must be sizeof(T)). kNotFound if it is
  // not allocated, kConflict if it stays locked or torn, kInvalidArgument for
  // a size mismatch, kOutOfRange / kPeerGone from the fabric. Before it
  // reports kNotFound or a size mismatch, it re-validates what the attempt
  // read so far: if that changed, the answer is kConflict (the address may
  // have come from a stale object), so such errors are never artefacts of
  // an inconsistent read.
  template <typename T>
  Result<ObjRef<T>> read(GAddr a);
  // Marks the object written; returns the copy to modify (valid until the
  // attempt ends). REQUIRES: r came from this Tx.
  template <typename T>
  T* write(ObjRef<T>& r);
  // A new object of sizeof(T) bytes on this node, value-initialised;
  // allocated when the transaction commits. kOutOfMemory if no slot.
  template <typename T>
  Result<ObjRef<T>> alloc();
  // Frees the object when the transaction commits; kInvalidArgument if this
  // transaction already freed it.
  template <typename T>
  Status free(ObjRef<T>& r);

  // Untyped forms. read_bytes: `size` must be the object's size.
  Result<uint32_t> read_entry(GAddr a, uint32_t size);
  std::byte* write_entry(uint32_t entry);
  Result<uint32_t> alloc_entry(uint32_t size);
  Status free_entry(uint32_t entry);
  const std::byte* payload(uint32_t entry) const { return entries_[entry].data; }
  GAddr entry_addr(uint32_t entry) const { return entries_[entry].addr; }

  size_t read_set_size() const;
  size_t write_set_size() const;

 private:
  friend class TxnEngine;
  friend struct txn_detail::AttemptScratch;
  friend struct txn_detail::CommitPlan;
  friend struct TxnAccess;  // tests

  struct Entry {
    GAddr addr;
    NodeId primary = kInvalidNode;
    uint64_t seen = 0;  // word when read (unlocked); for alloc: the free slot's word
    uint32_t size = 0;
    std::byte* data = nullptr;  // payload copy in the arena
    bool read = false;          // read by the application (in the read set)
    bool written = false;
    bool fresh = false;  // allocated by this transaction
    bool freed = false;
    // fresh: no version at this address so far exceeded this (the block's
    // version floor: blocks of freed objects are reused with other layouts).
    uint64_t floor = 0;
    // The word a commit installs: next version, allocated unless freed.
    uint64_t new_word() const;
  };

  // What an attempt's Tx borrows and gives back cleared (its capacity
  // kept): the entries and the arena's chunks of kChunk bytes.
  struct Buffers {
    std::vector<Entry> entries;
    std::unordered_map<uint64_t, uint32_t> by_addr;
    std::vector<std::unique_ptr<std::byte[]>> chunks;
  };

  Tx(TxnEngine& engine, Context& ctx, TxId id, Buffers& buffers, txn_detail::AttemptScratch& scratch);
  std::byte* arena_alloc(uint32_t size);
  // `prior`: entries read before the one that produced `st`.
  Status anomaly(Status st, size_t prior);
  int find(GAddr a) const;
  void index(uint32_t entry);

  TxnEngine& engine_;
  Context& ctx_;
  TxId id_;
  AbortCause cause_ = AbortCause::kApplication;  // set by reads that conflict
  bool installing_ = false;  // COMMIT_PRIMARY sent: fresh slots are no longer ours
  bool unknown_ = false;     // COMMIT_PRIMARY not delivered: outcome unknown
  Buffers& home_;                              // where the buffers go back
  txn_detail::AttemptScratch& scratch_;        // the commit's buffers
  std::vector<Entry> entries_;
  std::unordered_map<uint64_t, uint32_t> by_addr_;  // used once entries_ grows
  // The arena: chunks_[0, chunks_in_use_) hold this attempt's copies, the
  // rest are kept for later attempts; payloads larger than a chunk get
  // their own block in big_, freed with the attempt.
  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  std::vector<std::unique_ptr<std::byte[]>> big_;
  size_t chunks_in_use_ = 0, chunk_used_ = 0;
};

template <typename T>
GAddr ObjRef<T>::addr() const {
  return tx_->entry_addr(entry_);
}

template <typename T>
const T* ObjRef<T>::get() const {
  return reinterpret_cast<const T*>(tx_->payload(entry_));
}

template <typename T>
Result<ObjRef<T>> Tx::read(GAddr a) {
  static_assert(std::is_trivially_copyable_v<T>, "objects are trivially copyable");
  static_assert(alignof(T) <= 16);
  auto e = read_entry(a, sizeof(T));
  if (!e.ok()) return e.status();
  return ObjRef<T>(this, *e);
}

template <typename T>
T* Tx::write(ObjRef<T>& r) {
  return reinterpret_cast<T*>(write_entry(r.entry_));
}

template <typename T>
Result<ObjRef<T>> Tx::alloc() {
  static_assert(std::is_trivially_copyable_v<T>, "objects are trivially copyable");
  static_assert(alignof(T) <= 16);
  auto e = alloc_entry(sizeof(T));
  if (!e.ok()) return e.status();
  new (entries_[*e].data) T();
  return ObjRef<T>(this, *e);
}

template <typename T>
Status Tx::free(ObjRef<T>& r) {
  return free_entry(r.entry_);
}

}  // namespace remora
