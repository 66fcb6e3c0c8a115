// UCX backend, two nodes inside one process (one ucp_context each). The
// test alternates polling both channels, which also drives the target side
// of tcp-emulated one-sided operations.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "remora/fabric/fabric.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

constexpr uint64_t kRegion = 1 << 20;

struct TwoNodes {
  std::unique_ptr<Fabric> fab[2];
  std::unique_ptr<Channel> ch[2];
  LocalRegion* data[2] = {};
  LocalRegion* scratch[2] = {};

  ~TwoNodes() {
    for (auto& c : ch) c.reset();  // channels before fabrics
  }

  Status build(const std::string& tls) {
    for (NodeId n = 0; n < 2; ++n) {
      FabricOptions o;
      o.self = n;
      o.ucx_tls = tls;
      auto f = Fabric::create(o);
      if (!f.ok()) return f.status();
      fab[n] = std::move(*f);
      auto d = fab[n]->register_region(region_id(n, 1), kRegion);
      if (!d.ok()) return d.status();
      data[n] = *d;
      auto s = fab[n]->register_region(region_id(n, 2), 64 << 10);
      if (!s.ok()) return s.status();
      scratch[n] = *s;
      auto c = fab[n]->create_channel(0);
      if (!c.ok()) return c.status();
      ch[n] = std::move(*c);
    }
    for (NodeId n = 0; n < 2; ++n) {
      auto info = fab[1 - n]->local_info();
      if (!info.ok()) return info.status();
      REMORA_RETURN_IF_ERROR(fab[n]->add_peer(static_cast<NodeId>(1 - n), *info));
    }
    return Status::OK();
  }

  // Posts on node 0 and polls both nodes until the request completes.
  Result<Completion> run(const WorkRequest& wr) {
    REMORA_RETURN_IF_ERROR(ch[0]->post({&wr, 1}));
    Completion c;
    for (int spin = 0; spin < 50'000'000; ++spin) {
      ch[1]->poll({});
      if (ch[0]->poll({&c, 1}) == 1) return c;
    }
    return Status::Timeout("no completion");
  }
};

class UcxFabricTest : public ::testing::TestWithParam<std::string> {};

TEST_P(UcxFabricTest, ReadWriteByteExact) {
  TwoNodes t;
  ASSERT_OK(t.build(GetParam()));
  auto* remote = t.data[1]->data;
  for (size_t i = 0; i < 8192; ++i) remote[100 + i] = std::byte(i * 7 + 3);
  auto* local = t.scratch[0]->data;
  WorkRequest rd{Op::kRead, 1, GAddr(region_id(1, 1), 100), local, 8192, 0, 0, 42};
  auto c = t.run(rd);
  ASSERT_OK(c);
  EXPECT_EQ(c->wr_id, 42u);
  EXPECT_EQ(c->code, Code::kOk);
  EXPECT_EQ(std::memcmp(local, remote + 100, 8192), 0);

  for (size_t i = 0; i < 4096; ++i) local[i] = std::byte(255 - i % 251);
  WorkRequest wr{Op::kWrite, 1, GAddr(region_id(1, 1), kRegion - 4096), local, 4096, 0, 0, 43};
  c = t.run(wr);
  ASSERT_OK(c);
  EXPECT_EQ(c->code, Code::kOk);
  // A write completes locally; read it back through the fabric to see it landed.
  WorkRequest back{Op::kRead, 1, GAddr(region_id(1, 1), kRegion - 4096), local + 8192, 4096, 0, 0, 44};
  ASSERT_OK(t.run(back));
  EXPECT_EQ(std::memcmp(local + 8192, local, 4096), 0);
  EXPECT_EQ(std::memcmp(remote + kRegion - 4096, local, 4096), 0);
}

TEST_P(UcxFabricTest, AtomicsReturnOldValue) {
  TwoNodes t;
  ASSERT_OK(t.build(GetParam()));
  auto* word = reinterpret_cast<uint64_t*>(t.data[1]->data + 64);
  *word = 10;
  auto* local = reinterpret_cast<uint64_t*>(t.scratch[0]->data);
  GAddr a(region_id(1, 1), 64);
  ASSERT_OK(t.run({Op::kFaa, 1, a, local, 8, 0, 5, 1}));
  EXPECT_EQ(*local, 10u);
  ASSERT_OK(t.run({Op::kCas, 1, a, local, 8, 15, 99, 2}));
  EXPECT_EQ(*local, 15u);  // swapped
  ASSERT_OK(t.run({Op::kCas, 1, a, local, 8, 15, 7, 3}));
  EXPECT_EQ(*local, 99u);  // not swapped: old value returned
  ASSERT_OK(t.run({Op::kRead, 1, a, local, 8, 0, 0, 4}));
  EXPECT_EQ(*local, 99u);
}

