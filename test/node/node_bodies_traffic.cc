// Traffic bodies: concurrent atomics on one word, ring floods.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "node/node_bodies.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kBarrier = 20s;
constexpr uint32_t kFaaWord = 0;
constexpr uint32_t kCasWord = 64;
constexpr uint32_t kMaxCasTries = 1'000'000;
constexpr uint16_t kFloodType = 40;

std::string join(const std::vector<uint64_t>& v) { return fmt::format("[{}]", fmt::join(v, ",")); }

struct AtomicsLog {
  std::vector<uint64_t> faa_old, cas_won;
  uint64_t faa_final = 0, cas_final = 0;
};

// CAS-increments `word`, guessing the value from the last CAS seen.
Status cas_increment(Engine& e, NodeId home, GAddr word, uint64_t& guess, AtomicsLog& log) {
  for (uint32_t tries = 0; tries < kMaxCasTries; ++tries) {
    auto seen = e.cas(home, word, guess, guess + 1);
    if (!seen.ok()) return seen.status();
    if (*seen == guess) {
      log.cas_won.push_back(guess++);
      return Status::OK();
    }
    guess = *seen;
  }
  return Status::Internal(fmt::format("CAS did not succeed in {} tries", kMaxCasTries));
}

Status hammer(Node& n, Engine& e, uint32_t rounds, AtomicsLog& log) {
  const NodeId home = n.config().nodes.front().id;
  const GAddr faa_word = Node::data_addr(home, 0, kFaaWord);
  const GAddr cas_word = Node::data_addr(home, 0, kCasWord);
  REMORA_RETURN_IF_ERROR(n.barrier(e, kBarrier));
  uint64_t guess = 0;
  for (uint32_t i = 0; i < rounds; ++i) {
    auto old = e.faa(home, faa_word, 1);
    if (!old.ok()) return old.status().with_context(fmt::format("faa {}", i));
    log.faa_old.push_back(*old);
    REMORA_RETURN_IF_ERROR(cas_increment(e, home, cas_word, guess, log));
  }
  REMORA_RETURN_IF_ERROR(n.barrier(e, kBarrier));
  auto* buf = reinterpret_cast<uint64_t*>(e.scratch().data() + 64);
  REMORA_RETURN_IF_ERROR(e.read(home, faa_word, buf, 8).with_context("read back FAA word"));
  log.faa_final = *buf;
  REMORA_RETURN_IF_ERROR(e.read(home, cas_word, buf, 8).with_context("read back CAS word"));
  log.cas_final = *buf;
  return n.barrier(e, kBarrier);  // the home node serves (tcp) until everyone read
}

std::string atomics_json(NodeId id, const std::vector<AtomicsLog>& logs) {
  std::vector<uint64_t> faa, cas, faa_final, cas_final;
  for (const AtomicsLog& l : logs) {
    faa.insert(faa.end(), l.faa_old.begin(), l.faa_old.end());
    cas.insert(cas.end(), l.cas_won.begin(), l.cas_won.end());
    faa_final.push_back(l.faa_final);
    cas_final.push_back(l.cas_final);
  }
  return fmt::format(
      "{{\"node\":{},\"faa_old\":{},\"cas_won\":{},\"faa_final\":{},\"cas_final\":{}}}", id,
      join(faa), join(cas), join(faa_final), join(cas_final));
}

std::byte pattern(uint64_t seq, size_t i) { return std::byte((seq * 131 + i * 7) & 0xff); }
size_t record_size(uint64_t seq) { return 8 + (seq * 37) % 200; }

struct FloodStats {
  uint64_t received = 0, dups = 0, gaps = 0, damaged = 0;  // receiver
  uint64_t sent = 0, full = 0;                             // sender
};

