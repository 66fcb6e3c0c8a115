// hash_key: a fixed 64-bit hash (wyhash/murmur-style mixing over 8-byte
// little-endian words). Part of the table's on-memory format: changing it
// moves every key to another bucket.
#include <bit>
#include <cstring>

#include "remora/ds/hash_table.h"

namespace remora {

namespace {

constexpr uint64_t kSeed = 0x2d358dccaa6c78a5ull;
constexpr uint64_t kM1 = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kM2 = 0xbf58476d1ce4e5b9ull;

uint64_t mum(uint64_t a, uint64_t b) {
  __extension__ using u128 = unsigned __int128;
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

uint64_t load_le(const std::byte* p, size_t n) {
  if (std::endian::native == std::endian::little && n == 8) {  // the byte loop was not folded into a load
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= static_cast<uint64_t>(std::to_integer<uint8_t>(p[i])) << (8 * i);
  return w;
}

uint64_t fmix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint64_t hash_key(std::span<const std::byte> key) {
  uint64_t h = kSeed ^ mum(key.size() + kM1, kM2);
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) h = mum(h ^ load_le(key.data() + i, 8), kM1);
  if (i < key.size()) h = mum(h ^ load_le(key.data() + i, key.size() - i) ^ kM2, kM1);
  return fmix(h);
}

}  // namespace remora
