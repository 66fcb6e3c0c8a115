// Record framing/unframing and the system region layout.
#include "remora/msg/record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "remora/msg/system_layout.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

constexpr uint32_t kRing = 1024;

class RecordTest : public ::testing::Test {
 protected:
  // Frames `text` at `off` with `seq`, as a sender's mirror would hold it.
  void put(uint32_t off, uint32_t seq, std::string_view text, uint16_t type = 20) {
    std::memcpy(ring_.data() + off + kRecordHeaderSize, text.data(), text.size());
    seal_record(ring_.data() + off, type, seq, static_cast<uint32_t>(text.size()));
  }
  RecordView at(uint32_t off, uint32_t seq) { return inspect_record(ring_, off, seq); }

  std::vector<std::byte> ring_ = std::vector<std::byte>(kRing);
};

TEST(RecordSizeTest, PadsToSixteen) {
  EXPECT_EQ(record_size(0), 16u);
  EXPECT_EQ(record_size(1), 32u);
  EXPECT_EQ(record_size(16), 32u);
  EXPECT_EQ(record_size(17), 48u);
  EXPECT_EQ(max_payload(1024), 496u);
}

TEST_F(RecordTest, FramedRecordUnframesToItsPayload) {
  put(32, 5, "hello ring");
  RecordView v = at(32, 5);
  ASSERT_EQ(v.state, RecordState::kValid) << v.reason;
  EXPECT_EQ(v.header.type, 20);
  EXPECT_EQ(v.header.seq, 5u);
  EXPECT_EQ(v.header.length, 10u);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(v.payload.data()), v.payload.size()),
            "hello ring");
  EXPECT_EQ(v.header.checksum, record_checksum(v.header, v.payload));
}

TEST_F(RecordTest, ZeroedBytesReadAsEmpty) {
  EXPECT_EQ(at(0, 1).state, RecordState::kEmpty);
}

TEST_F(RecordTest, StaleSequenceNumberIsInvalid) {
  put(0, 3, "old lap");
  RecordView v = at(0, 9);
  EXPECT_EQ(v.state, RecordState::kInvalid);
  EXPECT_EQ(v.reason, "unexpected sequence number");
}

TEST_F(RecordTest, AnyFlippedByteIsDetected) {
  put(0, 1, "payload bytes");
  for (uint32_t i = 0; i < kRecordHeaderSize + 13; ++i) {
    ring_[i] ^= std::byte{0x40};
    EXPECT_EQ(at(0, 1).state, RecordState::kInvalid) << "byte " << i;
    ring_[i] ^= std::byte{0x40};
  }
  EXPECT_EQ(at(0, 1).state, RecordState::kValid);
  ring_[20] ^= std::byte{1};
  EXPECT_EQ(at(0, 1).reason, "checksum mismatch");
}

TEST_F(RecordTest, LengthBeyondTheLimitIsInvalidEvenWithAGoodChecksum) {
  RecordHeader h{max_payload(kRing) + 16, 20, 0, 1, 0};
  h.checksum = record_checksum(h, std::span(ring_).subspan(16, h.length));
  std::memcpy(ring_.data(), &h, sizeof(h));
  EXPECT_EQ(at(0, 1).reason, "length beyond the ring's record limit");
  h.length = 64;  // fits the limit, but not before the end of the ring
  h.checksum = 0;
  std::memcpy(ring_.data() + kRing - 32, &h, sizeof(h));
  EXPECT_EQ(at(kRing - 32, 1).state, RecordState::kInvalid);
}

TEST_F(RecordTest, ReservedTypeIsInvalid) {
  put(0, 1, "x", record_type::kReserved);
  EXPECT_EQ(at(0, 1).reason, "record type 0 is reserved");
}

TEST_F(RecordTest, PadMustReachTheEndOfTheRing) {
  seal_pad(ring_.data() + 992, 4, 32);
  RecordView v = at(992, 4);
  ASSERT_EQ(v.state, RecordState::kValid) << v.reason;
  EXPECT_EQ(v.header.type, record_type::kPad);
  EXPECT_TRUE(v.payload.empty());
  seal_pad(ring_.data() + 960, 4, 32);  // ends 32 bytes short
  EXPECT_EQ(at(960, 4).reason, "PAD does not end at the end of the ring");
}

TEST(SystemLayoutTest, AreasDoNotOverlapAndHeadsAreCacheLines) {
  auto l = SystemLayout::create(3, 2, 4096);
  ASSERT_OK(l);
  struct Area {
    uint64_t begin, end;
  };
  std::vector<Area> areas;
  for (NodeId n = 0; n < 3; ++n)
    for (uint32_t t = 0; t < 2; ++t) {
      areas.push_back({l->incoming_ring(n, t), l->incoming_ring(n, t) + 4096ull});
      areas.push_back({l->outgoing_mirror(n, t), l->outgoing_mirror(n, t) + 4096ull});
      areas.push_back({l->head_slot(n, t), l->head_slot(n, t) + 64ull});
      areas.push_back({l->head_staging(n, t), l->head_staging(n, t) + 64ull});
      EXPECT_EQ(l->head_slot(n, t) % 64, 0u);
      EXPECT_EQ(l->head_staging(n, t) % 64, 0u);
    }
  for (uint32_t t = 0; t < 2; ++t) {
    areas.push_back({l->wake_word(t), l->wake_word(t) + 64ull});
    EXPECT_EQ(l->wake_word(t) % 64, 0u);
  }
  std::sort(areas.begin(), areas.end(), [](Area a, Area b) { return a.begin < b.begin; });
  for (size_t i = 1; i < areas.size(); ++i) EXPECT_LE(areas[i - 1].end, areas[i].begin);
  EXPECT_EQ(areas.back().end, l->total_size());
  EXPECT_EQ(l->total_size(), 6u * (2 * 4096 + 2 * 64) + 2 * 64);
}

TEST(SystemLayoutTest, RefusesBadParameters) {
  EXPECT_EQ(SystemLayout::create(0, 1, 4096).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SystemLayout::create(2, 0, 4096).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SystemLayout::create(2, 1, 3000).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SystemLayout::create(2, 1, 128).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SystemLayout::create(1000, 64, 1u << 20).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace remora
