// The "check" workload: correctness of the fabric, rings and RPC between
// every pair of nodes. Data region 0 of every node is laid out as:
//   [0, 4 KiB)          counters hit by every node's FAA / CAS (on the lowest node)
//   [64 KiB, 320 KiB)   home area, filled by its owner with pattern(owner)
//   [1 MiB + k*128 KiB) mailbox k = writer node * threads + writer thread
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "node/workload_util.h"
#include "remora/msg/rpc.h"

namespace remora {
namespace {

constexpr uint32_t kFaaWord = 0;
constexpr uint32_t kCasWord = 64;
constexpr uint32_t kHome = 64 << 10;
constexpr uint32_t kHomeSize = 256 << 10;
constexpr uint32_t kMailbox = 1 << 20;
constexpr uint32_t kMailboxSize = 128 << 10;
constexpr uint16_t kEchoMethod = 100;
constexpr uint16_t kStreamType = 32;

std::byte pattern(uint32_t seed, uint32_t i) {
  uint32_t x = (i + 1) * 2654435761u ^ (seed * 40503u + 17u);
  return std::byte(x >> 13);
}

// Everything one engine thread checks, against every peer.
class CheckRun {
 public:
  CheckRun(Node& node, Engine& e, const WorkloadOptions& o, CheckCounters& c)
      : node_(node), e_(e), o_(o), c_(c), nodes_(node.config().nodes.size()) {}

  Status run() {
    install_handlers();
    REMORA_RETURN_IF_ERROR(node_.barrier(e_, kBarrierTimeout));
    for (NodeId p : node_.peers()) {
      REMORA_RETURN_IF_ERROR(read_home(p).with_context(fmt::format("read from node {}", p)));
      REMORA_RETURN_IF_ERROR(write_mailbox(p).with_context(fmt::format("write to node {}", p)));
      REMORA_RETURN_IF_ERROR(refusals(p).with_context(fmt::format("bounds on node {}", p)));
      REMORA_RETURN_IF_ERROR(echo(p).with_context(fmt::format("rpc echo with node {}", p)));
    }
    REMORA_RETURN_IF_ERROR(atomics().with_context("concurrent atomics"));
    REMORA_RETURN_IF_ERROR(stream().with_context("ring stream"));
    REMORA_RETURN_IF_ERROR(node_.barrier(e_, kBarrierTimeout));
    REMORA_RETURN_IF_ERROR(verify_counters());
    REMORA_RETURN_IF_ERROR(wait_stream().with_context("ring stream"));
    return node_.barrier(e_, kBarrierTimeout);
  }

 private:
  NodeId counter_node() const { return node_.config().nodes.front().id; }
  uint32_t mailbox(NodeId writer) const {
    return kMailbox + (writer * node_.threads() + e_.index()) * kMailboxSize;
  }

  void install_handlers() {
    (void)e_.rpc().register_handler(kEchoMethod, [](NodeId, std::span<const std::byte> req,
                                                    std::vector<std::byte>& resp) {
      resp.assign(req.rbegin(), req.rend());  // reversed: proves the callee saw it
      return Status::OK();
    });
    e_.rpc().set_default_handler([this](NodeId from, uint16_t type, std::span<const std::byte> p) {
      uint64_t seq = 0;
      if (type != kStreamType || p.size() < 8) return;
      std::memcpy(&seq, p.data(), 8);
      uint64_t& want = next_seq_[from];
      if (seq != want || p.size() != stream_size(seq)) stream_errors_++;
      for (size_t i = 8; i < p.size(); ++i)
        if (p[i] != pattern(static_cast<uint32_t>(seq), static_cast<uint32_t>(i))) {
          stream_errors_++;
          break;
        }
      want = seq + 1;
      received_++;
    });
  }

  Status read_home(NodeId p) {
    std::byte* buf = e_.scratch().data() + 64;
    uint32_t off = 0;
    const uint32_t sizes[] = {8, 64, 4096, 65536, 1000, 8192};
    for (size_t k = 0; off < kHomeSize; ++k) {
      uint32_t len = std::min(sizes[k % std::size(sizes)], kHomeSize - off);
      REMORA_RETURN_IF_ERROR(e_.read(p, Node::data_addr(p, 0, kHome + off), buf, len));
      for (uint32_t i = 0; i < len; ++i)
        if (buf[i] != pattern(p, off + i))
          return Status::Corrupt(fmt::format("byte {} of node {}'s home area differs", off + i, p));
      off += len;
      c_.read_bytes += len;
    }
    return Status::OK();
  }

  Status write_mailbox(NodeId p) {
    auto scratch = e_.scratch();
    std::byte* src = scratch.data() + 64;
    std::byte* back = src + kMailboxSize;
    const uint32_t seed = node_.id() * 1000 + e_.index() * 10 + p;
    for (uint32_t i = 0; i < kMailboxSize; ++i) src[i] = pattern(seed, i);
    uint32_t off = 0;
    const uint32_t sizes[] = {8, 64, 1000, 4096, 65536};
    for (size_t k = 0; off < kMailboxSize; ++k) {
      uint32_t len = std::min(sizes[k % std::size(sizes)], kMailboxSize - off);
      REMORA_RETURN_IF_ERROR(e_.write(p, Node::data_addr(p, 0, mailbox(node_.id()) + off), src + off, len));
      off += len;
      c_.write_bytes += len;
    }
    REMORA_RETURN_IF_ERROR(e_.read(p, Node::data_addr(p, 0, mailbox(node_.id())), back, kMailboxSize));
    if (std::memcmp(src, back, kMailboxSize) != 0)
      return Status::Corrupt("mailbox read back differs from what was written");
    return Status::OK();
  }

