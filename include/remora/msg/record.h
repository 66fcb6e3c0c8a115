// Ring record format (wire layout, host byte order = little endian).
//
//   +--------+------+-------+-----+----------+---------------------+---------+
//   | length | type | flags | seq | checksum | payload (length B)  | padding |
//   |  u32   | u16  |  u16  | u32 |   u32    |                     | to 16 B |
//   +--------+------+-------+-----+----------+---------------------+---------+
//
// checksum = CRC32C over the first 12 header bytes, then the payload. seq is
// the record's number in its ring, starting at 1, so bytes from an earlier
// lap never pass as the next record. A PAD record fills the ring's tail when
// the next record would not fit before the end; only its header is written,
// its checksum covers only the header, and its length must reach exactly the
// end of the ring. See docs/rings.md.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace remora {

static_assert(std::endian::native == std::endian::little, "ring records are little endian");

struct RecordHeader {
  uint32_t length;    // payload bytes, without header and padding
  uint16_t type;      // RecordType or a user type >= kFirstUser
  uint16_t flags;     // reserved, 0
  uint32_t seq;       // 1, 2, 3, ... per ring
  uint32_t checksum;  // see above
};
static_assert(sizeof(RecordHeader) == 16);
static_assert(offsetof(RecordHeader, seq) == 8 && offsetof(RecordHeader, checksum) == 12);
static_assert(std::is_trivially_copyable_v<RecordHeader>);

namespace record_type {
constexpr uint16_t kReserved = 0;  // never valid: a zeroed ring reads as empty
constexpr uint16_t kPad = 1;
constexpr uint16_t kRpcRequest = 2;
constexpr uint16_t kRpcResponse = 3;
constexpr uint16_t kFirstUser = 16;  // types >= 16 are free for users
}  // namespace record_type

constexpr uint32_t kRecordAlign = 16;
constexpr uint32_t kRecordHeaderSize = sizeof(RecordHeader);

// Bytes a record with `payload_len` payload bytes occupies in a ring.
constexpr uint32_t record_size(uint32_t payload_len) {
  return (kRecordHeaderSize + payload_len + kRecordAlign - 1) & ~(kRecordAlign - 1);
}
// Largest payload a ring of `ring_size` bytes accepts (records <= ring/2).
constexpr uint32_t max_payload(uint32_t ring_size) { return ring_size / 2 - kRecordHeaderSize; }

uint32_t record_checksum(const RecordHeader& h, std::span<const std::byte> payload);

// Fills in the header at `rec`, whose payload (payload_len bytes) is already
// in place right after the header. Padding bytes are left as they are.
void seal_record(std::byte* rec, uint16_t type, uint32_t seq, uint32_t payload_len);

// Writes a PAD header at `rec` covering `total` bytes (header included).
// REQUIRES: total >= 16 and a multiple of 16.
void seal_pad(std::byte* rec, uint32_t seq, uint32_t total);

enum class RecordState : uint8_t {
  kEmpty,    // header bytes all zero: nothing written here yet
  kValid,    // header and payload check out
  kInvalid,  // something is there but it does not check out (yet)
};

struct RecordView {
  RecordState state = RecordState::kEmpty;
  RecordHeader header{};
  std::span<const std::byte> payload;  // kValid only; empty for PAD
  std::string_view reason;             // kInvalid only
};

// Examines the record at `offset` (a multiple of 16) of a ring whose
// consumed bytes are kept zeroed. Reads the header before the payload.
RecordView inspect_record(std::span<const std::byte> ring, uint32_t offset, uint32_t expected_seq);

}  // namespace remora
