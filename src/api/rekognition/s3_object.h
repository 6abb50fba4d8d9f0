#pragma once
// S3Object inputs without S3: with `argus serve --s3-root DIR`, bucket B is
// the directory DIR/B and object key K the file DIR/B/K. The bucket's real
// path must lie inside the root's and the object's inside its bucket's (links
// may be followed only that far), and only regular files are read; anything
// else answers exactly as a missing object does. Without --s3-root every
// S3Object is refused.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace argus::api {

// Sets the directory buckets live under (process-wide; call before serving).
// InvalidParameter when it is not an existing directory.
Status SetS3Root(const std::string& dir);

// The bytes of the object `s3object` ({"Bucket", "Name", "Version"?}) names,
// at most `max_bytes`. Errors: InvalidS3Object (not configured, bad bucket or
// key, Version given; one message for missing, outside, unreadable or not
// a regular file),
// ImageTooLarge (over max_bytes).
Result<std::string> ReadS3Object(const nlohmann::json& s3object, size_t max_bytes);

// The checked local path of the object `s3object` names (a regular file
// inside its bucket, as ReadS3Object checks it), without reading it.
// InvalidS3Object as ReadS3Object answers it.
Result<std::string> ResolveS3Object(const nlohmann::json& s3object);

// Output objects (media analysis results). A key prefix is valid when it is
// empty or a relative key (a trailing '/' allowed) without empty, "." or ".."
// segments.
bool ValidS3KeyPrefix(const std::string& prefix);
// OK when `bucket` is a valid bucket name whose directory exists inside the
// root; InvalidS3Object otherwise (or when no root is configured).
Status CheckS3Bucket(const std::string& bucket);
// Writes `data` as object `key` of `bucket`, replacing it. Missing parent
// directories are created (0700) and the object is written (0600) to a
// temporary name and renamed into place, every step relative to the bucket's
// directory and never through a link, so nothing lands outside the bucket.
// InvalidS3Object: not configured, bad bucket or key, missing bucket, or a
// path that cannot be created (a file or link where a directory is needed).
Status WriteS3Object(const std::string& bucket, const std::string& key, std::string_view data);

}  // namespace argus::api
