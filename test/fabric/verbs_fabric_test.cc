// Verbs backend, nodes inside one process (one device context each), over
// whatever device libibverbs sees: rxe0 in the Soft-RoCE VM. Skips without
// one. The multi-process tests are in verbs_cluster_test.cc.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "fabric/verbs/verbs_wire.h"
#include "fabric/verbs_test_util.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

using testing::verbs_options;
constexpr uint64_t kRegion = 1 << 20;

struct Nodes {
  std::vector<std::unique_ptr<Fabric>> fab;
  std::vector<std::unique_ptr<Channel>> ch;
  std::vector<LocalRegion*> data, scratch;

  ~Nodes() { ch.clear(); }  // channels before fabrics

  Status build(NodeId n_nodes) {
    for (NodeId n = 0; n < n_nodes; ++n) {
      auto f = Fabric::create(verbs_options(n));
      if (!f.ok()) return f.status();
      fab.push_back(std::move(*f));
      auto d = fab[n]->register_region(region_id(n, 1), kRegion);
      if (!d.ok()) return d.status();
      data.push_back(*d);
      auto s = fab[n]->register_region(region_id(n, 2), 64 << 10);
      if (!s.ok()) return s.status();
      scratch.push_back(*s);
      auto c = fab[n]->create_channel(0);
      if (!c.ok()) return c.status();
      ch.push_back(std::move(*c));
    }
    return Status::OK();
  }
  Status connect(NodeId a, NodeId b) {
    auto info = fab[b]->local_info();
    if (!info.ok()) return info.status();
    return fab[a]->add_peer(b, *info);
  }
  Status connect_all() {
    for (NodeId a = 0; a < fab.size(); ++a)
      for (NodeId b = 0; b < fab.size(); ++b) REMORA_RETURN_IF_ERROR(connect(a, b));
    return Status::OK();
  }
  // Posts on node `from` and polls until the request completes.
  Result<Completion> run(NodeId from, const WorkRequest& wr) {
    REMORA_RETURN_IF_ERROR(ch[from]->post({&wr, 1}));
    Completion c;
    for (int spin = 0; spin < 100'000'000; ++spin)
      if (ch[from]->poll({&c, 1}) == 1) return c;
    return Status::Timeout("no completion");
  }
};

class VerbsFabricTest : public ::testing::Test {
 protected:
  void SetUp() override { REMORA_SKIP_WITHOUT_RDMA(); }
};

TEST_F(VerbsFabricTest, ReadWriteByteExactIncludingInline) {
  Nodes t;
  ASSERT_OK(t.build(2));
  ASSERT_OK(t.connect_all());
  EXPECT_NE(t.fab[0]->name().find("verbs(device="), std::string::npos) << t.fab[0]->name();
  auto* remote = t.data[1]->data;
  for (size_t i = 0; i < 8192; ++i) remote[100 + i] = std::byte(i * 7 + 3);
  auto* local = t.scratch[0]->data;
  auto c = t.run(0, {Op::kRead, 1, GAddr(region_id(1, 1), 100), local, 8192, 0, 0, 42});
  ASSERT_OK(c);
  EXPECT_EQ(c->wr_id, 42u);
  EXPECT_EQ(c->code, Code::kOk);
  EXPECT_EQ(c->peer, 1);
  EXPECT_EQ(std::memcmp(local, remote + 100, 8192), 0);
  // 40 bytes goes inline, 4096 does not; both must land byte-exact.
  for (uint32_t len : {40u, 4096u}) {
    for (size_t i = 0; i < len; ++i) local[i] = std::byte(255 - (i + len) % 251);
    const GAddr at(region_id(1, 1), static_cast<uint32_t>(kRegion - len));
    c = t.run(0, {Op::kWrite, 1, at, local, len, 0, 0, 43});
    ASSERT_OK(c);
    EXPECT_EQ(c->code, Code::kOk);
    ASSERT_OK(t.run(0, {Op::kRead, 1, at, local + 8192, len, 0, 0, 44}));
    EXPECT_EQ(std::memcmp(local + 8192, local, len), 0) << len;
    EXPECT_EQ(std::memcmp(remote + kRegion - len, local, len), 0) << len;
  }
}

TEST_F(VerbsFabricTest, AtomicsReturnOldValue) {
  Nodes t;
  ASSERT_OK(t.build(2));
  ASSERT_OK(t.connect_all());
  auto* word = reinterpret_cast<uint64_t*>(t.data[1]->data + 64);
  *word = 10;
  auto* local = reinterpret_cast<uint64_t*>(t.scratch[0]->data);
  GAddr a(region_id(1, 1), 64);
  ASSERT_OK(t.run(0, {Op::kFaa, 1, a, local, 8, 0, 5, 1}));
  EXPECT_EQ(*local, 10u);
  ASSERT_OK(t.run(0, {Op::kCas, 1, a, local, 8, 15, 99, 2}));
  EXPECT_EQ(*local, 15u);  // swapped
  ASSERT_OK(t.run(0, {Op::kCas, 1, a, local, 8, 15, 7, 3}));
  EXPECT_EQ(*local, 99u);  // not swapped: old value returned
  EXPECT_EQ(*word, 99u);
  ASSERT_OK(t.run(0, {Op::kFaa, 1, a, local, 8, 0, 1ull << 40, 4}));
  EXPECT_EQ(*word, 99u + (1ull << 40));  // host order on the target
}