Status receive_flood(Node& n, Engine& e, uint64_t records, std::chrono::milliseconds nap,
                     FloodStats& s) {
  std::vector<uint64_t> want(n.config().nodes.back().id + 1u, 0);
  e.rpc().set_default_handler([&](NodeId from, uint16_t type, std::span<const std::byte> p) {
    uint64_t seq = 0;
    if (type != kFloodType || p.size() < 8) return void(s.damaged++);
    std::memcpy(&seq, p.data(), 8);
    if (seq < want[from]) s.dups++;
    if (seq > want[from]) s.gaps++;
    want[from] = seq + 1;
    bool intact = p.size() == record_size(seq);
    for (size_t i = 8; intact && i < p.size(); ++i) intact = p[i] == pattern(seq, i);
    s.damaged += !intact;
    s.received++;
  });
  REMORA_RETURN_IF_ERROR(n.barrier(e, kBarrier));
  std::this_thread::sleep_for(nap);  // no polling: the senders fill the rings
  const uint64_t expected = records * n.peers().size();
  Status st = e.run_until([&] { return s.received >= expected; }, 15s);
  REMORA_RETURN_IF_ERROR(st.with_context(fmt::format("received {} of {}", s.received, expected)));
  REMORA_RETURN_IF_ERROR(e.ring_error());
  return n.barrier(e, kBarrier);
}

Status send_flood(Node& n, Engine& e, uint64_t records, FloodStats& s) {
  const NodeId to = n.config().nodes.front().id;
  REMORA_RETURN_IF_ERROR(n.barrier(e, kBarrier));
  std::vector<std::byte> rec;
  for (uint64_t seq = 0; seq < records; ++seq) {
    rec.resize(record_size(seq));
    std::memcpy(rec.data(), &seq, 8);
    for (size_t i = 8; i < rec.size(); ++i) rec[i] = pattern(seq, i);
    Status st;
    REMORA_RETURN_IF_ERROR(
        e.run_until(
             [&] {
               st = e.messenger().send(to, kFloodType, rec);
               s.full += st.code() == Code::kFull;
               return st.code() != Code::kFull;
             },
             10s)
            .with_context(fmt::format("record {} stayed blocked on a full ring", seq)));
    REMORA_RETURN_IF_ERROR(st);
    s.sent++;
  }
  return n.barrier(e, kBarrier);
}

}  // namespace

ChildBody atomics_body(uint32_t rounds) {
  return [rounds](const Config& cfg, NodeId id, ChildContext&) {
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    Node& n = **node;
    std::vector<AtomicsLog> logs(n.threads());
    Status st = n.run([&](Engine& e) { return hammer(n, e, rounds, logs[e.index()]); });
    n.leave();
    return ChildReport::from(st, atomics_json(id, logs));
  };
}

ChildBody ring_flood_body(uint64_t records, std::chrono::milliseconds receiver_nap) {
  return [=](const Config& cfg, NodeId id, ChildContext&) {
    auto node = start_node(cfg, id);
    if (!node.ok()) return ChildReport::from(node.status());
    Node& n = **node;
    const bool receiver = id == cfg.nodes.front().id;
    std::vector<FloodStats> per(n.threads());
    Status st = n.run([&](Engine& e) {
      FloodStats& s = per[e.index()];
      return receiver ? receive_flood(n, e, records, receiver_nap, s)
                      : send_flood(n, e, records, s);
    });
    n.leave();
    FloodStats sum;
    for (const FloodStats& s : per) {
      sum.received += s.received, sum.dups += s.dups, sum.gaps += s.gaps, sum.damaged += s.damaged;
      sum.sent += s.sent, sum.full += s.full;
    }
    const uint64_t expected = records * n.peers().size() * n.threads();
    std::string json =
        receiver
            ? fmt::format(
                  "{{\"role\":\"receiver\",\"received\":{},\"expected\":{},\"dups\":{},\"gaps\":{},"
                  "\"damaged\":{}}}",
                  sum.received, expected, sum.dups, sum.gaps, sum.damaged)
            : fmt::format("{{\"role\":\"sender\",\"sent\":{},\"full\":{}}}", sum.sent, sum.full);
    return ChildReport::from(st, json);
  };
}

}  // namespace remora::testing
