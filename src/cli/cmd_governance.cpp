// `argus policy show|test`, `argus audit verify|head|export`,
// `argus report transparency`, `argus retention purge`, and the policy,
// audit and retention set-up of `argus serve`.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/rekognition/admin.h"
#include "api/rekognition/operations.h"
#include "api/rekognition/validate.h"
#include "cli/collections_cli.h"
#include "cli/governance_cli.h"
#include "core/log.h"

namespace argus::cli {
namespace {

using nlohmann::json;

const char* kPolicyUsage =
    "usage: argus policy show [--policy P,...] [--policy-param NAME=VALUE,...] [--json]\n"
    "       argus policy test --org-type T --purpose P --op OPERATION|CLASS\n"
    "                         [--attributes A,...] [--case-id ID] [--authorisation REF]\n"
    "                         [--at YYYY-MM-DD] [--policy P,...] [--json]\n"
    "P: a preset (moratorium-2020, eu-ai-act-art5, open) or a JSON file; default moratorium-2020\n";
const char* kAuditUsage =
    "usage: argus audit verify [--expect-head SEQ:HASH] [--data-dir D]\n"
    "       argus audit head [--data-dir D]\n"
    "       argus audit export [--since DATE] [--until DATE] [--format jsonl] [--data-dir D]\n";
const char* kReportUsage =
    "usage: argus report transparency [--since DATE] [--until DATE] [--format json|html]\n"
    "                                 [--out FILE] [--data-dir D]\n";
const char* kRetentionUsage = "usage: argus retention purge [--as-of DATE] [--data-dir D]\n";

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string DataDir(const Args& a) { return a.Get("data-dir", "./argus-data"); }

// The store of an existing data dir (the audit log lives there).
Result<std::unique_ptr<store::Store>> OpenStore(const Args& a) {
  if (a.Has("store")) {
    if (!store::Store::IsPostgresUrl(a.Get("store"))) {
      return InvalidParameter("--store must be a postgresql:// URL");
    }
    return store::Store::OpenPostgres(a.Get("store"), 2);
  }
  std::string path = DataDir(a) + "/argus.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status(Code::kResourceNotFound, "no argus database at " + path + " (--data-dir)");
  }
  return store::Store::OpenSqlite(path);
}

// The audit log of an existing data dir, for reading, with its anchor.
Result<std::unique_ptr<policy::AuditLog>> ReadAuditLog(const Args& a, store::Store* store) {
  auto anchor = policy::AuditAnchor::Open(DataDir(a), /*create_key=*/false);
  if (!anchor.ok()) return anchor.status();
  return std::make_unique<policy::AuditLog>(store, std::move(anchor.value()), /*writer=*/false);
}

class ServicePurger : public policy::Purger {
 public:
  explicit ServicePurger(service::CollectionService* c) : c_(c) {}
  Result<std::vector<policy::PurgeResult>> PurgeExpired(int64_t now_ms) override {
    auto r = c_->PurgeExpired(now_ms);
    if (!r.ok()) return r.status();
    std::vector<policy::PurgeResult> out;
    for (const auto& p : r.value()) {
      out.push_back({p.collection, p.retention_days, p.cutoff_ms, p.deleted});
    }
    return out;
  }

