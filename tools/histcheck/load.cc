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
  std::vector<HistoryRecord> all;
  for (const std::string& f : files) {
    Result<std::vector<HistoryRecord>> part = read_history_file(f);
    if (!part.ok()) return part.status();
    if (all.empty()) {
      all = std::move(part).value();
    } else {
      all.insert(all.end(), std::make_move_iterator(part->begin()), std::make_move_iterator(part->end()));
    }
  }
  return all;
}

}  // namespace remora::histcheck
