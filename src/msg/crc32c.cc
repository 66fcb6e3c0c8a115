// Table-driven CRC32C, slicing by 8 bytes. Portable on purpose: the ring
// check must agree across hosts, and a hardware (SSE4.2/ARMv8) path can be
// added behind this function later without changing its results.
#include "remora/msg/crc32c.h"

#include <array>
#include <cstring>

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

}  // namespace

uint32_t crc32c_extend(uint32_t crc, std::span<const std::byte> data) {
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
