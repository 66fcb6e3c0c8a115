// The histcheck program: exit codes and the JSON summary line. The program's
// path comes from the HISTCHECK_BIN environment variable (set by meson).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "history/temp_dir.h"
#include "remora/history/history.h"

namespace remora {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

CliRun run_histcheck(const std::string& args) {
  const char* bin = std::getenv("HISTCHECK_BIN");
  CliRun r;
  if (bin == nullptr) return r;
  std::string cmd = std::string(bin) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string line(uint64_t seq, uint64_t start, uint64_t end, uint64_t read_v, bool write) {
  HistoryRecord r;
  r.tx = TxId{1, 0, 0, seq};
  r.start_ns = start;
  r.end_ns = end;
  r.outcome = TxOutcome::kCommit;
  r.reads = {{0x40, read_v}};
  if (write) r.writes = {{0x40, read_v + 1}};
  std::string s;
  format_history_line(r, &s);
  return s;
}

class HistcheckCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("HISTCHECK_BIN") == nullptr) GTEST_SKIP() << "HISTCHECK_BIN not set (run through meson test)";
  }
  testing::TempDir tmp_;
};

TEST_F(HistcheckCli, SerialHistoryExitsZeroWithJsonLine) {
  tmp_.write("node-0.jsonl", line(1, 10, 20, 0, true));
  tmp_.write("node-1.jsonl", line(2, 30, 40, 1, true));
  CliRun r = run_histcheck(tmp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("{\"transactions\":2,\"committed\":2,\"edges\":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"ok\":true"), std::string::npos) << r.out;
}

TEST_F(HistcheckCli, ViolationExitsOneAndPrintsTheCycle) {
  // 2 started after 1 ended but read the version 1 overwrote.
  std::string a = tmp_.write("node-0.jsonl", line(1, 10, 20, 0, true));
  std::string b = tmp_.write("node-1.jsonl", line(2, 30, 40, 0, false));
  CliRun r = run_histcheck(a + " " + b);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("1.0.0.2 -rw-> 1.0.0.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"ok\":false"), std::string::npos) << r.out;
}

TEST_F(HistcheckCli, LoadRecordsMakeItStrictAndTheSummaryCountsThem) {
  std::string load;
  format_history_line(HistoryLoad{0x40, 4, 64, 0}, &load);
  HistoryRecord lf;
  lf.tx = TxId{1, 0, 0, 9};
  lf.start_ns = 50;
  lf.end_ns = 60;
  lf.outcome = TxOutcome::kCommit;
  lf.lockfree = true;
  lf.reads = {{0x40, 2}};
  std::string lf_line;
  format_history_line(lf, &lf_line);
  tmp_.write("node-0.jsonl", load + line(1, 10, 20, 0, true) + lf_line);
  tmp_.write("node-1.jsonl", line(2, 30, 40, 1, true));
  CliRun r = run_histcheck(tmp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("4 objects loaded (1 load records)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 lock-free reads"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"unknown\":0,\"unknown_committed\":0,\"lockfree\":1,\"loaded\":4,\"strict\":true}"),
            std::string::npos)
      << r.out;
}

TEST_F(HistcheckCli, WithoutLoadRecordsItWarns) {
  tmp_.write("node-0.jsonl", line(1, 10, 20, 0, true));
  CliRun r = run_histcheck(tmp_.path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("histcheck: warning: no load records"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"strict\":false"), std::string::npos) << r.out;
}

TEST_F(HistcheckCli, BadInputExitsTwo) {
  std::string bad = tmp_.write("node-0.jsonl", line(1, 10, 20, 0, true) + "not json\n");
  CliRun r = run_histcheck(tmp_.path());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(bad + ":2:"), std::string::npos) << r.out;
  EXPECT_EQ(run_histcheck(tmp_.path() + "/missing.jsonl").exit_code, 2);
  EXPECT_EQ(run_histcheck("").exit_code, 2);  // no paths at all
}

}  // namespace
}  // namespace remora
