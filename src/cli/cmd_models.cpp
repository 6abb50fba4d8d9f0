#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

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
                 "usage: argus bench models [--iterations N] [--threads N] [--only NAME]\n");
    return 2;
  }
  int threads = a.GetInt("threads", 2);
  ml::SetInferenceThreads(threads);
  int iterations = std::max(1, a.GetInt("iterations", 20));
  ml::Registry registry(ModelDir(a));
  std::printf("%-28s %-14s %9s %9s %9s   (%d threads, %d runs, after 2 warm-up runs)\n", "MODEL",
              "INPUT", "p50 ms", "mean ms", "min ms", threads, iterations);
  int failures = 0;
  for (const auto& s : registry.manifest().models()) {
    if (a.Has("only") && a.Get("only") != s.name) continue;
    auto model = registry.Get(s.name);
    if (!model.ok()) {
      std::printf("%-28s %s\n", s.name.c_str(), model.status().message().c_str());
      ++failures;
      continue;
    }
    cv::Mat blob = ml::SyntheticInput(s.input, 1);
    std::vector<double> ms;
    for (int i = 0; i < iterations + 2; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = model.value()->Run(blob);
      auto t1 = std::chrono::steady_clock::now();
      if (!r.ok()) {
        std::printf("%-28s %s\n", s.name.c_str(), r.status().message().c_str());
        ++failures;
        break;
      }
      if (i >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    if (ms.empty()) continue;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    double mean = 0;
    for (double v : ms) mean += v;
    mean /= ms.size();
    std::string in = std::to_string(s.input.width()) + "x" + std::to_string(s.input.height());
    std::printf("%-28s %-14s %9.2f %9.2f %9.2f\n", s.name.c_str(), in.c_str(),
                sorted[sorted.size() / 2], mean, sorted.front());
  }
  return failures ? 1 : 0;
}

}  // namespace argus::cli
