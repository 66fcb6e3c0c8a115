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
  r.outcome = TxOutcome::kCommit;
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
  EXPECT_EQ(r->outcome, TxOutcome::kAbort);
  EXPECT_FALSE(r->lockfree);
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

TEST(HistoryFormat, GoldenLockfreeUnknownAndLoadLines) {
  HistoryRecord lf;
  lf.tx = TxId{1, 2, 0, 7};
  lf.start_ns = 10;
  lf.end_ns = 20;
  lf.outcome = TxOutcome::kCommit;
  lf.lockfree = true;
  lf.reads = {{0x40, 3}};
  HistoryRecord unk = sample();
  unk.outcome = TxOutcome::kUnknown;
  const HistoryLoad load{0x0001000100000000ull, 300000, 48, 1};
  std::string text;
  format_history_line(lf, &text);
  format_history_line(unk, &text);
  format_history_line(load, &text);
  EXPECT_EQ(text,
            "{\"tx\":\"1.2.0.7\",\"start\":10,\"end\":20,\"outcome\":\"commit\",\"kind\":\"lockfree\","
            "\"reads\":[[\"0x40\",3]],\"writes\":[]}\n"
            "{\"tx\":\"1.2.3.42\",\"start\":1000,\"end\":2500,\"outcome\":\"unknown\","
            "\"reads\":[[\"0x2000100000040\",7],[\"0x10\",0]],\"writes\":[[\"0x2000100000040\",8]]}\n"
            "{\"load\":{\"from\":\"0x1000100000000\",\"count\":300000,\"stride\":48,\"version\":1}}\n");
  // Each line parses back to what was written.
  History back;
  size_t begin = 0;
  for (size_t nl; (nl = text.find('\n', begin)) != std::string::npos; begin = nl + 1) {
    ASSERT_OK(parse_history_line(std::string_view(text).substr(begin, nl - begin), &back));
  }
  ASSERT_EQ(back.records.size(), 2u);
  EXPECT_EQ(back.records[0], lf);
  EXPECT_EQ(back.records[1], unk);
  ASSERT_EQ(back.loads.size(), 1u);
  EXPECT_EQ(back.loads[0], load);
}

TEST(HistoryFormat, KindTxIsTheDefaultAndLoadKeysComeInAnyOrder) {
  Result<HistoryRecord> r = parse_history_line(
      "{\"kind\":\"tx\",\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,\"outcome\":\"unknown\",\"reads\":[],\"writes\":[]}");
  ASSERT_OK(r);
  EXPECT_FALSE(r->lockfree);
  EXPECT_EQ(r->outcome, TxOutcome::kUnknown);
  History h;
  ASSERT_OK(parse_history_line(" { \"load\" : { \"version\":2, \"stride\":64,\"count\":3, \"from\":\"0x40\" } } ", &h));
  ASSERT_EQ(h.loads.size(), 1u);
  EXPECT_EQ(h.loads[0], (HistoryLoad{0x40, 3, 64, 2}));
  // The one-record parser refuses a load line.
  Result<HistoryRecord> load = parse_history_line("{\"load\":{\"from\":\"0x40\",\"count\":3,\"stride\":64,\"version\":2}}");
  ASSERT_FALSE(load.ok());
  EXPECT_NE(load.status().message().find("a load line"), std::string::npos) << load.status().to_string();
}

