// `argus bench video`: the arguments of bench/video_bench.h.
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "bench/video_bench.h"
#include "cli/args.h"

namespace argus::cli {

int CmdBenchVideo(const Args& a) {
  ApplyThreads(a);
  bench::VideoBenchOptions o;
  o.clips.assign(a.positional.begin() + 1, a.positional.end());
  const char* env = std::getenv("ARGUS_DATA");
  o.data_dir = a.Get("data", env ? env : "../shared/data");
  if (a.Has("ops")) {
    o.ops.clear();
    std::stringstream ss(a.Get("ops"));
    for (std::string op; std::getline(ss, op, ',');) o.ops.push_back(op);
  }
  o.model_dir = ModelDir(a);
  o.face = FaceConfigFrom(a);
  o.fps = std::atof(a.Get("fps", "5").c_str());
  o.seconds = std::atof(a.Get("seconds", "20").c_str());
  o.make_720p = !a.Has("no-720p");
  o.search = !a.Has("no-search");
  o.threads = a.GetInt("threads", 2);
  if (o.fps <= 0) {
    std::fprintf(
        stderr,
        "usage: argus bench video [CLIP...] [--data DIR] [--ops faces,faces-every-frame,"
        "persons,labels,segments]\n       [--fps F] [--seconds S] [--no-720p] [--no-search] "
        "[--threads N]\n");
    return 2;
  }
  return bench::RunVideoBench(o);
}

}  // namespace argus::cli
