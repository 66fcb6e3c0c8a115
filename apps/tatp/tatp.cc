#include "tatp.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "remora/common/latency.h"
#include "rng.h"

namespace remora::tatp {

using app::Rng;

const char* tx_type_name(TxType t) {
  static const char* names[] = {"get_subscriber_data",    "get_new_destination",    "get_access_data",
                                "update_subscriber_data", "update_location",        "insert_call_forwarding",
                                "delete_call_forwarding"};
  return t < TxType::kCount ? names[static_cast<int>(t)] : "?";
}

std::array<char, 15> sub_nbr(uint64_t s) {
  std::array<char, 15> n;
  for (int i = 14; i >= 0; --i, s /= 10) n[static_cast<size_t>(i)] = static_cast<char>('0' + s % 10);
  return n;
}

uint64_t s_id_of(const std::array<char, 15>& nbr) {
  uint64_t s = 0;
  for (char c : nbr) s = s * 10 + static_cast<uint64_t>(c - '0');
  return s;
}

namespace {

// k distinct values of {1, 2, 3, 4} (in increasing order), k in 1..4.
std::vector<uint8_t> distinct_types(Rng& r, uint32_t k) {
  uint8_t all[4] = {1, 2, 3, 4};
  for (int i = 3; i > 0; --i) std::swap(all[i], all[r.below(static_cast<uint64_t>(i) + 1)]);
  std::vector<uint8_t> v(all, all + k);
  std::sort(v.begin(), v.end());
  return v;
}

void fill(Rng& r, uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(r.next());
}

}  // namespace

SubscriberRows generate(uint64_t seed, uint64_t s) {
  Rng r(seed * 0x100000001b3ull ^ (s + 1));
  SubscriberRows rows{};
  rows.sub.s_id = s;
  fill(r, rows.sub.bits, sizeof rows.sub.bits);
  fill(r, rows.sub.hex, sizeof rows.sub.hex);
  fill(r, rows.sub.byte2, sizeof rows.sub.byte2);
  rows.sub.msc_location = static_cast<uint32_t>(r.next());
  rows.sub.vlr_location = static_cast<uint32_t>(r.next());
  for (uint8_t t : distinct_types(r, static_cast<uint32_t>(r.between(1, 4)))) {
    SubscriberRows::Ai a{t, {}};
    fill(r, &a.v.data1, 10);
    rows.ai.push_back(a);
  }
  for (uint8_t t : distinct_types(r, static_cast<uint32_t>(r.between(1, 4)))) {
    SubscriberRows::Sf f{t, {}};
    f.v.is_active = r.below(100) < 85 ? 1 : 0;
    fill(r, &f.v.error_cntrl, 7);
    rows.sf.push_back(f);
    const uint64_t ncf = r.below(4);
    uint8_t starts[3] = {0, 8, 16};
    for (int i = 2; i > 0; --i) std::swap(starts[i], starts[r.below(static_cast<uint64_t>(i) + 1)]);
    for (uint64_t k = 0; k < ncf; ++k) {
      SubscriberRows::Cf c{t, starts[k], {}};
      c.v.end_time = static_cast<uint8_t>(starts[k] + r.between(1, 8));
      fill(r, c.v.numberx, sizeof c.v.numberx);
      rows.cf.push_back(c);
    }
  }
  return rows;
}

namespace {
HashTableOptions sized(const TatpOptions& o, size_t nodes, double rows_per_subscriber, uint32_t value) {
  HashTableOptions h;
  h.slots = o.slots;
  h.inline_bytes = 8 + value;
  const double rows = rows_per_subscriber * o.subscribers;  // per node: buckets are spread evenly
  h.buckets_per_node = static_cast<uint32_t>(std::ceil(rows / (o.slots * o.load_factor))) + 1;
  (void)nodes;
  return h;
}
}  // namespace

// Expected rows per subscriber: 2.5 ACCESS_INFO, 2.5 SPECIAL_FACILITY,
// 2.5 * 1.5 CALL_FORWARDING (half of it free for inserts).
HashTableOptions ai_options(const TatpOptions& o, size_t n) { return sized(o, n, 2.5, sizeof(AccessInfo)); }
HashTableOptions sf_options(const TatpOptions& o, size_t n) { return sized(o, n, 2.5, sizeof(SpecialFacility)); }
HashTableOptions cf_options(const TatpOptions& o, size_t n) { return sized(o, n, 3.75, sizeof(CallForwarding)); }

GAddr TatpLayout::subscriber_of(uint64_t s) const {
  return subscriber[s % nodes.size()].row(static_cast<uint32_t>(s / nodes.size()));
}

namespace {

const char* const kTables[3] = {"tatp.ai", "tatp.sf", "tatp.cf"};

Status add_row(HashTableLoader& l, int table, uint64_t key, const void* v, uint32_t size,
               std::vector<PendingRow>* pending) {
  const auto k = HashTable::bytes(key);
  if (!l.is_home(k)) return Status::OK();
  auto stored = l.add(k, {static_cast<const std::byte*>(v), size});
  if (!stored.ok()) return stored.status();
  if (*stored) return Status::OK();
  PendingRow p{table, key, {}, size};
  std::memcpy(p.value.data(), v, size);
  pending->push_back(p);
  return Status::OK();
}

}  // namespace

Status load(Store& store, const std::vector<NodeId>& nodes, NodeId self, const TatpOptions& o,
            std::vector<PendingRow>* pending, uint64_t* cf_rows) {
  const size_t n = nodes.size();
  size_t pos = 0;
  while (pos < n && nodes[pos] != self) ++pos;
  if (pos == n) return Status::InvalidArgument(fmt::format("node {} is not in the node list", self));
  auto subs = store.create_table("tatp.subscriber", o.subscribers, sizeof(Subscriber),
                                 [&](uint32_t row, std::span<std::byte> p) {
                                   const Subscriber s = generate(o.seed, uint64_t{row} * n + pos).sub;
                                   std::memcpy(p.data(), &s, sizeof s);
                                 });
  if (!subs.ok()) return subs.status().with_context("subscriber table");
  const HashTableOptions opts[3] = {ai_options(o, n), sf_options(o, n), cf_options(o, n)};
  std::vector<HashTableLoader> loaders;
  for (int t = 0; t < 3; ++t) {
    REMORA_RETURN_IF_ERROR(HashTable::create(store, kTables[t], nodes, opts[t]).with_context(kTables[t]));
    auto l = HashTableLoader::open(store, kTables[t]);
    if (!l.ok()) return l.status();
    loaders.push_back(std::move(*l));
  }
  *cf_rows = 0;
  const uint64_t total = uint64_t{o.subscribers} * n;
  for (uint64_t s = 0; s < total; ++s) {
    const SubscriberRows r = generate(o.seed, s);
    for (const auto& a : r.ai) REMORA_RETURN_IF_ERROR(add_row(loaders[0], 0, ai_key(s, a.type), &a.v, 16, pending));
    for (const auto& f : r.sf) REMORA_RETURN_IF_ERROR(add_row(loaders[1], 1, sf_key(s, f.type), &f.v, 8, pending));
    for (const auto& c : r.cf)
      REMORA_RETURN_IF_ERROR(add_row(loaders[2], 2, cf_key(s, c.sf_type, c.start), &c.v, 24, pending));
    *cf_rows += r.cf.size();
  }
  return Status::OK();
}

Result<TatpLayout> resolve(Context& ctx, TxnEngine& txn, const std::vector<NodeId>& nodes) {
  TatpLayout l;
  l.nodes = nodes;
  for (NodeId n : nodes) {
    auto t = txn.lookup_table(ctx, n, "tatp.subscriber");
    if (!t.ok()) return t.status();
    if (!l.subscriber.empty() && t->rows != l.subscriber[0].rows)
      return Status::InvalidArgument(fmt::format("node {} has {} subscribers, node {} has {}", n, t->rows, nodes[0],
                                                 l.subscriber[0].rows));
    l.subscriber.push_back(*t);
  }
  HashTable* tables[3] = {&l.ai, &l.sf, &l.cf};
  for (int t = 0; t < 3; ++t) {
    auto h = HashTable::open(ctx, txn, kTables[t]);
    if (!h.ok()) return h.status().with_context(kTables[t]);
    *tables[t] = std::move(*h);
  }
  return l;
}

Status insert_pending(Context& ctx, TxnEngine& txn, const TatpLayout& l, const PendingRow& r) {
  const HashTable* tables[3] = {&l.ai, &l.sf, &l.cf};
  const HashTable& h = *tables[r.table];
  return txn.transact(ctx, [&](Tx& tx) {
    return h.insert(tx, HashTable::bytes(r.key), {r.value.data(), r.size});
  });
}

}  // namespace remora::tatp
