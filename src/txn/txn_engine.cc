// TxnEngine: set-up, the retry loop, one-sided object reads, history.
#include "remora/txn/txn_engine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "remora/history/history.h"
#include "remora/node/engine.h"
#include "remora/txn/object.h"
#include "txn/attempt_scratch.h"
#include "txn/participant.h"
#include "txn/slabs.h"
#include "txn/wire.h"

namespace remora {

using txn_detail::Method;

uint64_t TxnStats::aborts_total() const {
  uint64_t n = 0;
  for (uint64_t a : aborts) n += a;
  return n;
}

Result<std::unique_ptr<TxnEngine>> TxnEngine::create(Store& store, Engine& engine, TxnOptions options) {
  if (!engine.has_messaging()) return Status::Unavailable("TxnEngine::create before Node::start");
  if (options.max_attempts == 0) return Status::InvalidArgument("max_attempts must be at least 1");
  std::unique_ptr<TxnEngine> t(new TxnEngine(store, engine, std::move(options)));
  REMORA_RETURN_IF_ERROR(t->register_methods());
  return t;
}

TxnEngine::TxnEngine(Store& store, Engine& engine, TxnOptions options)
    : store_(store),
      engine_(engine),
      options_(std::move(options)),
      slabs_(std::make_unique<txn_detail::Slabs>(store.blocks())),
      participant_(std::make_unique<txn_detail::Participant>(store, *slabs_, stats_, options_.faults)),
      rng_(options_.seed * 0x9e3779b97f4a7c15ull + engine.index() * 0xbf58476d1ce4e5b9ull +
           store.self() + 1) {}

TxnEngine::~TxnEngine() = default;

NodeId TxnEngine::self() const { return store_.self(); }
uint64_t TxnEngine::now_ns() const { return options_.now_ns ? options_.now_ns() : history_clock_ns(); }
uint32_t TxnEngine::thread() const { return engine_.index(); }
size_t TxnEngine::backup_log_size() const { return participant_->backup_log_size(); }
size_t TxnEngine::lock_log_size() const { return participant_->lock_log_size(); }
size_t TxnEngine::staged_size() const { return participant_->staged_size(); }

Status TxnEngine::register_methods() {
  for (uint16_t m : {Method::kLock, Method::kValidate, Method::kCommitBackup, Method::kCommitPrimary,
                     Method::kAbort, Method::kTruncate, Method::kCatalog, Method::kStage, Method::kRelease}) {
    REMORA_RETURN_IF_ERROR(engine_.rpc().register_handler(
        m, [this, m](NodeId from, std::span<const std::byte> req, std::vector<std::byte>& resp) {
          return participant_->handle(m, from, req, resp);
        }));
  }
  // COMMIT_PRIMARY, ABORT and RELEASE also come as one-way ring records.
  engine_.rpc().set_default_handler([this](NodeId from, uint16_t type, std::span<const std::byte> payload) {
    std::vector<std::byte> unused;
    Status st = type == Method::kCommitPrimary || type == Method::kAbort || type == Method::kRelease
                    ? participant_->handle(type, from, payload, unused)
                    : Status::InvalidArgument(fmt::format("unexpected record type {}", type));
    if (st.ok()) return;
    ++stats_.oneway_failed;
    spdlog::warn("node {} thread {}: record {} from node {}: {}", self(), thread(), type, from, st.to_string());
  });
  return Status::OK();
}

TxId TxnEngine::next_id() {
  return TxId{store_.map().epoch(), self(), static_cast<uint16_t>(thread()), ++seq_};
}

Status TxnEngine::run(Context& ctx, FunctionRef<Status(Tx&)> fn) {
  txn_detail::ScratchLease scratch(scratch_pool_);  // every attempt's buffers
  for (uint32_t n = 1;; ++n) {
    AbortCause cause = AbortCause::kError;
    Status st = attempt(ctx, fn, *scratch, &cause);
    if (st.ok()) return st;
    ++stats_.aborts[static_cast<int>(cause)];
    if (st.code() != Code::kConflict) return st;
    if (n == options_.max_attempts) {
      ++stats_.gave_up;
      // Conflicts are cheap (no formatting) until one is reported.
      const std::string last = cause == AbortCause::kValidation && scratch->conflict.set
                                   ? "; last local one: " + scratch->conflict.describe()
                                   : std::string();
      return st.with_context(fmt::format("gave up after {} attempts{}", n, last));
    }
    backoff(ctx, n);
  }
}

Status TxnEngine::attempt(Context& ctx, FunctionRef<Status(Tx&)> fn, txn_detail::AttemptScratch& scratch,
                          AbortCause* cause) {
  const uint64_t start = now_ns();
  scratch.conflict = {};
  Tx tx(*this, ctx, next_id(), scratch.tx, scratch);
  ++stats_.attempts;
  Status st = fn(tx);
  if (!st.ok()) {
    *cause = st.code() == Code::kConflict ? tx.cause_ : AbortCause::kApplication;
  } else {
    st = commit(ctx, tx, cause);
  }
  if (!st.ok()) release_fresh(tx);
  record(tx, start, st.ok() ? TxOutcome::kCommit : tx.unknown_ ? TxOutcome::kUnknown : TxOutcome::kAbort);
  return st;
}

void TxnEngine::release_fresh(Tx& tx) {
  if (tx.installing_) return;  // the outcome is not known: keep the slots
  for (Tx::Entry& e : tx.entries_)
    if (e.fresh) slabs_->give_back(e.addr, e.size);
}

void TxnEngine::record(const Tx& tx, uint64_t start, TxOutcome outcome) {
  if (!options_.history && !options_.history_sink) return;
  HistoryRecord r;
  r.tx = tx.id_;
  r.start_ns = start;
  r.outcome = outcome;
  // An unknown outcome lists the writes it would have installed.
  const bool writes = outcome != TxOutcome::kAbort;
  for (const Tx::Entry& e : tx.entries_) {
    if (e.read) r.reads.emplace_back(e.addr.raw(), obj::version(e.seen));
    if (writes && e.written) r.writes.emplace_back(e.addr.raw(), obj::version(e.new_word()));
  }
  r.end_ns = now_ns();
  if (options_.history) options_.history->append(r);
  if (options_.history_sink) options_.history_sink(r);
}

void TxnEngine::backoff(Context& ctx, uint32_t attempt) {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const uint32_t shift = std::min<uint32_t>(attempt, 20);
  const uint64_t cap = std::min<uint64_t>(static_cast<uint64_t>(options_.backoff_base.count()) << shift,
                                          static_cast<uint64_t>(options_.backoff_max.count()));
  if (cap == 0) return ctx.yield();
  ctx.sleep_for(std::chrono::nanoseconds(rng_ % cap));
}

Status TxnEngine::read_raw(Context& ctx, GAddr a, std::span<std::byte> out) {
  const NodeId p = store_.map().primary(a.region());
  if (p == self()) {
    const std::byte* src = store_.local_object(a, static_cast<uint32_t>(out.size()));
    if (!src) return Status::OutOfRange(fmt::format("{} + {} B is outside the region", a.to_string(), out.size()));
    std::memcpy(out.data(), src, out.size());  // as a NIC would: no lock
    return Status::OK();
  }
  const auto scratch = ctx.scratch();
  if (out.data() == scratch.data() && out.size() <= scratch.size())  // lockfree reads: no bounce copy
    return ctx.read(p, a, scratch.data(), static_cast<uint32_t>(out.size()));
  for (size_t off = 0; off < out.size(); off += scratch.size()) {
    const auto len = static_cast<uint32_t>(std::min(scratch.size(), out.size() - off));
    REMORA_RETURN_IF_ERROR(ctx.read(p, a.plus(static_cast<uint32_t>(off)), scratch.data(), len));
    std::memcpy(out.data() + off, scratch.data(), len);
  }
  return Status::OK();
}

Status TxnEngine::read_object(Context& ctx, GAddr a, std::span<std::byte> out, AbortCause* cause) {
  if (!store_.map().is_data_region(a.region()))
    return Status::OutOfRange(fmt::format("{} is not in a data region", a.to_string()));
  uint32_t locked = 0, torn = 0;
  for (;;) {
    REMORA_RETURN_IF_ERROR(read_raw(ctx, a, out));
    const obj::Check c = obj::check(out);
    if (c == obj::Check::kOk || c == obj::Check::kFree) return Status::OK();
    if (c == obj::Check::kLocked) {
      if (++locked > options_.locked_retries) {
        *cause = AbortCause::kReadLocked;
        return Status::Conflict(fmt::format("{} is locked", a.to_string()));
      }
      ctx.yield();
      continue;
    }
    const obj::Header h = obj::header_of(out.data());
    if (++torn > options_.torn_retries) {
      if (h.size > out.size() - obj::kHeaderSize)
        return Status::InvalidArgument(fmt::format("{} holds {} B, read asked for {}", a.to_string(), h.size,
                                                   out.size() - obj::kHeaderSize));
      *cause = AbortCause::kReadTorn;
      return Status::Conflict(fmt::format("{}: {} torn reads", a.to_string(), torn - 1));
    }
  }
}

Status TxnEngine::lockfree_read_unrecorded(Context& ctx, GAddr a, std::span<std::byte> out, uint64_t* version) {
  // Objects that fit (buckets, rows) are read straight into the coroutine's
  // scratch and checked there; larger ones go through the heap.
  std::vector<std::byte> big;
  const size_t need = obj::kHeaderSize + out.size();
  std::span<std::byte> copy = ctx.scratch();
  if (need <= copy.size()) {
    copy = copy.first(need);
  } else {
    big.resize(need);
    copy = big;
  }
  std::span<const std::byte> payload;
  REMORA_RETURN_IF_ERROR(lockfree_view_unrecorded(ctx, a, copy, &payload, version));
  std::memcpy(out.data(), payload.data(), out.size());
  return Status::OK();
}

Status TxnEngine::lockfree_view_unrecorded(Context& ctx, GAddr a, std::span<std::byte> buf,
                                           std::span<const std::byte>* payload, uint64_t* version) {
  // The common case, a remote object read into the scratch and consistent at
  // the first try, without read_object's and read_raw's frames: the fiber
  // switch of the wait leaves the return-address predictor wrong, so every
  // frame between the wait and the caller costs a mispredicted return when
  // the coroutine resumes (profiled: that was most of what the lookup added
  // to a raw read). Anything else takes read_object's retry loop.
  const NodeId p = store_.map().primary(a.region());
  const auto scratch = ctx.scratch();
  obj::Check c = obj::Check::kTorn;
  if (buf.data() == scratch.data() && buf.size() <= scratch.size() && p != self() &&
      store_.map().is_data_region(a.region())) {
    REMORA_RETURN_IF_ERROR(ctx.read(p, a, buf.data(), static_cast<uint32_t>(buf.size())));
    c = obj::check(buf);
  }
  if (c != obj::Check::kOk && c != obj::Check::kFree) {
    AbortCause cause;
    REMORA_RETURN_IF_ERROR(read_object(ctx, a, buf, &cause));
  }
  const obj::Header h = obj::header_of(buf.data());
  if (version) *version = obj::version(h.word);  // a free object's too: the history records it
  if (!obj::allocated(h.word)) return Status::NotFound(fmt::format("{} is not allocated", a.to_string()));
  const size_t size = buf.size() - obj::kHeaderSize;
  if (h.size != size)
    return Status::InvalidArgument(fmt::format("{} holds {} B, read asked for {}", a.to_string(), h.size, size));
  *payload = std::span<const std::byte>(buf).subspan(obj::kHeaderSize);
  return Status::OK();
}

Result<Table> TxnEngine::lookup_table(Context& ctx, NodeId node, const std::string& name) {
  if (node == self()) return store_.table(name);
  std::vector<std::byte> resp;
  REMORA_RETURN_IF_ERROR(ctx.call(node, Method::kCatalog, std::as_bytes(std::span(name)),
                                  options_.rpc_timeout, &resp));
  return Store::decode_table(resp);
}

}  // namespace remora
