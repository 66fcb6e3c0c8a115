#include <gtest/gtest.h>

#include "history/temp_dir.h"
#include "remora/history/history.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

HistoryRecord sample() {
  HistoryRecord r;
  r.tx = TxId{1, 2, 3, 42};
  r.start_ns = 1000;
  r.end_ns = 2500;
  r.committed = true;
  r.reads = {{0x0002000100000040ull, 7}, {0x10, 0}};
  r.writes = {{0x0002000100000040ull, 8}};
  return r;
}

TEST(HistoryFormat, GoldenLine) {
  std::string line;
  format_history_line(sample(), &line);
  EXPECT_EQ(line,
            "{\"tx\":\"1.2.3.42\",\"start\":1000,\"end\":2500,\"outcome\":\"commit\","
            "\"reads\":[[\"0x2000100000040\",7],[\"0x10\",0]],\"writes\":[[\"0x2000100000040\",8]]}\n");
}

TEST(HistoryFormat, GoldenAbortWithEmptySets) {
  HistoryRecord r;
  r.tx = TxId{0, 0, 0, 0};
  r.start_ns = 5;
  r.end_ns = UINT64_MAX;
  std::string line;
  format_history_line(r, &line);
  EXPECT_EQ(line,
            "{\"tx\":\"0.0.0.0\",\"start\":5,\"end\":18446744073709551615,\"outcome\":\"abort\","
            "\"reads\":[],\"writes\":[]}\n");
}

TEST(HistoryFormat, ParseRoundTrips) {
  std::string line;
  format_history_line(sample(), &line);
  line.pop_back();
  Result<HistoryRecord> back = parse_history_line(line);
  ASSERT_OK(back);
  EXPECT_EQ(*back, sample());
}

TEST(HistoryFormat, ParseAcceptsWhitespaceAndAnyKeyOrder) {
  Result<HistoryRecord> r = parse_history_line(
      " { \"writes\" : [ [\"0xffffffffffffffff\", 3] ], \"reads\":[], \"outcome\":\"abort\","
      "\"end\":9, \"start\":8, \"tx\":\"0.1.2.3\" } ");
  ASSERT_OK(r);
  EXPECT_EQ(r->tx, (TxId{0, 1, 2, 3}));
  EXPECT_FALSE(r->committed);
  ASSERT_EQ(r->writes.size(), 1u);
  EXPECT_EQ(r->writes[0], (std::pair<uint64_t, uint64_t>{UINT64_MAX, 3}));
}

// Each malformed line is refused with a message naming what is wrong.
TEST(HistoryFormat, ParseRefusesMalformedLines) {
  const std::string ok_tail = "\"start\":1,\"end\":2,\"outcome\":\"commit\",\"reads\":[],\"writes\":[]}";
  struct Case {
    std::string line, expect;
  } cases[] = {
      {"", "expected '{'"},
      {"{\"tx\":\"1.2.3.4\"," + ok_tail + "x", "trailing"},
      {"{\"tx\":\"1.2.3\"," + ok_tail, "tx id"},
      {"{\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,\"outcome\":\"commit\",\"reads\":[]}", "missing key 'writes'"},
      {"{\"tx\":\"1.2.3.4\",\"tx\":\"1.2.3.4\"," + ok_tail, "duplicate key 'tx'"},
      {"{\"txn\":\"1.2.3.4\"," + ok_tail, "unknown key 'txn'"},
      {"{\"tx\":\"1.2.3.4\",\"start\":-1,\"end\":2,\"outcome\":\"commit\",\"reads\":[],\"writes\":[]}",
       "unsigned integer"},
      {"{\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,\"outcome\":\"done\",\"reads\":[],\"writes\":[]}", "outcome"},
      {"{\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,\"outcome\":\"commit\",\"reads\":[[\"16\",1]],\"writes\":[]}",
       "want \"0x<hex>\""},
      {"{\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,\"outcome\":\"commit\",\"reads\":[[\"0xg\",1]],\"writes\":[]}",
       "not hexadecimal"},
      {"{\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,\"outcome\":\"commit\",\"reads\":[[\"0x1\"]],\"writes\":[]}",
       "expected ','"},
      {"{\"tx\":\"1.2.3.4\",\"start\":99999999999999999999,\"end\":2,\"outcome\":\"commit\",\"reads\":[],"
       "\"writes\":[]}",
       "out of 64-bit range"},
      {"{\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,\"outcome\":\"com", "unterminated"},
  };
  for (const Case& c : cases) {
    Result<HistoryRecord> r = parse_history_line(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.line << "\n  -> " << r.status().to_string() << "\n  expected to mention: " << c.expect;
    EXPECT_NE(r.status().message().find("column "), std::string::npos) << r.status().to_string();
  }
}

TEST(HistoryReader, ReadsEveryLineAndSkipsBlankOnes) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string text;
  format_history_line(sample(), &text);
  text += "\n   \n";
  format_history_line(sample(), &text);
  Result<std::vector<HistoryRecord>> recs = read_history_file(dir.write("h.jsonl", text));
  ASSERT_OK(recs);
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[1], sample());
}

TEST(HistoryReader, ErrorNamesFileAndLine) {
  testing::TempDir dir;
  std::string text;
  format_history_line(sample(), &text);
  format_history_line(sample(), &text);
  text += "{\"tx\":\"1.2.3.4\",\"start\":1}\n";
  std::string path = dir.write("bad.jsonl", text);
  Result<std::vector<HistoryRecord>> recs = read_history_file(path);
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().code(), Code::kInvalidArgument);
  EXPECT_NE(recs.status().message().find(path + ":3: column"), std::string::npos) << recs.status().to_string();
}

TEST(HistoryReader, MissingFileIsAnIoError) {
  Result<std::vector<HistoryRecord>> recs = read_history_file("/nonexistent/remora/node-0.jsonl");
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().code(), Code::kIoError);
  EXPECT_NE(recs.status().message().find("/nonexistent/remora/node-0.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace remora
