#pragma once
// `argus bench server`: whole-request DetectFaces load on loopback against a
// real `argus serve` (started as a child process unless an endpoint is
// given); `argus bench protocol`: the per-request cost of SigV4 + JSON +
// validation with a tiny image, in process; `argus bench memory`: the
// server's resident memory under bursts of concurrent large images. They
// print figures; none passes or fails on time.
#include <string>

namespace argus::bench {

struct ServerBenchOptions {
  std::string endpoint;                // "http://HOST:PORT" of a running server; "": start one
  std::string access_key, secret_key;  // for `endpoint`
  std::string model_dir;
  std::string image;                                // "": face-api's sample1.jpg in model_dir
  std::string workers = "2", threads = "2", queue;  // the started server's flags ("" = default)
  int clients = 8;
  double duration_s = 20;
};
// Returns 0, 1 on failure, 2 for a malformed endpoint.
int RunServerBench(const ServerBenchOptions& options);

int RunProtocolBench(int iterations);

struct MemoryBenchOptions {
  std::string model_dir;
  std::string image;               // "": face-api's sample1.jpg in model_dir
  std::string op = "DetectFaces";  // or CompareFaces, DetectLabels, ...
  int clients = 4, rounds = 2;
  double megapixels = 50;  // 1..50
  // The started server's flags ("" = its default).
  std::string workers, threads, queue, image_memory_mb;
};
// Returns 0, or 1 when the server cannot start or a connection fails.
int RunMemoryBench(const MemoryBenchOptions& options);

}  // namespace argus::bench
