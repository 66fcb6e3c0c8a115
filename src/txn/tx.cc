// Tx: execution — consistent reads, buffered writes, alloc and free.
#include "remora/txn/tx.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "remora/runtime/context.h"
#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"
#include "txn/slabs.h"

namespace remora {

namespace {
constexpr uint32_t kLinearScan = 8;  // entries searched linearly before hashing
constexpr size_t kChunk = 4096;
}  // namespace

const char* abort_cause_name(AbortCause c) {
  switch (c) {
    case AbortCause::kLockRefused: return "lock_refused";
    case AbortCause::kValidation: return "validation";
    case AbortCause::kReadLocked: return "read_locked";
    case AbortCause::kReadTorn: return "read_torn";
    case AbortCause::kApplication: return "application";
    case AbortCause::kError: return "error";
    case AbortCause::kCount: break;
  }
  return "?";
}

Tx::Tx(TxnEngine& engine, Context& ctx, TxId id, Buffers& buffers, txn_detail::AttemptScratch& scratch)
    : engine_(engine),
      ctx_(ctx),
      id_(id),
      home_(buffers),
      scratch_(scratch),
      entries_(std::move(buffers.entries)),
      by_addr_(std::move(buffers.by_addr)),
      chunks_(std::move(buffers.chunks)) {}

Tx::~Tx() {
  entries_.clear();
  by_addr_.clear();
  home_.entries = std::move(entries_);
  home_.by_addr = std::move(by_addr_);
  home_.chunks = std::move(chunks_);
}

std::byte* Tx::arena_alloc(uint32_t size) {
  // operator new aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16 on x86-64).
  static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= 16);
  const size_t need = (size + 15u) & ~size_t{15};
  if (need > kChunk) {
    big_.push_back(std::unique_ptr<std::byte[]>(new std::byte[need]));
    return big_.back().get();
  }
  if (chunks_in_use_ == 0 || chunk_used_ + need > kChunk) {
    if (chunks_in_use_ == chunks_.size()) chunks_.push_back(std::unique_ptr<std::byte[]>(new std::byte[kChunk]));
    ++chunks_in_use_;
    chunk_used_ = 0;
  }
  std::byte* p = chunks_[chunks_in_use_ - 1].get() + chunk_used_;
  chunk_used_ += need;
  return p;
}

int Tx::find(GAddr a) const {
  if (entries_.size() <= kLinearScan) {
    for (size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].addr == a) return static_cast<int>(i);
    return -1;
  }
  auto it = by_addr_.find(a.raw());
  return it == by_addr_.end() ? -1 : static_cast<int>(it->second);
}

void Tx::index(uint32_t entry) {
  if (entries_.size() == kLinearScan + 1)
    for (uint32_t i = 0; i < entries_.size(); ++i) by_addr_[entries_[i].addr.raw()] = i;
  else if (entries_.size() > kLinearScan + 1)
    by_addr_[entries_[entry].addr.raw()] = entry;
}

Result<uint32_t> Tx::read_entry(GAddr a, uint32_t size) {
  if (const int i = find(a); i >= 0) {
    const Entry& e = entries_[static_cast<uint32_t>(i)];
    if (e.freed || (!e.fresh && !obj::allocated(e.seen)))
      return Status::NotFound(fmt::format("{} is not allocated", a.to_string()));
    if (e.size != size)
      return Status::InvalidArgument(fmt::format("{} holds {} B, read asked for {}", a.to_string(), e.size, size));
    return static_cast<uint32_t>(i);
  }
  std::byte* copy = arena_alloc(obj::kHeaderSize + size);
  if (Status st = engine_.read_object(ctx_, a, {copy, obj::kHeaderSize + size}, &cause_); !st.ok()) {
    // An address outside the data regions may come from a stale object.
    return st.code() == Code::kOutOfRange || st.code() == Code::kInvalidArgument
               ? anomaly(std::move(st), entries_.size())
               : st;
  }
  const obj::Header h = obj::header_of(copy);
  Entry e;
  e.addr = a;
  e.primary = region_owner(a.region());
  e.seen = h.word;
  e.size = size;
  e.data = copy + obj::kHeaderSize;
  e.read = true;
  if (obj::allocated(h.word) && h.size != size)
    return anomaly(Status::InvalidArgument(fmt::format("{} holds {} B, read asked for {}", a.to_string(), h.size, size)),
                   entries_.size());
  entries_.push_back(e);
  index(static_cast<uint32_t>(entries_.size() - 1));
  // A free object is remembered too: validation checks it stays free.
  if (!obj::allocated(h.word))
    return anomaly(Status::NotFound(fmt::format("{} is not allocated", a.to_string())), entries_.size() - 1);
  return static_cast<uint32_t>(entries_.size() - 1);
}

uint64_t Tx::Entry::new_word() const {
  if (!fresh) return obj::next_word(seen, !freed);
  const uint64_t base = std::max(obj::version(seen), floor);
  return obj::next_word(base, !freed);
}

Status Tx::anomaly(Status st, size_t prior) {
  // Reads are not a snapshot: an address read from an object that has
  // changed since may point anywhere. The error stands only if everything
  // read so far is still current; otherwise the attempt is a conflict.
  if (prior == 0) return st;
  Status v = engine_.validate(ctx_, *this, /*during_execution=*/true);
  if (v.ok()) return st;
  if (v.code() == Code::kConflict) cause_ = AbortCause::kValidation;
  return v.with_context("after: " + st.message());
}

std::byte* Tx::write_entry(uint32_t entry) {
  Entry& e = entries_[entry];
  e.written = true;
  return e.data;
}

Result<uint32_t> Tx::alloc_entry(uint32_t size) {
  auto a = engine_.slabs_->take(size);
  if (!a.ok()) return a.status();
  const std::byte* o = engine_.store().local_object(*a, obj::footprint(size));
  const uint64_t w = o ? obj::load_word(o) : obj::kLockBit;
  if (obj::locked(w) || obj::allocated(w))
    return Status::Internal(fmt::format("free slot {} is in use (word {:#x})", a->to_string(), w));
  Entry e;
  e.addr = *a;
  e.primary = engine_.self();
  e.seen = w;
  e.floor = engine_.slabs_->floor(*a, size);
  e.size = size;
  e.data = arena_alloc(size);
  std::memset(e.data, 0, size);
  e.written = true;
  e.fresh = true;
  entries_.push_back(e);
  index(static_cast<uint32_t>(entries_.size() - 1));
  return static_cast<uint32_t>(entries_.size() - 1);
}

Status Tx::free_entry(uint32_t entry) {
  Entry& e = entries_[entry];
  if (e.freed) return Status::InvalidArgument(fmt::format("{} is already freed", e.addr.to_string()));
  if (e.fresh) {  // allocated and freed here: the slot was never visible
    engine_.slabs_->give_back(e.addr, e.size);
    e.fresh = e.written = false;
    e.freed = true;
    return Status::OK();
  }
  // A freed object's bytes are zeroed everywhere (primary and backups
  // alike): memory that comes back with another layout holds no old
  // payload, so no stale bytes pass for a header.
  std::memset(e.data, 0, e.size);
  e.freed = e.written = true;
  return Status::OK();
}

size_t Tx::read_set_size() const {
  return static_cast<size_t>(std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) {
    return e.read && !e.written;
  }));
}

size_t Tx::write_set_size() const {
  return static_cast<size_t>(
      std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.written; }));
}

}  // namespace remora
