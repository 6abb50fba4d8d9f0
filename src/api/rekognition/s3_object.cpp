#include "api/rekognition/s3_object.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

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

fs::path Root() {
  std::lock_guard lock(g_mutex);
  return g_root;
}

const char* kNoRoot =
    "S3 output is not enabled on this server: start argus with --s3-root DIR to write bucket "
    "B, key K to DIR/B/K.";

// The canonical directory of an existing bucket strictly inside the root.
Result<fs::path> BucketDir(const fs::path& root, const std::string& b) {
  if (!ValidBucket(b)) return Bad("Bucket '" + b.substr(0, 255) + "' is not a valid bucket name.");
  std::error_code ec;
  fs::path dir = fs::canonical(root / b, ec);
  if (ec || !Inside(dir, root) || !fs::is_directory(dir, ec)) {
    return Bad("The bucket '" + b + "' does not exist.");
  }
  return dir;
}

std::vector<std::string> Segments(const std::string& key) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    out.push_back(key.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

bool ValidS3KeyPrefix(const std::string& prefix) {
  if (prefix.empty()) return true;
  std::string p = prefix;
  if (p.back() == '/') p.pop_back();
  return ValidKey(p);
}

Status CheckS3Bucket(const std::string& bucket) {
  fs::path root = Root();
  if (root.empty()) return Bad(kNoRoot);
  auto dir = BucketDir(root, bucket);
  return dir.ok() ? Status::Ok() : dir.status();
}

Status WriteS3Object(const std::string& bucket, const std::string& key, std::string_view data) {
  fs::path root = Root();
  if (root.empty()) return Bad(kNoRoot);
  auto bucket_dir = BucketDir(root, bucket);
  if (!bucket_dir.ok()) return bucket_dir.status();
  if (!ValidKey(key)) {
    return Bad("Object key must be a relative key without empty, '.' or '..' segments.");
  }
  const std::string where = "s3://" + bucket + "/" + key;
  Fd dir{::open(bucket_dir->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (dir.fd < 0) return Bad("The bucket '" + bucket + "' does not exist.");
  // The directory opened is the bucket (not a link swapped in since).
  std::error_code ec;
  fs::path opened = fs::read_symlink("/proc/self/fd/" + std::to_string(dir.fd), ec);
  if (ec || opened != bucket_dir.value()) return Bad("The bucket '" + bucket + "' does not exist.");
  std::vector<std::string> segs = Segments(key);
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    if (::mkdirat(dir.fd, segs[i].c_str(), 0700) != 0 && errno != EEXIST) {
      return Bad("Cannot create " + where + ": " + std::strerror(errno) + ".");
    }
    int next = ::openat(dir.fd, segs[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      return Bad("Cannot create " + where + ": '" + segs[i] +
                 "' exists and is not a directory of the bucket.");
    }
    ::close(dir.fd);
    dir.fd = next;
  }
  static std::atomic<uint64_t> counter{0};
  const std::string& name = segs.back();
  std::string tmp =
      ".argus-write-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  Fd out{::openat(dir.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (out.fd < 0) return Bad("Cannot write " + where + ": " + std::strerror(errno) + ".");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(out.fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::unlinkat(dir.fd, tmp.c_str(), 0);
      return Bad("Cannot write " + where + ": " + std::strerror(err) + ".");
    }
    done += size_t(n);
  }
  if (::fchmod(out.fd, 0600) != 0 || ::fsync(out.fd) != 0 ||
      ::renameat(dir.fd, tmp.c_str(), dir.fd, name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dir.fd, tmp.c_str(), 0);
    return Bad("Cannot write " + where + ": " + std::strerror(err) + ".");
  }
  return Status::Ok();
}

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