 private:
  service::CollectionService* c_;
};

// The audit log that `argus serve` and `argus retention purge` append to.
Result<std::unique_ptr<policy::AuditLog>> WriteAuditLog(const std::string& data_dir,
                                                        store::Store* store) {
  auto anchor = policy::AuditAnchor::Open(data_dir, /*create_key=*/true);
  if (!anchor.ok()) return anchor.status();
  auto audit = std::make_unique<policy::AuditLog>(store, std::move(anchor.value()), true);
  if (Status st = audit->AdoptHead(); !st.ok()) {
    return Status(st.code(), "audit anchor: " + st.message());
  }
  return audit;
}

// --since/--until/--as-of: a date, or the default.
bool TimeFlag(const Args& a, const char* flag, int64_t def, int64_t* out, const char* cmd) {
  if (!a.Has(flag)) {
    *out = def;
    return true;
  }
  auto t = policy::ParseTime(a.Get(flag));
  if (!t) {
    std::fprintf(stderr, "argus %s: --%s needs YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got '%s'\n", cmd,
                 flag, a.Get(flag).c_str());
    return false;
  }
  *out = *t;
  return true;
}

constexpr int64_t kFarFuture = 32503680000000LL;  // 3000-01-01

void PrintPolicies(const policy::PolicySet& set) {
  for (const auto& p : set.policies()) {
    std::printf("policy %s (%s, sha256 %s)\n", p.name.c_str(), p.source.c_str(),
                p.sha256.substr(0, 16).c_str());
    if (!p.description.empty()) std::printf("  %s\n", p.description.c_str());
    for (const auto& [k, v] : p.parameters) {
      std::printf("  parameter %s = %s\n", k.c_str(), v.dump().c_str());
    }
    if (p.rules.empty()) std::printf("  (no rules)\n");
    for (const auto& r : p.rules) {
      std::printf("  - %s [%s]: %s\n", r.id.c_str(), r.effect.c_str(), r.description.c_str());
    }
  }
}

}  // namespace

std::unique_ptr<policy::Purger> CollectionsPurger(service::CollectionService* collections) {
  return std::make_unique<ServicePurger>(collections);
}

Result<policy::PolicySet> LoadPolicies(const Args& a) {
  std::map<std::string, std::string> params;
  for (const auto& kv : Split(a.Get("policy-param"), ',')) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidParameter("--policy-param: expected NAME=VALUE, got '" + kv + "'");
    }
    params[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto specs = Split(a.Get("policy", "moratorium-2020"), ',');
  if (specs.empty()) return InvalidParameter("--policy: name at least one policy (e.g. open)");
  return policy::PolicySet::Load(specs, params,
                                 [](const std::string& op) { return api::HasValidator(op); });
}

Result<std::unique_ptr<Governance>> ConfigureGovernance(const Args& a, const std::string& data_dir,
                                                        store::Store* store,
                                                        service::CollectionService* collections,
                                                        server::Options& opts) {
  auto g = std::make_unique<Governance>();
  auto set = LoadPolicies(a);
  if (!set.ok()) return Status(set.status().code(), "policy: " + set.status().message());
  g->policies = std::move(set.value());

  auth::Principal& anon = opts.anonymous;
  anon.name = "anonymous";
  anon.admin = true;  // --no-auth: one tenant, who sees every collection (docs/POLICY.md)
  auto org = auth::ParseOrgType(a.Get("anonymous-org-type", "individual"));
  if (!org) {
    return InvalidParameter("--anonymous-org-type: one of " + std::string(auth::OrgTypeNames()));
  }
  anon.org_type = *org;
  anon.default_purpose = a.Get("anonymous-purpose", "testing");
  if (!auth::ValidPurpose(anon.default_purpose)) {
    return InvalidParameter("--anonymous-purpose: one of " + auth::PurposeNames());
  }

  auto audit = WriteAuditLog(data_dir, store);
  if (!audit.ok()) return audit.status();
  g->audit = std::move(audit.value());
  store::AuditRecord r;
  r.kind = "policy";
  r.principal = "argus";
  r.operation = "LoadPolicies";
  r.op_class = policy::OpClassName(policy::OpClass::kAdmin);
  r.outcome = "ok";
  std::vector<std::string> names;
  for (const auto& p : g->policies.policies()) {
    std::string params;
    for (const auto& [k, v] : p.parameters) params += " " + k + "=" + v.dump();
    names.push_back(p.name + " (" + p.source + ", sha256 " + p.sha256 + params + ")");
    r.detail += (r.detail.empty() ? "" : "; ") + names.back();
  }
  if (Status st = g->audit->Append(r); !st.ok()) {
    return Status(st.code(), "audit log: " + st.message());
  }
  for (const auto& n : names) log::Info("policy in force: " + n);

  int interval = a.GetInt("retention-interval", 3600);
  if (interval > 0) {
    g->purger = CollectionsPurger(collections);
    g->retention =
        std::make_unique<policy::RetentionJob>(g->purger.get(), g->audit.get(), interval);
  } else {
    log::Warn("retention purge off (--retention-interval 0): run `argus retention purge`");
  }
  opts.policies = &g->policies;
  opts.audit = g->audit.get();
  return g;
}

