#include "cli/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace remora {

std::string self_exe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "remora";
  buf[n] = 0;
  return buf;
}

Launcher::~Launcher() {
  terminate(std::chrono::milliseconds(2000));
  for (Child& c : children_)
    if (c.out_fd >= 0) close(c.out_fd);
}

Status Launcher::spawn(NodeId id, const std::string& config, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {self_exe(), "node", "--config", config, "--id", std::to_string(id)};
  args.insert(args.end(), extra.begin(), extra.end());
  return spawn_args(id, std::move(args));
}

Status Launcher::spawn_args(NodeId id, std::vector<std::string> args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IoError(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) return Status::IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  children_.push_back(Child{id, pid, fds[0], {}, {}, -1});
  return Status::OK();
}

void Launcher::read_child(Child& c, std::vector<std::string>* fresh) {
  if (c.out_fd < 0) return;
  pollfd p{c.out_fd, POLLIN, 0};
  if (::poll(&p, 1, 10) <= 0) return;
  char buf[8192];
  ssize_t n;
  while ((n = read(c.out_fd, buf, sizeof(buf))) > 0) {
    c.partial.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = c.partial.find('\n')) != std::string::npos) {
      std::string line = c.partial.substr(0, nl);
      c.partial.erase(0, nl + 1);
      if (!line.empty() && line[0] == '{') {
        c.json.push_back(line);
        fresh->push_back(line);
      } else {
        fmt::print("[node {}] {}\n", c.id, line);
      }
    }
  }
  if (n == 0) {
    close(c.out_fd);
    c.out_fd = -1;
  }
}

bool Launcher::reap() {
  for (Child& c : children_) {
    if (c.exit_code >= 0) continue;
    int status = 0;
    if (waitpid(c.pid, &status, WNOHANG) == c.pid)
      c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return all_exited();
}

bool Launcher::all_exited() const {
  for (const Child& c : children_)
    if (c.exit_code < 0) return false;
  return true;
}

void Launcher::terminate(std::chrono::milliseconds grace) {
  for (Child& c : children_)
    if (c.exit_code < 0) kill(c.pid, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + grace;
  while (!reap() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (Child& c : children_)
    if (c.exit_code < 0) kill(c.pid, SIGKILL);
  while (!reap()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace remora
