// The writing half of the history line format (docs/history.md). Numbers go
// through std::to_chars: this runs once per transaction on engine threads.
#include <time.h>

#include <charconv>
#include <string_view>

#include "remora/history/history.h"

namespace remora {
namespace {

void put(std::string* out, uint64_t v, int base = 10) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, base);
  out->append(buf, res.ptr);
}

void format_pairs(const std::vector<std::pair<uint64_t, uint64_t>>& pairs, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const auto& [addr, version] : pairs) {
    out->append(first ? "[\"0x" : ",[\"0x");
    first = false;
    put(out, addr, 16);
    out->append("\",");
    put(out, version);
    out->push_back(']');
  }
  out->push_back(']');
}

}  // namespace

uint64_t history_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void format_history_line(const HistoryRecord& r, std::string* out) {
  out->append("{\"tx\":\"");
  put(out, r.tx.epoch);
  out->push_back('.');
  put(out, r.tx.node);
  out->push_back('.');
  put(out, r.tx.thread);
  out->push_back('.');
  put(out, r.tx.seq);
  out->append("\",\"start\":");
  put(out, r.start_ns);
  out->append(",\"end\":");
  put(out, r.end_ns);
  switch (r.outcome) {
    case TxOutcome::kCommit: out->append(",\"outcome\":\"commit\""); break;
    case TxOutcome::kAbort: out->append(",\"outcome\":\"abort\""); break;
    case TxOutcome::kUnknown: out->append(",\"outcome\":\"unknown\""); break;
  }
  // Written only when set, so transaction lines keep their old form.
  if (r.lockfree) out->append(",\"kind\":\"lockfree\"");
  out->append(",\"reads\":");
  format_pairs(r.reads, out);
  out->append(",\"writes\":");
  format_pairs(r.writes, out);
  out->append("}\n");
}

void format_history_line(const HistoryLoad& l, std::string* out) {
  out->append("{\"load\":{\"from\":\"0x");
  put(out, l.from, 16);
  out->append("\",\"count\":");
  put(out, l.count);
  out->append(",\"stride\":");
  put(out, l.stride);
  out->append(",\"version\":");
  put(out, l.version);
  out->append("}}\n");
}

}  // namespace remora
