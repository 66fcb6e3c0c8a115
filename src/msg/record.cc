#include "remora/msg/record.h"

#include <atomic>
#include <cstring>

#include "remora/msg/crc32c.h"

namespace remora {

uint32_t record_checksum(const RecordHeader& h, std::span<const std::byte> payload) {
  auto head = std::as_bytes(std::span(&h, 1)).first(offsetof(RecordHeader, checksum));
  return crc32c_extend(crc32c(head), payload);
}

void seal_record(std::byte* rec, uint16_t type, uint32_t seq, uint32_t payload_len) {
  RecordHeader h{payload_len, type, 0, seq, 0};
  h.checksum = record_checksum(h, {rec + kRecordHeaderSize, payload_len});
  std::memcpy(rec, &h, sizeof(h));
}

void seal_pad(std::byte* rec, uint32_t seq, uint32_t total) {
  RecordHeader h{total - kRecordHeaderSize, record_type::kPad, 0, seq, 0};
  h.checksum = record_checksum(h, {});
  std::memcpy(rec, &h, sizeof(h));
}

namespace {

bool all_zero(const RecordHeader& h) {
  return h.length == 0 && h.type == 0 && h.flags == 0 && h.seq == 0 && h.checksum == 0;
}

RecordView invalid(const RecordHeader& h, std::string_view reason) {
  RecordView v;
  v.state = RecordState::kInvalid;
  v.header = h;
  v.reason = reason;
  return v;
}

}  // namespace

RecordView inspect_record(std::span<const std::byte> ring, uint32_t offset,
                          uint32_t expected_seq) {
  RecordHeader h;
  std::memcpy(&h, ring.data() + offset, sizeof(h));
  // The payload is read after the header; pairs with the writer's release.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (all_zero(h)) return RecordView{};
  if (h.seq != expected_seq) return invalid(h, "unexpected sequence number");
  if (h.type == record_type::kReserved) return invalid(h, "record type 0 is reserved");
  const uint64_t room = ring.size() - offset - kRecordHeaderSize;
  std::span<const std::byte> payload;
  if (h.type == record_type::kPad) {
    if (h.length != room) return invalid(h, "PAD does not end at the end of the ring");
  } else {
    if (h.length > max_payload(static_cast<uint32_t>(ring.size())) || h.length > room)
      return invalid(h, "length beyond the ring's record limit");
    payload = ring.subspan(offset + kRecordHeaderSize, h.length);
  }
  if (record_checksum(h, payload) != h.checksum) return invalid(h, "checksum mismatch");
  RecordView v;
  v.state = RecordState::kValid;
  v.header = h;
  v.payload = payload;
  return v;
}

}  // namespace remora
