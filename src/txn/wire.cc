#include "txn/wire.h"

#include <fmt/format.h>

#include <cstring>

namespace remora::txn_detail {

MsgWriter::MsgWriter(const TxId& tx, uint32_t epoch) : buf_(sizeof(MsgHeader)) {
  MsgHeader h{tx, epoch, 0, 0};
  std::memcpy(buf_.data(), &h, sizeof h);
}

void MsgWriter::reset(const TxId& tx, uint32_t epoch) {
  buf_.resize(sizeof(MsgHeader));
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

TxId TruncList::operator[](size_t i) const {
  TxId t;
  std::memcpy(&t, at_ + i * sizeof(TxId), sizeof t);
  return t;
}

EntryView EntryList::Iterator::operator*() const {
  EntryView e;
  std::memcpy(&e.h, at_, sizeof e.h);
  const uint32_t inline_size = (e.h.flags & kStaged) ? 0 : e.h.size;
  e.payload = {at_ + sizeof e.h, inline_size};
  return e;
}

EntryList::Iterator& EntryList::Iterator::operator++() {
  EntryHeader h;
  std::memcpy(&h, at_, sizeof h);
  at_ += sizeof h + padded((h.flags & kStaged) ? 0 : h.size);
  if (--left_ == 0) at_ = nullptr;
  return *this;
}

EntryView EntryList::operator[](size_t i) const {
  Iterator it = begin();
  for (size_t k = 0; k < i; ++k) ++it;
  return *it;
}

Result<MsgView> parse_msg(std::span<const std::byte> b) {
  MsgView v;
  if (b.size() < sizeof(MsgHeader))
    return Status::Corrupt(fmt::format("transaction message of {} B", b.size()));
  std::memcpy(&v.header, b.data(), sizeof v.header);
  size_t at = sizeof(MsgHeader);
  const size_t trunc_bytes = size_t{v.header.truncs} * sizeof(TxId);
  if (b.size() - at < trunc_bytes)
    return Status::Corrupt(fmt::format("message announces {} truncations, has {} B", v.header.truncs,
                                       b.size() - at));
  v.truncs = TruncList(b.data() + at, v.header.truncs);
  at += trunc_bytes;
  v.entries = EntryList(b.data() + at, v.header.entries);
  for (uint32_t i = 0; i < v.header.entries; ++i) {
    EntryHeader h;
    if (b.size() - at < sizeof(EntryHeader))
      return Status::Corrupt(fmt::format("entry {} of {} cut short", i, v.header.entries));
    std::memcpy(&h, b.data() + at, sizeof h);
    at += sizeof h;
    if (h.flags & ~kStaged) return Status::Corrupt(fmt::format("entry {}: flags {:#x}", i, h.flags));
    const uint32_t inline_size = (h.flags & kStaged) ? 0 : h.size;
    if (b.size() - at < padded(inline_size))
      return Status::Corrupt(fmt::format("entry {}: payload of {} B cut short", i, h.size));
    at += padded(inline_size);
  }
  if (at != b.size()) return Status::Corrupt(fmt::format("{} trailing bytes", b.size() - at));
  return v;
}

}  // namespace remora::txn_detail
