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

}  // namespace argus::bench
