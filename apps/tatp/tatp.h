// TATP over Remora (../shared/notes/workloads.md; TATP benchmark
// description v1.0).
//
// SUBSCRIBER is a row table per node, indexed by s_id (subscriber g lives on
// the node at position g % nodes, row g / nodes); sub_nbr is s_id written
// as 15 digits, so UPDATE_LOCATION maps it back arithmetically. ACCESS_INFO,
// SPECIAL_FACILITY and CALL_FORWARDING are distributed hash tables
// (include/remora/ds/hash_table.h) with 8-byte keys packed from their
// primary keys and 16, 8 and 24-byte values. Population follows the spec:
// 1-4 ACCESS_INFO and 1-4 SPECIAL_FACILITY rows per subscriber (distinct
// types), 0-3 CALL_FORWARDING rows per facility (start times 0, 8, 16),
// is_active 85 %. s_id is drawn with the spec's non-uniform NURand.
//
// Mix: GET_SUBSCRIBER_DATA 35 (one lock-free read), GET_NEW_DESTINATION 10
// (read-only transaction), GET_ACCESS_DATA 35 (one lock-free hash lookup),
// UPDATE_SUBSCRIBER_DATA 2, UPDATE_LOCATION 14, INSERT_CALL_FORWARDING 2,
// DELETE_CALL_FORWARDING 2. Transactions that find no row (by design of the
// spec, e.g. inserting an existing forwarding) complete without writing and
// are counted as "no_row".
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "remora/common/status.h"
#include "remora/ds/hash_table.h"
#include "remora/runtime/context.h"
#include "remora/txn/store.h"
#include "remora/txn/txn_engine.h"
#include "workload.h"

namespace remora::tatp {

enum class TxType : uint8_t {
  kGetSubscriberData,
  kGetNewDestination,
  kGetAccessData,
  kUpdateSubscriberData,
  kUpdateLocation,
  kInsertCallForwarding,
  kDeleteCallForwarding,
  kCount,
};
constexpr size_t kTypes = static_cast<size_t>(TxType::kCount);
const char* tx_type_name(TxType t);

struct Subscriber {  // 40 bytes
  uint64_t s_id;
  uint8_t bits[2];    // bit_1 .. bit_10
  uint8_t hex[5];     // hex_1 .. hex_10, 4 bits each
  uint8_t byte2[10];  // byte2_1 .. byte2_10
  uint8_t pad[7];
  uint32_t msc_location;
  uint32_t vlr_location;
};
static_assert(sizeof(Subscriber) == 40);

struct AccessInfo {  // 16 bytes
  uint8_t data1, data2;
  uint8_t data3[3];
  uint8_t data4[5];
  uint8_t pad[6];
};
static_assert(sizeof(AccessInfo) == 16);

struct SpecialFacility {  // 8 bytes
  uint8_t is_active, error_cntrl, data_a;
  uint8_t data_b[5];
};
static_assert(sizeof(SpecialFacility) == 8);

struct CallForwarding {  // 24 bytes
  uint8_t end_time;
  uint8_t numberx[15];
  uint8_t pad[8];
};
static_assert(sizeof(CallForwarding) == 24);

inline uint64_t ai_key(uint64_t s, uint8_t ai_type) { return (s << 8) | ai_type; }
inline uint64_t sf_key(uint64_t s, uint8_t sf_type) { return (s << 8) | sf_type; }
inline uint64_t cf_key(uint64_t s, uint8_t sf_type, uint8_t start) { return (s << 16) | (uint64_t{sf_type} << 8) | start; }
// sub_nbr: s_id as 15 decimal digits, and back.
std::array<char, 15> sub_nbr(uint64_t s);
uint64_t s_id_of(const std::array<char, 15>& nbr);

struct TatpOptions {
  uint32_t subscribers = 100000;  // per node
  uint32_t slots = 4;             // per hash bucket
  double load_factor = 0.5;       // hash entries / slots at load
  uint64_t seed = 7;              // population seed (the same on every node)
};

// One subscriber's rows, generated from (seed, s_id) alone so every node
// derives the same database.
struct SubscriberRows {
  Subscriber sub;
  struct Ai { uint8_t type; AccessInfo v; };
  struct Sf { uint8_t type; SpecialFacility v; };
  struct Cf { uint8_t sf_type, start; CallForwarding v; };
  std::vector<Ai> ai;
  std::vector<Sf> sf;
  std::vector<Cf> cf;
};
SubscriberRows generate(uint64_t seed, uint64_t s);

// Hash table sizes for a cluster of `nodes` nodes.
HashTableOptions ai_options(const TatpOptions& o, size_t nodes);
HashTableOptions sf_options(const TatpOptions& o, size_t nodes);
HashTableOptions cf_options(const TatpOptions& o, size_t nodes);

struct TatpLayout {
  std::vector<NodeId> nodes;
  std::vector<Table> subscriber;  // by node position
  HashTable ai, sf, cf;
  uint64_t subscribers() const { return nodes.size() * uint64_t{subscriber.empty() ? 0 : subscriber[0].rows}; }
  GAddr subscriber_of(uint64_t s) const;
};

// What a thread's coroutines did besides the Recorder's latencies.
struct TatpStats {
  std::array<uint64_t, kTypes> no_row{};  // completed without a row to act on
  uint64_t cf_inserted = 0, cf_deleted = 0;
};

// Load time on every node: the subscriber table and this node's shares of
// the three hash tables; rows whose bucket is full are returned in
// `pending` (key, value) for insertion by transactions.
struct PendingRow {
  int table;  // 0 ai, 1 sf, 2 cf
  uint64_t key;
  std::array<std::byte, 24> value;
  uint32_t size;
};
Status load(Store& store, const std::vector<NodeId>& nodes, NodeId self, const TatpOptions& o,
            std::vector<PendingRow>* pending, uint64_t* cf_rows_here);

Result<TatpLayout> resolve(Context& ctx, TxnEngine& txn, const std::vector<NodeId>& nodes);
// Inserts one pending row in a transaction.
Status insert_pending(Context& ctx, TxnEngine& txn, const TatpLayout& l, const PendingRow& r);

Status run_coroutine(Context& ctx, TxnEngine& txn, const TatpLayout& l, const app::RunInfo& info,
                     app::Recorder& rec, TatpStats& stats);

}  // namespace remora::tatp
