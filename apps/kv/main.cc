// kv: a YCSB-style key-value store on a Remora cluster (apps/kv/ycsb.h;
// the command line shared by every app is in apps/common/app_main.h).
//
//   kv --config configs/local-3.toml --workload B [--records N] [--record-size B]
//      [--distribution zipf|uniform] [--coroutines C] [--duration S]
//
// Exit 1 if a node failed, a record is missing or damaged, the records'
// write counts disagree with the committed updates, or a replica differs.
#include "app_main.h"
#include "kv_workload.h"

int main(int argc, char** argv) {
  using namespace remora;
  app::CommonArgs a;
  kv::KvOptions o;
  std::string workload = "A", dist = "zipf";
  CLI::App cli{"YCSB key-value store on Remora: every node of a local config, or one node with --id"};
  app::add_common_options(cli, a);
  cli.add_option("--workload", workload, "YCSB workload")->check(CLI::IsMember({"A", "B", "C", "F"}));
  cli.add_option("--records", o.records, "records per node")->check(CLI::Range(1u, 10000000u));
  cli.add_option("--record-size", o.record_size, "value bytes per record")->check(CLI::Range(16u, 65536u));
  cli.add_option("--distribution", dist, "key popularity")->check(CLI::IsMember({"zipf", "uniform"}));
  cli.add_option("--zipf-theta", o.theta, "Zipfian skew")->check(CLI::Range(0.01, 0.999));
  cli.add_option("--slots", o.slots, "slots per hash bucket")->check(CLI::Range(1u, 64u));
  cli.add_option("--load-factor", o.load_factor, "hash table fill at load (0.05-0.95)")->check(CLI::Range(0.05, 0.95));
  CLI11_PARSE(cli, argc, argv);
  o.workload = workload[0];
  o.zipf = dist == "zipf";
  kv::KvWorkload w(o);
  return app::run_app(argc, argv, a, w);
}
