// histcheck DIR_OR_FILES...: checks recorded histories for strict
// serializability (docs/history.md). Exit 0 ok, 1 violation, 2 bad input.
#include <chrono>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "histcheck/checker.h"

int main(int argc, char** argv) {
  CLI::App app{"Checks transaction histories (node-*.jsonl) for strict serializability"};
  std::vector<std::string> paths;
  app.add_option("paths", paths, "history directories (their node-*.jsonl files) or files")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto records = remora::histcheck::load_history(paths);
  if (!records.ok()) {
    fmt::print(stderr, "histcheck: {}\n", records.status().to_string());
    return 2;
  }
  auto t1 = std::chrono::steady_clock::now();
  auto result = remora::histcheck::check_history(*records);
  if (!result.ok()) {
    fmt::print(stderr, "histcheck: {}\n", result.status().to_string());
    return 2;
  }
  auto t2 = std::chrono::steady_clock::now();
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  fmt::print("{}histcheck: load {:.2f} s, check {:.2f} s\n{}\n", result->summary(), secs(t0, t1), secs(t1, t2),
             result->json_line());
  return result->ok() ? 0 : 1;
}
