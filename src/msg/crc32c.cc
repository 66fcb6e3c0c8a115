// CRC32C: the x86-64 CRC32 instruction when the CPU has SSE4.2 (about 8
// bytes a cycle: the consistency check of every object read depends on
// it), else table-driven slicing by 8 bytes. Both compute the same function,
// so hosts with and without the instruction agree.
#include "remora/msg/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace remora {
namespace {

constexpr uint32_t kPoly = 0x82f63b78;  // Castagnoli, bit-reflected

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  return t;
}

constexpr Tables kTables = make_tables();
static_assert(kTables[0][1] == 0xf26b8303);

uint32_t byte_step(uint32_t c, std::byte b) {
  return (c >> 8) ^ kTables[0][(c ^ static_cast<uint8_t>(b)) & 0xff];
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_hw(uint32_t crc, std::span<const std::byte> data) {
  uint64_t c = ~crc;
  const std::byte* p = data.data();
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*p));
  return ~c32;
}

const bool kHaveHw = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t crc32c_extend(uint32_t crc, std::span<const std::byte> data) {
#if defined(__x86_64__)
  if (kHaveHw) return extend_hw(crc, data);
#endif
  return crc32c_extend_portable(crc, data);
}

uint32_t crc32c_extend_portable(uint32_t crc, std::span<const std::byte> data) {
  uint32_t c = ~crc;
  const std::byte* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint32_t lo, hi;  // little-endian loads; the tables assume that order
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = byte_step(c, *p++);
  return ~c;
}

}  // namespace remora
