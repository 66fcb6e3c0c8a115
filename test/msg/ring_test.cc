// Messenger rings on the loopback fabric: delivery, wrap-around, flow
// control, lazy head updates and validation of what arrives.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "msg/loopback_cluster.h"
#include "remora/msg/wr_tag.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

using testing::LoopbackCluster;
constexpr uint16_t kType = 20;

struct Got {
  NodeId from;
  uint16_t type;
  std::string text;
};

class RingTest : public ::testing::Test {
 protected:
  void make(uint32_t nodes, uint32_t ring_size) {
    MessengerOptions o;
    o.now_ns = [this] { return now_.load(); };
    auto c = LoopbackCluster::create(nodes, 1, ring_size, o);
    ASSERT_OK(c);
    c_ = std::move(c.value());
  }
  Status send(NodeId from, NodeId to, const std::string& text, uint16_t type = kType) {
    return c_->messenger(from).send(to, type, std::as_bytes(std::span(text)));
  }
  // One poll of `n`'s rings plus its completions.
  Result<size_t> poll(NodeId n) {
    auto r = c_->messenger(n).poll([this](NodeId from, uint16_t type, std::span<const std::byte> p) {
      got_.push_back({from, type, std::string(reinterpret_cast<const char*>(p.data()), p.size())});
    });
    c_->pump(n);
    return r;
  }
  void pump_all() {
    for (NodeId n = 0; n < 3 && c_ && n < c_->layout().node_slots(); ++n) c_->pump(n);
  }
  std::byte* ring_on(NodeId receiver, NodeId sender) {
    return c_->system_region(receiver) + c_->layout().incoming_ring(sender, 0);
  }

