// `argus bench faces`: the arguments of bench/faces_bench.h.
#include <cstdio>

#include "bench/faces_bench.h"
#include "cli/args.h"

namespace argus::cli {

int CmdBenchFaces(const Args& a) {
  bench::FacesBenchOptions o;
  o.n = a.GetInt("n", 5);
  o.warmup = a.GetInt("warmup", 1);
  // tfjs-backend-wasm runs on one thread under node, so argus gets one too
  // unless --threads says otherwise.
  o.threads = a.GetInt("threads", 1);
  if (o.n < 1 || o.warmup < 0 || o.threads < 1) {
    std::fprintf(stderr,
                 "argus bench faces: --n and --threads must be >= 1, --warmup >= 0\n"
                 "usage: argus bench faces [IMAGE...] [--images DIR] [--n N] [--warmup W] "
                 "[--threads N]\n"
                 "       [--face-detector D] [--no-peer] [--peer-dir DIR] [--peer-src DIR] "
                 "[--json]\n");
    return 2;
  }
  o.images.assign(a.positional.begin() + 1, a.positional.end());
  o.images_dir = a.Get("images");
  o.model_dir = ModelDir(a);
  o.face = FaceConfigFrom(a);
  o.peer = !a.Has("no-peer");
  o.peer_src = a.Get("peer-src");
  o.peer_dir = a.Get("peer-dir");
  o.json = a.Has("json");
  return bench::RunFacesBench(o);
}

}  // namespace argus::cli
