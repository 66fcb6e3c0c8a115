// ProcessCluster: forking, the child side, and the parent's pipe pump.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/cluster_harness.h"

namespace remora::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kPumpSlice = std::chrono::milliseconds(20);
constexpr auto kSettle = std::chrono::seconds(2);
// Frames on the child->parent pipe: kind byte, u32 length, bytes.
void write_frame(int fd, char kind, std::string_view data) {
  std::string buf(5 + data.size(), '\0');
  const auto n = static_cast<uint32_t>(data.size());
  buf[0] = kind;
  std::memcpy(&buf[1], &n, 4);
  if (!data.empty()) std::memcpy(&buf[5], data.data(), data.size());  // data() may be null
  for (size_t done = 0; done < buf.size();) {
    ssize_t w = ::write(fd, buf.data() + done, buf.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the parent is gone: nobody to tell
    done += static_cast<size_t>(w);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[noreturn]] void run_child(const Config& cfg, NodeId id, const ChildBody& body, int out_fd,
                            int log_fd, std::chrono::milliseconds delay) {
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::close(log_fd);
  setenv("UCX_MEM_MALLOC_HOOKS", "no", 0);
  setenv("UCX_MEM_EVENTS", "no", 0);
  setenv("UCX_WARN_UNUSED_ENV_VARS", "n", 0);
  std::this_thread::sleep_for(delay);
  ChildReport r;
  try {
    ChildContext ctx(out_fd);
    r = body(cfg, id, ctx);
  } catch (const std::exception& e) {
    r = ChildReport{Code::kInternal, fmt::format("body threw: {}", e.what()), {}};
  } catch (...) {
    r = ChildReport{Code::kInternal, "body threw a non-exception", {}};
  }
  write_frame(out_fd, 'C', std::string(1, static_cast<char>(r.code)));
  write_frame(out_fd, 'M', r.message);
  write_frame(out_fd, 'J', r.json);
  write_frame(out_fd, 'E', {});
  spdlog::default_logger_raw()->flush();
  std::fflush(nullptr);
  ::_exit(0);
}

}  // namespace

struct ProcessCluster::Child {
  pid_t pid = -1;
  int fd = -1;  // read end of the child's pipe
  std::string buf;
  std::string log_path;
  ChildOutcome out;
};

void ChildContext::note(std::string_view text) const { write_frame(fd_, 'N', text); }

ProcessCluster::ProcessCluster() = default;

ProcessCluster::~ProcessCluster() {
  if (std::getenv("REMORA_TEST_VERBOSE")) std::fprintf(stderr, "%s", summary().c_str());
  for (auto& [id, c] : children_) {
    if (!c->out.exited && c->pid > 0) ::kill(c->pid, SIGKILL);
    if (!c->out.exited && c->pid > 0) reap(*c, true);
    if (c->fd >= 0) ::close(c->fd);
    if (!c->log_path.empty()) ::unlink(c->log_path.c_str());
  }
}

std::vector<int> ProcessCluster::open_fds() const {
  std::vector<int> fds;
  for (const auto& [id, c] : children_)
    if (c->fd >= 0) fds.push_back(c->fd);
  return fds;
}

void ProcessCluster::launch(const Config& cfg, NodeId id, ChildBody body,
                            std::chrono::milliseconds delay) {
  if (children_.count(id)) throw std::logic_error(fmt::format("node {} launched twice", id));
  auto c = std::make_unique<Child>();
  c->out.id = id;
  char path[] = "/tmp/remora-node-test-XXXXXX";
  int log_fd = ::mkstemp(path);
  int p[2];
  if (log_fd < 0 || ::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("mkstemp/pipe failed");
  c->log_path = path;
  std::fflush(nullptr);  // nothing buffered may be written twice
  const pid_t parent = ::getpid();
  const std::vector<int> others = open_fds();
  c->out.launched = SteadyClock::now();
  c->pid = ::fork();
  if (c->pid < 0) throw std::runtime_error("fork failed");
  if (c->pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test process
    if (::getppid() != parent) ::_exit(3);
    ::close(p[0]);
    for (int fd : others) ::close(fd);
    run_child(cfg, id, body, p[1], log_fd, delay);
  }
  ::close(p[1]);
  ::close(log_fd);
  c->fd = p[0];
  children_[id] = std::move(c);
}

// Parses every complete frame in c.buf.
void ProcessCluster::read_from(Child& c) {
  char tmp[4096];
  ssize_t n = ::read(c.fd, tmp, sizeof(tmp));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    ::close(c.fd);
    c.fd = -1;
    return;
  }
  c.buf.append(tmp, static_cast<size_t>(n));
  while (c.buf.size() >= 5) {
    uint32_t len;
    std::memcpy(&len, &c.buf[1], 4);
    if (c.buf.size() < 5 + len) break;
    const char kind = c.buf[0];
    std::string data = c.buf.substr(5, len);
    c.buf.erase(0, 5 + len);
    if (kind == 'N') c.out.notes.push_back({std::move(data), SteadyClock::now()});
    if (kind == 'C' && !data.empty()) c.out.report.code = static_cast<Code>(data[0]);
    if (kind == 'M') c.out.report.message = std::move(data);
    if (kind == 'J') c.out.report.json = std::move(data);
    if (kind == 'E') c.out.reported = true;
  }
}

void ProcessCluster::reap(Child& c, bool block) {
  if (c.out.exited) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(c.pid, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != c.pid) return;
  c.out.exited = true;
  c.out.wait_status = status;
  if (!c.out.reported) c.out.finished = SteadyClock::now();
  c.out.log = read_file(c.log_path);
}

// Reads what the children sent until `until` (at most one slice), and reaps
// the ones that exited.
void ProcessCluster::pump(SteadyClock::time_point until) {
  std::vector<pollfd> fds;
  std::vector<Child*> who;
  for (auto& [id, c] : children_)
    if (c->fd >= 0) fds.push_back({c->fd, POLLIN, 0}), who.push_back(c.get());
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
  const int ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, kPumpSlice.count()));
  if (fds.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, 5)));
  } else if (::poll(fds.data(), fds.size(), ms) > 0) {
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const bool was = who[i]->out.reported;
        read_from(*who[i]);
        if (!was && who[i]->out.reported) who[i]->out.finished = SteadyClock::now();
      }
  }
  for (auto& [id, c] : children_)
    if (c->fd < 0) reap(*c, false);
}

