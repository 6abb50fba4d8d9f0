// The PostgreSQL store: principals and access keys every node accepts, and
// the rate-limit buckets they share.
#include "store/pg_internal.h"

namespace argus::store::pg_impl {

namespace {

constexpr const char* kPrincipalColumns =
    "p.name, p.org_type, p.default_purpose, p.authorisation, p.admin, p.rate_limit, p.created_at";

PrincipalRow ReadPrincipal(const Rows& r, int i, int at) {
  PrincipalRow p;
  p.name = r.Text(i, at);
  p.org_type = r.Text(i, at + 1);
  p.default_purpose = r.Text(i, at + 2);
  p.authorisation = r.Text(i, at + 3);
  p.admin = r.Bool(i, at + 4);
  p.rate_limit = r.Real(i, at + 5);
  p.created_at = r.Int(i, at + 6);
  return p;
}

Status Check(const Result<Rows>& r) { return r.ok() ? Status::Ok() : r.status(); }

// Inside a transaction: tells every node to reload its keys.
Status BumpKeyVersion(Conn& c) {
  return Check(c.Exec("UPDATE key_version SET version = version + 1 WHERE id = 1"));
}

}  // namespace

Result<std::optional<PrincipalRow>> PgStore::GetPrincipal(const std::string& name) {
  std::optional<PrincipalRow> out;
  Status st = With([&](Conn& c) -> Status {
    auto r =
        c.Exec(std::string("SELECT ") + kPrincipalColumns + " FROM principals p WHERE p.name = $1",
               {name});
    if (!r.ok()) return r.status();
    if (r->size()) out = ReadPrincipal(r.value(), 0, 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status PgStore::InsertAccessKey(const std::optional<PrincipalRow>& p, const AccessKeyRow& k) {
  return Txn([&](Conn& c) -> Status {
    if (p) {
      auto r = c.Exec(
          "INSERT INTO principals (name, org_type, default_purpose, authorisation, admin, "
          "rate_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
          {p->name, p->org_type, p->default_purpose, p->authorisation, p->admin, p->rate_limit,
           p->created_at});
      if (!r.ok()) return r.status();
      if (r->affected() == 0) {
        return Status(Code::kResourceAlreadyExists, "principal: already exists");
      }
    }
    auto r = c.Exec(
        "INSERT INTO access_keys (access_key_id, principal, secret_nonce, secret_ciphertext, "
        "created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        {k.access_key_id, k.principal, Param::Bytes(k.nonce.data(), k.nonce.size()),
         Param::Bytes(k.sealed.data(), k.sealed.size()), k.created_at});
    if (!r.ok()) return r.status();
    if (r->affected() == 0) {
      return Status(Code::kResourceAlreadyExists, "access key: already exists");
    }
    return BumpKeyVersion(c);
  });
}

Result<std::vector<std::pair<AccessKeyRow, PrincipalRow>>> PgStore::ListAccessKeys(
    bool active_only) {
  std::vector<std::pair<AccessKeyRow, PrincipalRow>> out;
  Status st = With([&](Conn& c) -> Status {
    out.clear();
    auto r = c.Exec(
        std::string("SELECT k.access_key_id, k.secret_nonce, k.secret_ciphertext, "
                    "k.created_at, k.revoked_at, ") +
        kPrincipalColumns + " FROM access_keys k JOIN principals p ON p.name = k.principal" +
        (active_only ? " WHERE k.revoked_at = 0" : "") + " ORDER BY k.created_at DESC, k.seq DESC");
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) {
      AccessKeyRow k;
      k.access_key_id = r->Text(i, 0);
      k.nonce = r->Bytes(i, 1);
      k.sealed = r->Bytes(i, 2);
      k.created_at = r->Int(i, 3);
      k.revoked_at = r->Int(i, 4);
      PrincipalRow p = ReadPrincipal(r.value(), i, 5);
      k.principal = p.name;
      out.emplace_back(std::move(k), std::move(p));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status PgStore::RevokeAccessKey(const std::string& access_key_id, int64_t revoked_at) {
  return Txn([&](Conn& c) -> Status {
    auto r =
        c.Exec("UPDATE access_keys SET revoked_at = $1 WHERE access_key_id = $2 AND revoked_at = 0",
               {revoked_at, access_key_id});
    if (!r.ok()) return r.status();
    if (r->affected() == 0) {
      return Status(Code::kResourceNotFound, "no active access key " + access_key_id);
    }
    return BumpKeyVersion(c);
  });
}

Result<int64_t> PgStore::AccessKeysVersion() {
  int64_t v = 0;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec("SELECT version FROM key_version WHERE id = 1");
    if (!r.ok()) return r.status();
    if (r->size()) v = r->Int(0, 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return v;
}

Result<bool> PgStore::TakeRateToken(const std::string& principal, double rate, double burst) {
  bool allowed = false;
  // The bucket refills by the database's clock; a token lost to a crash
  // costs nothing, so the commit does not wait for the disk.
  const std::string refilled = std::string("LEAST($3::float8, b.tokens + (") + kDbNowMs +
                               " - b.at_ms) / 1000.0 * $2::float8)";
  Status st = Txn([&](Conn& c) -> Status {
    ARGUS_RETURN_IF_ERROR(c.Simple("SET LOCAL synchronous_commit TO OFF"));
    auto r =
        c.Exec(std::string("INSERT INTO rate_buckets AS b (principal, tokens, at_ms) VALUES "
                           "($1, $3::float8 - 1, ") +
                   kDbNowMs + ") ON CONFLICT (principal) DO UPDATE SET tokens = " + refilled +
                   " - 1, at_ms = " + kDbNowMs + " WHERE " + refilled + " >= 1 RETURNING tokens",
               {principal, rate, burst});
    if (!r.ok()) return r.status();
    allowed = r->size() == 1;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return allowed;
}

}  // namespace argus::store::pg_impl
