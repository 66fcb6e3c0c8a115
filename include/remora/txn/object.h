// Object layout in remote memory (docs/transactions.md).
//
//   0      8      12     16                     16 + size
//   +------+------+------+------------------------+
//   | word | size | crc  | payload                |
//   +------+------+------+------------------------+
//   word: bit 63 lock, bit 62 allocated, bits 0..61 version
//   crc:  CRC32C over (word without the lock bit, size, payload)
//
// A one-sided READ fetches header and payload at once. The copy is
// consistent when the lock bit is clear and the CRC matches; a copy taken
// while a primary installs (payload and word written at different times)
// fails the CRC because the version is inside it, and is retried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace remora::obj {

constexpr uint64_t kLockBit = 1ull << 63;
constexpr uint64_t kAllocBit = 1ull << 62;
constexpr uint64_t kVersionMask = kAllocBit - 1;

struct Header {
  uint64_t word;
  uint32_t size;
  uint32_t crc;
};
static_assert(sizeof(Header) == 16);
constexpr uint32_t kHeaderSize = sizeof(Header);

inline bool locked(uint64_t w) { return (w & kLockBit) != 0; }
inline bool allocated(uint64_t w) { return (w & kAllocBit) != 0; }
inline uint64_t version(uint64_t w) { return w & kVersionMask; }
// The word a committed write installs over `w`: next version, `alloc` state.
inline uint64_t next_word(uint64_t w, bool alloc) {
  return ((version(w) + 1) & kVersionMask) | (alloc ? kAllocBit : 0);
}

// Bytes an object of `size` payload bytes occupies (8-byte aligned).
constexpr uint32_t footprint(uint32_t size) { return kHeaderSize + ((size + 7u) & ~7u); }

uint32_t checksum(uint64_t word, uint32_t size, std::span<const std::byte> payload);

enum class Check : uint8_t {
  kOk,      // consistent, allocated
  kFree,    // consistent, not allocated (word is exact; payload meaningless)
  kLocked,  // a transaction holds it: retry or give up
  kTorn,    // CRC mismatch or size beyond the copy: read again
};
const char* check_name(Check c);

// Checks a copy of `copy.size()` bytes starting at an object's header.
Check check(std::span<const std::byte> copy);

inline Header header_of(const std::byte* p) {
  Header h;
  std::memcpy(&h, p, sizeof h);
  return h;
}

// Writes header + payload for a new content at `dst` (local memory, not yet
// visible: the caller publishes the word last, see install()).
void write_body(std::byte* dst, uint64_t word, std::span<const std::byte> payload);

// Installs a committed write at a locked object in local memory: payload,
// size and CRC first, then the word (release), which also unlocks.
void install(std::byte* obj, uint64_t new_word, std::span<const std::byte> payload);

// Atomic access to the word of an object in local memory.
inline uint64_t load_word(const std::byte* obj) {
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(obj), __ATOMIC_ACQUIRE);
}
inline void store_word(std::byte* obj, uint64_t w) {
  __atomic_store_n(reinterpret_cast<uint64_t*>(obj), w, __ATOMIC_RELEASE);
}
inline bool cas_word(std::byte* obj, uint64_t expected, uint64_t desired) {
  return __atomic_compare_exchange_n(reinterpret_cast<uint64_t*>(obj), &expected, desired, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

}  // namespace remora::obj
