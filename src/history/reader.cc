#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "remora/history/history.h"

namespace remora {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
// getline()'s buffer, freed however the loop ends.
struct LineBuf {
  char* data = nullptr;
  size_t cap = 0;
  ~LineBuf() { free(data); }
};

}  // namespace

Result<History> read_history_file(const std::string& path) {
  History out;
  REMORA_RETURN_IF_ERROR(append_history_file(path, &out));
  return out;
}

Status append_history_file(const std::string& path, History* out) {
  std::unique_ptr<FILE, FileCloser> f(fopen(path.c_str(), "re"));
  if (!f) return Status::IoError(fmt::format("{}: {}", path, strerror(errno)));
  LineBuf buf;
  size_t line_no = 0;
  for (ssize_t n; (n = getline(&buf.data, &buf.cap, f.get())) >= 0;) {
    ++line_no;
    std::string_view line(buf.data, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Status st = parse_history_line(line, out);
    if (!st.ok()) return Status::InvalidArgument(fmt::format("{}:{}: {}", path, line_no, st.message()));
  }
  if (ferror(f.get())) return Status::IoError(fmt::format("{}:{}: read failed", path, line_no + 1));
  return Status::OK();
}

}  // namespace remora
