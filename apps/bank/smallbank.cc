#include "smallbank.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "remora/common/latency.h"
#include "remora/txn/object.h"
#include "rng.h"

namespace remora::bank {

namespace {

struct Balance {
  int64_t cents;
};

using app::Rng;

uint64_t pick(Rng& r, const BankLayout& l, const BankOptions& o) {
  return smallbank::pick_account(r, l.accounts(), o.hot, o.hot_fraction);
}

// One SmallBank transaction; `net` receives its effect on the total money
// if it commits.
Status one(Tx& tx, TxType t, const BankLayout& l, uint64_t a, uint64_t b, int64_t v, int64_t* net) {
  *net = 0;
  auto read = [&](GAddr g) { return tx.read<Balance>(g); };
  switch (t) {
    case TxType::kBalance: {
      auto c = read(l.checking_of(a));
      if (!c.ok()) return c.status();
      return read(l.savings_of(a)).status();
    }
    case TxType::kDepositChecking: {
      auto c = read(l.checking_of(a));
      if (!c.ok()) return c.status();
      tx.write(*c)->cents += v;
      *net = v;
      return Status::OK();
    }
    case TxType::kTransactSavings: {
      auto s = read(l.savings_of(a));
      if (!s.ok()) return s.status();
      tx.write(*s)->cents += v;
      *net = v;
      return Status::OK();
    }
    case TxType::kWriteCheck: {
      auto c = read(l.checking_of(a));
      auto s = read(l.savings_of(a));
      if (!c.ok()) return c.status();
      if (!s.ok()) return s.status();
      const int64_t charge = (*c)->cents + (*s)->cents < v ? v + 1 : v;  // overdraft penalty
      tx.write(*c)->cents -= charge;
      *net = -charge;
      return Status::OK();
    }
    case TxType::kSendPayment: {
      auto from = read(l.checking_of(a));
      auto to = read(l.checking_of(b));
      if (!from.ok()) return from.status();
      if (!to.ok()) return to.status();
      if ((*from)->cents < v) return Status::Aborted("insufficient funds");
      tx.write(*from)->cents -= v;
      tx.write(*to)->cents += v;
      return Status::OK();
    }
    case TxType::kAmalgamate: {
      auto s = read(l.savings_of(a));
      auto c = read(l.checking_of(a));
      auto to = read(l.checking_of(b));
      if (!s.ok()) return s.status();
      if (!c.ok()) return c.status();
      if (!to.ok()) return to.status();
      const int64_t all = (*s)->cents + (*c)->cents;
      tx.write(*s)->cents = 0;
      tx.write(*c)->cents = 0;
      tx.write(*to)->cents += all;
      return Status::OK();
    }
    case TxType::kCount: break;
  }
  return Status::Internal("unknown transaction type");
}

}  // namespace

GAddr BankLayout::checking_of(uint64_t g) const {
  return checking[g % nodes.size()].row(static_cast<uint32_t>(g / nodes.size()));
}
GAddr BankLayout::savings_of(uint64_t g) const {
  return savings[g % nodes.size()].row(static_cast<uint32_t>(g / nodes.size()));
}
uint64_t BankLayout::accounts() const { return nodes.size() * uint64_t{checking.empty() ? 0 : checking[0].rows}; }

Status load(Store& store, uint32_t accounts) {
  auto init = [](uint32_t, std::span<std::byte> p) {
    const Balance b{kInitialBalance};
    std::memcpy(p.data(), &b, sizeof b);
  };
  for (const char* name : {"checking", "savings"}) {
    auto t = store.create_table(name, accounts, sizeof(Balance), init);
    if (!t.ok()) return t.status().with_context(fmt::format("loading {} accounts", accounts));
  }
  return Status::OK();
}

Result<BankLayout> resolve(Context& ctx, TxnEngine& txn, const std::vector<NodeId>& nodes) {
  BankLayout l;
  l.nodes = nodes;
  for (NodeId n : nodes) {
    auto c = txn.lookup_table(ctx, n, "checking");
    if (!c.ok()) return c.status();
    auto s = txn.lookup_table(ctx, n, "savings");
    if (!s.ok()) return s.status();
    if (!l.checking.empty() && (c->rows != l.checking[0].rows || s->rows != c->rows))
      return Status::InvalidArgument(fmt::format("node {} has {} accounts, node {} has {}", n, c->rows,
                                                 nodes[0], l.checking[0].rows));
    l.checking.push_back(*c);
    l.savings.push_back(*s);
  }
  return l;
}

Status run_coroutine(Context& ctx, TxnEngine& txn, const BankLayout& l, const BankOptions& o,
                     const app::RunInfo& info, app::Recorder& rec, BankStats& stats) {
  Rng rng(info.seed);
  for (uint64_t done = 0; !info.should_stop(done) && !ctx.stop_requested(); ++done) {
    const uint64_t t0 = now_ns();
    const TxType type = smallbank::pick_type(rng);
    const uint64_t a = pick(rng, l, o);
    uint64_t b = pick(rng, l, o);
    if (b == a) b = (a + 1) % l.accounts();
    const int64_t v = 1 + static_cast<int64_t>(rng.below(100));
    int64_t net = 0;
    Status st = txn.transact(ctx, [&](Tx& tx) { return one(tx, type, l, a, b, v, &net); });
    if (st.code() == Code::kAborted) {
      ++stats.insufficient;
      continue;
    }
    if (st.code() == Code::kConflict) {  // ran out of attempts: counted, go on
      ++rec.gave_up;
      continue;
    }
    if (!st.ok()) return st.with_context(tx_type_name(type));
    rec.done(static_cast<size_t>(type), now_ns() - t0);
    stats.net += net;
  }
  return Status::OK();
}

Result<int64_t> total_balance(Context& ctx, TxnEngine& txn, const BankLayout& l) {
  int64_t sum = 0;
  const auto scratch = ctx.scratch();
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    for (const Table* t : {&l.checking[i], &l.savings[i]}) {
      const uint32_t per_read = static_cast<uint32_t>(scratch.size() / t->stride);
      for (uint32_t row = 0; row < t->rows; row += per_read) {
        const uint32_t n = std::min(per_read, t->rows - row);
        if (l.nodes[i] == ctx.self()) {  // our own tables: straight from memory
          const std::byte* src = txn.store().local_object(t->row(row), n * t->stride);
          if (!src) return Status::Internal(fmt::format("table {} is not local", t->name));
          std::memcpy(scratch.data(), src, size_t{n} * t->stride);
        } else {
          REMORA_RETURN_IF_ERROR(ctx.read(l.nodes[i], t->row(row), scratch.data(), n * t->stride));
        }
        for (uint32_t k = 0; k < n; ++k) {
          std::span<const std::byte> obj = scratch.subspan(size_t{k} * t->stride, t->stride);
          if (obj::check(obj) != obj::Check::kOk)
            return Status::Corrupt(fmt::format("{} row {} of node {} is {}", t->name, row + k, l.nodes[i],
                                               obj::check_name(obj::check(obj))));
          Balance b;
          std::memcpy(&b, obj.data() + obj::kHeaderSize, sizeof b);
          sum += b.cents;
        }
      }
    }
  }
  return sum;
}

}  // namespace remora::bank
