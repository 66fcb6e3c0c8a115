// Child body of the multi-process hash-table suite.
#pragma once

#include <chrono>
#include <string>

#include "support/cluster_harness.h"

namespace remora::testing {

struct DsClusterOptions {
  uint32_t coroutines = 8;  // per engine thread
  uint32_t rounds = 40;     // operations per coroutine
  uint32_t keys = 12;       // the key set every node works on
  std::chrono::seconds duration{60};  // stop early once this passed
  std::string history_dir;  // every attempt recorded here
};

// Every coroutine of every node inserts, erases and increments (put) keys
// of one small shared set through a tiny hash table (overflow chains), and
// lock-free-looks them up. Reports per key: successful inserts and erases,
// increments, counters seen by erases, and at the end (after truncation)
// the key's counter by lookup (-1: absent), checked equal to get; plus
// "replicas": "equal" once every backup matches its primary.
ChildBody ds_cluster_body(DsClusterOptions o);

}  // namespace remora::testing
