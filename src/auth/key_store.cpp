#include "auth/key_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "core/log.h"

namespace argus::auth {
namespace {

constexpr size_t kKeyBytes = 32, kNonceBytes = 12, kTagBytes = 16;

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

Principal FromRow(const store::PrincipalRow& r) {
  Principal p;
  p.name = r.name;
  p.org_type = ParseOrgType(r.org_type).value_or(OrgType::kIndividual);
  p.default_purpose = r.default_purpose;
  p.authorisation = r.authorisation;
  p.admin = r.admin;
  p.rate_limit = r.rate_limit;
  p.created_at = r.created_at;
  return p;
}

store::PrincipalRow ToRow(const Principal& p) {
  store::PrincipalRow r;
  r.name = p.name;
  r.org_type = OrgTypeName(p.org_type);
  r.default_purpose = p.default_purpose;
  r.authorisation = p.authorisation;
  r.admin = p.admin;
  r.rate_limit = p.rate_limit;
  r.created_at = p.created_at;
  return r;
}

}  // namespace

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Internal("cannot create data dir " + data_dir + ": " + ec.message());
  auto db = store::Store::OpenSqlite(data_dir + "/argus.db");
  if (!db.ok()) return db.status();
  auto s = Open(*db.value(), data_dir);
  if (!s.ok()) return s.status();
  s.value()->owned_ = std::move(db.value());
  return s;
}

Result<std::unique_ptr<KeyStore>> KeyStore::Open(store::Store& store, const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Internal("cannot create data dir " + data_dir + ": " + ec.message());
  auto key = LoadOrCreateKey(data_dir + "/argus.key");
  if (!key.ok()) return key.status();
  std::unique_ptr<KeyStore> s(new KeyStore());
  s->key_ = key.value();
  s->store_ = &store;
  std::lock_guard lock(s->mutex_);
  ARGUS_RETURN_IF_ERROR(s->Reload());
  return s;
}

KeyStore::~KeyStore() = default;

Status KeyStore::Reload() {
  auto version = store_->AccessKeysVersion();
  if (!version.ok()) return version.status();
  if (loaded_ && version.value() == version_) return Status::Ok();
  auto rows = store_->ListAccessKeys(/*active_only=*/true);
  if (!rows.ok()) return rows.status();
  std::unordered_map<std::string, Active> active;
  std::string unreadable;
  for (const auto& [k, p] : rows.value()) {
    Active a;
    if (!Unseal(key_, k.nonce, k.access_key_id, k.sealed, &a.secret)) {
      unreadable += (unreadable.empty() ? "" : ", ") + k.access_key_id;
      continue;
    }
    a.principal = FromRow(p);
    active.emplace(k.access_key_id, std::move(a));
  }
  if (!unreadable.empty()) {
    log::Warn("keys: the secrets of " + unreadable +
              " do not decrypt with this data dir's argus.key (replaced, or the key was created "
              "on a node with another argus.key): those keys are refused here");
  }
  active_ = std::move(active);
  version_ = version.value();
  loaded_ = true;
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
  // A new principal created meanwhile by another process: the second try
  // finds it and checks the request against it.
  for (int attempt = 0;; ++attempt) {
    auto found = store_->GetPrincipal(k.name);
    if (!found.ok()) return found.status();
    Principal p;
    const int64_t now = std::time(nullptr);
    std::optional<store::PrincipalRow> new_principal;
    if (found.value()) {
      p = FromRow(*found.value());
      if (k.org_type && *k.org_type != p.org_type) {
        return InvalidParameter("principal '" + k.name + "' exists with org type " +
                                OrgTypeName(p.org_type) + "; omit --org-type or use a new name");
      }
      if (!k.purpose.empty() && k.purpose != p.default_purpose) {
        return InvalidParameter("principal '" + k.name + "' exists with purpose " +
                                p.default_purpose + "; omit --purpose or use a new name");
      }
      if (k.admin != p.admin) {
        return InvalidParameter("principal '" + k.name + "' exists " +
                                (p.admin ? "as an admin" : "as a non-admin") +
                                "; keys inherit that");
      }
    } else {
      if (!k.org_type || k.purpose.empty()) {
        return InvalidParameter("a new principal needs --org-type (" + std::string(OrgTypeNames()) +
                                ") and --purpose");
      }
      p.name = k.name;
      p.org_type = *k.org_type;
      p.default_purpose = k.purpose;
      p.authorisation = k.authorisation;
      p.admin = k.admin;
      p.rate_limit = k.rate_limit.value_or(0);
      p.created_at = now;
      new_principal = ToRow(p);
    }
    IssuedKey issued;
    issued.key.access_key_id = RandomKeyId();
    issued.key.principal = p.name;
    issued.key.created_at = now;
    issued.secret_access_key = RandomSecret();
    issued.principal = p;
    store::AccessKeyRow row;
    row.access_key_id = issued.key.access_key_id;
    row.principal = p.name;
    row.created_at = now;
    row.nonce = RandomBytes(kNonceBytes);
    if (!Seal(key_, row.nonce, row.access_key_id, issued.secret_access_key, &row.sealed)) {
      return Internal("key store: encryption failed");
    }
    Status st = store_->InsertAccessKey(new_principal, row);
    if (st.code() == Code::kResourceAlreadyExists && attempt == 0) continue;
    if (!st.ok()) return st;
    active_[issued.key.access_key_id] = Active{p, issued.secret_access_key};
    return issued;
  }
}

Result<std::vector<KeyInfo>> KeyStore::List() {
  std::lock_guard lock(mutex_);
  auto rows = store_->ListAccessKeys(/*active_only=*/false);
  if (!rows.ok()) return rows.status();
  std::vector<KeyInfo> out;
  for (const auto& [k, p] : rows.value()) {
    KeyInfo info;
    info.key.access_key_id = k.access_key_id;
    info.key.created_at = k.created_at;
    info.key.revoked_at = k.revoked_at;
    info.principal = FromRow(p);
    info.key.principal = info.principal.name;
    out.push_back(std::move(info));
  }
  return out;
}

Status KeyStore::Revoke(const std::string& access_key_id) {
  std::lock_guard lock(mutex_);
  ARGUS_RETURN_IF_ERROR(store_->RevokeAccessKey(access_key_id, std::time(nullptr)));
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
