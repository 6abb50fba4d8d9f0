#include "bench/models_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "ml/model.h"
#include "ml/onednn_graph.h"

namespace argus::bench {
namespace {

struct Timing {
  std::vector<double> ms;
  double P50() const {
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    return s.empty() ? 0 : s[s.size() / 2];
  }
  double Min() const { return ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()); }
};

// Multiply-adds x 2 of the convolutions and matrix products of one pass at
// the manifest's input shape (0 when the graph does not parse).
double Gflop(const std::string& model_dir, const ml::ModelSpec& s) {
  std::ifstream in(model_dir + "/" + s.file, std::ios::binary);
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto graph = ml::OnednnGraph::Parse(bytes);
  if (!graph.ok()) return 0;
  auto flops = graph.value()->Flops(s.input.shape);
  return flops.ok() ? flops.value() / 1e9 : 0;
}

}  // namespace

int RunModelsBench(const std::string& model_dir, int threads, int iterations,
                   const std::string& only, const std::string& backend) {
  ml::SetInferenceThreads(threads);
  iterations = std::max(1, iterations);
  std::vector<std::string> runtimes;
  if (backend == "both" || backend == "onednn") runtimes.push_back("onednn");
  if (backend == "both" || backend == "opencv") runtimes.push_back("opencv");
  if (runtimes.empty()) {
    std::fprintf(stderr, "bench models: --backend is onednn, opencv or both\n");
    return 2;
  }
  const ml::Manifest& manifest = ml::Manifest::Embedded();
  std::printf("%d threads, %d runs each after 2 warm-up runs, runtimes alternating per run\n",
              threads, iterations);
  std::printf("%-32s %-9s %7s", "MODEL", "INPUT", "GFLOP");
  for (const auto& r : runtimes)
    std::printf(" %9s %9s %8s", (r + " p50").c_str(), "min ms", "GFLOP/s");
  if (runtimes.size() == 2) std::printf(" %8s", "opencv/onednn");
  std::printf("\n");
  int failures = 0;
  for (const auto& base : manifest.models()) {
    if (!only.empty() && only != base.name) continue;
    std::vector<std::shared_ptr<ml::Model>> models;
    for (const auto& r : runtimes) {
      ml::ModelSpec s = base;
      s.runtime = r;
      auto m = ml::Model::Load(s, model_dir);
      if (!m.ok()) {
        std::printf("%-32s %s\n", s.name.c_str(), m.status().message().c_str());
        ++failures;
        break;
      }
      models.push_back(m.value());
    }
    if (models.size() != runtimes.size()) continue;
    cv::Mat blob = ml::SyntheticInput(base.input, 1);
    std::vector<Timing> t(models.size());
    bool failed = false;
    for (int i = 0; i < iterations + 2 && !failed; ++i) {
      for (size_t k = 0; k < models.size(); ++k) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = models[k]->Run(blob);
        auto t1 = std::chrono::steady_clock::now();
        if (!r.ok()) {
          std::printf("%-32s %s\n", base.name.c_str(), r.status().message().c_str());
          failed = true;
          break;
        }
        if (i >= 2) t[k].ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    }
    if (failed) {
      ++failures;
      continue;
    }
    const double gflop = Gflop(model_dir, base);
    std::string in = std::to_string(base.input.width()) + "x" + std::to_string(base.input.height());
    std::string name = base.name;
    for (size_t k = 0; k < models.size(); ++k)
      if (models[k]->runtime() != runtimes[k]) name += " (" + runtimes[k] + ": fell back)";
    std::printf("%-32s %-9s %7.3f", name.c_str(), in.c_str(), gflop);
    for (const auto& x : t)
      std::printf(" %9.2f %9.2f %8.1f", x.P50(), x.Min(), gflop / (x.P50() / 1000));
    if (t.size() == 2) std::printf(" %8.2fx", t[1].P50() / t[0].P50());
    std::printf("\n");
  }
  return failures ? 1 : 0;
}

}  // namespace argus::bench
