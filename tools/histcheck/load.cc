#include <algorithm>
#include <atomic>
#include <filesystem>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "histcheck/checker.h"

namespace remora::histcheck {
namespace {

namespace fs = std::filesystem;

// The node-*.jsonl files of `dir`, sorted by name.
Status list_dir(const std::string& dir, std::vector<std::string>* files) {
  std::error_code ec;
  std::vector<std::string> found;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (file.starts_with("node-") && file.ends_with(".jsonl")) found.push_back(it->path().string());
  }
  if (ec) return Status::IoError(fmt::format("{}: {}", dir, ec.message()));
  if (found.empty()) return Status::NotFound(fmt::format("{}: no node-*.jsonl files", dir));
  std::sort(found.begin(), found.end());
  files->insert(files->end(), found.begin(), found.end());
  return Status::OK();
}

}  // namespace

Result<History> load_history(const std::vector<std::string>& paths) {
  if (paths.empty()) return Status::NotFound("no history files given");
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      REMORA_RETURN_IF_ERROR(list_dir(p, &files));
    } else {
      files.push_back(p);
    }
  }
  // One file per node: parse them on all cores, each into its own vector
  // (reserved from the file size: lines are about 100-250 bytes).
  std::vector<History> parts(files.size());
  std::vector<Status> errors(files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) {
      std::error_code ec;
      uint64_t size = fs::file_size(files[i], ec);
      parts[i].records.reserve(ec ? 0 : size / 100);
      errors[i] = append_history_file(files[i], &parts[i]);
    }
  };
  size_t threads = std::min<size_t>(files.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  size_t total = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    REMORA_RETURN_IF_ERROR(errors[i]);
    total += parts[i].records.size();
  }
  History all;
  all.records.reserve(total);
  for (History& part : parts) {
    all.records.insert(all.records.end(), std::make_move_iterator(part.records.begin()),
                       std::make_move_iterator(part.records.end()));
    all.loads.insert(all.loads.end(), part.loads.begin(), part.loads.end());
    part = History();
  }
  return all;
}

}  // namespace remora::histcheck
