// Starts `remora node` child processes of this machine and collects their
// output: lines starting with '{' are JSON results, the rest is passed on.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "remora/common/status.h"
#include "remora/fabric/types.h"

namespace remora {

class Launcher {
 public:
  struct Child {
    NodeId id = kInvalidNode;
    pid_t pid = -1;
    int out_fd = -1;
    std::string partial;             // incomplete output line
    std::vector<std::string> json;   // result lines
    int exit_code = -1;              // -1 while running; 128+sig if killed
  };

  ~Launcher();

  // Spawns `<self exe> node --config <config> --id <id> <extra...>`.
  Status spawn(NodeId id, const std::string& config, const std::vector<std::string>& extra);
  // Spawns `args` (args[0] is the program path) as the process of node `id`.
  Status spawn_args(NodeId id, std::vector<std::string> args);

  // Reads output and reaps children for up to `slice`. `on_json` sees every
  // JSON line as it arrives. Returns true when every child has exited.
  template <typename F>
  bool pump(std::chrono::milliseconds slice, F&& on_json);

  // SIGTERM to every running child; SIGKILL after `grace`.
  void terminate(std::chrono::milliseconds grace);
  std::vector<Child>& children() { return children_; }
  const std::vector<Child>& children() const { return children_; }
  bool all_exited() const;

 private:
  void read_child(Child& c, std::vector<std::string>* fresh);
  bool reap();
  std::vector<Child> children_;
};

template <typename F>
bool Launcher::pump(std::chrono::milliseconds slice, F&& on_json) {
  std::vector<std::string> fresh;
  const auto end = std::chrono::steady_clock::now() + slice;
  do {
    for (Child& c : children_) read_child(c, &fresh);
    for (const std::string& l : fresh) on_json(l);
    fresh.clear();
    if (reap()) {
      for (Child& c : children_) read_child(c, &fresh);  // drain what is left
      for (const std::string& l : fresh) on_json(l);
      return true;
    }
  } while (std::chrono::steady_clock::now() < end);
  return false;
}

// Path of the running executable (/proc/self/exe).
std::string self_exe();

}  // namespace remora
