#include "remora/msg/crc32c.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>

namespace remora {
namespace {

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(crc32c(bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c({}), 0u);
  EXPECT_EQ(crc32c(bytes("a")), 0xC1D04330u);
  // RFC 3720 (iSCSI) B.4 test vectors.
  std::array<std::byte, 32> buf{};
  EXPECT_EQ(crc32c(buf), 0x8A9136AAu);
  buf.fill(std::byte{0xff});
  EXPECT_EQ(crc32c(buf), 0x62A8AB43u);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::byte>(i);
  EXPECT_EQ(crc32c(buf), 0x46DD794Eu);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::byte>(31 - i);
  EXPECT_EQ(crc32c(buf), 0x113FDB5Cu);
}

TEST(Crc32cTest, HardwareAndTablePathsAgree) {
  EXPECT_EQ(crc32c_extend_portable(0, bytes("123456789")), 0xE3069283u);
  std::array<std::byte, 1031> buf;
  uint32_t x = 12345;
  for (auto& b : buf) {
    x = x * 1103515245 + 12345;
    b = static_cast<std::byte>(x >> 16);
  }
  for (size_t start : {0u, 1u, 3u, 7u})
    for (size_t len = 0; len + start <= buf.size(); len += 13) {
      const auto d = std::span<const std::byte>(buf).subspan(start, len);
      ASSERT_EQ(crc32c_extend(0x1234, d), crc32c_extend_portable(0x1234, d)) << start << "+" << len;
    }
}

TEST(Crc32cTest, ExtendEqualsWholeAtEverySplit) {
  std::array<std::byte, 77> buf;
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::byte>(i * 37 + 11);
  const uint32_t whole = crc32c(buf);
  const std::span<const std::byte> all(buf);
  for (size_t cut = 0; cut <= buf.size(); ++cut)
    EXPECT_EQ(crc32c_extend(crc32c(all.first(cut)), all.subspan(cut)), whole) << cut;
}

TEST(Crc32cTest, DetectsEverySingleBitFlip) {
  std::array<std::byte, 40> buf{};
  const uint32_t base = crc32c(buf);
  for (size_t bit = 0; bit < buf.size() * 8; ++bit) {
    buf[bit / 8] ^= std::byte(1u << (bit % 8));
    EXPECT_NE(crc32c(buf), base) << bit;
    buf[bit / 8] ^= std::byte(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace remora
