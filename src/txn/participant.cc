#include "txn/participant.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "remora/txn/object.h"
#include "remora/txn/txn_engine.h"

namespace remora::txn_detail {

Participant::Participant(Store& store, Slabs& slabs, TxnStats& stats, TxnFaults* faults)
    : store_(store), slabs_(slabs), stats_(stats), faults_(faults) {}

Status Participant::handle(uint16_t method, NodeId from, std::span<const std::byte> req,
                           std::vector<std::byte>& resp) {
  if (method == kCatalog) return catalog(req, resp);
  auto m = parse_msg(req);
  if (!m.ok()) return m.status().with_context(fmt::format("from node {}", from));
  if (m->header.epoch != store_.map().epoch())
    return Status::Refused(fmt::format("message of epoch {}, this node is in epoch {}", m->header.epoch,
                                       store_.map().epoch()));
  if (faults_) REMORA_RETURN_IF_ERROR(faults_->before_serve(store_.self(), method, from, m->header.tx));
  truncate(m->truncs);
  switch (method) {
    case kStage: return stage(*m);
    case kLock: return lock(*m, req);
    case kValidate: return validate(*m);
    case kCommitBackup: return commit_backup(*m, req);
    case kCommitPrimary: return commit_primary(*m);
    case kAbort: return abort(*m);
    case kRelease: return release(*m);
    case kTruncate: return Status::OK();
  }
  return Status::InvalidArgument(fmt::format("unknown transaction method {}", method));
}

Status Participant::stage(const MsgView& m) {
  for (const EntryView& ev : m.entries) {
    Staged& st = staging_[m.header.tx][ev.h.addr];
    const uint64_t total = ev.h.new_word, offset = ev.h.expected;
    if (total > (1ull << 31) || offset + ev.payload.size() > total)
      return Status::Corrupt(fmt::format("staged piece {}+{} of {} B", offset, ev.payload.size(), total));
    if (st.data.size() != total) st.data.assign(total, std::byte{0});
    std::memcpy(st.data.data() + offset, ev.payload.data(), ev.payload.size());
    st.got += ev.payload.size();
  }
  return Status::OK();
}

std::vector<std::byte> Participant::take_buffer() {
  if (spare_bufs_.empty()) return {};
  std::vector<std::byte> b = std::move(spare_bufs_.back());
  spare_bufs_.pop_back();
  return b;
}

Participant::Records& Participant::records_of(Log& log, const TxId& tx) {
  if (auto it = log.find(tx); it != log.end()) return it->second;
  if (spare_nodes_.empty()) return log[tx];
  Log::node_type node = std::move(spare_nodes_.back());
  spare_nodes_.pop_back();
  node.key() = tx;
  return log.insert(std::move(node)).position->second;
}

void Participant::forget(Log& log, Log::iterator it) {
  for (std::vector<std::byte>& b : it->second) {
    b.clear();
    spare_bufs_.push_back(std::move(b));
  }
  it->second.clear();
  spare_nodes_.push_back(log.extract(it));
}

Result<std::vector<std::byte>> Participant::materialize(const MsgView& m, std::span<const std::byte> req) {
  bool staged = false;
  for (const EntryView& ev : m.entries) staged |= (ev.h.flags & kStaged) != 0;
  if (!staged) {
    std::vector<std::byte> copy = take_buffer();  // the ring's bytes are reused: keep a copy
    copy.assign(req.begin(), req.end());
    return copy;
  }
  MsgWriter w(m.header.tx, m.header.epoch);
  auto& pieces = staging_[m.header.tx];
  for (const EntryView& ev : m.entries) {
    if (!(ev.h.flags & kStaged)) {
      REMORA_RETURN_IF_ERROR(w.add_entry(ev.h, ev.payload));
      continue;
    }
    auto it = pieces.find(ev.h.addr);
    if (it == pieces.end() || it->second.data.size() != ev.h.size || it->second.got != ev.h.size)
      return Status::Corrupt(fmt::format("staged payload of {} incomplete", GAddr::from_raw(ev.h.addr).to_string()));
    EntryHeader h = ev.h;
    h.flags = 0;
    REMORA_RETURN_IF_ERROR(w.add_entry(h, it->second.data));
    pieces.erase(it);
  }
  if (pieces.empty()) staging_.erase(m.header.tx);
  auto bytes = w.bytes();
  return std::vector<std::byte>(bytes.begin(), bytes.end());
}

Status Participant::lock(const MsgView& m, std::span<const std::byte> req) {
  auto full = materialize(m, req);
  if (!full.ok()) {
    staging_.erase(m.header.tx);
    return full.status();
  }
  auto view = parse_msg(*full);
  if (!view.ok()) return Status::Internal("materialized LOCK does not parse: " + view.status().message());
  Status st = lock_entries(*view);
  if (!st.ok()) {
    staging_.erase(m.header.tx);
    full->clear();
    spare_bufs_.push_back(std::move(*full));
    return st;
  }
  records_of(lock_log_, m.header.tx).push_back(std::move(*full));  // a tx may lock in several messages
  return Status::OK();
}

Status Participant::lock_entries(const MsgView& m) {
  size_t i = 0;
  for (auto it = m.entries.begin(); it != m.entries.end(); ++it, ++i) {
    const EntryHeader e = (*it).h;
    const GAddr a = GAddr::from_raw(e.addr);
    std::byte* o = store_.local_object(a, obj::footprint(e.size));
    Status refuse;
    if (!o) {
      refuse = Status::OutOfRange(fmt::format("{} is not an object of this node", a.to_string()));
    } else if (obj::locked(e.expected) || !obj::cas_word(o, e.expected, e.expected | obj::kLockBit)) {
      const uint64_t now = obj::load_word(o);
      refuse = Status::Conflict(fmt::format("lock of {} refused: {} at version {}, read at {}",
                                            a.to_string(), obj::locked(now) ? "locked" : "changed",
                                            obj::version(now), obj::version(e.expected)));
    }
    if (!refuse.ok()) {
      unlock(m, i);
      ++stats_.locks_refused;
      return refuse;
    }
  }
  return Status::OK();
}

void Participant::unlock(const MsgView& logged, size_t count) {
  auto it = logged.entries.begin();
  for (size_t i = 0; i < count; ++i, ++it) {
    const EntryHeader e = (*it).h;
    std::byte* o = store_.local_object(GAddr::from_raw(e.addr), obj::footprint(e.size));
    obj::store_word(o, e.expected);
  }
}

Status Participant::validate(const MsgView& m) {
  ++stats_.validations_served;
  for (const EntryView& ev : m.entries) {
    const GAddr a = GAddr::from_raw(ev.h.addr);
    const std::byte* o = store_.local_object(a, obj::kHeaderSize);
    if (!o) return Status::OutOfRange(fmt::format("{} is not an object of this node", a.to_string()));
    const uint64_t now = obj::load_word(o);
    stats_.validations_refused += now != ev.h.expected;
    if (now != ev.h.expected)
      return Status::Conflict(fmt::format("validation of {} failed: {} at version {}, read at {}",
                                          a.to_string(), obj::locked(now) ? "locked" : "changed",
                                          obj::version(now), obj::version(ev.h.expected)));
  }
  return Status::OK();
}

Status Participant::commit_backup(const MsgView& m, std::span<const std::byte> req) {
  for (const EntryView& ev : m.entries) {
    const GAddr a = GAddr::from_raw(ev.h.addr);
    if (!store_.replica_object(a, obj::footprint(ev.h.size)))
      return Status::OutOfRange(fmt::format("node {} keeps no replica of {}", store_.self(), a.to_string()));
  }
  auto full = materialize(m, req);
  if (!full.ok()) return full.status();
  records_of(backup_log_, m.header.tx).push_back(std::move(*full));
  ++stats_.backup_records;
  return Status::OK();
}

Status Participant::commit_primary(const MsgView& m) {
  auto it = lock_log_.find(m.header.tx);
  if (it == lock_log_.end())
    return Status::NotFound(fmt::format("tx {} holds no locks here", m.header.tx.to_string()));
  for (const std::vector<std::byte>& record : it->second) {
    auto logged = parse_msg(record);
    if (!logged.ok()) return Status::Internal("lock log entry does not parse: " + logged.status().message());
    for (const EntryView& ev : logged->entries) {
      const GAddr a = GAddr::from_raw(ev.h.addr);
      obj::install(store_.local_object(a, obj::footprint(ev.h.size)), ev.h.new_word, ev.payload);
      ++stats_.installs;
      if (obj::allocated(ev.h.new_word)) continue;
      // A committed free. A slot is reused by a slot of the same size (its
      // header stays where it is), so at once. A run's blocks may come back
      // with another layout, which is safe only once every backup applied
      // this free (apply_to_replica): the coordinator says so with RELEASE.
      if (slabs_.slot_for(ev.h.size) == 0) continue;
      Status st = slabs_.release(a, obj::version(ev.h.new_word));
      if (!st.ok()) spdlog::debug("freed object not reused: {}", st.to_string());
    }
  }
  forget(lock_log_, it);
  return Status::OK();
}

Status Participant::abort(const MsgView& m) {
  // As a backup: the coordinator decided abort before any COMMIT_PRIMARY,
  // so the record must never be applied (nor count as a commit-backup vote
  // in recovery).
  staging_.erase(m.header.tx);
  if (auto b = backup_log_.find(m.header.tx); b != backup_log_.end()) {
    forget(backup_log_, b);
    ++stats_.backup_aborted;
  }
  auto it = lock_log_.find(m.header.tx);
  if (it == lock_log_.end()) return Status::OK();  // refused or never arrived: nothing held
  for (const std::vector<std::byte>& record : it->second) {
    auto logged = parse_msg(record);
    if (logged.ok()) unlock(*logged, logged->entries.size());
  }
  forget(lock_log_, it);
  return Status::OK();
}

Status Participant::release(const MsgView& m) {
  for (const EntryView& ev : m.entries) {
    const GAddr a = GAddr::from_raw(ev.h.addr);
    Status st = slabs_.release(a, obj::version(ev.h.new_word));
    if (!st.ok()) return st.with_context("RELEASE");
  }
  return Status::OK();
}

void Participant::truncate(const TruncList& ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = backup_log_.find(ids[i]);
    if (it == backup_log_.end()) continue;
    for (const std::vector<std::byte>& record : it->second) {
      auto logged = parse_msg(record);
      if (logged.ok())
        for (const EntryView& ev : logged->entries) apply_to_replica(ev);
    }
    forget(backup_log_, it);
    ++stats_.backup_applied;
  }
}

