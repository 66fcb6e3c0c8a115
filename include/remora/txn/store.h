// Store: one node's share of the transactional address space.
//
// Owns the region map (primary and backups of every data region), the
// allocator of this node's data regions (blocks; slots come from per-thread
// slabs in TxnEngine), this node's replicas of other nodes' regions, and a
// catalog of named tables that applications create at load time and look
// up on any node (TxnEngine::lookup_table).
//
// Life cycle: Store::create(node) after Node::create; create_table() and
// push_replicas() at load time, before transactions run; then one
// TxnEngine per engine thread. Thread-safe unless noted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "remora/cluster/region_map.h"
#include "remora/common/status.h"
#include "remora/fabric/types.h"

namespace remora {

class Node;
class Engine;
class Fabric;
struct Config;
struct LocalRegion;
namespace txn_detail {
class BlockAllocator;
}

struct StoreOptions {
  // Allocation unit of the data regions; a power of two in [4 KiB, 64 MiB]
  // that divides region_size.
  uint32_t block_size = 1 << 20;
};

// `rows` objects of `size` payload bytes, `stride` bytes apart from `base`.
struct Table {
  std::string name;
  GAddr base;
  uint32_t rows = 0;
  uint32_t size = 0;
  uint32_t stride = 0;
  // REQUIRES: i < rows.
  GAddr row(uint32_t i) const { return base.plus(i * stride); }
};

class Store {
 public:
  // `data`: this node's data regions (region_id(self, 1 + i)), and `fabric`
  // must hold the replica regions the map gives this node (Node does both).
  static Result<std::unique_ptr<Store>> create(const Config& cfg, NodeId self, Fabric& fabric,
                                               std::vector<LocalRegion*> data,
                                               StoreOptions options = {});
  static Result<std::unique_ptr<Store>> create(Node& node, StoreOptions options = {});
  ~Store();

  NodeId self() const { return self_; }
  const RegionMap& map() const { return map_; }
  txn_detail::BlockAllocator& blocks() { return *blocks_; }

  // The version of every object create_table() places (objects allocated
  // later start at version 1 too: alloc installs the free slot's version 0 + 1).
  static constexpr uint64_t kLoadVersion = 1;

  // Load time only (no transactions running on this node). Places `rows`
  // objects of `size` bytes in contiguous blocks of this node, each
  // allocated at kLoadVersion with the payload `init(row, payload)` wrote (zero
  // if init is empty), and records it in the catalog. kInvalidArgument for a
  // duplicate or empty name, kOutOfMemory if the blocks are not there.
  using RowInit = std::function<void(uint32_t row, std::span<std::byte> payload)>;
  Result<Table> create_table(const std::string& name, uint32_t rows, uint32_t size,
                             const RowInit& init = {});
  // This node's catalog entry; kNotFound if none.
  Result<Table> table(const std::string& name) const;
  // Every table of this node's catalog, by name (history load records).
  std::vector<Table> tables() const;

  // Load time: copies the used blocks of this node's data regions to every
  // backup's replica with one-sided WRITEs on `e`, so replicas start equal.
  // Every node calls it, then a barrier, before transactions begin.
  Status push_replicas(Engine& e);
  // After a run, once every coordinator flushed its truncations (and a
  // barrier): READs every backup's replica of this node's regions and
  // compares it byte for byte with the primary; kCorrupt names the first
  // difference. Uses `e`'s scratch memory.
  Status compare_replicas(Engine& e);

  // [a, a + len) inside one of this node's data regions, or nullptr.
  std::byte* local_object(GAddr a, uint32_t len) const;
  // This node's replica copy of [a, a + len) (a in another node's data
  // region that this node backs up), or nullptr.
  std::byte* replica_object(GAddr a, uint32_t len) const;

  // Version floors of this node's replicas, per block of the primary region
  // (the backup's side of BlockAllocator's floors): raised when a freed run
  // is applied here; a record whose version is not above the floor of its
  // object's block belongs to an earlier life of that memory and is dropped.
  uint64_t replica_floor(GAddr a) const;
  void raise_replica_floor(GAddr a, uint64_t bytes, uint64_t version);
  // Objects of more than this many payload bytes take runs of whole blocks.
  uint32_t block_size() const { return options_.block_size; }

  // Catalog wire form (for the catalog RPC).
  static std::vector<std::byte> encode_table(const Table& t);
  static Result<Table> decode_table(std::span<const std::byte> b);

 private:
  Store(const Config& cfg, NodeId self, Fabric& fabric, std::vector<LocalRegion*> data,
        StoreOptions options);
  Status init();

  const NodeId self_;
  Fabric& fabric_;
  const uint64_t region_size_;
  const StoreOptions options_;
  RegionMap map_;
  std::unique_ptr<txn_detail::BlockAllocator> blocks_;
  std::vector<LocalRegion*> data_;
  std::map<RegionId, LocalRegion*> replicas_;  // primary region -> our copy
  // primary region -> a floor per block (written by any engine thread)
  std::map<RegionId, std::unique_ptr<std::atomic<uint64_t>[]>> replica_floors_;
  mutable std::mutex catalog_mu_;
  std::map<std::string, Table> catalog_;
};

}  // namespace remora
