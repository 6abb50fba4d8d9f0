// `argus bench server|protocol|memory`: the arguments of bench/server_bench.h.
#include <algorithm>
#include <cstdlib>

#include "bench/server_bench.h"
#include "cli/args.h"

namespace argus::cli {

int CmdBenchServer(const Args& a) {
  bench::ServerBenchOptions o;
  o.endpoint = a.Get("endpoint");
  const char* key = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  o.access_key = a.Get("access-key", key ? key : "");
  o.secret_key = a.Get("secret-key", secret ? secret : "");
  o.model_dir = ModelDir(a);
  o.image = a.Get("image");
  o.workers = a.Get("workers", "2");
  o.threads = a.Get("threads", "2");
  o.queue = a.Get("queue");
  o.clients = a.GetInt("concurrency", 8);
  o.duration_s = a.GetInt("duration", 20);
  return bench::RunServerBench(o);
}

int CmdBenchProtocol(const Args& a) {
  return bench::RunProtocolBench(a.GetInt("iterations", 20000));
}

int CmdBenchMemory(const Args& a) {
  bench::MemoryBenchOptions o;
  o.model_dir = ModelDir(a);
  o.image = a.Get("image");
  o.op = a.Get("op", "DetectFaces");
  o.clients = a.GetInt("concurrency", 4);
  o.rounds = a.GetInt("rounds", 2);
  o.megapixels = a.GetInt("megapixels", 50);
  o.workers = a.Get("workers");
  o.threads = a.Get("threads");
  o.queue = a.Get("queue");
  o.image_memory_mb = a.Get("image-memory-mb");
  return bench::RunMemoryBench(o);
}

}  // namespace argus::cli
