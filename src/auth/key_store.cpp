#include "auth/key_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace argus::auth {
namespace {

constexpr size_t kKeyBytes = 32, kNonceBytes = 12, kTagBytes = 16;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS principals (
  name TEXT PRIMARY KEY,
  org_type TEXT NOT NULL,
  default_purpose TEXT NOT NULL,
  authorisation TEXT NOT NULL DEFAULT '',
  admin INTEGER NOT NULL DEFAULT 0,
  rate_limit REAL NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
  access_key_id TEXT PRIMARY KEY,
  principal TEXT NOT NULL REFERENCES principals(name),
  secret_nonce BLOB NOT NULL,       -- AES-256-GCM under argus.key
  secret_ciphertext BLOB NOT NULL,  -- ciphertext || 16-byte tag; AAD = access_key_id
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
)sql";

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), int(n));
  return out;
}

// 16 characters of RFC 4648 base32 from random bytes.
std::string RandomKeyId() {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string r = RandomBytes(16), out = "AKAG";
  for (unsigned char c : r) out.push_back(alphabet[c & 31]);
  return out;
}

// 40 characters like an AWS secret: base64 alphabet of 30 random bytes.
std::string RandomSecret() {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string r = RandomBytes(40), out;
  for (unsigned char c : r) out.push_back(alphabet[c & 63]);
  return out;
}

bool Seal(const std::string& key, const std::string& nonce, const std::string& aad,
          const std::string& plain, std::string* out) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string ct(plain.size() + kTagBytes, '\0');
  int len = 0, total = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, int(nonce.size()), nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        int(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(ct.data()), &len,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        int(plain.size())) == 1;
  total = len;
  ok = ok &&
       EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(ct.data()) + total, &len) == 1;
  total += len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, int(kTagBytes), ct.data() + total) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (ok) *out = ct.substr(0, total + kTagBytes);
  return ok;
}

