#include "redis_smallbank.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "remora/common/latency.h"
#include "rng.h"  // apps/common

namespace remora::redis {

namespace {

// The bank's generator and choices (apps/bank/smallbank.cc), so that one
// seed gives the same kind of stream.
using app::Rng;

uint64_t pick(Rng& r, const WorkloadOptions& o) {
  return smallbank::pick_account(r, o.accounts, o.hot, o.hot_fraction);
}

std::string checking(uint64_t a) { return fmt::format("checking:{}", a); }
std::string savings(uint64_t a) { return fmt::format("savings:{}", a); }

Result<int64_t> parse_balance(const redisReply& r, const std::string& key) {
  if (r.type == REDIS_REPLY_NIL)
    return Status::NotFound(fmt::format("{} is missing in Redis: load the accounts first (--load)", key));
  REMORA_RETURN_IF_ERROR(check_reply(r, key));
  int64_t v = 0;
  const char* end = r.str + r.len;
  if (r.type != REDIS_REPLY_STRING || std::from_chars(r.str, end, v).ptr != end)
    return Status::Corrupt(fmt::format("{} does not hold a balance", key));
  return v;
}

enum class Outcome { kCommitted, kAborted, kInsufficient };

struct Write {
  size_t key;  // index into the transaction's keys
  int64_t value;
};

// The keys a writing transaction reads (and watches), as in the bank.
std::vector<std::string> keys_of(TxType t, uint64_t a, uint64_t b) {
  switch (t) {
    case TxType::kDepositChecking: return {checking(a)};
    case TxType::kTransactSavings: return {savings(a)};
    case TxType::kWriteCheck: return {checking(a), savings(a)};
    case TxType::kSendPayment: return {checking(a), checking(b)};
    case TxType::kAmalgamate: return {savings(a), checking(a), checking(b)};
    default: return {};
  }
}

// The bank's arithmetic on the values of keys_of(); false for insufficient
// funds. `net` is the change of the total money.
bool compute(TxType t, const std::vector<int64_t>& x, int64_t v, std::vector<Write>* w, int64_t* net) {
  *net = 0;
  switch (t) {
    case TxType::kDepositChecking:
    case TxType::kTransactSavings:
      *w = {{0, x[0] + v}};
      *net = v;
      return true;
    case TxType::kWriteCheck: {
      const int64_t charge = x[0] + x[1] < v ? v + 1 : v;  // overdraft penalty
      *w = {{0, x[0] - charge}};
      *net = -charge;
      return true;
    }
    case TxType::kSendPayment:
      if (x[0] < v) return false;
      *w = {{0, x[0] - v}, {1, x[1] + v}};
      return true;
    case TxType::kAmalgamate:
      *w = {{0, 0}, {1, 0}, {2, x[2] + x[0] + x[1]}};
      return true;
    default: return false;
  }
}

// Step 1: WATCH + MGET of `keys`, pipelined.
Result<std::vector<int64_t>> watch_and_read(RedisClient& c, const std::vector<std::string>& keys) {
  std::vector<std::string> watch{"WATCH"}, mget{"MGET"};
  watch.insert(watch.end(), keys.begin(), keys.end());
  mget.insert(mget.end(), keys.begin(), keys.end());
  REMORA_RETURN_IF_ERROR(c.append(watch));
  REMORA_RETURN_IF_ERROR(c.append(mget));
  REMORA_RETURN_IF_ERROR(c.expect_status("OK", "WATCH"));
  auto r = c.reply();
  if (!r.ok()) return r.status();
  REMORA_RETURN_IF_ERROR(check_reply(**r, "MGET"));
  if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != keys.size())
    return Status::Corrupt("MGET: unexpected reply shape");
  std::vector<int64_t> values;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto v = parse_balance(*(*r)->element[i], keys[i]);
    if (!v.ok()) return v.status();
    values.push_back(*v);
  }
  return values;
}