TEST_F(VerbsFabricTest, LoopbackToOurOwnRegions) {
  Nodes t;
  ASSERT_OK(t.build(1));
  ASSERT_OK(t.connect(0, 0));
  auto* local = t.scratch[0]->data;
  std::memcpy(local, "loopback!", 9);
  ASSERT_OK(t.run(0, {Op::kWrite, 0, GAddr(region_id(0, 1), 8), local, 9, 0, 0, 1}));
  EXPECT_EQ(std::memcmp(t.data[0]->data + 8, "loopback!", 9), 0);
  auto c = t.run(0, {Op::kFaa, 0, GAddr(region_id(0, 1), 64), local + 64, 8, 0, 3, 2});
  ASSERT_OK(c);
  EXPECT_EQ(c->code, Code::kOk);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(t.data[0]->data + 64), 3u);
}

TEST_F(VerbsFabricTest, OutOfRangeRefusedAndNothingPosted) {
  Nodes t;
  ASSERT_OK(t.build(2));
  ASSERT_OK(t.connect_all());
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
  WorkRequest misaligned{Op::kCas, 1, GAddr(region_id(1, 1), 4), local, 8, 0, 0, 7};
  EXPECT_EQ(t.ch[0]->post({&misaligned, 1}).code(), Code::kInvalidArgument);
  EXPECT_OK(t.run(0, good));  // the channel still works
}

// A batch is one linked chain per peer with only its last request
// signaled: every request must still complete exactly once.
TEST_F(VerbsFabricTest, BatchCompletesEveryRequestOnce) {
  Nodes t;
  ASSERT_OK(t.build(3));
  ASSERT_OK(t.connect_all());
  std::vector<WorkRequest> batch;
  for (uint64_t i = 0; i < 200; ++i) {
    const NodeId peer = i % 3 == 0 ? 2 : 1;
    batch.push_back({Op::kFaa, peer, GAddr(region_id(peer, 1), 0), t.scratch[0]->data + 8 * i, 8, 0, 1, i});
  }
  std::vector<int> seen(200, 0);
  for (int round = 0; round < 5; ++round) {
    ASSERT_OK(t.ch[0]->post(batch));
    Completion cs[16];
    size_t got = 0;
    for (int spin = 0; got < 200 && spin < 100'000'000; ++spin) {
      const size_t n = t.ch[0]->poll(cs);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(cs[i].code, Code::kOk);
        seen[cs[i].wr_id]++;
      }
      got += n;
    }
    ASSERT_EQ(got, 200u);
  }
  for (int s : seen) EXPECT_EQ(s, 5);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(t.data[1]->data), 5u * 133);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(t.data[2]->data), 5u * 67);
  EXPECT_EQ(t.ch[0]->in_flight(), 0u);
}

// The send queue of one QP is bounded: a batch that does not fit is
// refused whole (kFull), and everything accepted still completes.
TEST_F(VerbsFabricTest, FullSendQueueRefusesWholeBatch) {
  Nodes t;
  ASSERT_OK(t.build(2));
  ASSERT_OK(t.connect_all());
  std::vector<WorkRequest> batch;
  for (uint64_t i = 0; i < 400; ++i)
    batch.push_back({Op::kWrite, 1, GAddr(region_id(1, 1), 0), t.scratch[0]->data, 8, 0, 0, i});
  ASSERT_OK(t.ch[0]->post(batch));
  Status st = t.ch[0]->post(std::span(batch).first(200));
  EXPECT_EQ(st.code(), Code::kFull) << st.to_string();
  EXPECT_EQ(t.ch[0]->in_flight(), 400u);
  Completion cs[64];
  size_t got = 0;
  for (int spin = 0; got < 400 && spin < 100'000'000; ++spin) {
    const size_t n = t.ch[0]->poll(cs);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(cs[i].code, Code::kOk);
    got += n;
  }
  EXPECT_EQ(got, 400u);
  EXPECT_OK(t.ch[0]->post(std::span(batch).first(200)));  // room again
}

TEST_F(VerbsFabricTest, PeerGoneFailsPostsAndInFlight) {
  Nodes t;
  ASSERT_OK(t.build(2));
  ASSERT_OK(t.connect_all());
  std::vector<WorkRequest> batch;
  for (uint64_t i = 0; i < 32; ++i)
    batch.push_back({Op::kRead, 1, GAddr(region_id(1, 1), 0), t.scratch[0]->data, 4096, 0, 0, i});
  ASSERT_OK(t.ch[0]->post(batch));
  t.fab[0]->mark_peer_gone(1, "test");
  EXPECT_FALSE(t.fab[0]->peer_alive(1));
  Completion cs[64];
  size_t got = 0;
  for (int spin = 0; got < 32 && spin < 1000; ++spin) got += t.ch[0]->poll({cs + got, 64 - got});
  EXPECT_EQ(got, 32u);  // each once: flushed completions that follow are dropped
  for (int spin = 0; spin < 1000; ++spin) got += t.ch[0]->poll({cs, 64});
  EXPECT_EQ(got, 32u);
  EXPECT_EQ(t.ch[0]->in_flight(), 0u);
  EXPECT_EQ(t.ch[0]->post({&batch[0], 1}).code(), Code::kPeerGone);
}

