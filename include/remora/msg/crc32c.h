// CRC32C (Castagnoli), the checksum of ring records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace remora {

// Extends a finished CRC32C value with more bytes; crc32c_extend(0, d) is the
// CRC32C of d (crc32c("123456789") == 0xE3069283), and
// crc32c_extend(crc32c_extend(0, a), b) == crc32c(a ++ b).
// Uses the CPU's CRC32 instruction where there is one (x86-64 SSE4.2),
// else tables; both give the same results.
uint32_t crc32c_extend(uint32_t crc, std::span<const std::byte> data);
// The table-driven form, whatever the CPU (tests compare the two).
uint32_t crc32c_extend_portable(uint32_t crc, std::span<const std::byte> data);

inline uint32_t crc32c(std::span<const std::byte> data) { return crc32c_extend(0, data); }

}  // namespace remora
