#pragma once
// Private to the collection service's files: the per-collection entry and
// the helpers they share.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/geometry.h"
#include "core/uuid.h"
#include "service/collections.h"

namespace argus::service {

struct CollectionService::Entry {
  std::string id;
  int64_t created_ms = 0;
  std::string model_version;
  std::unique_ptr<index::VectorIndex> index;
  std::mutex write_mu;  // store write + index update, in that order
  std::string loaded_from;
  uint64_t snapshot_version = 0;  // index version of the last snapshot
  std::chrono::steady_clock::time_point last_snapshot = std::chrono::steady_clock::now();
  bool deleted = false;  // under write_mu
};

namespace internal {

// The same pixels give the same ImageId, as Rekognition's does for the same image.
std::string ImageId(const Image& image);
// Rekognition's Similarity (0..100) of an inner product of unit descriptors.
float SimilarityOfScore(float ip);
Status NoFace();

}  // namespace internal
}  // namespace argus::service
