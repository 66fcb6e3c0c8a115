#include <algorithm>
#include <filesystem>
#include <system_error>

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

Result<std::vector<HistoryRecord>> load_history(const std::vector<std::string>& paths) {
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
  // Lines are about 100-250 bytes: reserving up front avoids copying a
  // million records while the vector grows.
  uint64_t bytes = 0;
  for (const std::string& f : files) {
    std::error_code ec;
    uint64_t size = fs::file_size(f, ec);
    if (!ec) bytes += size;
  }
  std::vector<HistoryRecord> all;
  all.reserve(bytes / 100);
  for (const std::string& f : files) REMORA_RETURN_IF_ERROR(append_history_file(f, &all));
  return all;
}

}  // namespace remora::histcheck
