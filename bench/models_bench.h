#pragma once
// `argus bench models`: the inference latency of each manifest model on
// synthetic input on the oneDNN and OpenCV DNN runtimes side by side (p50,
// min and GFLOP/s after two warm-up runs, runtimes alternating per run) and
// their ratio. Prints figures.
#include <string>

namespace argus::bench {

// `only`: one model's name, "" for all; `backend`: "onednn", "opencv" or
// "both". Returns 1 when a model fails to load or run.
int RunModelsBench(const std::string& model_dir, int threads, int iterations,
                   const std::string& only, const std::string& backend = "both");

// `argus bench models --memory`: the resident memory each loaded model holds
// on each runtime (VmRSS after loading it and running it 3 times, less
// VmRSS before; the runtime itself already started by a small model), and
// the peak (VmHWM) growth, each measured in a child process of its own
// (`self`: this executable) so that freed memory of one model does not hide
// the next. Returns 1 when a child fails.
int RunModelsMemory(const std::string& self, const std::string& model_dir, int threads,
                    const std::string& only, const std::string& backend = "both");
// The child's part: prints "rss_mb hwm_mb" for `name` on `backend`.
int RunModelMemoryChild(const std::string& model_dir, int threads, const std::string& name,
                        const std::string& backend);

}  // namespace argus::bench
