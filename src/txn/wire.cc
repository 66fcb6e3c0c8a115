#include "txn/wire.h"

#include <fmt/format.h>

#include <cstring>

namespace remora::txn_detail {

MsgWriter::MsgWriter(const TxId& tx, uint32_t epoch) : buf_(sizeof(MsgHeader)) {
  MsgHeader h{tx, epoch, 0, 0};
  std::memcpy(buf_.data(), &h, sizeof h);
}

MsgHeader MsgWriter::header() const {
  MsgHeader h;
  std::memcpy(&h, buf_.data(), sizeof h);
  return h;
}

Status MsgWriter::bump(bool entry) {
  MsgHeader h = header();
  uint16_t& n = entry ? h.entries : h.truncs;
  if (n == kMaxCount)
    return Status::OutOfRange(fmt::format("a message holds at most {} {}", kMaxCount,
                                          entry ? "entries" : "truncations"));
  ++n;
  std::memcpy(buf_.data(), &h, sizeof h);
  return Status::OK();
}

uint16_t MsgWriter::entries() const { return header().entries; }
uint16_t MsgWriter::truncs() const { return header().truncs; }

Status MsgWriter::add_trunc(const TxId& t) {
  if (entries() != 0) return Status::InvalidArgument("truncations go before the entries");
  REMORA_RETURN_IF_ERROR(bump(false));
  const size_t at = buf_.size();
  buf_.resize(at + sizeof t);
  std::memcpy(buf_.data() + at, &t, sizeof t);
  return Status::OK();
}

Status MsgWriter::add_entry(const EntryHeader& e, std::span<const std::byte> payload) {
  REMORA_RETURN_IF_ERROR(bump(true));
  const size_t at = buf_.size();
  buf_.resize(at + sizeof e + padded(static_cast<uint32_t>(payload.size())));
  EntryHeader h = e;
  h.size = static_cast<uint32_t>(payload.size());
  std::memcpy(buf_.data() + at, &h, sizeof h);
  if (!payload.empty()) std::memcpy(buf_.data() + at + sizeof h, payload.data(), payload.size());
  return Status::OK();
}

Status MsgWriter::add_staged_entry(const EntryHeader& e) {
  REMORA_RETURN_IF_ERROR(bump(true));
  const size_t at = buf_.size();
  buf_.resize(at + sizeof e);
  EntryHeader h = e;
  h.flags |= kStaged;
  std::memcpy(buf_.data() + at, &h, sizeof h);
  return Status::OK();
}

Result<MsgView> parse_msg(std::span<const std::byte> b) {
  MsgView v;
  if (b.size() < sizeof(MsgHeader))
    return Status::Corrupt(fmt::format("transaction message of {} B", b.size()));
  std::memcpy(&v.header, b.data(), sizeof v.header);
  size_t at = sizeof(MsgHeader);
  if (b.size() - at < size_t{v.header.truncs} * sizeof(TxId))
    return Status::Corrupt(fmt::format("message announces {} truncations, has {} B", v.header.truncs,
                                       b.size() - at));
  v.truncs.resize(v.header.truncs);
  if (v.header.truncs) std::memcpy(v.truncs.data(), b.data() + at, v.truncs.size() * sizeof(TxId));
  at += v.truncs.size() * sizeof(TxId);
  v.entries.reserve(v.header.entries);
  for (uint32_t i = 0; i < v.header.entries; ++i) {
    EntryView e;
    if (b.size() - at < sizeof(EntryHeader))
      return Status::Corrupt(fmt::format("entry {} of {} cut short", i, v.header.entries));
    std::memcpy(&e.h, b.data() + at, sizeof e.h);
    at += sizeof e.h;
    if (e.h.flags & ~kStaged) return Status::Corrupt(fmt::format("entry {}: flags {:#x}", i, e.h.flags));
    const uint32_t inline_size = (e.h.flags & kStaged) ? 0 : e.h.size;
    if (b.size() - at < padded(inline_size))
      return Status::Corrupt(fmt::format("entry {}: payload of {} B cut short", i, e.h.size));
    e.payload = b.subspan(at, inline_size);
    at += padded(inline_size);
    v.entries.push_back(e);
  }
  if (at != b.size()) return Status::Corrupt(fmt::format("{} trailing bytes", b.size() - at));
  return v;
}

}  // namespace remora::txn_detail
