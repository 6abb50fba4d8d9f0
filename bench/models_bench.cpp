#include "bench/models_bench.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <vector>

#include "bench/bench_util.h"
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

// malloc_trim first: memory freed while loading (the ONNX bytes, parsing)
// goes back to the system, so VmRSS counts what is held.
Rss ReadOwnRss() {
  malloc_trim(0);
  return ReadRss(getpid());
}

std::vector<std::string> Runtimes(const std::string& backend) {
  std::vector<std::string> out;
  if (backend == "both" || backend == "onednn") out.push_back("onednn");
  if (backend == "both" || backend == "opencv") out.push_back("opencv");
  return out;
}

// Loads `name` on `runtime` and runs it `runs` times; false with a message
// on stderr when it cannot.
bool LoadAndRun(const std::string& model_dir, const ml::ModelSpec& base, const std::string& runtime,
                int runs, std::shared_ptr<ml::Model>* out) {
  ml::ModelSpec s = base;
  s.runtime = runtime;
  auto m = ml::Model::Load(s, model_dir);
  if (!m.ok()) {
    std::fprintf(stderr, "%s: %s\n", s.name.c_str(), m.status().message().c_str());
    return false;
  }
  cv::Mat blob = ml::SyntheticInput(base.input, 1);
  for (int i = 0; i < runs; ++i) {
    auto r = m.value()->Run(blob);
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %s\n", s.name.c_str(), r.status().message().c_str());
      return false;
    }
  }
  *out = m.value();
  return true;
}

}  // namespace

int RunModelMemoryChild(const std::string& model_dir, int threads, const std::string& name,
                        const std::string& backend) {
  ml::SetInferenceThreads(threads);
  const ml::Manifest& manifest = ml::Manifest::Embedded();
  const ml::ModelSpec* target = nullptr;
  const ml::ModelSpec* starter = nullptr;  // the smallest input: starts the runtime
  for (const auto& m : manifest.models()) {
    if (m.name == name) target = &m;
    if (m.name != name && (!starter || m.input.width() * m.input.height() <
                                           starter->input.width() * starter->input.height()))
      starter = &m;
  }
  if (!target || !starter) {
    std::fprintf(stderr, "bench models: no model %s in the manifest\n", name.c_str());
    return 2;
  }
  std::shared_ptr<ml::Model> warm, model;
  if (!LoadAndRun(model_dir, *starter, backend, 2, &warm)) return 1;
  const Rss before = ReadOwnRss();
  if (!LoadAndRun(model_dir, *target, backend, 3, &model)) return 1;
  const Rss after = ReadOwnRss();
  std::printf("%.1f %.1f\n", after.rss - before.rss, after.hwm - before.hwm);
  return 0;
}

int RunModelsMemory(const std::string& self, const std::string& model_dir, int threads,
                    const std::string& only, const std::string& backend) {
  const std::vector<std::string> runtimes = Runtimes(backend);
  if (runtimes.empty()) {
    std::fprintf(stderr, "bench models: --backend is onednn, opencv or both\n");
    return 2;
  }
  std::printf(
      "%d threads; resident memory a loaded model holds after 3 runs (VmRSS growth) and the\n"
      "peak growth while loading and running it (VmHWM), MiB, each in a process of its own\n",
      threads);
  std::printf("%-32s %9s", "MODEL", "FILE MiB");
  for (const auto& r : runtimes) std::printf(" %11s %11s", (r + " rss").c_str(), "peak");
  if (runtimes.size() == 2) std::printf(" %13s", "onednn/opencv");
  std::printf("\n");
  int failures = 0;
  for (const auto& m : ml::Manifest::Embedded().models()) {
    if (!only.empty() && only != m.name) continue;
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(model_dir + "/" + m.file, ec);
    std::vector<Rss> got;
    for (const auto& r : runtimes) {
      std::ostringstream cmd;
      cmd << "'" << self << "' bench models --memory-of '" << m.name << "' --backend " << r
          << " --threads " << threads << " --model-dir '" << model_dir << "'";
      std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.str().c_str(), "r"), pclose);
      Rss x;
      if (!p || std::fscanf(p.get(), "%lf %lf", &x.rss, &x.hwm) != 2) {
        x = {};
        ++failures;
      }
      got.push_back(x);
    }
    std::printf("%-32s %9.1f", m.name.c_str(), ec ? -1.0 : double(bytes) / 1048576);
    for (const auto& x : got) std::printf(" %11.1f %11.1f", x.rss, x.hwm);
    if (got.size() == 2 && got[1].rss > 0) std::printf(" %12.2fx", got[0].rss / got[1].rss);
    std::printf("\n");
    std::fflush(stdout);
  }
  return failures ? 1 : 0;
}

int RunModelsBench(const std::string& model_dir, int threads, int iterations,
                   const std::string& only, const std::string& backend) {
  ml::SetInferenceThreads(threads);
  iterations = std::max(1, iterations);
  const std::vector<std::string> runtimes = Runtimes(backend);
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
    if (base.threads == 1) name += " (1 thread)";
    std::printf("%-32s %-9s %7.3f", name.c_str(), in.c_str(), gflop);
    for (const auto& x : t)
      std::printf(" %9.2f %9.2f %8.1f", x.P50(), x.Min(), gflop / (x.P50() / 1000));
    if (t.size() == 2) std::printf(" %8.2fx", t[1].P50() / t[0].P50());
    std::printf("\n");
  }
  return failures ? 1 : 0;
}

}  // namespace argus::bench
