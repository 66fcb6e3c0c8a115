// The bank: transfers among a few hot accounts spread over the nodes.
// Invariants: money is conserved, no balance goes negative, and every
// committed audit (a read-only transaction over all accounts) saw the total.
#include <fmt/format.h>

#include <cstring>
#include <memory>

#include "remora/runtime/context.h"
#include "remora/txn/object.h"
#include "remora/txn/tx.h"
#include "sim/sim_workload.h"

namespace remora::sim {
namespace {

struct Account {
  int64_t balance;
  uint64_t transfers;  // committed transfers touching this account
};
constexpr int64_t kInitial = 1000;

class Bank final : public SimWorkload {
 public:
  Status load(SimCluster& c, SimRng& rng) override {
    const uint32_t per_node = static_cast<uint32_t>(rng.range(1, 3));
    for (NodeId n = 0; n < c.size(); ++n) {
      auto t = c.store(n).create_table("acct", per_node, sizeof(Account),
                                       [](uint32_t, std::span<std::byte> p) {
                                         const Account a{kInitial, 0};
                                         std::memcpy(p.data(), &a, sizeof(a));
                                       });
      if (!t.ok()) return t.status();
      for (uint32_t i = 0; i < per_node; ++i) accounts_.push_back(t->row(i));
    }
    total_ = kInitial * static_cast<int64_t>(accounts_.size());
    return Status::OK();
  }

  void start(SimCluster& c, SimRng& rng) override {
    spawn_clients(c, rng, 4, [this, &c](NodeId n, uint64_t, Context& ctx, SimRng& r, uint64_t ops) {
      return client(c.txn(n), ctx, r, ops);
    });
  }

  Status check(SimCluster& c) override {
    int64_t sum = 0;
    for (GAddr a : accounts_) {
      const std::byte* p = c.store(c.store(0).map().primary(a.region())).local_object(a, obj::footprint(sizeof(Account)));
      Account acc;
      std::memcpy(&acc, p + obj::kHeaderSize, sizeof(acc));
      if (acc.balance < 0) return Status::Corrupt(fmt::format("{} has balance {}", a.to_string(), acc.balance));
      sum += acc.balance;
    }
    if (sum != total_) return Status::Corrupt(fmt::format("money not conserved: {} != {}", sum, total_));
    if (!audit_error_.empty()) return Status::Corrupt(audit_error_);
    return Status::OK();
  }

  std::vector<GAddr> fixed_objects() const override { return accounts_; }

 private:
  Status client(TxnEngine& txn, Context& ctx, SimRng& rng, uint64_t ops) {
    for (uint64_t i = 0; i < ops; ++i) {
      if (rng.chance(0.15)) {
        audit(txn, ctx);
        continue;
      }
      const GAddr from = accounts_[rng.below(accounts_.size())];
      GAddr to = accounts_[rng.below(accounts_.size())];
      if (to.raw() == from.raw()) to = accounts_[(index_of(from) + 1) % accounts_.size()];
      const int64_t amount = static_cast<int64_t>(rng.range(1, 300));
      Status st = txn.transact(ctx, [&](Tx& tx) -> Status {
        auto a = tx.read<Account>(from);
        if (!a.ok()) return a.status();
        auto b = tx.read<Account>(to);
        if (!b.ok()) return b.status();
        if ((*a)->balance < amount) return Status::Refused("insufficient funds");
        Account* wa = tx.write(*a);
        wa->balance -= amount;
        ++wa->transfers;
        Account* wb = tx.write(*b);
        wb->balance += amount;
        ++wb->transfers;
        return Status::OK();
      });
      count(st, {Code::kRefused});
    }
    return Status::OK();
  }

  size_t index_of(GAddr a) const {
    for (size_t i = 0; i < accounts_.size(); ++i)
      if (accounts_[i].raw() == a.raw()) return i;
    return 0;
  }

  void audit(TxnEngine& txn, Context& ctx) {
    int64_t sum = 0;
    Status st = txn.transact(ctx, [&](Tx& tx) -> Status {
      sum = 0;
      for (GAddr a : accounts_) {
        auto r = tx.read<Account>(a);
        if (!r.ok()) return r.status();
        sum += (*r)->balance;
      }
      return Status::OK();
    });
    count(st);
    if (st.ok() && sum != total_ && audit_error_.empty())
      audit_error_ = fmt::format("a committed audit saw {} instead of {}", sum, total_);
  }

  std::vector<GAddr> accounts_;
  int64_t total_ = 0;
  std::string audit_error_;
};

}  // namespace

std::unique_ptr<SimWorkload> make_bank() { return std::make_unique<Bank>(); }

}  // namespace remora::sim
