#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "history/temp_dir.h"
#include "remora/history/history.h"
#include "support/status_matchers.h"

namespace remora {
namespace {

HistoryRecord record(uint16_t thread, uint64_t seq) {
  HistoryRecord r;
  r.tx = TxId{1, 4, thread, seq};
  r.start_ns = history_clock_ns();
  r.end_ns = r.start_ns + seq;
  r.outcome = seq % 3 != 0 ? TxOutcome::kCommit : TxOutcome::kAbort;
  r.reads = {{0x0004000100000000ull + 64 * (seq % 100), seq}, {0x40, seq / 2}};
  if (r.committed()) r.writes = {{0x0004000100000000ull + 64 * (seq % 100), seq + 1}};
  return r;
}

TEST(HistoryWriter, CreatesDirectoryAndRoundTrips) {
  testing::TempDir tmp;
  std::string dir = tmp.path() + "/a/b";
  std::vector<HistoryRecord> written;
  {
    Result<std::unique_ptr<HistoryWriter>> w = HistoryWriter::open(dir, 4);
    ASSERT_OK(w);
    EXPECT_EQ((*w)->path(), dir + "/node-4.jsonl");
    for (uint64_t s = 0; s < 100; ++s) {
      written.push_back(record(0, s));
      (*w)->append(written.back());
    }
    ASSERT_OK((*w)->flush());
    Result<History> mid = read_history_file(dir + "/node-4.jsonl");
    ASSERT_OK(mid);
    EXPECT_EQ(mid->records.size(), 100u);
    written.push_back(record(1, 100));
    (*w)->append(written.back());
  }  // the destructor flushes the last record
  Result<History> back = read_history_file(history_file_path(dir, 4));
  ASSERT_OK(back);
  EXPECT_EQ(back->records, written);
}

TEST(HistoryWriter, OpenTruncatesAnOldFile) {
  testing::TempDir tmp;
  tmp.write("node-2.jsonl", "stale\n");
  {
    Result<std::unique_ptr<HistoryWriter>> w = HistoryWriter::open(tmp.path(), 2);
    ASSERT_OK(w);
    (*w)->append(record(0, 1));
  }
  Result<History> back = read_history_file(tmp.path() + "/node-2.jsonl");
  ASSERT_OK(back);
  EXPECT_EQ(back->records.size(), 1u);
}

TEST(HistoryWriter, UnusableDirectoryIsAnIoErrorNamingIt) {
  testing::TempDir tmp;
  std::string file = tmp.write("plain-file", "x");
  Result<std::unique_ptr<HistoryWriter>> w = HistoryWriter::open(file + "/sub", 0);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kIoError);
  EXPECT_NE(w.status().message().find(file + "/sub"), std::string::npos) << w.status().to_string();
}

// The history file is a symlink to /dev/full: every write fails with ENOSPC.
TEST(HistoryWriter, WriteErrorIsReportedByFlush) {
  testing::TempDir tmp;
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  ASSERT_EQ(symlink("/dev/full", (tmp.path() + "/node-1.jsonl").c_str()), 0);
  Result<std::unique_ptr<HistoryWriter>> w = HistoryWriter::open(tmp.path(), 1);
  ASSERT_OK(w);
  (*w)->append(record(0, 1));
  Status st = (*w)->flush();
  EXPECT_EQ(st.code(), Code::kIoError) << st.to_string();
  EXPECT_NE(st.message().find("node-1.jsonl"), std::string::npos) << st.to_string();
  (*w)->append(record(0, 2));
  EXPECT_EQ((*w)->flush().code(), Code::kIoError);  // the first error sticks
}

// Many threads append at once (as engine threads do); every line arrives
// whole and exactly once. Prints the cost per append.
TEST(HistoryWriter, ConcurrentAppendsKeepEveryLineWhole) {
  constexpr int kThreads = 8;
  constexpr uint64_t kPerThread = 20000;
  testing::TempDir tmp;
  Result<std::unique_ptr<HistoryWriter>> w = HistoryWriter::open(tmp.path(), 4);
  ASSERT_OK(w);
  HistoryWriter* writer = w->get();
  std::vector<HistoryRecord> samples;
  for (uint64_t s = 0; s < 64; ++s) samples.push_back(record(0, s));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HistoryRecord r = samples[static_cast<size_t>(t)];
      r.tx.thread = static_cast<uint16_t>(t);
      for (uint64_t s = 0; s < kPerThread; ++s) {
        r.tx.seq = s;
        writer->append(r);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_OK(writer->flush());
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ info ] %d threads x %lu appends: %.0f ns per append (wall / total appends)\n", kThreads,
              static_cast<unsigned long>(kPerThread), ns / (kThreads * kPerThread));

  Result<History> back = read_history_file(writer->path());
  ASSERT_OK(back);
  ASSERT_EQ(back->records.size(), kThreads * kPerThread);
  std::set<std::pair<uint16_t, uint64_t>> seen;
  for (const HistoryRecord& r : back->records) {
    EXPECT_EQ(r.reads, samples[r.tx.thread].reads);
    seen.insert({r.tx.thread, r.tx.seq});
  }
  EXPECT_EQ(seen.size(), kThreads * kPerThread);
}

}  // namespace
}  // namespace remora
