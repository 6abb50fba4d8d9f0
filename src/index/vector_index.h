#pragma once
// A collection's in-memory vector index over FAISS, ranking by inner product
// of L2-normalised descriptors (so by euclidean distance too).
//
// Exact (IndexFlatIP) while small; at `hnsw_threshold` live vectors and above
// an HNSW graph (IndexHNSWFlat) built in the background by Rebuild() while
// the exact index keeps answering. Removed vectors are dropped at once in the
// exact index and tombstoned in the graph (never returned; compacted by
// Rebuild() when they pass `compact_fraction`).
//
// Locking: Search/Save/Labels take a shared lock, Add/Remove an exclusive
// one; Rebuild builds outside the lock and swaps under the exclusive lock,
// replaying the writes made meanwhile. All methods are thread-safe.
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace faiss {
struct Index;
}

namespace argus::index {

struct IndexOptions {
  int dim = 128;
  // Live vectors from which an HNSW graph replaces exact search (the
  // crossover `argus bench search --sweep` measures; docs/ARCHITECTURE.md).
  size_t hnsw_threshold = 50000;
  // Graph degree (chosen with `argus bench search --beams`).
  int hnsw_m = 48;
  int ef_construction = 100;      // build beam
  int ef_search = 384;            // search beam (raised to k when k is larger)
  double compact_fraction = 0.2;  // tombstones / total that trigger a compaction
  int build_threads = 2;          // OpenMP threads for graph building
};

struct Hit {
  int64_t label;
  float score;  // inner product; euclidean distance = sqrt(max(0, 2 - 2 * score))
};

// Identifies what a snapshot was taken of; checked by the caller on load.
struct SnapshotMeta {
  std::string collection;
  int64_t collection_created_ms = 0;
  std::string model_version;
};

class VectorIndex {
 public:
  explicit VectorIndex(const IndexOptions& options);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // Adds n vectors (n * dim floats, row-major). Labels must be ascending and
  // greater than every label added before (the store assigns them so);
  // InvalidParameter otherwise, and nothing is added.
  Status Add(const std::vector<int64_t>& labels, const float* vectors);
  // Removes the labels present; returns how many were.
  size_t Remove(const std::vector<int64_t>& labels);
  // Top k live vectors by inner product with q (dim floats), best first.
  std::vector<Hit> Search(const float* q, int k) const;

  size_t size() const;                  // live vectors
  bool is_graph() const;                // HNSW (else exact)
  std::vector<int64_t> Labels() const;  // live labels, ascending
  int64_t max_label() const;
  // Counts writes; a snapshot is stale when this moved since it was taken.
  uint64_t version() const { return version_.load(); }

  // Whether Rebuild() would change the structure (exact → graph at the
  // threshold, graph compaction, graph → exact below half the threshold).
  bool NeedsRebuild() const;
  // Rebuilds into the structure the size calls for, without blocking
  // searches or writes except for the final swap. One at a time.
  Status Rebuild();

  // Writes a checksummed snapshot atomically (temp file, fsync, rename).
  Status Save(const std::string& path, const SnapshotMeta& meta) const;
  // Reads a snapshot; Internal when missing, corrupt or of another layout.
  static Result<std::unique_ptr<VectorIndex>> Load(const std::string& path,
                                                   const IndexOptions& options, SnapshotMeta* meta);

  const IndexOptions& options() const { return opt_; }
  // Changes the HNSW search beam (benchmarks).
  void SetSearchBeam(int ef_search);

 private:
  struct Pending;
  struct State;
  static std::unique_ptr<State> NewState(const IndexOptions& o, bool graph);
  std::vector<Hit> SearchLocked(const State& s, const float* q, int k) const;

  IndexOptions opt_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<State> state_;
  std::unique_ptr<Pending> pending_;  // writes made during a Rebuild, under mu_
  std::mutex rebuild_mu_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace argus::index