  std::atomic<uint64_t> now_{1'000'000'000};
  std::unique_ptr<LoopbackCluster> c_;
  std::vector<Got> got_;
};

TEST_F(RingTest, DeliversInOrderPerSender) {
  make(3, 4096);
  ASSERT_OK(send(0, 2, "a1"));
  ASSERT_OK(send(1, 2, "b1"));
  ASSERT_OK(send(0, 2, "a2"));
  ASSERT_OK(send(0, 2, ""));
  auto n = poll(2);
  ASSERT_OK(n);
  EXPECT_EQ(n.value(), 4u);
  std::vector<std::string> from0, from1;
  for (const Got& g : got_) (g.from == 0 ? from0 : from1).push_back(g.text);
  EXPECT_EQ(from0, (std::vector<std::string>{"a1", "a2", ""}));
  EXPECT_EQ(from1, (std::vector<std::string>{"b1"}));
  auto again = poll(2);
  ASSERT_OK(again);
  EXPECT_EQ(again.value(), 0u);
}

TEST_F(RingTest, ConsumedBytesAreZeroed) {
  make(2, 1024);
  ASSERT_OK(send(0, 1, "to be consumed"));
  ASSERT_OK(poll(1));
  for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(ring_on(1, 0)[i], std::byte{0}) << i;
}

TEST_F(RingTest, RefusesBadSends) {
  make(2, 1024);
  Messenger& m = c_->messenger(0);
  std::string big(m.max_payload() + 1, 'x');
  EXPECT_EQ(send(0, 1, big).code(), Code::kInvalidArgument);
  EXPECT_OK(send(0, 1, std::string(m.max_payload(), 'x')));
  EXPECT_EQ(send(0, 5, "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(send(0, 0, "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(send(0, 1, "x", record_type::kPad).code(), Code::kInvalidArgument);
  EXPECT_EQ(send(0, 1, "x", record_type::kReserved).code(), Code::kInvalidArgument);
}

TEST_F(RingTest, CreateChecksTheLayoutAndRegions) {
  make(2, 1024);
  auto bad_thread = Messenger::create(c_->fabric(0), c_->channel(0), 0, {1}, 3, c_->layout());
  EXPECT_EQ(bad_thread.status().code(), Code::kInvalidArgument);
  auto self_peer = Messenger::create(c_->fabric(0), c_->channel(0), 0, {0}, 0, c_->layout());
  EXPECT_EQ(self_peer.status().code(), Code::kInvalidArgument);
  auto bigger = SystemLayout::create(2, 1, 4096);  // region too small for it
  ASSERT_OK(bigger);
  auto small_region = Messenger::create(c_->fabric(0), c_->channel(0), 0, {1}, 0, bigger.value());
  EXPECT_EQ(small_region.status().code(), Code::kInvalidArgument);
}

TEST_F(RingTest, WrapsAroundWithAPadRecord) {
  make(2, 1024);
  const std::string rec(200, 'w');  // 224 bytes in the ring
  for (int round = 0; round < 12; ++round) {
    ASSERT_OK(send(0, 1, rec + std::to_string(round)));
    ASSERT_OK(poll(1));
    pump_all();
  }
  ASSERT_EQ(got_.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(got_[i].text, rec + std::to_string(i));
  // 12 records of 224 B crossed the 1 KiB ring end several times; each
  // crossing added a PAD, which is consumed but never delivered.
  const auto counters = c_->messenger(0).counters(1);
  EXPECT_GT(counters.sent, 12u * 224);
  EXPECT_EQ(c_->messenger(1).counters(0).consumed, counters.sent);
}

TEST_F(RingTest, FullRingRefusesWithoutOverwriting) {
  make(2, 1024);
  int sent = 0;
  Status s;
  while ((s = send(0, 1, "msg" + std::to_string(sent) + std::string(40, '.'))).ok()) ++sent;
  EXPECT_EQ(s.code(), Code::kFull);
  EXPECT_EQ(sent, 1024 / 64);  // 64-byte records fill the ring exactly
  c_->pump(0);
  EXPECT_EQ(send(0, 1, "still full").code(), Code::kFull);
  ASSERT_OK(poll(1));
  ASSERT_EQ(got_.size(), static_cast<size_t>(sent));
  for (int i = 0; i < sent; ++i) EXPECT_EQ(got_[i].text, "msg" + std::to_string(i) + std::string(40, '.'));
  pump_all();
  EXPECT_OK(send(0, 1, "space again"));  // the drained ring's head reached the sender
}

TEST_F(RingTest, HeadUpdatesAreLazy) {
  make(2, 1024);
  const std::string small(16, 's');  // 32-byte records
  for (int i = 0; i < 7; ++i) ASSERT_OK(send(0, 1, small));
  ASSERT_OK(poll(1));
  pump_all();
  EXPECT_EQ(c_->messenger(1).counters(0).consumed, 224u);
  EXPECT_EQ(c_->messenger(1).counters(0).head_writes, 0u);  // < a quarter, sender not blocked
  EXPECT_EQ(c_->messenger(0).counters(1).head_seen, 0u);
  ASSERT_OK(send(0, 1, small));  // 256 bytes consumed: a quarter of the ring
  ASSERT_OK(poll(1));
  pump_all();
  EXPECT_EQ(c_->messenger(1).counters(0).head_writes, 1u);
  EXPECT_EQ(c_->messenger(0).counters(1).head_seen, 256u);
}

// The receiver has consumed less than a quarter since its last write-back,
// but the sender, judging by the head it saw, could not fit a largest record:
// without the "drained and sender may be blocked" rule both would wait.
TEST_F(RingTest, DrainedRingWritesBackWhenTheSenderMayBeBlocked) {
  make(2, 1024);
  ASSERT_OK(send(0, 1, std::string(224, 'x')));  // 240 B: below a quarter
  ASSERT_OK(poll(1));
  ASSERT_OK(send(0, 1, std::string(224, 'y')));  // 480 B consumed: write back
  ASSERT_OK(poll(1));
  pump_all();
  EXPECT_EQ(c_->messenger(0).counters(1).head_seen, 480u);
  ASSERT_OK(send(0, 1, std::string(48, 'z')));  // tail 544: a max record needs 480 + 512
  ASSERT_OK(poll(1));
  pump_all();
  EXPECT_EQ(c_->messenger(0).counters(1).head_seen, 544u);
  EXPECT_OK(send(0, 1, std::string(c_->messenger(0).max_payload(), 'm')));
  ASSERT_OK(poll(1));
  ASSERT_EQ(got_.size(), 4u);
  EXPECT_EQ(got_[3].text.size(), c_->messenger(0).max_payload());
}

TEST_F(RingTest, HeadWriteBackWaitsForTheOneInFlight) {
  make(2, 1024);
  c_->net().delay_completions(0, 5);  // acks of writes to node 0 (head updates) are late
  for (int i = 0; i < 4; ++i) ASSERT_OK(send(0, 1, std::string(240, 'a')));  // 1024 B
  ASSERT_OK(poll(1));
  EXPECT_EQ(c_->messenger(1).counters(0).head_writes, 1u);
  for (int i = 0; i < 8 && c_->messenger(0).counters(1).head_seen < 1024; ++i) {
    ASSERT_OK(poll(1));
    pump_all();
  }
  EXPECT_EQ(c_->messenger(0).counters(1).head_seen, 1024u);
}

TEST_F(RingTest, HalfWrittenRecordWaitsForItsSenderHoweverLong) {
  make(3, 1024);
  c_->net().corrupt_next_write(2, 20);  // a payload byte not there yet
  ASSERT_OK(send(0, 2, "this record lands in two parts"));
  ASSERT_OK(send(1, 2, "from the other sender"));
  auto first = poll(2);
  ASSERT_OK(first);
  EXPECT_EQ(first.value(), 1u);
  // A sender descheduled mid-copy: far beyond the old 100 ms bound.
  for (int i = 0; i < 8; ++i) {
    now_ += 1'500'000'000;
    auto r = poll(2);
    ASSERT_OK(r);
    EXPECT_EQ(r.value(), 0u);
  }
  EXPECT_OK(c_->messenger(2).peer_status(0));
  EXPECT_GE(c_->messenger(2).counters(0).slow_records, 1u) << "a warning was logged";
  // The rest of the record lands.
  ring_on(2, 0)[20] ^= std::byte{0xff};
  auto r = poll(2);
  ASSERT_OK(r);
  EXPECT_EQ(r.value(), 1u);
  ASSERT_EQ(got_.size(), 2u);
  EXPECT_EQ(got_[1].text, "this record lands in two parts");
}

TEST_F(RingTest, CorruptRecordIsReportedOnceTheRecordAfterItProvesItComplete) {
  make(3, 1024);
  c_->net().corrupt_next_write(2, 20);  // a payload byte of node 0's record
  ASSERT_OK(send(0, 2, "this record gets a flipped byte"));
  ASSERT_OK(send(1, 2, "from the other sender"));
  auto first = poll(2);  // invalid: may still be in flight, so it waits
  ASSERT_OK(first);
  EXPECT_EQ(first.value(), 1u);
  ASSERT_OK(send(0, 2, "the next record"));
  auto r = poll(2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorrupt);
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("from node 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("offset 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("record after it is complete"), std::string::npos) << msg;
  EXPECT_EQ(c_->messenger(2).peer_status(0).code(), Code::kCorrupt);
  EXPECT_OK(c_->messenger(2).peer_status(1));
  // The broken ring is abandoned, never skipped; other senders go on.
  ASSERT_OK(send(0, 2, "after"));
  ASSERT_OK(send(1, 2, "still fine"));
  auto later = poll(2);
  ASSERT_OK(later);
  EXPECT_EQ(later.value(), 1u);
  EXPECT_EQ(got_.back().text, "still fine");
}

TEST_F(RingTest, HalfWrittenRecordWaitsRatherThanFailing) {
  make(2, 1024);
  // Frame a record in the sender's mirror, then copy it into the receiver's
  // ring in two steps, as a slow NIC might place it.
  const std::string text(100, 'h');
  ASSERT_OK(send(0, 1, text));
  std::vector<std::byte> rec(record_size(100));
  std::memcpy(rec.data(), ring_on(1, 0), rec.size());
  std::memset(ring_on(1, 0), 0, rec.size());
  std::memcpy(ring_on(1, 0), rec.data(), 16 + 40);  // header and 40 of 100 bytes
  for (int i = 0; i < 5; ++i) {
    auto r = poll(1);
    ASSERT_OK(r);
    EXPECT_EQ(r.value(), 0u);
    now_ += 15'000'000;  // 75 ms in all: below the 100 ms bound
  }
  std::memcpy(ring_on(1, 0) + 56, rec.data() + 56, rec.size() - 56);
  auto r = poll(1);
  ASSERT_OK(r);
  ASSERT_EQ(r.value(), 1u);
  EXPECT_EQ(got_[0].text, text);
  // The wait restarts for the next record rather than carrying over.
  ASSERT_OK(send(0, 1, text));
  const uint32_t off = record_size(100);
  std::memcpy(rec.data(), ring_on(1, 0) + off, rec.size());
  std::memset(ring_on(1, 0) + off + 16, 0, rec.size() - 16);
  ASSERT_OK(poll(1));
  now_ += 90'000'000;
  ASSERT_OK(poll(1));
  std::memcpy(ring_on(1, 0) + off, rec.data(), rec.size());
  ASSERT_OK(poll(1));
  EXPECT_EQ(got_.size(), 2u);
}

TEST_F(RingTest, PeerGoneFailsSendsAndIsReported) {
  make(2, 1024);
  c_->fabric(0).mark_peer_gone(1, "killed");
  EXPECT_EQ(send(0, 1, "x").code(), Code::kPeerGone);
  EXPECT_EQ(c_->messenger(0).peer_status(1).code(), Code::kPeerGone);
}

TEST_F(RingTest, FailedWriteCompletionBreaksTheLink) {
  make(2, 1024);
  ASSERT_OK(send(0, 1, "in flight"));
  c_->fabric(0).mark_peer_gone(1, "died");  // the queued completion now fails
  c_->pump(0);
  EXPECT_EQ(c_->messenger(0).peer_status(1).code(), Code::kPeerGone);
}

TEST_F(RingTest, OwnsOnlyMessengerTaggedWorkRequests) {
  EXPECT_TRUE(Messenger::owns(make_wr_id(WrOwner::kMessenger, 3)));
  EXPECT_FALSE(Messenger::owns(make_wr_id(WrOwner::kUser, 3)));
  EXPECT_FALSE(Messenger::owns(make_wr_id(WrOwner::kRpc, 3)));
}

}  // namespace
}  // namespace remora
