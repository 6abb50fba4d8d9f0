#pragma once
// `argus bench models`: the inference latency of each manifest model on
// synthetic input (p50, mean, min after two warm-up runs). Prints figures.
#include <string>

namespace argus::bench {

// `only`: one model's name, "" for all. Returns 1 when a model fails to load or run.
int RunModelsBench(const std::string& model_dir, int threads, int iterations,
                   const std::string& only);

}  // namespace argus::bench
