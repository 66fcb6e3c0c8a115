// tatp: the TATP benchmark on a Remora cluster (apps/tatp/tatp.h; the
// command line shared by every app is in apps/common/app_main.h).
//
//   tatp --config configs/local-3.toml [--subscribers N] [--coroutines C] ...
//
// Exit 1 if a node failed, the CALL_FORWARDING row count does not match the
// inserts and deletes, or a replica differs from its primary.
#include "app_main.h"
#include "tatp_workload.h"

int main(int argc, char** argv) {
  using namespace remora;
  app::CommonArgs a;
  tatp::TatpOptions t;
  CLI::App cli{"TATP on Remora: every node of a local config, or one node with --id"};
  app::add_common_options(cli, a);
  cli.add_option("--subscribers", t.subscribers, "subscribers per node")->check(CLI::Range(1u, 10000000u));
  cli.add_option("--slots", t.slots, "slots per hash bucket")->check(CLI::Range(1u, 64u));
  cli.add_option("--load-factor", t.load_factor, "hash table fill at load (0.05-0.95)")->check(CLI::Range(0.05, 0.95));
  CLI11_PARSE(cli, argc, argv);
  tatp::TatpWorkload w(t);
  return app::run_app(argc, argv, a, w);
}
