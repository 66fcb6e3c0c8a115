// The command line every app shares:
//
//   <app> --config configs/local-3.toml [flags]       every node of the config
//                                                     as a process here
//   <app> --config cluster.toml --id 2 [flags]        only node 2 (multi-host)
//
// The first form re-runs the same command line with --id N per node, merges
// their JSON (per-node lines, then one "cluster" line) and prints a human
// summary on stderr. Exit 0 if every node ran and every check passed, 1 if
// not, 2 for bad input.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "app_node.h"

namespace remora::app {

struct CommonArgs {
  std::string config;
  int id = -1;
  uint32_t threads = 0;  // 0: the config's
  double duration_s = 10;
  std::string history;
  double busy_spin_us = -1, nap_us = -1, max_block_us = -1, yield_us = -1;
  bool no_wakeups = false;  // < 0: the worker's defaults
  NodeRunOptions run;
};

void add_common_options(CLI::App& app, CommonArgs& a);

// After parsing: runs the app as described above. `argv` is passed on to
// the node processes.
int run_app(int argc, char** argv, CommonArgs& a, Workload& w);

// Sums the nodes' JSON objects into the "cluster" object; false if a node's
// check failed (exposed for tests).
bool summarize(const std::vector<nlohmann::json>& nodes, nlohmann::json* out);

}  // namespace remora::app
