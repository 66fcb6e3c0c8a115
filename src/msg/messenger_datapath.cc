// Messenger hot path: send() and poll(). No locks, no allocation.
#include <array>
#include <atomic>
#include <cassert>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "msg/messenger_wr.h"
#include "remora/msg/messenger.h"

namespace remora {

Status Messenger::send(NodeId to, uint16_t type, std::span<const std::byte> payload) {
  const std::array<std::span<const std::byte>, 1> parts{payload};
  return sendv(to, type, parts);
}

Status Messenger::sendv(NodeId to, uint16_t type,
                        std::span<const std::span<const std::byte>> parts) {
  Link* l = link(to);
  if (l == nullptr) return Status::InvalidArgument(fmt::format("node {} is not a peer", to));
  if (type == record_type::kReserved || type == record_type::kPad)
    return Status::InvalidArgument(fmt::format("record type {} is reserved", type));
  uint64_t len = 0;
  for (const auto& p : parts) len += p.size();
  if (len > max_payload())
    return Status::InvalidArgument(
        fmt::format("payload of {} bytes exceeds the ring limit of {}", len, max_payload()));
  OutRing& o = l->out;
  if (!o.broken.ok()) return o.broken;
  if (!l->failed.ok()) return l->failed;

  const uint32_t ring = layout_.ring_size();
  const uint32_t rec = record_size(static_cast<uint32_t>(len));
  uint32_t off = static_cast<uint32_t>(o.tail & (ring - 1));
  const uint32_t pad = off + rec > ring ? ring - off : 0;
  const uint64_t head = std::atomic_ref<uint64_t>(*o.head).load(std::memory_order_acquire);
  assert(head <= o.tail);
  if (o.tail + pad + rec - head > ring || (options_.refuse_send && options_.refuse_send(to)))
    return Status::Full("ring full");  // short enough not to allocate: senders retry

  std::array<WorkRequest, 2> wrs;
  size_t n = 0;
  const uint64_t wr_id = MessengerWr{MessengerWr::kData, to}.encode();
  uint32_t seq = o.next_seq;
  if (pad > 0) {
    seal_pad(o.mirror + off, seq++, pad);
    wrs[n++] = WorkRequest{Op::kWrite, to, o.remote.plus(off), o.mirror + off,
                           kRecordHeaderSize, 0, 0, wr_id};
    off = 0;
  }
  std::byte* dst = o.mirror + off + kRecordHeaderSize;
  for (const auto& p : parts) {
    if (!p.empty()) std::memcpy(dst, p.data(), p.size());
    dst += p.size();
  }
  seal_record(o.mirror + off, type, seq++, static_cast<uint32_t>(len));
  wrs[n++] = WorkRequest{Op::kWrite, to, o.remote.plus(off), o.mirror + off, rec, 0, 0, wr_id};
  // On failure nothing was posted and only mirror bytes beyond the tail
  // changed, so the ring state stays as it was.
  REMORA_RETURN_IF_ERROR(channel_.post(std::span(wrs.data(), n)));
  o.tail += pad + rec;
  o.next_seq = seq;
  wake_if_asleep(*l);
  return Status::OK();
}

Result<size_t> Messenger::poll(Handler handler) {
  size_t delivered = 0;
  Status first_error;
  for (Link& l : links_) {
    if (!l.in.broken.ok()) continue;
    Status s = drain(l, handler, &delivered);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) return first_error;
  return delivered;
}

Status Messenger::drain(Link& l, Handler handler, size_t* delivered) {
  InRing& in = l.in;
  const uint32_t ring = layout_.ring_size();
  const std::span<const std::byte> bytes(in.ring, ring);
  in.empty = false;
  for (uint32_t i = 0; i < options_.poll_budget; ++i) {
    const uint32_t off = static_cast<uint32_t>(in.consumed & (ring - 1));
    const RecordView v = inspect_record(bytes, off, in.expected_seq);
    if (v.state == RecordState::kEmpty) {
      in.invalid_pending = false;
      in.empty = true;
      break;
    }
    if (v.state == RecordState::kInvalid) {
      in.empty = true;  // nothing consumable: the sender may be waiting on us
      REMORA_RETURN_IF_ERROR(on_invalid(l, v, off));
      break;
    }
    in.invalid_pending = false;
    const bool pad = v.header.type == record_type::kPad;
    if (!pad) {
      handler(l.peer, v.header.type, v.payload);
      ++*delivered;
    }
    // Consumed bytes are zeroed so that only fresh writes look non-empty.
    const uint32_t size = pad ? ring - off : record_size(v.header.length);
    std::memset(in.ring + off, 0, pad ? kRecordHeaderSize : size);
    in.consumed += size;
    ++in.expected_seq;
  }
  maybe_write_back(l);
  return Status::OK();
}

// An invalid record may be half-written: a one-sided WRITE is not atomic
// beyond 8 bytes and a sender can be descheduled mid-copy for long on a
// loaded machine. A sender's writes to one ring land in order, so a valid
// record right after it proves it complete: only then is it corruption.
Status Messenger::on_invalid(Link& l, const RecordView& v, uint32_t offset) {
  InRing& in = l.in;
  if (followed_by_valid(in, v, offset)) {
    in.broken = Status::Corrupt(fmt::format(
        "ring from node {} thread {} to node {}: record at offset {} (seq {}, expected {}, type {}, "
        "length {}): {}, and the record after it is complete; ring abandoned",
        l.peer, thread_, self_, offset, v.header.seq, in.expected_seq, v.header.type, v.header.length,
        v.reason));
    return in.broken;
  }
  if (!fabric_.peer_alive(l.peer)) {
    in.broken = Status::PeerGone(fmt::format("node {} is gone; its ring holds an incomplete record", l.peer));
    return in.broken;
  }
  const uint64_t now = now_ns();
  if (!in.invalid_pending) {
    in.invalid_pending = true;
    in.invalid_since_ns = now;
    in.warn_at_ns = static_cast<uint64_t>(options_.warn_after.count());
    return Status::OK();
  }
  if (now - in.invalid_since_ns >= in.warn_at_ns) {
    ++in.slow_records;
    spdlog::warn("ring from node {} thread {} to node {}: record at offset {} (seq {}) incomplete for {} ms ({}); "
                 "waiting for the sender",
                 l.peer, thread_, self_, offset, in.expected_seq, (now - in.invalid_since_ns) / 1000000, v.reason);
    in.warn_at_ns *= 2;
  }
  return Status::OK();
}

bool Messenger::followed_by_valid(const InRing& in, const RecordView& v, uint32_t offset) const {
  const uint32_t ring = layout_.ring_size();
  if (v.header.seq != in.expected_seq) return false;  // the header itself is not there yet
  uint64_t size;
  if (v.header.type == record_type::kPad) {
    size = ring - offset;
  } else {
    if (v.header.length > max_payload()) return false;
    size = record_size(v.header.length);
    if (offset + size > ring) return false;
  }
  const uint32_t next = static_cast<uint32_t>((offset + size) & (ring - 1));
  const std::span<const std::byte> bytes(in.ring, ring);
  if (inspect_record(bytes, next, in.expected_seq + 1).state != RecordState::kValid) return false;
  // `v` may be a copy taken before the sender finished: what is visible of
  // the record after it was written later, so look again.
  return inspect_record(bytes, offset, in.expected_seq).state == RecordState::kInvalid;
}

// Lazy head update: write back after a quarter ring, or when the ring is
// drained and the sender, judging by the head we last sent it, might be
// unable to fit its largest possible next record (which would otherwise be a
// deadlock: it waits for space, we wait for records).
void Messenger::maybe_write_back(Link& l) {
  InRing& in = l.in;
  if (in.write_back_in_flight || !l.failed.ok()) return;
  const uint64_t unreported = in.consumed - in.written_back;
  if (unreported == 0) return;
  if (unreported < layout_.ring_size() / 4 && !(in.empty && sender_may_be_blocked(in))) return;
  post_write_back(l);
}

bool Messenger::sender_may_be_blocked(const InRing& in) const {
  const uint32_t ring = layout_.ring_size();
  const uint32_t off = static_cast<uint32_t>(in.consumed & (ring - 1));
  const uint64_t largest = ring / 2;
  const uint64_t worst_need = off + largest > ring ? ring - off + largest : largest;
  // With the ring drained, the sender's tail is at least our consumed count.
  const uint64_t sender_free = ring - (in.consumed - in.written_back);
  return sender_free < worst_need;
}

void Messenger::post_write_back(Link& l) {
  InRing& in = l.in;
  *in.staging = in.consumed;
  const WorkRequest wr{Op::kWrite, l.peer, in.remote_head, in.staging, sizeof(uint64_t), 0, 0,
                       MessengerWr{MessengerWr::kHead, l.peer}.encode()};
  Status s = channel_.post(std::span(&wr, 1));
  if (!s.ok()) {
    l.failed = s.with_context("ring head write-back");
    return;
  }
  in.written_back = in.consumed;
  in.write_back_in_flight = true;
  ++in.head_writes;
  wake_if_asleep(l);  // the sender may sleep waiting for space
}

// The sender's half of the wake-up handshake (the receiver's is
// prepare_sleep): our WRITE is visible, then we read the peer's word. A
// fence between the two (and one in prepare_sleep between the word's store
// and the ring check) means that the peer sees our record or we see its
// "asleep". One doorbell per sleep: the word changes with every sleep.
void Messenger::wake_if_asleep(Link& l) {
  OutRing& o = l.out;
  if (o.peer_wake == nullptr) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint64_t w = o.peer_wake->load(std::memory_order_relaxed);
  if ((w & 1) == 0 || w == o.rung) return;
  o.rung = w;
  if (channel_.doorbell(l.peer).ok()) ++doorbells_;
}

bool Messenger::prepare_sleep() {
  ++sleep_epoch_;
  std::atomic_ref<uint64_t>(*wake_word_).store(sleep_epoch_ << 1 | 1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint32_t ring = layout_.ring_size();
  for (const Link& l : links_) {
    if (!l.in.broken.ok()) continue;
    const uint32_t off = static_cast<uint32_t>(l.in.consumed & (ring - 1));
    if (inspect_record({l.in.ring, ring}, off, l.in.expected_seq).state == RecordState::kValid)
      return false;
  }
  return true;
}

void Messenger::awake() {
  std::atomic_ref<uint64_t>(*wake_word_).store(sleep_epoch_ << 1, std::memory_order_release);
}

}  // namespace remora