bool ProcessCluster::wait_note(NodeId id, std::string_view text,
                               std::chrono::milliseconds timeout) {
  Child& c = *children_.at(id);
  const auto deadline = SteadyClock::now() + timeout;
  while (!c.out.has_note(text)) {
    if (c.fd < 0) {
      settle(c);
      return false;
    }
    if (SteadyClock::now() >= deadline) return false;
    pump(deadline);
  }
  return true;
}

// A child whose pipe closed is exiting (or crashing): wait a moment for it
// so that its outcome says how it ended and carries its log.
void ProcessCluster::settle(Child& c) {
  const auto until = SteadyClock::now() + kSettle;
  for (reap(c, false); !c.out.exited && SteadyClock::now() < until; reap(c, false))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void ProcessCluster::kill(NodeId id, int sig) {
  Child& c = *children_.at(id);
  if (c.out.exited) return;
  if (sig == SIGKILL) c.out.killed = true;
  ::kill(c.pid, sig);
}

void ProcessCluster::wait_all(std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  auto running = [&] {
    for (auto& [id, c] : children_)
      if (!c->out.exited) return true;
    return false;
  };
  while (running() && SteadyClock::now() < deadline) pump(deadline);
  for (auto& [id, c] : children_) {
    if (c->out.exited) continue;
    c->out.timed_out = c->out.killed = true;
    ::kill(c->pid, SIGKILL);
    reap(*c, true);
  }
  for (auto& [id, c] : children_)
    while (c->fd >= 0) read_from(*c);  // everything they wrote before dying
}

const ChildOutcome& ProcessCluster::outcome(NodeId id) const { return children_.at(id)->out; }

std::string ProcessCluster::summary() const {
  std::string s;
  for (const auto& [id, c] : children_) s += c->out.describe();
  return s;
}

}  // namespace remora::testing
