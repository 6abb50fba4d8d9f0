#include "bench/models_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "ml/model.h"

namespace argus::bench {

int RunModelsBench(const std::string& model_dir, int threads, int iterations,
                   const std::string& only) {
  ml::SetInferenceThreads(threads);
  iterations = std::max(1, iterations);
  ml::Registry registry(model_dir);
  std::printf("%-28s %-14s %9s %9s %9s   (%d threads, %d runs, after 2 warm-up runs)\n", "MODEL",
              "INPUT", "p50 ms", "mean ms", "min ms", threads, iterations);
  int failures = 0;
  for (const auto& s : registry.manifest().models()) {
    if (!only.empty() && only != s.name) continue;
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

}  // namespace argus::bench
