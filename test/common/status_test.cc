#include "remora/common/status.h"

#include <gtest/gtest.h>

#include "remora/fabric/types.h"

namespace remora {
namespace {

TEST(Status, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.to_string(), "OK");
}

TEST(Status, ErrorCarriesCodeAndContext) {
  Status s = Status::OutOfRange("offset 0x10").with_context("read");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_EQ(s.to_string(), "OutOfRange: read: offset 0x10");
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> v = 7;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7);
  Result<int> e = Status::NotFound("x");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kNotFound);
}

TEST(Result, OkStatusWithoutValueIsInternalError) {
  Result<int> e = Status::OK();
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInternal);
}

TEST(GAddr, PacksRegionAndOffset) {
  GAddr a(0x10002, 0x40);
  EXPECT_EQ(a.region(), 0x10002u);
  EXPECT_EQ(a.offset(), 0x40u);
  EXPECT_EQ(GAddr::from_raw(a.raw()), a);
  EXPECT_EQ(a.to_string(), "r65538+0x40");
  EXPECT_EQ(region_owner(region_id(5, 3)), 5);
  EXPECT_EQ(system_region_id(2), region_id(2, 0));
}

}  // namespace
}  // namespace remora
