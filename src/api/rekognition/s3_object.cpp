#include "api/rekognition/s3_object.h"

#include <filesystem>
#include <fstream>
#include <mutex>

namespace argus::api {
namespace {

namespace fs = std::filesystem;

std::mutex g_mutex;
fs::path g_root;  // canonical; empty when not configured

Status Bad(const std::string& m) { return Status(Code::kInvalidS3Object, m); }

const char* kNotFound =
    "Unable to get object metadata from S3. Check object key, region and/or access permissions.";

bool ValidBucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 255 || b == "." || b == "..") return false;
  for (char c : b) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return b.find("..") == std::string::npos;
}

// A key is a relative path without empty, "." or ".." segments.
bool ValidKey(const std::string& k) {
  if (k.empty() || k.size() > 1024 || k[0] == '/' || k.find('\0') != std::string::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= k.size()) {
    size_t end = k.find('/', start);
    if (end == std::string::npos) end = k.size();
    std::string seg = k.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

Status SetS3Root(const std::string& dir) {
  std::error_code ec;
  fs::path root = fs::canonical(dir, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return InvalidParameter("--s3-root " + dir + " is not an existing directory");
  }
  std::lock_guard lock(g_mutex);
  g_root = root;
  return Status::Ok();
}

Result<std::string> ReadS3Object(const nlohmann::json& s3object, size_t max_bytes) {
  fs::path root;
  {
    std::lock_guard lock(g_mutex);
    root = g_root;
  }
  if (root.empty()) {
    return Bad("S3Object is not enabled on this server: start argus with --s3-root DIR to read "
               "bucket B, key K from DIR/B/K, or send the image as Bytes.");
  }
  if (!s3object.is_object()) return Bad("S3Object must be an object with Bucket and Name.");
  auto bucket = s3object.find("Bucket");
  auto name = s3object.find("Name");
  if (bucket == s3object.end() || !bucket->is_string() || name == s3object.end() ||
      !name->is_string()) {
    return Bad("S3Object needs Bucket and Name.");
  }
  if (auto v = s3object.find("Version"); v != s3object.end() && !v->is_null()) {
    return Bad("argus keeps no object versions: omit S3Object.Version.");
  }
  const std::string& b = bucket->get_ref<const std::string&>();
  const std::string& k = name->get_ref<const std::string&>();
  if (!ValidBucket(b)) return Bad("S3Object.Bucket '" + b.substr(0, 255) + "' is not a valid bucket name.");
  if (!ValidKey(k)) {
    return Bad("S3Object.Name must be a relative key without empty, '.' or '..' segments.");
  }
  std::error_code ec;
  fs::path bucket_dir = fs::canonical(root / b, ec);
  if (ec || !fs::is_directory(bucket_dir, ec)) return Bad(kNotFound);
  fs::path file = fs::canonical(bucket_dir / k, ec);
  if (ec) return Bad(kNotFound);
  // Symbolic links may not lead out of the bucket.
  std::string fs_str = file.string(), bs = bucket_dir.string() + "/";
  if (fs_str.compare(0, bs.size(), bs) != 0) {
    return Bad("S3Object.Name resolves outside its bucket; refused.");
  }
  if (!fs::is_regular_file(file, ec)) return Bad(kNotFound);
  auto size = fs::file_size(file, ec);
  if (ec) return Bad(kNotFound);
  if (size > max_bytes) {
    return Status(Code::kImageTooLarge, "Image size exceeds the limit of " +
                                            std::to_string(max_bytes) + " bytes for S3Object.");
  }
  std::ifstream in(file, std::ios::binary);
  std::string data(size, '\0');
  if (!in.read(data.data(), std::streamsize(size))) return Bad(kNotFound);
  return data;
}

}  // namespace argus::api
