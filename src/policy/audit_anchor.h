#pragma once
// The audit log's head, anchored outside the database: DATA_DIR/audit-head.log
// gets one line per committed audit record, "SEQ HASH MAC\n", where MAC is an
// HMAC-SHA256 of "SEQ HASH" under a key derived from DATA_DIR/argus.key. A
// log cut back (rows deleted, sequence lowered) or rewritten inside the
// database no longer reaches the anchored head. The anchor is appended after
// the record's commit, under the store's write lock, and fsynced: it lags the
// database by at most the one record whose commit a crash interrupted.
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace argus::policy {

inline constexpr const char* kAuditAnchorFile = "audit-head.log";

class AuditAnchor {
 public:
  // The anchor of `data_dir`. With `create_key`, DATA_DIR/argus.key is
  // created (32 random bytes, 0600) when absent, as the key store does;
  // otherwise a missing key is an error.
  static Result<std::unique_ptr<AuditAnchor>> Open(const std::string& data_dir, bool create_key);
  ~AuditAnchor();

  // Appends the head (seq, hash) and syncs it to disk.
  Status Append(int64_t seq, const std::string& hash);

  struct Head {
    bool exists = false;             // the file exists
    int64_t entries = 0;             // authentic lines read
    int64_t first_seq = 0, seq = 0;  // the first and the last anchored record
    std::string hash;                // the last anchored record's hash
  };
  // Reads the file. An incomplete last line (a write cut by a crash) is
  // ignored; a line that is not authentic, or seqs that do not increase,
  // is an error naming the line.
  Result<Head> Read() const;

  const std::string& path() const { return path_; }

 private:
  AuditAnchor() = default;
  std::string Mac(int64_t seq, const std::string& hash) const;
  std::string path_;
  std::string key_;  // derived from argus.key
  int fd_ = -1;      // for appending, opened on first use
};

}  // namespace argus::policy
