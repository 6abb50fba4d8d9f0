// `argus bench stream`: the arguments of bench/stream_bench.h.
#include <cstdio>
#include <cstdlib>

#include "bench/stream_bench.h"
#include "cli/args.h"

namespace argus::cli {

int CmdBenchStream(const Args& a) {
  ApplyThreads(a);
  bench::StreamBenchOptions o;
  const char* env = std::getenv("ARGUS_DATA");
  o.data_dir = a.Get("data", env ? env : "../shared/data");
  o.source = a.Get("source", "");
  o.model_dir = ModelDir(a);
  o.face = FaceConfigFrom(a);
  o.fps = std::atof(a.Get("fps", "5").c_str());
  o.seconds = std::atof(a.Get("seconds", "30").c_str());
  if (o.fps <= 0 || o.seconds <= 0) {
    std::fprintf(stderr, "argus bench stream: --fps and --seconds must be positive\n");
    return 2;
  }
  return bench::RunStreamBench(o);
}

}  // namespace argus::cli