// A peer blob with a wrong rkey: the HCA refuses the access, the request
// completes with kTransport, the QP to that peer is in error from then on,
// and the other peers (and the victim, for everyone else) keep working.
TEST_F(VerbsFabricTest, QpErrorIsReportedAndOthersKeepWorking) {
  Nodes t;
  ASSERT_OK(t.build(3));
  for (NodeId a = 0; a < 3; ++a)
    for (NodeId b = 0; b < 3; ++b)
      if (a != 0 || b != 1) ASSERT_OK(t.connect(a, b));
  auto info = t.fab[1]->local_info();
  ASSERT_OK(info);
  auto decoded = verbs::decode_peer_info(1, *info);
  ASSERT_OK(decoded);
  for (auto& r : decoded->regions) r.rkey ^= 0x5a5a00;
  ASSERT_OK(t.fab[0]->add_peer(1, verbs::encode_peer_info(*decoded)));

  auto* local = t.scratch[0]->data;
  auto c = t.run(0, {Op::kRead, 1, GAddr(region_id(1, 1), 0), local, 64, 0, 0, 9});
  ASSERT_OK(c);
  EXPECT_EQ(c->wr_id, 9u);
  EXPECT_EQ(c->code, Code::kTransport);
  Status st = t.ch[0]->post(std::vector<WorkRequest>{{Op::kRead, 1, GAddr(region_id(1, 1), 0), local, 64, 0, 0, 10}});
  EXPECT_EQ(st.code(), Code::kTransport) << st.to_string();
  EXPECT_NE(st.message().find("error state"), std::string::npos) << st.message();

  std::memcpy(t.data[2]->data, "still here", 10);
  c = t.run(0, {Op::kRead, 2, GAddr(region_id(2, 1), 0), local, 10, 0, 0, 11});
  ASSERT_OK(c);
  EXPECT_EQ(c->code, Code::kOk);
  EXPECT_EQ(std::memcmp(local, "still here", 10), 0);
  std::memcpy(t.data[1]->data + 128, "node 1 serves", 13);
  c = t.run(2, {Op::kRead, 1, GAddr(region_id(1, 1), 128), t.scratch[2]->data, 13, 0, 0, 12});
  ASSERT_OK(c);
  EXPECT_EQ(c->code, Code::kOk);
  EXPECT_EQ(std::memcmp(t.scratch[2]->data, "node 1 serves", 13), 0);
}

TEST_F(VerbsFabricTest, MalformedPeerInfoRefusedAndChangesNothing) {
  Nodes t;
  ASSERT_OK(t.build(2));
  auto info = t.fab[1]->local_info();
  ASSERT_OK(info);
  std::vector<uint8_t> blob = *info;
  EXPECT_EQ(t.fab[0]->add_peer(1, std::span(blob).first(blob.size() - 3)).code(), Code::kInvalidArgument);
  EXPECT_EQ(t.fab[0]->add_peer(0, blob).code(), Code::kInvalidArgument);  // claims to be node 1
  std::vector<uint8_t> junk(blob.size(), 0xab);
  EXPECT_EQ(t.fab[0]->add_peer(1, junk).code(), Code::kInvalidArgument);
  EXPECT_TRUE(t.fab[0]->peer_regions(1).empty());
  EXPECT_FALSE(t.fab[0]->peer_alive(1));
  EXPECT_OK(t.fab[0]->add_peer(1, blob));  // still accepts the good one
  EXPECT_EQ(t.fab[0]->peer_regions(1).size(), 2u);
  EXPECT_EQ(t.fab[0]->add_peer(1, blob).code(), Code::kInvalidArgument);  // twice
}

TEST_F(VerbsFabricTest, ArmAndEventFd) {
  Nodes t;
  ASSERT_OK(t.build(2));
  ASSERT_OK(t.connect_all());
  ASSERT_GE(t.ch[0]->event_fd(), 0);
  EXPECT_TRUE(t.ch[0]->arm());  // nothing pending
  WorkRequest rd{Op::kRead, 1, GAddr(region_id(1, 1), 0), t.scratch[0]->data, 64, 0, 0, 1};
  ASSERT_OK(t.ch[0]->post({&rd, 1}));
  bool armed = true;
  for (int i = 0; i < 100'000 && armed; ++i) armed = t.ch[0]->arm();
  EXPECT_FALSE(armed);  // the completion is pending: poll again
  Completion c;
  EXPECT_EQ(t.ch[0]->poll({&c, 1}), 1u);
  EXPECT_EQ(c.code, Code::kOk);
}

}  // namespace
}  // namespace remora
