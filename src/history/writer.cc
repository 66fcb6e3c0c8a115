#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "remora/history/history.h"

namespace remora {

std::string history_file_path(const std::string& dir, NodeId node) {
  return fmt::format("{}/node-{}.jsonl", dir, node);
}

Result<std::unique_ptr<HistoryWriter>> HistoryWriter::open(const std::string& dir, NodeId node) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError(fmt::format("history dir {}: {}", dir, ec.message()));
  std::string path = history_file_path(dir, node);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(fmt::format("history file {}: {}", path, strerror(errno)));
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(std::move(path), fd));
}

HistoryWriter::HistoryWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
  buf_.reserve(kBufferBytes);
  spare_.reserve(kBufferBytes);
}

HistoryWriter::~HistoryWriter() {
  Status st = flush();
  if (!st.ok()) spdlog::error("history: {}", st.to_string());
  ::close(fd_);
}

void HistoryWriter::append(const HistoryRecord& r) {
  // Formatting happens outside the lock; the buffer keeps its capacity.
  thread_local std::string line;
  line.clear();
  format_history_line(r, &line);
  std::string full;
  {
    std::lock_guard lock(buf_mu_);
    buf_.append(line);
    if (buf_.size() < kBufferBytes) return;
    full.swap(buf_);
    buf_.swap(spare_);
  }
  {
    std::lock_guard io(io_mu_);
    write_out(full);
  }
  full.clear();
  std::lock_guard lock(buf_mu_);
  if (spare_.capacity() == 0) spare_.swap(full);
}

Status HistoryWriter::flush() {
  std::string pending;
  std::lock_guard io(io_mu_);
  {
    std::lock_guard lock(buf_mu_);
    pending.swap(buf_);
    buf_.swap(spare_);
  }
  write_out(pending);
  pending.clear();
  {
    std::lock_guard lock(buf_mu_);
    if (spare_.capacity() == 0) spare_.swap(pending);
  }
  return error_;
}

void HistoryWriter::write_out(const std::string& data) {
  size_t done = 0;
  while (done < data.size() && error_.ok()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = Status::IoError(fmt::format("write {}: {}", path_, strerror(errno)));
      break;
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace remora
