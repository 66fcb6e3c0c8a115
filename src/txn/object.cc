#include "remora/txn/object.h"

#include "remora/msg/crc32c.h"

namespace remora::obj {

uint32_t checksum(uint64_t word, uint32_t size, std::span<const std::byte> payload) {
  struct {
    uint64_t word;
    uint32_t size;
  } __attribute__((packed)) head{word & ~kLockBit, size};
  static_assert(sizeof(head) == 12);
  const uint32_t c = crc32c_extend(0, std::as_bytes(std::span(&head, 1)));
  return crc32c_extend(c, payload.first(size));
}

const char* check_name(Check c) {
  switch (c) {
    case Check::kOk: return "ok";
    case Check::kFree: return "free";
    case Check::kLocked: return "locked";
    case Check::kTorn: return "torn";
  }
  return "?";
}

Check check(std::span<const std::byte> copy) {
  if (copy.size() < kHeaderSize) return Check::kTorn;
  const Header h = header_of(copy.data());
  if (locked(h.word)) return Check::kLocked;
  if (!allocated(h.word)) return Check::kFree;
  if (h.size > copy.size() - kHeaderSize) return Check::kTorn;
  if (checksum(h.word, h.size, copy.subspan(kHeaderSize)) != h.crc) return Check::kTorn;
  return Check::kOk;
}

void write_body(std::byte* dst, uint64_t word, std::span<const std::byte> payload) {
  const auto size = static_cast<uint32_t>(payload.size());
  Header h{word, size, checksum(word, size, payload)};
  std::memcpy(dst, &h, sizeof h);
  if (size) std::memcpy(dst + kHeaderSize, payload.data(), size);
}

void install(std::byte* obj, uint64_t new_word, std::span<const std::byte> payload) {
  const auto size = static_cast<uint32_t>(payload.size());
  const uint32_t crc = checksum(new_word, size, payload);
  if (size) std::memcpy(obj + kHeaderSize, payload.data(), size);
  std::memcpy(obj + 8, &size, 4);
  std::memcpy(obj + 12, &crc, 4);
  store_word(obj, new_word & ~kLockBit);
}

}  // namespace remora::obj
