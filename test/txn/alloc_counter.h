// Counts heap allocations (operator new) by "bucket": a test sets the
// calling thread's bucket before running code whose allocations it wants
// to attribute (e.g. the node whose worker it is about to poll). Only the
// binary that links alloc_counter.cc has the counting operator new; the
// library never does.
#pragma once

#include <cstdint>

namespace remora::testing::alloc_counter {

constexpr int kBuckets = 8;
constexpr int kNone = -1;  // not counted

// The bucket that this thread's allocations count in from now on.
void set_bucket(int bucket);
// Allocations counted in `bucket` so far.
uint64_t count(int bucket);
void reset();

}  // namespace remora::testing::alloc_counter