  Status refusals(NodeId p) {
    std::byte* buf = e_.scratch().data() + 64;
    const auto size = static_cast<uint32_t>(node_.config().region_size);
    Status st = e_.read(p, Node::data_addr(p, 0, size - 32), buf, 64);
    if (st.code() != Code::kOutOfRange)
      return Status::Internal("read past the region end was not refused: " + st.to_string());
    st = e_.write(p, Node::data_addr(p, 4000, 0), buf, 8);
    if (st.code() != Code::kNotFound)
      return Status::Internal("write to a missing region was not refused: " + st.to_string());
    c_.refusals += 2;
    return e_.read(p, Node::data_addr(p, 0, size - 64), buf, 64);  // still usable
  }

  Status echo(NodeId p) {
    std::vector<std::byte> req, resp;
    for (uint32_t i = 0; i < o_.rounds / 4 + 1; ++i) {
      req.resize(1 + (i * 7919) % 1500);
      for (size_t k = 0; k < req.size(); ++k) req[k] = pattern(i, static_cast<uint32_t>(k));
      REMORA_RETURN_IF_ERROR(e_.call(p, kEchoMethod, req, std::chrono::seconds(10), &resp));
      if (!std::equal(req.rbegin(), req.rend(), resp.begin(), resp.end()))
        return Status::Corrupt(fmt::format("echo {} came back wrong", i));
      c_.rpc_calls++;
    }
    return Status::OK();
  }

  Status atomics() {
    const NodeId home = counter_node();
    for (uint32_t i = 0; i < o_.rounds; ++i) {
      auto old = e_.faa(home, Node::data_addr(home, 0, kFaaWord), 1);
      if (!old.ok()) return old.status();
      uint64_t expect = 0;
      for (int tries = 0;; ++tries) {  // CAS increment: retry with the value seen
        auto seen = e_.cas(home, Node::data_addr(home, 0, kCasWord), expect, expect + 1);
        if (!seen.ok()) return seen.status();
        if (*seen == expect) break;
        expect = *seen;
        c_.cas_retries++;
      }
      c_.atomics += 2;
    }
    return Status::OK();
  }

  Status verify_counters() {
    const NodeId home = counter_node();
    const uint64_t want = uint64_t{o_.rounds} * nodes_ * node_.threads();
    uint64_t got[2] = {};
    auto* buf = reinterpret_cast<uint64_t*>(e_.scratch().data() + 64);
    for (int w = 0; w < 2; ++w) {
      const uint32_t off = w == 0 ? kFaaWord : kCasWord;
      if (home == node_.id()) {
        got[w] = *reinterpret_cast<uint64_t*>(node_.data_region(0).data + off);
      } else {
        REMORA_RETURN_IF_ERROR(e_.read(home, Node::data_addr(home, 0, off), buf, 8));
        got[w] = *buf;
      }
    }
    if (got[0] != want || got[1] != want)
      return Status::Corrupt(fmt::format("counters FAA={} CAS={}, expected {} each", got[0], got[1], want));
    return Status::OK();
  }

  static size_t stream_size(uint64_t seq) { return 8 + (seq * 131) % 900; }

  Status stream() {
    std::vector<std::byte> rec;
    for (NodeId p : node_.peers()) {
      for (uint64_t seq = 0; seq < o_.rounds * 4; ++seq) {
        rec.resize(stream_size(seq));
        std::memcpy(rec.data(), &seq, 8);
        for (size_t i = 8; i < rec.size(); ++i) rec[i] = pattern(static_cast<uint32_t>(seq), static_cast<uint32_t>(i));
        Status st;
        REMORA_RETURN_IF_ERROR(e_.run_until([&] {
          st = e_.messenger().send(p, kStreamType, rec);
          if (st.code() == Code::kFull) c_.ring_full++;
          return st.code() != Code::kFull;  // full: keep polling until the receiver drains
        }, std::chrono::seconds(10)));
        REMORA_RETURN_IF_ERROR(st);
        c_.ring_records++;
      }
    }
    return Status::OK();
  }

  Status wait_stream() {
    const uint64_t want = uint64_t{o_.rounds} * 4 * node_.peers().size();
    Status st = e_.run_until([&] { return received_ >= want; }, std::chrono::seconds(10));
    if (!st.ok() || received_ != want || stream_errors_ != 0)
      return Status::Corrupt(fmt::format("received {} of {} records, {} out of order or damaged",
                                         received_, want, stream_errors_));
    return e_.ring_error();
  }

  Node& node_;
  Engine& e_;
  const WorkloadOptions& o_;
  CheckCounters& c_;
  const size_t nodes_;
  std::vector<uint64_t> next_seq_ = std::vector<uint64_t>(4096, 0);
  uint64_t received_ = 0;
  uint64_t stream_errors_ = 0;
};

}  // namespace

void fill_home_area(Node& node) {
  LocalRegion& r = node.data_region(0);
  for (uint32_t i = 0; i < kHomeSize; ++i) r.data[kHome + i] = pattern(node.id(), i);
}

Status check_layout_fits(Node& node) {
  const uint64_t need =
      kMailbox + uint64_t{kMailboxSize} * (node.config().nodes.back().id + 1u) * node.config().threads;
  if (node.config().region_size < need)
    return Status::InvalidArgument(fmt::format("the check workload needs region_size >= {} bytes", need));
  return Status::OK();
}

Status run_check(Node& node, Engine& e, const WorkloadOptions& o, CheckCounters& c) {
  return CheckRun(node, e, o, c).run();
}

}  // namespace remora
