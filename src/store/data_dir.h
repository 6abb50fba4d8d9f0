#pragma once
// The data directory holds biometric templates and the audit log: it is
// private to the user the server runs as.
#include <string>
#include <vector>

#include "core/status.h"

namespace argus::store {

// Creates `dir` (and its parents) when absent, then makes it and every
// directory under it 0700 and every regular file under it 0600; symbolic
// links are left alone. Returns the paths whose modes it changed. Uses only
// the error-code forms of std::filesystem: a bad path is an error, never an
// exception.
Result<std::vector<std::string>> SecureDataDir(const std::string& dir);

// Sets the process umask to 077 so every file the process creates from now
// on (database, write-ahead log, snapshots, anchors) is private.
void PrivateUmask();

}  // namespace argus::store
