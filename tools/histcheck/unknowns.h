// Attempts whose coordinator never learned the outcome ("outcome":"unknown"):
// which of them must have committed (docs/history.md, "Unknown outcomes").
#pragma once

#include <vector>

#include "remora/history/history.h"

namespace remora::histcheck {

// For each of `unknown`, whether it must have committed: some version it
// would have installed, which no committed record installed, was observed,
// i.e. read by any record of `all` (whatever its outcome: attempts read only
// installed versions), or is the immediate predecessor (version - 1 on the
// same object) of a version installed without reading the object (an
// alloc after a free) by a committed record or by an unknown found to have
// committed. The others are taken as aborted. Greedy,
// not a search over all choices: it decides each unknown from evidence
// alone, which is what the transaction layer's versioning makes sound
// (an installed version is visible; each write installs seen + 1).
// `committed`: the records with outcome kCommit.
std::vector<bool> must_have_committed(const std::vector<HistoryRecord>& all,
                                      const std::vector<const HistoryRecord*>& committed,
                                      const std::vector<const HistoryRecord*>& unknown);

}  // namespace remora::histcheck
