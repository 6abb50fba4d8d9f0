#pragma once
// Resources the API keeps as documents (stream processors, face liveness
// sessions), over the store's `resources` table: a body the caller writes
// (JSON in the api layer), owned by a principal, updated by compare-and-set
// on its version. Every write is durable on return; on a store several
// nodes share, every node sees them. Thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace argus::store {
class Store;
}

namespace argus::service {

struct Document {
  std::string kind;  // "stream-processor", "liveness-session", ...
  std::string id;
  std::string owner;  // principal that created it ("" under --no-auth)
  std::string body;
  int64_t version = 0;  // 1 when inserted, + 1 with each update
  int64_t created_ms = 0, updated_ms = 0;
};

class Documents {
 public:
  explicit Documents(store::Store& store) : store_(store) {}
  // ResourceAlreadyExists when (kind, id) is taken.
  Status Insert(const Document& d);
  // ResourceNotFound when absent.
  Result<Document> Get(const std::string& kind, const std::string& id);
  // Replaces body and updated_ms when the stored version is
  // `expected_version`; false when someone else updated it first.
  // ResourceNotFound when absent.
  Result<bool> Update(const Document& d, int64_t expected_version);
  // Documents of `kind` with id > after_id, ascending, at most `limit`.
  Result<std::vector<Document>> List(const std::string& kind, const std::string& after_id,
                                     int limit);
  // ResourceNotFound when absent.
  Status Delete(const std::string& kind, const std::string& id);
  // Deletes those of `kind` last updated before `cutoff_ms`; how many.
  Result<int64_t> PurgeUpdatedBefore(const std::string& kind, int64_t cutoff_ms);

 private:
  store::Store& store_;
};

}  // namespace argus::service