// Step 2: MULTI + SETs + EXEC, pipelined; kAborted on a nil EXEC.
Result<Outcome> commit(RedisClient& c, const std::vector<std::string>& keys, const std::vector<Write>& writes) {
  REMORA_RETURN_IF_ERROR(c.append({"MULTI"}));
  for (const Write& w : writes) REMORA_RETURN_IF_ERROR(c.append({"SET", keys[w.key], std::to_string(w.value)}));
  REMORA_RETURN_IF_ERROR(c.append({"EXEC"}));
  REMORA_RETURN_IF_ERROR(c.expect_status("OK", "MULTI"));
  for (size_t i = 0; i < writes.size(); ++i) REMORA_RETURN_IF_ERROR(c.expect_status("QUEUED", "SET"));
  auto r = c.reply();
  if (!r.ok()) return r.status();
  REMORA_RETURN_IF_ERROR(check_reply(**r, "EXEC"));
  if ((*r)->type == REDIS_REPLY_NIL) return Outcome::kAborted;
  if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != writes.size())
    return Status::Corrupt("EXEC: unexpected reply shape");
  for (size_t i = 0; i < writes.size(); ++i) REMORA_RETURN_IF_ERROR(check_reply(*(*r)->element[i], "SET"));
  return Outcome::kCommitted;
}

// Balance: one atomic MULTI block of two GETs.
Status balance(RedisClient& c, uint64_t a) {
  const std::string keys[] = {checking(a), savings(a)};
  REMORA_RETURN_IF_ERROR(c.append({"MULTI"}));
  for (const std::string& k : keys) REMORA_RETURN_IF_ERROR(c.append({"GET", k}));
  REMORA_RETURN_IF_ERROR(c.append({"EXEC"}));
  REMORA_RETURN_IF_ERROR(c.expect_status("OK", "MULTI"));
  for (size_t i = 0; i < 2; ++i) REMORA_RETURN_IF_ERROR(c.expect_status("QUEUED", "GET"));
  auto r = c.reply();
  if (!r.ok()) return r.status();
  REMORA_RETURN_IF_ERROR(check_reply(**r, "EXEC"));
  if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 2) return Status::Corrupt("EXEC: unexpected reply shape");
  for (size_t i = 0; i < 2; ++i) {
    auto v = parse_balance(*(*r)->element[i], keys[i]);
    if (!v.ok()) return v.status();
  }
  return Status::OK();
}

// One try of a transaction; `net` is set when it commits.
Result<Outcome> attempt(RedisClient& c, TxType t, uint64_t a, uint64_t b, int64_t v, int64_t* net) {
  *net = 0;
  if (t == TxType::kBalance) {
    REMORA_RETURN_IF_ERROR(balance(c, a));
    return Outcome::kCommitted;
  }
  const std::vector<std::string> keys = keys_of(t, a, b);
  auto values = watch_and_read(c, keys);
  if (!values.ok()) return values.status();
  std::vector<Write> writes;
  if (!compute(t, *values, v, &writes, net)) {
    auto r = c.command({"UNWATCH"});
    if (!r.ok()) return r.status();
    return Outcome::kInsufficient;
  }
  return commit(c, keys, writes);
}

}  // namespace

void ClientStats::merge(const ClientStats& o) {
  latency.merge(o.latency);
  for (int k = 0; k < kTxTypes; ++k) types[k].merge(o.types[k]);
  attempts += o.attempts;
  aborts += o.aborts;
  insufficient += o.insufficient;
  gave_up += o.gave_up;
  net += o.net;
}

Status run_client(RedisClient& c, const WorkloadOptions& o, uint64_t seed, const std::atomic<bool>& stop,
                  ClientStats& stats) {
  if (o.accounts < 2) return Status::InvalidArgument("SmallBank needs at least 2 accounts");
  Rng rng(seed);
  const uint64_t end = now_ns() + static_cast<uint64_t>(o.duration.count());
  for (uint64_t done = 0; (o.max_txns == 0 || done < o.max_txns) && !stop.load(std::memory_order_relaxed); ++done) {
    const uint64_t t0 = now_ns();
    if (t0 >= end) break;
    const TxType type = smallbank::pick_type(rng);
    const uint64_t a = pick(rng, o);
    uint64_t b = pick(rng, o);
    if (b == a) b = (a + 1) % o.accounts;
    const int64_t v = 1 + static_cast<int64_t>(rng.below(100));
    Outcome out = Outcome::kAborted;
    int64_t net = 0;
    for (uint32_t k = 0; k < o.max_attempts && out == Outcome::kAborted; ++k) {
      auto r = attempt(c, type, a, b, v, &net);
      if (!r.ok()) return r.status().with_context(tx_type_name(type));
      ++stats.attempts;
      out = *r;
      if (out == Outcome::kAborted) ++stats.aborts;
    }
    if (out == Outcome::kInsufficient) ++stats.insufficient;
    if (out == Outcome::kAborted) ++stats.gave_up;
    if (out != Outcome::kCommitted) continue;
    const uint64_t took = now_ns() - t0;
    stats.latency.add(took);
    stats.types[static_cast<size_t>(type)].add(took);
    stats.net += net;
  }
  return Status::OK();
}

