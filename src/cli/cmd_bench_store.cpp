// `argus bench store`: runs bench/store_bench.py (a private PostgreSQL
// cluster, argus nodes of this binary, haproxy) and prints its table.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/args.h"

namespace argus::cli {

int CmdBenchStore(const Args& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::string script = a.Get("script");
  if (script.empty()) {
    // build/argus in a source tree, or a run from the source tree.
    for (fs::path p : {self.parent_path() / ".." / "bench" / "store_bench.py",
                       fs::path("bench") / "store_bench.py"}) {
      if (fs::exists(p, ec)) {
        script = p.lexically_normal().string();
        break;
      }
    }
  }
  if (script.empty() || !fs::exists(script, ec)) {
    std::fprintf(stderr,
                 "argus bench store: bench/store_bench.py not found (give the source tree's "
                 "with --script PATH)\n");
    return 2;
  }
  std::vector<std::string> argv = {"/usr/bin/python3", script};
  for (const char* f : {"requests", "clients", "searches", "propagation", "workers", "threads"}) {
    if (a.Has(f)) {
      argv.push_back(std::string("--") + f);
      argv.push_back(a.Get(f));
    }
  }
  if (a.Has("json")) argv.push_back("--json");
  if (!self.empty()) ::setenv("ARGUS_BIN", self.c_str(), 1);
  std::vector<char*> raw;
  for (auto& s : argv) raw.push_back(s.data());
  raw.push_back(nullptr);
  ::execv(raw[0], raw.data());
  std::perror("argus bench store: /usr/bin/python3");
  return 1;
}

}  // namespace argus::cli
