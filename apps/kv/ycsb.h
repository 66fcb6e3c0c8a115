// A YCSB-style key-value store on the distributed hash table
// (../shared/notes/workloads.md): `records` records per node, key
// "user%012u" (16 bytes), a value of `record_size` bytes whose first 16
// bytes are {record id, writes}; the rest is filler derived from both.
// Workloads: A 50 % read / 50 % update, B 95 / 5, C read only, F 50 % read
// / 50 % read-modify-write. Keys are Zipfian (theta 0.99, scrambled so hot
// keys spread over every node) or uniform.
//
// A read is one lock-free HashTable::lookup; an update is a transaction
// that reads the record, checks its id, increments `writes` and writes the
// whole record back; a read-modify-write does the same and also computes
// the new filler from the old value (F). So after a run, the sum of
// `writes` over every record equals the committed updates and RMWs, which
// check() verifies along with every record's id and filler.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "remora/ds/hash_table.h"
#include "rng.h"
#include "workload.h"

namespace remora::kv {

enum class Op : uint8_t { kRead, kUpdate, kRmw, kCount };
const char* op_name(Op o);

struct KvOptions {
  char workload = 'A';        // A, B, C or F
  uint32_t records = 20000;   // per node
  uint32_t record_size = 1024;
  bool zipf = true;           // else uniform
  double theta = 0.99;
  uint32_t slots = 2;         // hash bucket slots
  double load_factor = 0.5;
};
// kInvalidArgument for an unknown workload or a record smaller than 16 B.
Status validate(const KvOptions& o);

constexpr size_t kKeySize = 16;
using Key = std::array<char, kKeySize>;
Key key_of(uint64_t id);
// The record as loaded (writes = 0) or after `writes` updates.
void fill_record(uint64_t id, uint64_t writes, std::span<std::byte> out);
// kCorrupt unless `v` is record `id`'s value after some number of writes
// (returned).
Result<uint64_t> check_record(uint64_t id, std::span<const std::byte> v, uint32_t record_size);

HashTableOptions table_options(const KvOptions& o);

// Picks record ids by the workload's distribution.
class KeyChooser {
 public:
  KeyChooser(const KvOptions& o, uint64_t records);
  uint64_t next(app::Rng& r) const;

 private:
  uint64_t n_;
  bool zipf_;
  app::Zipf z_;
};

struct KvStats {
  uint64_t lookup_reads = 0, lookups = 0;  // one-sided reads per lookup
  uint64_t writes = 0;                     // committed updates + RMWs
};

}  // namespace remora::kv
