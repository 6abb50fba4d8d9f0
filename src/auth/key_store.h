#pragma once
// Principals and their access keys, kept in the store (tables `principals`
// and `access_keys`): the data directory's SQLite database argus.db, or the
// PostgreSQL database several nodes share, so that a key created through
// one node works on every node.
//
// SigV4 verification needs each secret itself (the signing key is derived
// from it per day and region), so secrets cannot be hashed: they are stored
// encrypted with AES-256-GCM under a random 256-bit key in `argus.key`
// (mode 0600) in the data directory; the database alone does not reveal
// them. Nodes that share a database need the same argus.key (copy it to
// each node's data directory); a key sealed under another argus.key is left
// out, with a warning. Secrets are returned once, by Create, and never
// logged.
//
// Thread-safe. Several processes may share the keys (`argus keys` while
// `argus serve` runs, or other nodes): Lookup notices their commits and
// reloads, so a revoked key stops working at once.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/principal.h"
#include "core/status.h"
#include "store/store.h"

namespace argus::auth {

// What `argus keys create` asks for. A new principal needs org type and
// purpose; for an existing one, fields given must match what is stored.
struct NewKey {
  std::string name;
  std::optional<OrgType> org_type;
  std::string purpose;        // default purpose
  std::string authorisation;  // optional
  bool admin = false;
  std::optional<double> rate_limit;  // requests/s for this principal
};

struct IssuedKey {
  AccessKey key;
  std::string secret_access_key;  // shown once
  Principal principal;
};

struct KeyInfo {
  AccessKey key;
  Principal principal;
};

class KeyStore {
 public:
  // Opens (creating when needed) data_dir/argus.db and data_dir/argus.key.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& data_dir);
  // The keys of `store`, which outlives the KeyStore, sealed under
  // data_dir/argus.key (created when needed).
  static Result<std::unique_ptr<KeyStore>> Open(store::Store& store, const std::string& data_dir);
  ~KeyStore();

  // Issues a key for principal `k.name`, creating the principal when new.
  // InvalidParameter for a bad name/purpose, a new principal without org type
  // or purpose, or fields that contradict the stored principal.
  Result<IssuedKey> Create(const NewKey& k);

  // Every key, newest first, with its principal; secrets are not included.
  Result<std::vector<KeyInfo>> List();

  // Marks a key revoked. ResourceNotFound when unknown.
  Status Revoke(const std::string& access_key_id);

  // The principal and secret of an active key.
  struct Active {
    Principal principal;
    std::string secret;
  };
  std::optional<Active> Lookup(const std::string& access_key_id);

  // Number of active keys.
  size_t ActiveCount();

 private:
  KeyStore() = default;
  Status Reload();  // mutex_ held

  std::mutex mutex_;
  std::unique_ptr<store::Store> owned_;  // the data dir's store, when opened by data dir
  store::Store* store_ = nullptr;
  std::string key_;  // 32 bytes, AES-256-GCM
  int64_t version_ = -1;
  bool loaded_ = false;
  std::unordered_map<std::string, Active> active_;
};

}  // namespace argus::auth
