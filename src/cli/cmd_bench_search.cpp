// `argus bench search`: the arguments of bench/search_bench.h.
#include <climits>
#include <utility>

#include "bench/search_bench.h"
#include "cli/collections_cli.h"

namespace argus::cli {

int CmdBenchSearch(const Args& a) {
  bench::SearchBenchOptions o;
  o.faces = a.GetInt("faces", 1000000);
  o.faces_per_identity = a.GetInt("faces-per-identity", 4);
  o.queries = a.GetInt("queries", 500);
  ApplyThreads(a);
  o.data_dir = a.Get("data-dir", "");
  o.model_dir = ModelDir(a);
  o.real_faces = a.Get("real-faces", "");
  o.real_faces_limit = a.GetInt("real-faces-limit", 1000);
  o.sweep = a.Has("sweep");
  o.sweep_from = a.GetInt("sweep-from", 0);
  o.threads = a.GetInt("threads", 2);
  for (auto [flag, slot] :
       {std::pair{"hnsw-m", &o.hnsw_m}, std::pair{"ef-construction", &o.ef_construction},
        std::pair{"ef-search", &o.ef_search}})
    if (int v = a.GetInt(flag, INT_MIN); v != INT_MIN) *slot = v;  // unset or not a number: default
  o.reuse_snapshot = a.Has("reuse-snapshot");
  o.beams = a.Has("beams");
  o.image_queries = a.GetInt("image-queries", 30);
  o.index_photos = a.GetInt("index-photos", 60);
  o.keep = a.Has("keep");
  return bench::RunSearchBench(o);
}

}  // namespace argus::cli
