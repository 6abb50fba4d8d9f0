#pragma once
// `argus bench search`: 1:N search at scale as the collection service runs
// it, on synthetic descriptors drawn to resemble real ones (their spread
// from the sample photos' descriptors): recall@1 against exact search,
// SearchFaces and SearchFacesByImage latency, build time and memory. Prints
// figures; never passes or fails on time.
#include <optional>
#include <string>

namespace argus::bench {

struct SearchBenchOptions {
  std::string model_dir;
  std::string data_dir;  // "": a temporary folder, removed afterwards unless keep
  int faces = 1000000;   // collection size (at least 1000)
  int faces_per_identity = 4;
  int queries = 500;
  std::string real_faces;       // a folder of face photos for the distribution
  int real_faces_limit = 1000;  // at most this many of them
  bool sweep = false;           // exact vs graph search over growing sizes
  int sweep_from = 0;           // smallest sweep size
  int threads = 2;              // index build threads
  std::optional<int> hnsw_m, ef_construction, ef_search;  // index defaults when unset
  bool reuse_snapshot = false;  // load data_dir's index snapshot when there
  bool beams = false;           // recall and latency over efSearch values
  int image_queries = 30;       // SearchFacesByImage runs
  int index_photos = 60;        // IndexFaces photos
  bool keep = false;            // keep the temporary data_dir
};

// Runs the benchmark and prints the result; 0, or 1 on failure.
int RunSearchBench(const SearchBenchOptions& options);

}  // namespace argus::bench
