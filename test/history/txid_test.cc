#include "remora/txn/txid.h"

#include <gtest/gtest.h>

#include "support/status_matchers.h"

namespace remora {
namespace {

TEST(TxId, PrintsDecimalFields) {
  TxId id{3, 1, 7, 123456789012ull};
  EXPECT_EQ(id.to_string(), "3.1.7.123456789012");
}

TEST(TxId, ParseRoundTripsExtremes) {
  for (TxId id : {TxId{0, 0, 0, 0}, TxId{1, 2, 3, 4}, TxId{UINT32_MAX, UINT16_MAX, UINT16_MAX, UINT64_MAX}}) {
    Result<TxId> back = TxId::parse(id.to_string());
    ASSERT_OK(back);
    EXPECT_EQ(*back, id);
  }
}

TEST(TxId, ParseRefusesMalformedText) {
  const char* bad[] = {"",          "1.2.3",      "1.2.3.4.5",     "1..3.4",  "1.2.3.",   "a.2.3.4",
                       "1.2.3.4x",  "-1.2.3.4",   "+1.2.3.4",      " 1.2.3.4", "1.65536.3.4", "1.2.65536.4",
                       "4294967296.0.0.0", "1.2.3.18446744073709551616"};
  for (const char* text : bad) {
    Result<TxId> r = TxId::parse(text);
    ASSERT_FALSE(r.ok()) << "'" << text << "' parsed";
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << text;
  }
}

TEST(TxId, ParseErrorNamesTheField) {
  Result<TxId> r = TxId::parse("1.70000.3.4");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node"), std::string::npos) << r.status().to_string();
  r = TxId::parse("1.2.x.4");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("thread"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace remora
