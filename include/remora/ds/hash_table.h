// HashTable: a distributed hash table on the transaction API (docs/ds.md).
//
// FaRM-style associative buckets with overflow chaining. The table's
// buckets are spread over every node of the cluster (bucket b lives on the
// node at position b % nodes, row b / nodes of that node's bucket array
// "<name>.buckets"); each bucket is one transactional object holding
// `slots` slots and the address of its first overflow bucket. A slot holds
// a 64-bit hash, the key and value lengths and, when key + value fit in
// `inline_bytes`, the key and value themselves; larger entries live in an
// object of their own (lengths, key, value; sized to fill its slab slot)
// that the slot points to. Layout details: src/ds/bucket.h.
//
//   // load time, every node (before Store::push_replicas):
//   HashTable::create(store, "kv", nodes, opts);
//   // optional bulk load of the keys whose bucket is on this node:
//   auto l = HashTableLoader::open(store, "kv");  l->add(key, value);
//   // in a coroutine, after every node loaded (and a barrier):
//   auto t = HashTable::open(ctx, txn, "kv");
//   t->lookup(ctx, txn, key, &value);                 // lock-free, no transaction
//   txn.transact(ctx, [&](Tx& tx) { return t->put(tx, key, value); });
//
// Lookups: one consistent one-sided read of the key's bucket in the common
// case (inline entry, no overflow); one more per overflow bucket walked and
// one more for an out-of-line entry. Linearizable like
// TxnEngine::lockfree_read: a lookup that sees the bucket change under it
// (an out-of-line object freed or reused) reads again.
//
// Growth: a full bucket chain gets an overflow bucket, allocated by the
// inserting transaction on the coordinator's node and linked from the last
// bucket; there is no rebuild and no compile-time capacity. An overflow
// bucket left empty by deletes is unlinked and freed by the delete.
// Keys and values are byte strings of any length (keys 1..65535 bytes,
// values 0..2^24 bytes), chosen per entry at run time.
//
// Everything a transaction does through a HashTable is part of that
// transaction (buckets enter its read and write sets), so concurrent
// inserts and deletes of the same key serialize through the bucket's
// version. Thread-compatible: a HashTable is a read-only description after
// open() and may be shared by coroutines of one thread; copy it per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"
#include "remora/txn/store.h"

namespace remora {

class Context;
class Tx;
class TxnEngine;
namespace ds_detail {
class Layout;
}

struct HashTableOptions {
  uint32_t buckets_per_node = 1024;  // >= 1
  uint32_t slots = 4;                // per bucket, 1..64
  uint32_t inline_bytes = 64;        // key + value bytes kept in a slot (multiple of 8, <= 64 KiB)
};

// Lookup / chain statistics of one operation (optional out-parameter).
struct HashOpInfo {
  uint32_t reads = 0;     // one-sided object reads issued (incl. retries)
  uint32_t buckets = 0;   // buckets walked
  bool out_of_line = false;
};

// 64-bit hash of a key; the same on every node and every build (the bucket
// of a key must not depend on the process).
uint64_t hash_key(std::span<const std::byte> key);

class HashTable {
 public:
  // Load time, on every node of `nodes` (the cluster's node ids in config
  // order, the same list on every node): creates this node's share (bucket
  // array "<name>.buckets", all empty, and a one-row "<name>.meta" with the
  // options and node count). kInvalidArgument for bad options or a name in
  // use, kOutOfMemory if the blocks are not there.
  static Status create(Store& store, const std::string& name, const std::vector<NodeId>& nodes,
                       const HashTableOptions& o);

  // In a coroutine, after every node created its share: looks up every
  // node's bucket array and meta row (catalog RPCs) and checks they agree;
  // kNotFound if a node has no such table, kCorrupt if the shares differ.
  static Result<HashTable> open(Context& ctx, TxnEngine& txn, const std::string& name);

  // Lock-free lookup (no transaction). Replaces *value with the key's
  // value; kNotFound if absent; kConflict if the bucket stays locked or
  // keeps changing.
  Status lookup(Context& ctx, TxnEngine& txn, std::span<const std::byte> key, std::vector<std::byte>* value,
                HashOpInfo* info = nullptr) const;

  // Entries in the whole table: every bucket chain walked with lock-free
  // reads. Meant for a quiescent table (checks after a run); under
  // concurrent writers the figure is not a snapshot.
  Result<uint64_t> count(Context& ctx, TxnEngine& txn) const;

  // Transactional operations: part of `tx` (see above).
  // Besides these, every call may return what Tx::read / Tx::alloc return
  // (kConflict, kOutOfMemory, kPeerGone, ...); transact() retries kConflict.
  //   get:    kNotFound if absent.
  //   insert: kAlreadyExists if present.
  //   update: kNotFound if absent.
  //   put:    insert or update.
  //   erase:  kNotFound if absent.
  // kInvalidArgument for an empty or oversized key or value.
  Status get(Tx& tx, std::span<const std::byte> key, std::vector<std::byte>* value) const;
  Status insert(Tx& tx, std::span<const std::byte> key, std::span<const std::byte> value) const;
  Status update(Tx& tx, std::span<const std::byte> key, std::span<const std::byte> value) const;
  Status put(Tx& tx, std::span<const std::byte> key, std::span<const std::byte> value) const;
  Status erase(Tx& tx, std::span<const std::byte> key) const;

  // Typed conveniences for trivially copyable keys and values.
  template <typename K>
  static std::span<const std::byte> bytes(const K& k) {
    return std::as_bytes(std::span<const K, 1>(&k, 1));
  }

  const std::string& name() const { return name_; }
  const HashTableOptions& options() const { return options_; }
  uint64_t buckets() const { return uint64_t{options_.buckets_per_node} * nodes_.size(); }
  // The node holding the key's (first) bucket, and that bucket's address.
  NodeId home(std::span<const std::byte> key) const;
  GAddr bucket_addr(uint64_t bucket) const;
  uint32_t bucket_size() const;  // object payload bytes of one bucket

 private:
  friend class ds_detail::Layout;
  std::string name_;
  HashTableOptions options_;
  std::vector<NodeId> nodes_;
  std::vector<Table> arrays_;  // bucket array by node position
  uint32_t block_size_ = 0;    // of this node's Store: sizes objects to fill their slots
};

// Load-time bulk insert into this node's own buckets, without transactions
// (before push_replicas, no transaction running). For keys whose home is
// another node, or whose bucket is full, add() returns false and the
// caller inserts them later through transactions.
class HashTableLoader {
 public:
  static Result<HashTableLoader> open(Store& store, const std::string& name);
  // true: stored; false: not this node's or bucket full (nothing written).
  // kInvalidArgument for an empty/oversized key, an out-of-line entry
  // (only inline entries are bulk-loaded); kAlreadyExists for a key
  // already present.
  Result<bool> add(std::span<const std::byte> key, std::span<const std::byte> value);
  bool is_home(std::span<const std::byte> key) const;

 private:
  Store* store_ = nullptr;
  HashTableOptions options_;
  uint32_t nodes_ = 0, position_ = 0;
  Table array_;
};

}  // namespace remora
