// `argus keys create|list|revoke`, and the security part of `argus serve`:
// the key store, the first-start admin key, --no-auth and the limits.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/rekognition/s3_object.h"
#include "auth/key_store.h"
#include "cli/args.h"
#include "core/log.h"
#include "server/server.h"
#include "store/store.h"

namespace argus::cli {
namespace {

using nlohmann::json;

const char* kKeysUsage =
    "usage: argus keys create --name NAME --org-type TYPE --purpose PURPOSE\n"
    "                         [--authorisation REF] [--rate-limit R] [--admin] [--data-dir D]\n"
    "                         [--store postgresql://...]\n"
    "       argus keys list [--data-dir D] [--store postgresql://...]\n"
    "       argus keys revoke ACCESS_KEY_ID [--data-dir D] [--store postgresql://...]\n"
    "TYPE: law_enforcement, child_safety, government, commercial, research, individual\n";

std::string DataDir(const Args& a) { return a.Get("data-dir", "./argus-data"); }

json PrincipalJson(const auth::Principal& p) {
  json j = {{"Name", p.name},
            {"OrgType", auth::OrgTypeName(p.org_type)},
            {"Purpose", p.default_purpose},
            {"Admin", p.admin}};
  if (!p.authorisation.empty()) j["Authorisation"] = p.authorisation;
  if (p.rate_limit > 0) j["RateLimit"] = p.rate_limit;
  return j;
}

bool ParseDouble(const std::string& s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == '\0';
}

// Writes an AWS shared-credentials file (mode 0600) holding the admin key.
bool WriteCredentialsFile(const std::string& path, const auth::IssuedKey& k) {
  std::string text =
      "# argus admin key, created on first start. Keep this file private.\n"
      "[argus]\naws_access_key_id = " +
      k.key.access_key_id + "\naws_secret_access_key = " + k.secret_access_key + "\n";
  std::FILE* f = std::fopen(path.c_str(), "wx");
  if (!f) return false;
  ::chmod(path.c_str(), 0600);
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int CmdKeys(const Args& a) {
  std::string what = a.positional.empty() ? "" : a.positional[0];
  if (what != "create" && what != "list" && what != "revoke") {
    std::fputs(kKeysUsage, stderr);
    return 2;
  }
  // --store postgresql://...: the keys every node of the cluster accepts.
  std::unique_ptr<store::Store> db;
  Result<std::unique_ptr<auth::KeyStore>> store = Status(Code::kInternal, "not opened");
  if (a.Has("store")) {
    if (!store::Store::IsPostgresUrl(a.Get("store"))) {
      std::fprintf(stderr, "argus keys: --store must be a postgresql:// URL\n");
      return 2;
    }
    auto opened = store::Store::OpenPostgres(a.Get("store"), 1);
    if (!opened.ok()) {
      std::fprintf(stderr, "argus keys: %s\n", opened.status().message().c_str());
      return 1;
    }
    db = std::move(opened.value());
    store = auth::KeyStore::Open(*db, DataDir(a));
  } else {
    store = auth::KeyStore::Open(DataDir(a));
  }
  if (!store.ok()) {
    std::fprintf(stderr, "argus keys: %s\n", store.status().message().c_str());
    return 1;
  }
  if (what == "create") {
    auth::NewKey k;
    k.name = a.Get("name");
    if (a.Has("org-type")) {
      k.org_type = auth::ParseOrgType(a.Get("org-type"));
      if (!k.org_type) {
        std::fprintf(stderr, "argus keys create: unknown --org-type '%s' (one of %s)\n",
                     a.Get("org-type").c_str(), auth::OrgTypeNames());
        return 2;
      }
    }
    k.purpose = a.Get("purpose");
    k.authorisation = a.Get("authorisation");
    k.admin = a.Has("admin");
    if (a.Has("rate-limit")) {
      double r = 0;
      if (!ParseDouble(a.Get("rate-limit"), &r)) {
        std::fprintf(stderr, "argus keys create: --rate-limit needs a number (requests/s)\n");
        return 2;
      }
      k.rate_limit = r;
    }
    auto issued = store.value()->Create(k);
    if (!issued.ok()) {
      std::fprintf(stderr, "argus keys create: %s\n%s", issued.status().message().c_str(),
                   kKeysUsage);
      return 2;
    }
    json out = {{"AccessKeyId", issued->key.access_key_id},
                {"SecretAccessKey", issued->secret_access_key},
                {"Principal", PrincipalJson(issued->principal)},
                {"CreatedAt", issued->key.created_at}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (what == "list") {
    auto keys = store.value()->List();
    if (!keys.ok()) {
      std::fprintf(stderr, "argus keys list: %s\n", keys.status().message().c_str());
      return 1;
    }
    json out = json::array();
    for (const auto& k : keys.value()) {
      json j = {{"AccessKeyId", k.key.access_key_id},
                {"Status", k.key.revoked_at ? "Revoked" : "Active"},
                {"Principal", PrincipalJson(k.principal)},
                {"CreatedAt", k.key.created_at}};
      if (k.key.revoked_at) j["RevokedAt"] = k.key.revoked_at;
      out.push_back(j);
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (a.positional.size() != 2) {
    std::fputs(kKeysUsage, stderr);
    return 2;
  }
  Status st = store.value()->Revoke(a.positional[1]);
  if (!st.ok()) {
    std::fprintf(stderr, "argus keys revoke: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("revoked %s\n", a.positional[1].c_str());
  return 0;
}

Result<std::unique_ptr<auth::KeyStore>> ConfigureServeSecurity(const Args& a,
                                                               const std::string& data_dir,
                                                               store::Store& db,
                                                               server::Options& opts) {
  opts.workers = a.GetInt("workers", opts.workers);
  opts.queue = a.GetInt("queue", opts.queue);
  opts.connections = std::max(opts.workers + 1, a.GetInt("connections", opts.connections));
  for (auto [flag, target] :
       {std::pair{"header-timeout", &opts.header_timeout_s},
        std::pair{"body-timeout", &opts.body_timeout_s},
        std::pair{"idle-timeout", &opts.idle_timeout_s},
        std::pair{"max-connections", &opts.max_connections},
        std::pair{"max-connections-per-address", &opts.max_connections_per_address}}) {
    if (!a.Has(flag)) continue;
    *target = a.GetInt(flag, 0);
    if (*target <= 0) {
      return InvalidParameter(std::string("--") + flag + " needs a positive integer");
    }
  }
  for (auto [flag, target] :
       {std::pair{"rate-limit", &opts.rate_limit}, std::pair{"rate-burst", &opts.rate_burst}}) {
    if (a.Has(flag) && !ParseDouble(a.Get(flag), target)) {
      return InvalidParameter(std::string("--") + flag + " needs a number");
    }
  }
  if (a.Has("s3-root")) {
    Status st = api::SetS3Root(a.Get("s3-root"));
    if (!st.ok()) return st;
    log::Info("S3Object buckets are directories under " + a.Get("s3-root"));
  }
  opts.auth = !a.Has("no-auth");
  if (db.SharesRateLimits()) opts.shared_rate_limits = &db;
  auto store = auth::KeyStore::Open(db, data_dir);
  if (!store.ok()) return store.status();
  if (!opts.auth) {
    for (int i = 0; i < 3; ++i) {
      log::Warn("AUTHENTICATION IS DISABLED (--no-auth): anyone who can reach " + opts.host + ":" +
                std::to_string(opts.port) +
                " may call every operation, unsigned, as principal 'anonymous'. For local "
                "experiments only.");
    }
    return store;
  }
  opts.keys = store.value().get();
  if (store.value()->ActiveCount() == 0) {
    auth::NewKey k;
    k.name = "admin";
    k.org_type = auth::OrgType::kIndividual;
    k.purpose = "administration";
    k.admin = true;
    auto issued = store.value()->Create(k);
    if (!issued.ok()) return issued.status();
    std::error_code ec;
    std::string abs = std::filesystem::absolute(data_dir, ec).lexically_normal().string();
    if (!abs.empty() && abs.back() == '/') abs.pop_back();
    std::string creds = abs + "/admin-credentials";
    if (!WriteCredentialsFile(creds, issued.value())) {
      return Internal("cannot write " + creds + " (it must not exist yet)");
    }
    std::printf(
        "argus: first start: created the admin access key %s (principal 'admin').\n"
        "  Its secret is in %s (mode 0600, an AWS credentials file); it is printed nowhere.\n"
        "  Use it with the aws CLI:\n"
        "    export AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=argus AWS_DEFAULT_REGION=us-east-1\n"
        "    aws rekognition detect-faces --endpoint-url http://%s:%d --image-bytes "
        "fileb://photo.jpg\n"
        "  Issue keys for others: argus keys create --name NAME --org-type TYPE --purpose "
        "PURPOSE --data-dir %s\n",
        issued->key.access_key_id.c_str(), creds.c_str(), creds.c_str(), opts.host.c_str(),
        opts.port, abs.c_str());
    std::fflush(stdout);
  }
  log::Info("SigV4 authentication on: " + std::to_string(store.value()->ActiveCount()) +
            " active access key(s)");
  return store;
}

}  // namespace argus::cli
