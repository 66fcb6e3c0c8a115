#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "remora/history/history.h"
#include "remora/txn/store.h"

namespace remora {
namespace {

std::atomic<uint64_t> next_writer_id{1};

// This thread's buffer per writer it appended to, by writer id (ids are never
// reused, so entries of destroyed writers are never matched again).
struct CacheEntry {
  uint64_t writer_id;
  void* buffer;
};
thread_local std::vector<CacheEntry> tls_buffers;

}  // namespace

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

HistoryWriter::HistoryWriter(std::string path, int fd)
    : id_(next_writer_id.fetch_add(1)), path_(std::move(path)), fd_(fd) {}

HistoryWriter::~HistoryWriter() {
  Status st = flush();
  if (!st.ok()) spdlog::error("history: {}", st.to_string());
  ::close(fd_);
}

HistoryWriter::ThreadBuffer* HistoryWriter::buffer_of_this_thread() {
  for (const CacheEntry& e : tls_buffers) {
    if (e.writer_id == id_) return static_cast<ThreadBuffer*>(e.buffer);
  }
  auto owned = std::make_unique<ThreadBuffer>();
  owned->data.reserve(kBufferBytes + 1024);
  owned->spare.reserve(kBufferBytes + 1024);
  ThreadBuffer* b = owned.get();
  {
    std::lock_guard lock(registry_mu_);
    buffers_.push_back(std::move(owned));
  }
  tls_buffers.push_back({id_, b});
  return b;
}

template <typename F>
void HistoryWriter::append_with(F&& format) {
  ThreadBuffer* b = buffer_of_this_thread();
  std::string full;
  {
    std::lock_guard lock(b->mu);  // contended only by flush()
    format(&b->data);
    if (b->data.size() < kBufferBytes) return;
    full.swap(b->data);
    b->data.swap(b->spare);
  }
  {
    std::lock_guard io(io_mu_);
    write_out(full);
  }
  full.clear();
  std::lock_guard lock(b->mu);
  if (b->spare.capacity() == 0) b->spare.swap(full);
}

void HistoryWriter::append(const HistoryRecord& r) {
  append_with([&](std::string* out) { format_history_line(r, out); });
}

void HistoryWriter::append_load(const HistoryLoad& l) {
  append_with([&](std::string* out) { format_history_line(l, out); });
}

void HistoryWriter::append_tables(const Store& store) {
  for (const Table& t : store.tables()) append_load({t.base.raw(), t.rows, t.stride, Store::kLoadVersion});
}

Status HistoryWriter::flush() {
  std::lock_guard registry(registry_mu_);
  std::lock_guard io(io_mu_);
  for (const auto& b : buffers_) {
    std::string pending;
    {
      std::lock_guard lock(b->mu);
      pending.swap(b->data);
      b->data.swap(b->spare);
    }
    write_out(pending);
    pending.clear();
    std::lock_guard lock(b->mu);
    if (b->spare.capacity() == 0) b->spare.swap(pending);
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
