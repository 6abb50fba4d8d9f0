#include "policy/audit_anchor.h"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace argus::policy {
namespace {

constexpr size_t kKeyBytes = 32;

std::string Hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::string HmacSha256(const std::string& key, const std::string& msg) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

Result<std::string> LoadKey(const std::string& path, bool create) {
  if (create) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      std::string k(kKeyBytes, '\0');
      bool ok = RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), int(k.size())) == 1 &&
                ::write(fd, k.data(), k.size()) == ssize_t(k.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) return Internal("cannot write " + path + ": " + std::strerror(errno));
      return k;
    }
    if (errno != EEXIST) return Internal("cannot create " + path + ": " + std::strerror(errno));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal("cannot read " + path + ": " + std::strerror(errno));
  std::string k(kKeyBytes + 1, '\0');
  ssize_t n = ::read(fd, k.data(), k.size());
  ::close(fd);
  if (n != ssize_t(kKeyBytes)) return Internal(path + " is not a 32-byte key");
  k.resize(kKeyBytes);
  return k;
}

}  // namespace

Result<std::unique_ptr<AuditAnchor>> AuditAnchor::Open(const std::string& data_dir,
                                                       bool create_key) {
  std::unique_ptr<AuditAnchor> a(new AuditAnchor());
  auto key = LoadKey((std::filesystem::path(data_dir) / "argus.key").string(), create_key);
  if (!key.ok()) return Status(key.status().code(), "audit anchor: " + key.status().message());
  a->key_ = HmacSha256(key.value(), "argus-audit-anchor-v1");
  a->path_ = (std::filesystem::path(data_dir) / kAuditAnchorFile).string();
  return a;
}

AuditAnchor::~AuditAnchor() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AuditAnchor::Mac(int64_t seq, const std::string& hash) const {
  std::string m = HmacSha256(key_, std::to_string(seq) + " " + hash);
  return Hex(reinterpret_cast<const unsigned char*>(m.data()), m.size());
}

Status AuditAnchor::Append(int64_t seq, const std::string& hash) {
  if (fd_ < 0) {
    bool existed = ::access(path_.c_str(), F_OK) == 0;
    fd_ = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return Internal("cannot open " + path_ + ": " + std::strerror(errno));
    // A line cut by a crash is dropped, so the next one starts a line.
    off_t size = ::lseek(fd_, 0, SEEK_END);
    if (size > 0) {
      char tail[4096];
      off_t from = size > off_t(sizeof tail) ? size - off_t(sizeof tail) : 0;
      ssize_t n = ::pread(fd_, tail, size_t(size - from), from);
      if (n > 0 && tail[n - 1] != '\n') {
        ssize_t i = n - 1;
        while (i >= 0 && tail[i] != '\n') --i;
        if ((i >= 0 || from == 0) && ::ftruncate(fd_, from + i + 1) != 0) {
          return Internal("cannot drop the cut last line of " + path_ + ": " +
                          std::strerror(errno));
        }
      }
    }
    if (!existed) {  // make the new name durable
      std::string dir = std::filesystem::path(path_).parent_path().string();
      int d = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (d >= 0) {
        ::fsync(d);
        ::close(d);
      }
    }
  }
  std::string line = std::to_string(seq) + " " + hash + " " + Mac(seq, hash) + "\n";
  if (::write(fd_, line.data(), line.size()) != ssize_t(line.size()) || ::fdatasync(fd_) != 0) {
    return Internal("cannot append to " + path_ + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<AuditAnchor::Head> AuditAnchor::Read() const {
  Head h;
  if (::access(path_.c_str(), F_OK) != 0) {
    if (errno == ENOENT) return h;
    return Internal("cannot read " + path_ + ": " + std::strerror(errno));
  }
  std::ifstream f(path_, std::ios::binary);
  if (!f) return Internal("cannot read " + path_);
  h.exists = true;
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // cut by a crash while being written
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    std::istringstream ls(line);
    int64_t seq = 0;
    std::string hash, mac, rest;
    bool parsed = bool(ls >> seq >> hash >> mac) && !(ls >> rest);
    if (!parsed || mac != Mac(seq, hash)) {
      return Internal(path_ + " line " + std::to_string(line_no) +
                      " is not an authentic anchor (altered, or written without argus.key)");
    }
    if (h.entries > 0 && seq <= h.seq) {
      return Internal(path_ + " line " + std::to_string(line_no) + " anchors record " +
                      std::to_string(seq) + " after record " + std::to_string(h.seq));
    }
    if (h.entries == 0) h.first_seq = seq;
    ++h.entries;
    h.seq = seq;
    h.hash = hash;
  }
  return h;
}

}  // namespace argus::policy
