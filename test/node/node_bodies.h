// Child bodies for the multi-process node tests (see support/cluster_harness.h).
// Each runs inside a forked child, owns its Node and reports one JSON object.
#pragma once

#include <chrono>
#include <cstdint>

#include "support/cluster_harness.h"

namespace remora::testing {

// Every engine thread of every node FAAs one word and CAS-increments another
// on the first node's data region, `rounds` times each, between barriers,
// then reads both back. JSON: {"node", "faa_old":[...] (values FAA
// returned), "cas_won":[...] (expected values of successful CASes),
// "faa_final":[per thread], "cas_final":[per thread]}.
ChildBody atomics_body(uint32_t rounds);

// Ring flood: every engine thread of every node but the first streams
// `records` numbered, patterned records to the same thread of the first
// node, as fast as the ring allows. The receiver stops polling for
// `receiver_nap` after the start barrier so the senders find the rings full.
// Receiver JSON: {"role":"receiver", "received", "expected", "dups", "gaps",
// "damaged"}; sender JSON: {"role":"sender", "sent", "full"}.
ChildBody ring_flood_body(uint64_t records, std::chrono::milliseconds receiver_nap);

// create + start only. JSON: {"start_ms"}; status: what start() returned.
ChildBody start_only_body();

// Start, warm up (every engine reads from every peer, between barriers, so
// UCX finished wiring up), note("ready"), then wait (polling) until `victim` is seen
// gone, note("gone:<victim>"), and check that a read from it and a barrier
// both fail fast with kPeerGone. JSON: {"detect_ms", "read_code",
// "read_ms", "barrier_code", "barrier_ms"}. The victim itself waits until
// it is killed (kTimeout after `max_wait`).
ChildBody watch_peer_body(NodeId victim, std::chrono::milliseconds max_wait);

// The "serve" workload, stopped by SIGTERM; a watcher thread notes
// "gone:<victim>" once the fabric reports `victim` gone. Notes "started"
// after start() (and the warm-up if `warm`). Without the warm-up a peer
// killed right after "started" may die in the middle of UCX's wireup.
ChildBody serve_body(NodeId victim, bool warm);

}  // namespace remora::testing
