#include "ycsb.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace remora::kv {

const char* op_name(Op o) {
  static const char* names[] = {"read", "update", "rmw"};
  return o < Op::kCount ? names[static_cast<int>(o)] : "?";
}

Status validate(const KvOptions& o) {
  if (o.workload != 'A' && o.workload != 'B' && o.workload != 'C' && o.workload != 'F')
    return Status::InvalidArgument(fmt::format("unknown workload '{}' (A, B, C or F)", o.workload));
  if (o.record_size < 16) return Status::InvalidArgument("--record-size must be at least 16 bytes");
  if (o.records == 0) return Status::InvalidArgument("--records must be at least 1");
  if (o.zipf && (o.theta <= 0 || o.theta >= 1)) return Status::InvalidArgument("--zipf-theta must be in (0, 1)");
  return Status::OK();
}

Key key_of(uint64_t id) {
  Key k;
  const std::string s = fmt::format("user{:012d}", id % 1000000000000ull);
  std::memcpy(k.data(), s.data(), kKeySize);
  return k;
}

namespace {
uint8_t filler(uint64_t id, uint64_t writes, size_t i) {
  uint64_t x = (id * 0x9e3779b97f4a7c15ull) ^ (writes * 0xbf58476d1ce4e5b9ull) ^ (i * 0x94d049bb133111ebull);
  x ^= x >> 31;
  return static_cast<uint8_t>(x);
}
}  // namespace

void fill_record(uint64_t id, uint64_t writes, std::span<std::byte> out) {
  std::memcpy(out.data(), &id, 8);
  std::memcpy(out.data() + 8, &writes, 8);
  for (size_t i = 16; i < out.size(); ++i) out[i] = static_cast<std::byte>(filler(id, writes, i));
}

Result<uint64_t> check_record(uint64_t id, std::span<const std::byte> v, uint32_t record_size) {
  if (v.size() != record_size) return Status::Corrupt(fmt::format("record {} has {} B, expected {}", id, v.size(), record_size));
  uint64_t got, writes;
  std::memcpy(&got, v.data(), 8);
  std::memcpy(&writes, v.data() + 8, 8);
  if (got != id) return Status::Corrupt(fmt::format("record {} holds the id {}", id, got));
  for (size_t i = 16; i < v.size(); ++i)
    if (v[i] != static_cast<std::byte>(filler(id, writes, i)))
      return Status::Corrupt(fmt::format("record {} byte {} does not match its write count {}", id, i, writes));
  return writes;
}

HashTableOptions table_options(const KvOptions& o) {
  HashTableOptions h;
  h.slots = o.slots;
  h.inline_bytes = static_cast<uint32_t>((kKeySize + o.record_size + 7) / 8 * 8);
  h.buckets_per_node = static_cast<uint32_t>(std::ceil(o.records / (o.slots * o.load_factor))) + 1;
  return h;
}

KeyChooser::KeyChooser(const KvOptions& o, uint64_t records)
    : n_(records), zipf_(o.zipf), z_(records, o.zipf ? o.theta : 0.5) {}

uint64_t KeyChooser::next(app::Rng& r) const {
  if (!zipf_) return r.below(n_);
  // Scrambled Zipfian: rank -> a fixed permutation-like hash of it, so the
  // popular records are spread over the whole key space (and every node).
  const uint64_t rank = z_.next(r);
  uint64_t x = rank * 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  return x % n_;
}

}  // namespace remora::kv
