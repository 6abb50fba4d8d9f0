#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bench/models_bench.h"
#include "cli/args.h"
#include "cli/collections_cli.h"
#include "core/hash.h"

namespace argus::cli {

int CmdModels(const Args& a) {
  const ml::Manifest& m = ml::Manifest::Embedded();
  std::string dir = ModelDir(a);
  std::string sub = a.positional.empty() ? "list" : a.positional[0];
  if (sub == "list") {
    std::printf("model dir: %s\n", dir.c_str());
    std::printf("%-28s %-22s %-16s %-10s %s\n", "NAME", "TASK", "INPUT", "LICENCE", "STATE");
    for (const auto& s : m.models()) {
      std::string path = dir + "/" + s.file;
      std::string state =
          std::ifstream(path) ? (Sha256File(path) == s.sha256 ? "ok" : "altered") : "missing";
      std::string in = std::to_string(s.input.width()) + "x" + std::to_string(s.input.height()) +
                       " " + s.input.color;
      std::printf("%-28s %-22s %-16s %-10s %s\n", s.name.c_str(), s.task.c_str(), in.c_str(),
                  s.license.c_str(), state.c_str());
    }
    return 0;
  }
  if (sub == "verify") {
    auto problems = ml::VerifyModelDir(dir, m);
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (!problems.empty()) {
      std::fprintf(stderr, "models verify: %zu problem(s) in %s\n", problems.size(), dir.c_str());
      return 1;
    }
    std::printf("models verify: %zu models and %zu assets ok in %s\n", m.models().size(),
                m.assets().size(), dir.c_str());
    return 0;
  }
  std::fprintf(stderr, "usage: argus models list|verify [--model-dir DIR]\n");
  return 2;
}

int CmdBench(const Args& a) {
  std::string what = a.positional.empty() ? "" : a.positional[0];
  if (what == "search") return CmdBenchSearch(a);
  if (what != "models") {
    std::fprintf(stderr,
                 "usage: argus bench models [--iterations N] [--threads N] [--only NAME]\n"
                 "                          [--backend onednn|opencv|both] [--memory]\n");
    return 2;
  }
  std::string backend = a.Get("backend");
  if (backend.empty()) backend = "both";
  if (a.Has("memory-of"))
    return bench::RunModelMemoryChild(ModelDir(a), a.GetInt("threads", 2), a.Get("memory-of"),
                                      backend);
  if (a.Has("memory")) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
      std::fprintf(stderr, "bench models --memory: cannot find this executable\n");
      return 1;
    }
    return bench::RunModelsMemory(self.string(), ModelDir(a), a.GetInt("threads", 2), a.Get("only"),
                                  backend);
  }
  return bench::RunModelsBench(ModelDir(a), a.GetInt("threads", 2), a.GetInt("iterations", 20),
                               a.Get("only"), backend);
}

}  // namespace argus::cli