void Participant::apply_to_replica(const EntryView& e) {
  const GAddr a = GAddr::from_raw(e.h.addr);
  const uint32_t bytes = obj::footprint(e.h.size);
  std::byte* o = store_.replica_object(a, bytes);
  const uint64_t v = obj::version(e.h.new_word);
  // A record of an earlier life of this memory (applied late: truncations
  // of different coordinator threads are not ordered) must not touch it:
  // its header may now lie inside another object's payload.
  if (v <= store_.replica_floor(a)) return;
  // Threads of this node may apply records of the same object: the lock
  // bit of the replica's word serialises them (held for one copy).
  uint64_t w;
  for (;;) {
    w = obj::load_word(o);
    if (!obj::locked(w) && obj::cas_word(o, w, w | obj::kLockBit)) break;
    __builtin_ia32_pause();
  }
  if (v > obj::version(w) && v > store_.replica_floor(a)) {
    obj::install(o, e.h.new_word, e.payload);
    // A freed run: its blocks may be reused with another layout once the
    // primary hears that every backup got here (RELEASE).
    if (!obj::allocated(e.h.new_word) && slabs_.slot_for(e.h.size) == 0)
      store_.raise_replica_floor(a, bytes, v);
  } else {
    if (!obj::allocated(e.h.new_word) && v <= obj::version(w)) zero_freed_tail(o, e.h.size);
    obj::store_word(o, w);
  }
}

// A free that arrives after a later life of the same slot: the primary
// zeroed the freed object's bytes before that life wrote its own, so what
// lies past the later object and within the freed one is zero there too.
// REQUIRES: the replica word's lock bit is held.
void Participant::zero_freed_tail(std::byte* o, uint32_t freed_size) {
  const obj::Header h = obj::header_of(o);
  const uint64_t live = uint64_t{obj::kHeaderSize} + h.size;  // its padding too
  const uint64_t freed = obj::footprint(freed_size);
  if (freed > live) std::memset(o + live, 0, freed - live);
}

Status Participant::catalog(std::span<const std::byte> req, std::vector<std::byte>& resp) {
  auto t = store_.table(std::string(reinterpret_cast<const char*>(req.data()), req.size()));
  if (!t.ok()) return t.status();
  resp = Store::encode_table(*t);
  return Status::OK();
}

}  // namespace remora::txn_detail
