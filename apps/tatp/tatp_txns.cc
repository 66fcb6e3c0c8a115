// The seven TATP transactions and the mix (tatp.h).
#include <fmt/format.h>

#include <cstring>

#include "remora/common/latency.h"
#include "remora/txn/tx.h"
#include "rng.h"
#include "tatp.h"

namespace remora::tatp {
namespace {

using app::Rng;

// The spec's non-uniform s_id: (rand(0, A) | rand(0, S - 1)) % S.
uint64_t pick_subscriber(Rng& r, uint64_t n) {
  const uint64_t a = n <= 1000000 ? 65535 : n <= 10000000 ? 1048575 : 2097151;
  return (r.between(0, a) | r.below(n)) % n;
}

TxType pick_type(Rng& r) {
  const uint64_t x = r.below(100);
  if (x < 35) return TxType::kGetSubscriberData;
  if (x < 45) return TxType::kGetNewDestination;
  if (x < 80) return TxType::kGetAccessData;
  if (x < 82) return TxType::kUpdateSubscriberData;
  if (x < 96) return TxType::kUpdateLocation;
  if (x < 98) return TxType::kInsertCallForwarding;
  return TxType::kDeleteCallForwarding;
}

template <typename T>
Result<T> get_row(Tx& tx, const HashTable& h, uint64_t key) {
  std::vector<std::byte> v;
  REMORA_RETURN_IF_ERROR(h.get(tx, HashTable::bytes(key), &v));
  if (v.size() != sizeof(T)) return Status::Corrupt(fmt::format("{} row of {} B", h.name(), v.size()));
  T out;
  std::memcpy(&out, v.data(), sizeof out);
  return out;
}

// Outcome of one transaction: done (rows found and acted on) or no_row.
struct Outcome {
  Status st;
  bool no_row = false;
};

Outcome no_row_if_missing(Status st) {
  if (st.code() == Code::kNotFound || st.code() == Code::kAlreadyExists) return {Status::OK(), true};
  return {st};
}

Outcome get_new_destination(Context& ctx, TxnEngine& txn, const TatpLayout& l, uint64_t s, Rng& r) {
  const auto sf_type = static_cast<uint8_t>(r.between(1, 4));
  const auto start = static_cast<uint8_t>(8 * r.below(3));
  const auto end = static_cast<uint8_t>(r.between(1, 24));
  bool found = false;
  Status st = txn.transact(ctx, [&](Tx& tx) -> Status {
    found = false;
    auto f = get_row<SpecialFacility>(tx, l.sf, sf_key(s, sf_type));
    if (!f.ok()) return f.status().code() == Code::kNotFound ? Status::OK() : f.status();
    if (!f->is_active) return Status::OK();
    for (uint8_t st0 = 0; st0 <= start; st0 += 8) {
      auto c = get_row<CallForwarding>(tx, l.cf, cf_key(s, sf_type, st0));
      if (c.ok() && c->end_time > end) found = true;
      if (!c.ok() && c.status().code() != Code::kNotFound) return c.status();
    }
    return Status::OK();
  });
  return {st, st.ok() && !found};
}

Outcome update_subscriber_data(Context& ctx, TxnEngine& txn, const TatpLayout& l, uint64_t s, Rng& r) {
  const auto bit = static_cast<uint8_t>(r.below(2));
  const auto data_a = static_cast<uint8_t>(r.below(256));
  const auto sf_type = static_cast<uint8_t>(r.between(1, 4));
  return no_row_if_missing(txn.transact(ctx, [&](Tx& tx) -> Status {
    auto sub = tx.read<Subscriber>(l.subscriber_of(s));
    if (!sub.ok()) return sub.status();
    std::vector<std::byte> v;
    REMORA_RETURN_IF_ERROR(l.sf.get(tx, HashTable::bytes(sf_key(s, sf_type)), &v));
    if (v.size() != sizeof(SpecialFacility)) return Status::Corrupt("special_facility row size");
    Subscriber* w = tx.write(*sub);
    w->bits[0] = static_cast<uint8_t>((w->bits[0] & ~1u) | bit);
    v[2] = static_cast<std::byte>(data_a);  // data_a
    return l.sf.update(tx, HashTable::bytes(sf_key(s, sf_type)), v);
  }));
}

Outcome update_location(Context& ctx, TxnEngine& txn, const TatpLayout& l, uint64_t s, Rng& r) {
  const uint64_t sid = s_id_of(sub_nbr(s));  // the spec looks the subscriber up by sub_nbr
  const auto vlr = static_cast<uint32_t>(r.next());
  return {txn.transact(ctx, [&](Tx& tx) -> Status {
    auto sub = tx.read<Subscriber>(l.subscriber_of(sid));
    if (!sub.ok()) return sub.status();
    tx.write(*sub)->vlr_location = vlr;
    return Status::OK();
  })};
}

Outcome insert_call_forwarding(Context& ctx, TxnEngine& txn, const TatpLayout& l, uint64_t s, Rng& r) {
  const auto sf_type = static_cast<uint8_t>(r.between(1, 4));
  const auto start = static_cast<uint8_t>(8 * r.below(3));
  CallForwarding c{};
  c.end_time = static_cast<uint8_t>(start + r.between(1, 8));
  for (auto& d : c.numberx) d = static_cast<uint8_t>('0' + r.below(10));
  return no_row_if_missing(txn.transact(ctx, [&](Tx& tx) -> Status {
    std::vector<std::byte> v;
    REMORA_RETURN_IF_ERROR(l.sf.get(tx, HashTable::bytes(sf_key(s, sf_type)), &v));
    return l.cf.insert(tx, HashTable::bytes(cf_key(s, sf_type, start)), HashTable::bytes(c));
  }));
}

Outcome delete_call_forwarding(Context& ctx, TxnEngine& txn, const TatpLayout& l, uint64_t s, Rng& r) {
  const auto sf_type = static_cast<uint8_t>(r.between(1, 4));
  const auto start = static_cast<uint8_t>(8 * r.below(3));
  return no_row_if_missing(
      txn.transact(ctx, [&](Tx& tx) { return l.cf.erase(tx, HashTable::bytes(cf_key(s, sf_type, start))); }));
}

Outcome one(Context& ctx, TxnEngine& txn, const TatpLayout& l, TxType t, uint64_t s, Rng& r) {
  switch (t) {
    case TxType::kGetSubscriberData:
      return {txn.lockfree_read<Subscriber>(ctx, l.subscriber_of(s)).status()};
    case TxType::kGetAccessData: {
      std::vector<std::byte> v;
      return no_row_if_missing(
          l.ai.lookup(ctx, txn, HashTable::bytes(ai_key(s, static_cast<uint8_t>(r.between(1, 4)))), &v));
    }
    case TxType::kGetNewDestination: return get_new_destination(ctx, txn, l, s, r);
    case TxType::kUpdateSubscriberData: return update_subscriber_data(ctx, txn, l, s, r);
    case TxType::kUpdateLocation: return update_location(ctx, txn, l, s, r);
    case TxType::kInsertCallForwarding: return insert_call_forwarding(ctx, txn, l, s, r);
    case TxType::kDeleteCallForwarding: return delete_call_forwarding(ctx, txn, l, s, r);
    case TxType::kCount: break;
  }
  return {Status::Internal("unknown TATP transaction type")};
}

}  // namespace

Status run_coroutine(Context& ctx, TxnEngine& txn, const TatpLayout& l, const app::RunInfo& info,
                     app::Recorder& rec, TatpStats& stats) {
  Rng rng(info.seed);
  const uint64_t n = l.subscribers();
  for (uint64_t done = 0; !info.should_stop(done) && !ctx.stop_requested(); ++done) {
    const uint64_t t0 = now_ns();
    const TxType type = pick_type(rng);
    const Outcome o = one(ctx, txn, l, type, pick_subscriber(rng, n), rng);
    if (o.st.code() == Code::kConflict) {  // ran out of attempts (or a lock-free read kept meeting locks)
      ++rec.gave_up;
      continue;
    }
    if (!o.st.ok()) return o.st.with_context(tx_type_name(type));
    rec.done(static_cast<size_t>(type), now_ns() - t0);
    if (o.no_row) {
      ++stats.no_row[static_cast<size_t>(type)];
    } else if (type == TxType::kInsertCallForwarding) {
      ++stats.cf_inserted;
    } else if (type == TxType::kDeleteCallForwarding) {
      ++stats.cf_deleted;
    }
  }
  return Status::OK();
}

}  // namespace remora::tatp
