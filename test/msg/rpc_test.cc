// RpcEndpoint over loopback rings: round trips, errors, timeouts, gone peers.
#include "remora/msg/rpc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <string>

#include "msg/loopback_cluster.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackCluster;

constexpr uint16_t kEcho = 1;
constexpr uint16_t kFail = 2;
constexpr uint16_t kSquare = 3;

std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s)); }
std::string as_string(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

struct Outcome {
  std::optional<Status> status;
  std::string resp;
};

class RpcTest : public ::testing::Test {
 protected:
  void make(uint32_t nodes, uint32_t ring_size = 4096) {
    MessengerOptions m;
    m.now_ns = [this] { return now_.load(); };  // the corrupt-record bound runs on it too
    auto c = LoopbackCluster::create(nodes, 1, ring_size, m);
    ASSERT_OK(c);
    c_ = std::move(c.value());
    for (NodeId n = 0; n < nodes; ++n) {
      RpcOptions o;
      o.now_ns = [this] { return now_.load(); };
      auto ep = RpcEndpoint::create(c_->messenger(n), o);
      ASSERT_OK(ep);
      ep_.push_back(std::move(ep.value()));
      register_handlers(*ep_.back());
    }
  }
  static void register_handlers(RpcEndpoint& ep) {
    ASSERT_OK(ep.register_handler(kEcho, [](NodeId from, std::span<const std::byte> req,
                                            std::vector<std::byte>& resp) {
      const std::string prefix = "from " + std::to_string(from) + ": ";
      resp.insert(resp.end(), as_bytes(prefix).begin(), as_bytes(prefix).end());
      resp.insert(resp.end(), req.begin(), req.end());
      return Status::OK();
    }));
    ASSERT_OK(ep.register_handler(kFail, [](NodeId, std::span<const std::byte> req,
                                            std::vector<std::byte>&) {
      return Status::Refused("handler says no to " + as_string(req));
    }));
    ASSERT_OK(ep.register_handler(kSquare, [](NodeId, std::span<const std::byte> req,
                                              std::vector<std::byte>& resp) {
      uint64_t v;
      if (req.size() != sizeof(v)) return Status::InvalidArgument("want 8 bytes");
      std::memcpy(&v, req.data(), sizeof(v));
      v *= v;
      resp.resize(sizeof(v));
      std::memcpy(resp.data(), &v, sizeof(v));
      return Status::OK();
    }));
  }
  // Polls every endpoint and routes completions, `rounds` times.
  void run(int rounds = 3) {
    for (int i = 0; i < rounds; ++i)
      for (NodeId n = 0; n < ep_.size(); ++n) {
        auto r = ep_[n]->poll();
        EXPECT_OK(r);
        c_->pump(n);
      }
  }
  Status call(NodeId from, NodeId to, uint16_t method, const std::string& req, Outcome& out,
              std::chrono::nanoseconds timeout = 1s) {
    return ep_[from]->call(to, method, as_bytes(req), timeout,
                           [&out](Status s, std::span<const std::byte> resp) {
                             EXPECT_FALSE(out.status.has_value()) << "callback ran twice";
                             out.status = std::move(s);
                             out.resp = as_string(resp);
                           });
  }

  std::atomic<uint64_t> now_{5'000'000'000};
  std::unique_ptr<LoopbackCluster> c_;
  std::vector<std::unique_ptr<RpcEndpoint>> ep_;
};

TEST_F(RpcTest, RoundTrip) {
  make(2);
  Outcome out;
  ASSERT_OK(call(0, 1, kEcho, "ping", out));
  EXPECT_EQ(ep_[0]->pending_calls(), 1u);
  run();
  ASSERT_TRUE(out.status.has_value());
  EXPECT_OK(*out.status);
  EXPECT_EQ(out.resp, "from 0: ping");
  EXPECT_EQ(ep_[0]->pending_calls(), 0u);
}

TEST_F(RpcTest, HandlerErrorsTravelBack) {
  make(2);
  Outcome refused, unknown;
  ASSERT_OK(call(0, 1, kFail, "this", refused));
  ASSERT_OK(call(0, 1, 99, "", unknown));
  run();
  ASSERT_TRUE(refused.status && unknown.status);
  EXPECT_EQ(refused.status->code(), Code::kRefused);
  EXPECT_EQ(refused.status->message(), "handler says no to this");
  EXPECT_TRUE(refused.resp.empty());
  EXPECT_EQ(unknown.status->code(), Code::kNotFound);
  EXPECT_NE(unknown.status->message().find("method 99"), std::string::npos);
}

TEST_F(RpcTest, RegistrationRefusesDuplicatesAndEmptyHandlers) {
  make(2);
  EXPECT_EQ(ep_[0]->register_handler(kEcho, [](NodeId, auto, auto&) { return Status::OK(); }).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ep_[0]->register_handler(50, nullptr).code(), Code::kInvalidArgument);
}

TEST_F(RpcTest, TimesOutOnTheInjectedClockAndDropsTheLateResponse) {
  make(2);
  Outcome out;
  ASSERT_OK(call(0, 1, kEcho, "slow", out, 2ms));
  ASSERT_OK(ep_[0]->poll());  // the callee has not polled yet
  now_ += 1'000'000;
  ASSERT_OK(ep_[0]->poll());
  EXPECT_FALSE(out.status.has_value());
  now_ += 1'000'000;
  ASSERT_OK(ep_[0]->poll());
  ASSERT_TRUE(out.status.has_value());
  EXPECT_EQ(out.status->code(), Code::kTimeout);
  run();  // the callee answers now; the caller no longer knows the id
  EXPECT_EQ(ep_[0]->stats().unknown_responses, 1u);
}

TEST_F(RpcTest, LostRequestTimesOut) {
  make(2);
  c_->net().drop_next_writes(1, 1);
  Outcome out;
  ASSERT_OK(call(0, 1, kEcho, "into the void", out, 10ms));
  run();
  EXPECT_FALSE(out.status.has_value());
  now_ += 10'000'000;
  run();
  ASSERT_TRUE(out.status.has_value());
  EXPECT_EQ(out.status->code(), Code::kTimeout);
}

TEST_F(RpcTest, GonePeerFailsPendingAndNewCalls) {
  make(3);
  Outcome to1, to2;
  ASSERT_OK(call(0, 1, kEcho, "a", to1));
  ASSERT_OK(call(0, 2, kEcho, "b", to2));
  c_->fabric(0).mark_peer_gone(1, "lease expired");
  run();
  ASSERT_TRUE(to1.status && to2.status);
  EXPECT_EQ(to1.status->code(), Code::kPeerGone);
  EXPECT_OK(*to2.status);
  Outcome later;
  EXPECT_EQ(call(0, 1, kEcho, "c", later).code(), Code::kPeerGone);
  EXPECT_FALSE(later.status.has_value());
}

TEST_F(RpcTest, CorruptLinkFailsCallsToThatPeer) {
  make(2);
  c_->net().corrupt_next_write(0, 20);  // the response to node 0
  Outcome out, second;
  ASSERT_OK(call(0, 1, kEcho, "xyz", out, 10s));
  run();
  EXPECT_FALSE(out.status.has_value());  // invalid record: maybe half-written, so it waits
  now_ += 5'000'000'000;                 // however long (the call's deadline is 10 s)
  run();
  EXPECT_FALSE(out.status.has_value());
  EXPECT_OK(c_->messenger(0).peer_status(1));
  // The answer to a second call lands after it: the first is complete, so
  // corrupt.
  ASSERT_OK(call(0, 1, kEcho, "abc", second, 10s));
  ASSERT_OK(ep_[1]->poll());
  c_->pump(1);
  auto r = ep_[0]->poll();
  EXPECT_EQ(r.status().code(), Code::kCorrupt);
  ASSERT_TRUE(out.status.has_value());
  EXPECT_EQ(out.status->code(), Code::kCorrupt);
  ASSERT_TRUE(second.status.has_value());
  EXPECT_EQ(second.status->code(), Code::kCorrupt);
}

TEST_F(RpcTest, DefaultHandlerGetsUserRecords) {
  make(2);
  std::vector<std::string> seen;
  ep_[1]->set_default_handler([&](NodeId from, uint16_t type, std::span<const std::byte> p) {
    seen.push_back(std::to_string(from) + "/" + std::to_string(type) + "/" + as_string(p));
  });
  ASSERT_OK(c_->messenger(0).send(1, 16, as_bytes(std::string("user"))));
  ASSERT_OK(c_->messenger(0).send(1, 200, as_bytes(std::string("data"))));
  run();
  EXPECT_EQ(seen, (std::vector<std::string>{"0/16/user", "0/200/data"}));
  ASSERT_OK(c_->messenger(1).send(0, 17, as_bytes(std::string("nobody listens"))));
  run();
  EXPECT_EQ(ep_[0]->stats().unhandled, 1u);
}

TEST_F(RpcTest, ManyConcurrentCallsFromTwoClients) {
  make(3, 1024);  // small rings: callers see kFull and retry
  constexpr uint64_t kCalls = 2000;
  uint64_t done = 0, wrong = 0, full = 0;
  uint64_t issued[3] = {0, 0, 0};
  for (int round = 0; round < 2000 && done < 2 * kCalls; ++round) {
    for (NodeId client : {1, 2}) {
      while (issued[client] < kCalls) {
        const uint64_t v = issued[client] * 3 + client;
        Status s = ep_[client]->call(
            0, kSquare, std::as_bytes(std::span(&v, 1)), 5s,
            [&, v](Status st, std::span<const std::byte> resp) {
              uint64_t sq = 0;
              if (st.ok() && resp.size() == 8) std::memcpy(&sq, resp.data(), 8);
              if (!st.ok() || sq != v * v) ++wrong;
              ++done;
            });
        if (s.code() == Code::kFull) {
          ++full;
          break;
        }
        ASSERT_OK(s);
        ++issued[client];
      }
    }
    run(1);
  }
  EXPECT_EQ(done, 2 * kCalls);
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(full, 0u);
  EXPECT_EQ(ep_[1]->pending_calls() + ep_[2]->pending_calls(), 0u);
}

}  // namespace
}  // namespace remora