TEST_P(UcxFabricTest, OutOfRangeRefusedAndNothingPosted) {
  TwoNodes t;
  ASSERT_OK(t.build(GetParam()));
  auto* local = t.scratch[0]->data;
  WorkRequest good{Op::kRead, 1, GAddr(region_id(1, 1), 0), local, 64, 0, 0, 1};
  WorkRequest past_end{Op::kRead, 1, GAddr(region_id(1, 1), kRegion - 32), local, 64, 0, 0, 2};
  WorkRequest batch[] = {good, past_end};
  Status st = t.ch[0]->post(batch);
  EXPECT_EQ(st.code(), Code::kOutOfRange) << st.to_string();
  EXPECT_NE(st.message().find("request 1"), std::string::npos) << st.message();
  EXPECT_EQ(t.ch[0]->in_flight(), 0u);

  WorkRequest no_region{Op::kRead, 1, GAddr(region_id(1, 9), 0), local, 64, 0, 0, 3};
  EXPECT_EQ(t.ch[0]->post({&no_region, 1}).code(), Code::kNotFound);
  WorkRequest no_peer{Op::kRead, 7, GAddr(region_id(7, 1), 0), local, 64, 0, 0, 4};
  EXPECT_EQ(t.ch[0]->post({&no_peer, 1}).code(), Code::kNotFound);
  std::byte stack_buf[64];
  WorkRequest unregistered{Op::kRead, 1, GAddr(region_id(1, 1), 0), stack_buf, 64, 0, 0, 5};
  EXPECT_EQ(t.ch[0]->post({&unregistered, 1}).code(), Code::kOutOfRange);
  WorkRequest local_overflow{Op::kRead, 1, GAddr(region_id(1, 1), 0), local + (64 << 10) - 8, 64, 0, 0, 6};
  EXPECT_EQ(t.ch[0]->post({&local_overflow, 1}).code(), Code::kOutOfRange);
  WorkRequest misaligned{Op::kCas, 1, GAddr(region_id(1, 1), 4), local, 8, 0, 0, 7};
  EXPECT_EQ(t.ch[0]->post({&misaligned, 1}).code(), Code::kInvalidArgument);
  // The channel still works afterwards.
  EXPECT_OK(t.run(good));
}

TEST_P(UcxFabricTest, BatchCompletesEveryRequestOnce) {
  TwoNodes t;
  ASSERT_OK(t.build(GetParam()));
  std::vector<WorkRequest> batch;
  for (uint64_t i = 0; i < 64; ++i)
    batch.push_back({Op::kFaa, 1, GAddr(region_id(1, 1), 0), t.scratch[0]->data + 8 * i, 8, 0, 1, i});
  ASSERT_OK(t.ch[0]->post(batch));
  std::vector<int> seen(64, 0);
  Completion cs[16];
  size_t got = 0;
  for (int spin = 0; got < 64 && spin < 50'000'000; ++spin) {
    t.ch[1]->poll({});
    size_t n = t.ch[0]->poll(cs);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(cs[i].code, Code::kOk);
      seen[cs[i].wr_id]++;
    }
    got += n;
  }
  ASSERT_EQ(got, 64u);
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(t.data[1]->data), 64u);
  EXPECT_EQ(t.ch[0]->in_flight(), 0u);
}

TEST_P(UcxFabricTest, PeerGoneFailsPostsAndInFlight) {
  TwoNodes t;
  ASSERT_OK(t.build(GetParam()));
  t.fab[0]->mark_peer_gone(1, "test");
  EXPECT_FALSE(t.fab[0]->peer_alive(1));
  WorkRequest rd{Op::kRead, 1, GAddr(region_id(1, 1), 0), t.scratch[0]->data, 64, 0, 0, 1};
  EXPECT_EQ(t.ch[0]->post({&rd, 1}).code(), Code::kPeerGone);
}

TEST_P(UcxFabricTest, MalformedPeerInfoRefused) {
  TwoNodes t;
  ASSERT_OK(t.build(GetParam()));
  auto info = t.fab[1]->local_info();
  ASSERT_OK(info);
  std::vector<uint8_t> blob = *info;
  FabricOptions o;
  o.self = 5;
  o.ucx_tls = GetParam();
  auto f = Fabric::create(o);
  ASSERT_OK(f);
  auto ch = (*f)->create_channel(0);
  ASSERT_OK(ch);
  EXPECT_EQ((*f)->add_peer(1, std::span(blob).first(blob.size() - 3)).code(), Code::kInvalidArgument);
  EXPECT_EQ((*f)->add_peer(2, blob).code(), Code::kInvalidArgument);  // claims to be node 1
  std::vector<uint8_t> junk(blob.size(), 0xab);
  EXPECT_EQ((*f)->add_peer(1, junk).code(), Code::kInvalidArgument);
  EXPECT_TRUE((*f)->peer_regions(1).empty());
  EXPECT_OK((*f)->add_peer(1, blob));  // still accepts the good one
  EXPECT_EQ((*f)->peer_regions(1).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Transports, UcxFabricTest, ::testing::Values("shm,self", "tcp"),
                         [](const auto& info) { return info.param == "tcp" ? "tcp" : "shm"; });

}  // namespace
}  // namespace remora
