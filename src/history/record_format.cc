// The writing half of the history line format (docs/history.md).
#include <time.h>

#include <iterator>

#include <fmt/format.h>

#include "remora/history/history.h"

namespace remora {
namespace {

void format_pairs(const std::vector<std::pair<uint64_t, uint64_t>>& pairs, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const auto& [addr, version] : pairs) {
    if (!first) out->push_back(',');
    first = false;
    fmt::format_to(std::back_inserter(*out), "[\"0x{:x}\",{}]", addr, version);
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
  fmt::format_to(std::back_inserter(*out), "{{\"tx\":\"{}.{}.{}.{}\",\"start\":{},\"end\":{},\"outcome\":\"{}\",\"reads\":",
                 r.tx.epoch, r.tx.node, r.tx.thread, r.tx.seq, r.start_ns, r.end_ns,
                 r.committed ? "commit" : "abort");
  format_pairs(r.reads, out);
  out->append(",\"writes\":");
  format_pairs(r.writes, out);
  out->append("}\n");
}

}  // namespace remora