int CmdPolicy(const Args& a) {
  std::string what = a.positional.empty() ? "" : a.positional[0];
  if (what != "show" && what != "test") {
    std::fputs(kPolicyUsage, stderr);
    return 2;
  }
  auto set = LoadPolicies(a);
  if (!set.ok()) {
    std::fprintf(stderr, "argus policy: %s\n", set.status().message().c_str());
    return 1;
  }
  if (what == "show") {
    if (a.Has("json"))
      std::printf("%s\n", set->Describe().dump(2).c_str());
    else
      PrintPolicies(set.value());
    return 0;
  }
  api::PolicyQuestion q;
  q.org_type = a.Get("org-type");
  q.purpose = a.Get("purpose");
  q.operation = a.Get("op");
  q.attributes = Split(a.Get("attributes"), ',');
  q.has_case_id = a.Has("case-id");
  q.has_authorisation = a.Has("authorisation");
  if (!TimeFlag(a, "at", NowMs(), &q.at_ms, "policy test")) return 2;
  auto answer = api::AnswerPolicyQuestion(set.value(), q);
  if (!answer.ok()) {
    std::fprintf(stderr, "argus policy test: %s\n%s", answer.status().message().c_str(),
                 kPolicyUsage);
    return 2;
  }
  const json& out = answer.value();
  const bool allowed = out["decision"] == "allow";
  if (a.Has("json")) {
    std::printf("%s\n", out.dump(2).c_str());
    return allowed ? 0 : 1;
  }
  const std::string op = out["operation"];
  std::printf("%s: %s %s for %s with purpose %s at %s\n", allowed ? "ALLOW" : "DENY",
              op.empty() ? "class" : op.c_str(), out["operation_class"].get<std::string>().c_str(),
              q.org_type.c_str(), q.purpose.c_str(), out["at"].get<std::string>().c_str());
  if (!allowed) std::printf("  %s\n", out["message"].get<std::string>().c_str());
  if (allowed && !out["constraints"].empty()) {
    std::printf("  constraints: %s (from %s)\n", out["constraints"].dump().c_str(),
                out["rules"].get<std::string>().c_str());
    if (out["constraints"].contains("daily_limit")) {
      std::printf("  the daily limit is counted in the audit log when a request arrives\n");
    }
  }
  std::printf("rules considered:\n");
  for (const auto& t : out["trace"]) std::printf("  %s\n", t.get<std::string>().c_str());
  return allowed ? 0 : 1;
}

int CmdAudit(const Args& a) {
  std::string what = a.positional.empty() ? "" : a.positional[0];
  if (what != "verify" && what != "head" && what != "export") {
    std::fputs(kAuditUsage, stderr);
    return 2;
  }
  auto store = OpenStore(a);
  if (!store.ok()) {
    std::fprintf(stderr, "argus audit: %s\n", store.status().message().c_str());
    return 1;
  }
  auto opened = ReadAuditLog(a, store.value().get());
  if (!opened.ok() && what != "export") {
    std::fprintf(stderr, "argus audit: %s\n", opened.status().message().c_str());
    return 1;
  }
  policy::AuditLog unanchored(store.value().get());
  policy::AuditLog& audit = opened.ok() ? *opened.value() : unanchored;
  if (what == "export") {
    if (a.Get("format", "jsonl") != "jsonl") {
      std::fprintf(stderr, "argus audit export: --format jsonl is the only format\n");
      return 2;
    }
    int64_t since = 0, until = 0;
    if (!TimeFlag(a, "since", 0, &since, "audit export") ||
        !TimeFlag(a, "until", kFarFuture, &until, "audit export")) {
      return 2;
    }
    Status st = audit.Export(since, until, std::cout);
    std::cout.flush();
    if (!st.ok()) {
      std::fprintf(stderr, "argus audit export: %s\n", st.message().c_str());
      return 1;
    }
    return 0;
  }
  policy::VerifyResult v = audit.Verify(what == "verify" ? a.Get("expect-head") : "");
  if (!v.ok) {
    std::fprintf(stderr, "audit log BROKEN at record %lld: %s\n", (long long)v.first_bad,
                 v.problem.c_str());
    return 1;
  }
  if (!v.note.empty()) std::fprintf(stderr, "note: %s\n", v.note.c_str());
  if (what == "head") {
    std::printf("%lld:%s\n", (long long)v.head_seq, v.head_hash.c_str());
  } else {
    std::printf("audit log verified: %lld records, head %lld:%s\n", (long long)v.records,
                (long long)v.head_seq, v.head_hash.c_str());
  }
  return 0;
}

