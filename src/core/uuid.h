#pragma once
// Random identifiers: request ids, FaceIds.
#include <string>

namespace argus {

// A random RFC 4122 version-4 UUID in lower-case 8-4-4-4-12 hex form.
// Thread-safe (one generator per thread, seeded from std::random_device).
std::string NewUuidV4();

}  // namespace argus
