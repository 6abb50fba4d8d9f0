#include "api/rekognition/s3_object.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
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

// True when `path` (canonical) lies strictly below `dir` (canonical).
bool Inside(const fs::path& path, const fs::path& dir) {
  const std::string& p = path.native();
  std::string d = dir.native();
  if (d.empty() || d.back() != '/') d += '/';
  return p.size() > d.size() && p.compare(0, d.size(), d) == 0;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

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

namespace {

// Opens the object `s3object` names after every check; `path` is its real path.
Result<int> OpenS3Object(const nlohmann::json& s3object, fs::path* path) {
  fs::path root;
  {
    std::lock_guard lock(g_mutex);
    root = g_root;
  }
  if (root.empty()) {
    return Bad(
        "S3Object is not enabled on this server: start argus with --s3-root DIR to read "
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
  if (!ValidBucket(b))
    return Bad("S3Object.Bucket '" + b.substr(0, 255) + "' is not a valid bucket name.");
  if (!ValidKey(k)) {
    return Bad("S3Object.Name must be a relative key without empty, '.' or '..' segments.");
  }
  // Real paths: the bucket strictly inside the root, the object strictly
  // inside its bucket. Every refusal past this point answers kNotFound, so
  // that "outside" cannot be told from "missing".
  std::error_code ec;
  fs::path bucket_dir = fs::canonical(root / b, ec);
  if (ec || !Inside(bucket_dir, root) || !fs::is_directory(bucket_dir, ec)) return Bad(kNotFound);
  fs::path file = fs::canonical(bucket_dir / k, ec);
  if (ec || !Inside(file, bucket_dir)) return Bad(kNotFound);
  // Open without following a link that replaced the file since, without
  // blocking on a FIFO; then check what was opened, not the name.
  int fd = ::open(file.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Bad(kNotFound);
  Fd guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Bad(kNotFound);
  fs::path opened = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  if (ec || !Inside(opened, bucket_dir)) return Bad(kNotFound);
  guard.fd = -1;
  *path = opened;
  return fd;
}

}  // namespace

Result<std::string> ResolveS3Object(const nlohmann::json& s3object) {
  fs::path path;
  auto fd = OpenS3Object(s3object, &path);
  if (!fd.ok()) return fd.status();
  ::close(fd.value());
  return path.native();
}

Result<std::string> ReadS3Object(const nlohmann::json& s3object, size_t max_bytes) {
  fs::path path;
  auto opened = OpenS3Object(s3object, &path);
  if (!opened.ok()) return opened.status();
  int fd = opened.value();
  Fd guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Bad(kNotFound);
  if (uint64_t(st.st_size) > max_bytes) {
    return Status(Code::kImageTooLarge, "Image size exceeds the limit of " +
                                            std::to_string(max_bytes) + " bytes for S3Object.");
  }
  std::string data(size_t(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  data.resize(got);  // a file cut short while read is read as it is
  return data;
}

}  // namespace argus::api