namespace {

constexpr uint64_t kBatch = 500;  // accounts per MSET/MGET
constexpr uint64_t kWindow = 8;   // batches in flight

// Splits `accounts` into batches; each goes through `issue(first, last)` (appends one
// command) and `absorb(reply, first, last)`, kWindow batches in flight.
template <typename Issue, typename Absorb>
Status pipelined(RedisClient& c, uint64_t accounts, Issue issue, Absorb absorb) {
  const uint64_t batches = (accounts + kBatch - 1) / kBatch;
  uint64_t sent = 0, done = 0;
  while (done < batches) {
    for (; sent < batches && sent - done < kWindow; ++sent)
      REMORA_RETURN_IF_ERROR(issue(sent * kBatch, std::min(accounts, (sent + 1) * kBatch)));
    auto r = c.reply();
    if (!r.ok()) return r.status();
    REMORA_RETURN_IF_ERROR(absorb(**r, done * kBatch, std::min(accounts, (done + 1) * kBatch)));
    ++done;
  }
  return Status::OK();
}

}  // namespace

Status load_accounts(RedisClient& c, uint64_t accounts) {
  const std::string initial = std::to_string(kInitialBalance);
  uint64_t next_report = accounts / 10;
  const uint64_t t0 = now_ns();
  auto issue = [&](uint64_t first, uint64_t last) {
    std::vector<std::string> args{"MSET"};
    for (uint64_t a = first; a < last; ++a) args.insert(args.end(), {checking(a), initial, savings(a), initial});
    return c.append(args);
  };
  auto absorb = [&](const redisReply& r, uint64_t, uint64_t last) {
    REMORA_RETURN_IF_ERROR(check_reply(r, "MSET"));
    if (last >= next_report || last == accounts) {
      fmt::print(stderr, "[redis_bank] loaded {}/{} accounts ({:.1f} s)\n", last, accounts,
                 static_cast<double>(now_ns() - t0) / 1e9);
      next_report = last + accounts / 10;
    }
    return Status::OK();
  };
  return pipelined(c, accounts, issue, absorb).with_context("loading the accounts");
}

Result<int64_t> total_balance(RedisClient& c, uint64_t accounts) {
  int64_t sum = 0;
  auto issue = [&](uint64_t first, uint64_t last) {
    std::vector<std::string> args{"MGET"};
    for (uint64_t a = first; a < last; ++a) args.insert(args.end(), {checking(a), savings(a)});
    return c.append(args);
  };
  auto absorb = [&](const redisReply& r, uint64_t first, uint64_t last) {
    REMORA_RETURN_IF_ERROR(check_reply(r, "MGET"));
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 * (last - first))
      return Status::Corrupt("MGET: unexpected reply shape");
    for (uint64_t a = first; a < last; ++a) {
      const size_t i = 2 * (a - first);
      auto c_bal = parse_balance(*r.element[i], checking(a));
      if (!c_bal.ok()) return c_bal.status();
      auto s_bal = parse_balance(*r.element[i + 1], savings(a));
      if (!s_bal.ok()) return s_bal.status();
      sum += *c_bal + *s_bal;
    }
    return Status::OK();
  };
  REMORA_RETURN_IF_ERROR(pipelined(c, accounts, issue, absorb).with_context("summing the balances"));
  return sum;
}

}  // namespace remora::redis