bool Unseal(const std::string& key, const std::string& nonce, const std::string& aad,
            const std::string& sealed, std::string* out) {
  if (sealed.size() < kTagBytes) return false;
  size_t n = sealed.size() - kTagBytes;
  std::string plain(n, '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  std::string tag = sealed.substr(n);
  bool ok =
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, int(nonce.size()), nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        int(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(plain.data()), &len,
                        reinterpret_cast<const unsigned char*>(sealed.data()), int(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, int(kTagBytes), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(plain.data()) + len, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (ok) *out = plain;
  return ok;
}

// Reads data_dir/argus.key, creating it (0600, exclusively) when absent.
Result<std::string> LoadOrCreateKey(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    std::string k = RandomBytes(kKeyBytes);
    bool ok = ::write(fd, k.data(), k.size()) == ssize_t(k.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Internal("cannot write " + path + ": " + std::strerror(errno));
    return k;
  }
  if (errno != EEXIST) return Internal("cannot create " + path + ": " + std::strerror(errno));
  fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Internal("cannot read " + path + ": " + std::strerror(errno));
  std::string k(kKeyBytes + 1, '\0');
  ssize_t n = ::read(fd, k.data(), k.size());
  ::close(fd);
  if (n != ssize_t(kKeyBytes)) {
    return Internal(path + " is not a 32-byte key; the access keys cannot be read without it");
  }
  k.resize(kKeyBytes);
  return k;
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  sqlite3_stmt* get() { return s_; }
  bool ok() const { return s_ != nullptr; }
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  void Blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Real(int i, double v) { sqlite3_bind_double(s_, i, v); }
  int Step() { return sqlite3_step(s_); }
  std::string ColText(int i) {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  std::string ColBlob(int i) {
    const void* b = sqlite3_column_blob(s_, i);
    return b ? std::string(static_cast<const char*>(b), sqlite3_column_bytes(s_, i)) : "";
  }
  int64_t ColInt(int i) { return sqlite3_column_int64(s_, i); }
  double ColReal(int i) { return sqlite3_column_double(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
};

Principal ReadPrincipal(Stmt& s, int at) {
  Principal p;
  p.name = s.ColText(at);
  p.org_type = ParseOrgType(s.ColText(at + 1)).value_or(OrgType::kIndividual);
  p.default_purpose = s.ColText(at + 2);
  p.authorisation = s.ColText(at + 3);
  p.admin = s.ColInt(at + 4) != 0;
  p.rate_limit = s.ColReal(at + 5);
  p.created_at = s.ColInt(at + 6);
  return p;
}

constexpr const char* kPrincipalColumns =
    "p.name, p.org_type, p.default_purpose, p.authorisation, p.admin, p.rate_limit, p.created_at";

}  // namespace

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Internal("cannot create data dir " + data_dir + ": " + ec.message());
  auto key = LoadOrCreateKey(data_dir + "/argus.key");
  if (!key.ok()) return key.status();
  std::unique_ptr<KeyStore> s(new KeyStore());
  s->key_ = key.value();
  std::string path = data_dir + "/argus.db";
  if (sqlite3_open_v2(path.c_str(), &s->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return Internal("cannot open " + path + ": " + sqlite3_errmsg(s->db_));
  }
  sqlite3_busy_timeout(s->db_, 5000);
  ARGUS_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=WAL"));
  ARGUS_RETURN_IF_ERROR(s->Exec(kSchema));
  std::lock_guard lock(s->mutex_);
  ARGUS_RETURN_IF_ERROR(s->Reload());
  return s;
}

KeyStore::~KeyStore() { sqlite3_close_v2(db_); }

Status KeyStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("key store: " + m);
  }
  return Status::Ok();
}

Status KeyStore::Reload() {
  Stmt version(db_, "PRAGMA data_version");
  long long v = version.Step() == SQLITE_ROW ? version.ColInt(0) : -2;
  if (v == data_version_ && v >= 0) return Status::Ok();
  std::string sql = std::string("SELECT k.access_key_id, k.secret_nonce, k.secret_ciphertext, ") +
                    kPrincipalColumns +
                    " FROM access_keys k JOIN principals p ON p.name = k.principal"
                    " WHERE k.revoked_at = 0";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return Internal(std::string("key store: ") + sqlite3_errmsg(db_));
  std::unordered_map<std::string, Active> active;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    std::string id = s.ColText(0);
    Active a;
    if (!Unseal(key_, s.ColBlob(1), id, s.ColBlob(2), &a.secret)) {
      return Internal("key store: the secret of " + id +
                      " does not decrypt with argus.key (was argus.key replaced?)");
    }
    a.principal = ReadPrincipal(s, 3);
    active.emplace(std::move(id), std::move(a));
  }
  if (rc != SQLITE_DONE) return Internal(std::string("key store: ") + sqlite3_errmsg(db_));
  active_ = std::move(active);
  data_version_ = v;
  return Status::Ok();
}

Result<IssuedKey> KeyStore::Create(const NewKey& k) {
  if (!ValidPrincipalName(k.name)) {
    return InvalidParameter("principal name must be 1-64 characters of [A-Za-z0-9_.@-], got '" +
                            k.name + "'");
  }
  if (!k.purpose.empty() && !ValidPurpose(k.purpose)) {
    return InvalidParameter("unknown purpose '" + k.purpose + "' (one of " + PurposeNames() + ")");
  }
  if (k.rate_limit && (*k.rate_limit < 0 || !(*k.rate_limit < 1e9))) {
    return InvalidParameter("rate limit must be a number of requests per second >= 0");
  }
  std::lock_guard lock(mutex_);
  ARGUS_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status st) {
    (void)Exec("ROLLBACK");
    return st;
  };
  std::string sql =
      std::string("SELECT ") + kPrincipalColumns + " FROM principals p WHERE p.name = ?";
  Stmt find(db_, sql.c_str());
  find.Text(1, k.name);
  Principal p;
  int64_t now = std::time(nullptr);
  if (find.Step() == SQLITE_ROW) {
    p = ReadPrincipal(find, 0);
    if (k.org_type && *k.org_type != p.org_type) {
      return fail(InvalidParameter("principal '" + k.name + "' exists with org type " +
                                   OrgTypeName(p.org_type) +
                                   "; omit --org-type or use a new name"));
    }
    if (!k.purpose.empty() && k.purpose != p.default_purpose) {
      return fail(InvalidParameter("principal '" + k.name + "' exists with purpose " +
                                   p.default_purpose + "; omit --purpose or use a new name"));
    }
    if (k.admin != p.admin) {
      return fail(InvalidParameter("principal '" + k.name + "' exists " +
                                   (p.admin ? "as an admin" : "as a non-admin") +
                                   "; keys inherit that"));
    }
  } else {
    if (!k.org_type || k.purpose.empty()) {
      return fail(InvalidParameter("a new principal needs --org-type (" +
                                   std::string(OrgTypeNames()) + ") and --purpose"));
    }
    p.name = k.name;
    p.org_type = *k.org_type;
    p.default_purpose = k.purpose;
    p.authorisation = k.authorisation;
    p.admin = k.admin;
    p.rate_limit = k.rate_limit.value_or(0);
    p.created_at = now;
    Stmt ins(db_,
             "INSERT INTO principals (name, org_type, default_purpose, authorisation, admin, "
             "rate_limit, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.Text(1, p.name);
    ins.Text(2, OrgTypeName(p.org_type));
    ins.Text(3, p.default_purpose);
    ins.Text(4, p.authorisation);
    ins.Int(5, p.admin);
    ins.Real(6, p.rate_limit);
    ins.Int(7, now);
    if (ins.Step() != SQLITE_DONE)
      return fail(Internal(std::string("key store: ") + sqlite3_errmsg(db_)));
  }
  IssuedKey issued;
  issued.key.access_key_id = RandomKeyId();
  issued.key.principal = p.name;
  issued.key.created_at = now;
  issued.secret_access_key = RandomSecret();
  issued.principal = p;
  std::string nonce = RandomBytes(kNonceBytes), sealed;
  if (!Seal(key_, nonce, issued.key.access_key_id, issued.secret_access_key, &sealed)) {
    return fail(Internal("key store: encryption failed"));
  }
  Stmt ins(db_,
           "INSERT INTO access_keys (access_key_id, principal, secret_nonce, secret_ciphertext, "
           "created_at) VALUES (?, ?, ?, ?, ?)");
  ins.Text(1, issued.key.access_key_id);
  ins.Text(2, p.name);
  ins.Blob(3, nonce);
  ins.Blob(4, sealed);
  ins.Int(5, now);
  if (ins.Step() != SQLITE_DONE)
    return fail(Internal(std::string("key store: ") + sqlite3_errmsg(db_)));
  ARGUS_RETURN_IF_ERROR(Exec("COMMIT"));
  active_[issued.key.access_key_id] = Active{p, issued.secret_access_key};
  return issued;
}

Result<std::vector<KeyInfo>> KeyStore::List() {
  std::lock_guard lock(mutex_);
  std::string sql = std::string("SELECT k.access_key_id, k.created_at, k.revoked_at, ") +
                    kPrincipalColumns +
                    " FROM access_keys k JOIN principals p ON p.name = k.principal"
                    " ORDER BY k.created_at DESC, k.rowid DESC";
  Stmt s(db_, sql.c_str());
  std::vector<KeyInfo> out;
  while (s.Step() == SQLITE_ROW) {
    KeyInfo info;
    info.key.access_key_id = s.ColText(0);
    info.key.created_at = s.ColInt(1);
    info.key.revoked_at = s.ColInt(2);
    info.principal = ReadPrincipal(s, 3);
    info.key.principal = info.principal.name;
    out.push_back(std::move(info));
  }
  return out;
}

Status KeyStore::Revoke(const std::string& access_key_id) {
  std::lock_guard lock(mutex_);
  Stmt s(db_, "UPDATE access_keys SET revoked_at = ? WHERE access_key_id = ? AND revoked_at = 0");
  s.Int(1, std::time(nullptr));
  s.Text(2, access_key_id);
  if (s.Step() != SQLITE_DONE) return Internal(std::string("key store: ") + sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) == 0) {
    return Status(Code::kResourceNotFound, "no active access key " + access_key_id);
  }
  active_.erase(access_key_id);
  return Status::Ok();
}

std::optional<KeyStore::Active> KeyStore::Lookup(const std::string& access_key_id) {
  std::lock_guard lock(mutex_);
  (void)Reload();  // on failure the last loaded keys stay in force
  auto it = active_.find(access_key_id);
  if (it == active_.end()) return std::nullopt;
  return it->second;
}

size_t KeyStore::ActiveCount() {
  std::lock_guard lock(mutex_);
  (void)Reload();
  return active_.size();
}

}  // namespace argus::auth
