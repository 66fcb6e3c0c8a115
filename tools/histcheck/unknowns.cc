#include "histcheck/unknowns.h"

#include <algorithm>
#include <set>
#include <utility>

namespace remora::histcheck {
namespace {

using Version = std::pair<uint64_t, uint64_t>;  // (object, version)

bool contains(const std::vector<Version>& sorted, Version v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

// The writes of `r` to objects it did not read (allocs): their predecessor
// version is evidence, since nothing else in the record names it.
void blind_writes(const HistoryRecord& r, std::vector<Version>* out) {
  for (const Version& w : r.writes) {
    const bool read = std::any_of(r.reads.begin(), r.reads.end(), [&](const Version& x) { return x.first == w.first; });
    if (!read) out->push_back(w);
  }
}

}  // namespace

std::vector<bool> must_have_committed(const std::vector<HistoryRecord>& all,
                                      const std::vector<const HistoryRecord*>& committed,
                                      const std::vector<const HistoryRecord*>& unknown) {
  std::vector<bool> in(unknown.size(), false);
  if (unknown.empty()) return in;
  std::vector<Version> read, claimed, blind;
  for (const HistoryRecord& r : all) read.insert(read.end(), r.reads.begin(), r.reads.end());
  for (const HistoryRecord* r : committed) {
    claimed.insert(claimed.end(), r->writes.begin(), r->writes.end());
    blind_writes(*r, &blind);
  }
  std::sort(read.begin(), read.end());
  std::sort(claimed.begin(), claimed.end());
  std::sort(blind.begin(), blind.end());
  std::set<Version> included_blind;  // blind writes of unknowns found committed: few
  auto observed = [&](Version w) {
    if (contains(claimed, w)) return false;  // the committed writer explains any sighting
    if (contains(read, w)) return true;
    // A successor that read the object names the version it saw in its
    // reads; one that did not (an alloc after a free) rests on ours.
    const Version next{w.first, w.second + 1};
    return w.second != UINT64_MAX && (contains(blind, next) || included_blind.count(next) != 0);
  };
  // A chain of unknowns (one freed a slot, the next allocated it without
  // reading it) is decided from its end: repeat until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < unknown.size(); ++i) {
      if (in[i] || !std::any_of(unknown[i]->writes.begin(), unknown[i]->writes.end(), observed)) continue;
      in[i] = changed = true;
      std::vector<Version> mine;
      blind_writes(*unknown[i], &mine);
      included_blind.insert(mine.begin(), mine.end());
    }
  }
  return in;
}

}  // namespace remora::histcheck
