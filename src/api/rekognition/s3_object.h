#pragma once
// S3Object inputs without S3: with `argus serve --s3-root DIR`, bucket B is
// the directory DIR/B and object key K the file DIR/B/K. Keys that climb out
// of their bucket ("..", absolute paths, symbolic links leading elsewhere) are
// refused. Without --s3-root every S3Object is refused.
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace argus::api {

// Sets the directory buckets live under (process-wide; call before serving).
// InvalidParameter when it is not an existing directory.
Status SetS3Root(const std::string& dir);

// The bytes of the object `s3object` ({"Bucket", "Name", "Version"?}) names,
// at most `max_bytes`. Errors: InvalidS3Object (not configured, bad bucket or
// key, traversal, missing or unreadable object, Version given),
// ImageTooLarge (over max_bytes).
Result<std::string> ReadS3Object(const nlohmann::json& s3object, size_t max_bytes);

}  // namespace argus::api