TEST(HistoryFormat, ParseRefusesMalformedNewKeys) {
  const std::string head = "{\"tx\":\"1.2.3.4\",\"start\":1,\"end\":2,";
  const std::string load = "{\"load\":{";
  struct Case {
    std::string line, expect;
  } cases[] = {
      {head + "\"outcome\":\"maybe\",\"reads\":[],\"writes\":[]}", "want \"commit\", \"abort\" or \"unknown\""},
      {head + "\"outcome\":\"commit\",\"kind\":\"ro\",\"reads\":[],\"writes\":[]}", "kind 'ro'"},
      {head + "\"outcome\":\"commit\",\"kind\":\"tx\",\"kind\":\"tx\",\"reads\":[],\"writes\":[]}",
       "duplicate key 'kind'"},
      {head + "\"outcome\":\"commit\",\"kind\":\"lockfree\",\"reads\":[],\"writes\":[[\"0x1\",2]]}",
       "lockfree read must have outcome"},
      {head + "\"outcome\":\"abort\",\"kind\":\"lockfree\",\"reads\":[],\"writes\":[]}",
       "lockfree read must have outcome"},
      {head + "\"outcome\":\"commit\",\"load\":{},\"reads\":[],\"writes\":[]}", "'load' must be the only key"},
      {load + "\"from\":\"0x40\",\"count\":3,\"stride\":64}}", "missing load key 'version'"},
      {load + "\"from\":\"0x40\",\"count\":3,\"stride\":64,\"version\":1,\"rows\":2}}", "unknown load key 'rows'"},
      {load + "\"from\":\"0x40\",\"from\":\"0x40\",\"count\":3,\"stride\":64,\"version\":1}}",
       "duplicate load key 'from'"},
      {load + "\"from\":\"0x40\",\"count\":0,\"stride\":64,\"version\":1}}", "load count must be at least 1"},
      {load + "\"from\":\"0x40\",\"count\":3,\"stride\":0,\"version\":1}}", "load stride must be at least 1"},
      {load + "\"from\":\"64\",\"count\":3,\"stride\":64,\"version\":1}}", "want \"0x<hex>\""},
      {load + "\"from\":\"0x40\",\"count\":3,\"stride\":64,\"version\":1},\"tx\":\"1.2.3.4\"}", "expected '}'"},
      {load + "\"from\":\"0x40\",\"count\":3,\"stride\":64,\"version\":1}}x", "trailing"},
  };
  for (const Case& c : cases) {
    History h;
    Status st = parse_history_line(c.line, &h);
    ASSERT_FALSE(st.ok()) << c.line;
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_NE(st.message().find(c.expect), std::string::npos)
        << c.line << "\n  -> " << st.to_string() << "\n  expected to mention: " << c.expect;
    EXPECT_NE(st.message().find("column "), std::string::npos) << st.to_string();
    EXPECT_TRUE(h.records.empty() && h.loads.empty()) << c.line;
  }
}

TEST(HistoryWriterLoads, AppendLoadReachesTheFile) {
  testing::TempDir dir;
  {
    auto w = HistoryWriter::open(dir.path(), 0);
    ASSERT_OK(w);
    (*w)->append_load({0x40, 2, 64, 1});
    (*w)->append(sample());
  }
  Result<History> h = read_history_file(history_file_path(dir.path(), 0));
  ASSERT_OK(h);
  ASSERT_EQ(h->loads.size(), 1u);
  EXPECT_EQ(h->loads[0], (HistoryLoad{0x40, 2, 64, 1}));
  ASSERT_EQ(h->records.size(), 1u);
}

TEST(HistoryReader, ReadsEveryLineAndSkipsBlankOnes) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string text;
  format_history_line(sample(), &text);
  text += "\n   \n";
  format_history_line(sample(), &text);
  Result<History> recs = read_history_file(dir.write("h.jsonl", text));
  ASSERT_OK(recs);
  ASSERT_EQ(recs->records.size(), 2u);
  EXPECT_EQ(recs->records[1], sample());
}

TEST(HistoryReader, ErrorNamesFileAndLine) {
  testing::TempDir dir;
  std::string text;
  format_history_line(sample(), &text);
  format_history_line(sample(), &text);
  text += "{\"tx\":\"1.2.3.4\",\"start\":1}\n";
  std::string path = dir.write("bad.jsonl", text);
  Result<History> recs = read_history_file(path);
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().code(), Code::kInvalidArgument);
  EXPECT_NE(recs.status().message().find(path + ":3: column"), std::string::npos) << recs.status().to_string();
}

TEST(HistoryReader, MissingFileIsAnIoError) {
  Result<History> recs = read_history_file("/nonexistent/remora/node-0.jsonl");
  ASSERT_FALSE(recs.ok());
  EXPECT_EQ(recs.status().code(), Code::kIoError);
  EXPECT_NE(recs.status().message().find("/nonexistent/remora/node-0.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace remora