int CmdReport(const Args& a) {
  if (a.positional.empty() || a.positional[0] != "transparency") {
    std::fputs(kReportUsage, stderr);
    return 2;
  }
  std::string format = a.Get("format", "json");
  if (format != "json" && format != "html") {
    std::fprintf(stderr, "argus report transparency: --format json or html\n");
    return 2;
  }
  int64_t since = 0, until = 0;
  if (!TimeFlag(a, "since", 0, &since, "report transparency") ||
      !TimeFlag(a, "until", kFarFuture, &until, "report transparency")) {
    return 2;
  }
  auto store = OpenStore(a);
  if (!store.ok()) {
    std::fprintf(stderr, "argus report: %s\n", store.status().message().c_str());
    return 1;
  }
  auto audit = ReadAuditLog(a, store.value().get());
  if (!audit.ok()) {
    std::fprintf(stderr, "argus report: %s\n", audit.status().message().c_str());
    return 1;
  }
  auto report = audit.value()->Transparency(since, until);
  if (!report.ok()) {
    std::fprintf(stderr, "argus report: %s\n", report.status().message().c_str());
    return 1;
  }
  std::string text =
      format == "html" ? policy::TransparencyHtml(report.value()) : report.value().dump(2) + "\n";
  if (a.Has("out")) {
    std::ofstream f(a.Get("out"), std::ios::binary);
    f << text;
    if (!f) {
      std::fprintf(stderr, "argus report: cannot write %s\n", a.Get("out").c_str());
      return 1;
    }
  } else {
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return 0;
}

int CmdRetention(const Args& a) {
  if (a.positional.empty() || a.positional[0] != "purge") {
    std::fputs(kRetentionUsage, stderr);
    return 2;
  }
  int64_t now = 0;
  if (!TimeFlag(a, "as-of", NowMs(), &now, "retention purge")) return 2;
  // Takes the data dir's lock: the server must not be running (it purges by itself).
  auto store = OpenDataDir(DataDir(a));
  if (!store.ok()) {
    std::fprintf(stderr, "argus retention purge: %s\n", store.status().message().c_str());
    return 1;
  }
  auto svc = OpenCollections(a, DataDir(a), nullptr, store.value());
  if (!svc.ok()) {
    std::fprintf(stderr, "argus retention purge: %s\n", svc.status().message().c_str());
    return 1;
  }
  auto audit = WriteAuditLog(DataDir(a), store.value().get());
  if (!audit.ok()) {
    std::fprintf(stderr, "argus retention purge: %s\n", audit.status().message().c_str());
    return 1;
  }
  ServicePurger purger(svc.value().get());
  auto r = policy::PurgeOnce(purger, *audit.value(), now, "cli");
  if (!r.ok()) {
    std::fprintf(stderr, "argus retention purge: %s\n", r.status().message().c_str());
    return 1;
  }
  json out = json::array();
  for (const auto& p : r.value()) {
    out.push_back({{"CollectionId", p.collection},
                   {"RetentionDays", p.retention_days},
                   {"Cutoff", policy::FormatTime(p.cutoff_ms)},
                   {"FacesDeleted", p.deleted}});
  }
  std::printf("%s\n", out.dump(2).c_str());
  svc.value()->Close();
  return 0;
}

}  // namespace argus::cli
