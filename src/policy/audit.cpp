#include "policy/audit.h"

#include <chrono>
#include <map>
#include <set>
#include <tuple>

#include "core/hash.h"
#include "core/log.h"
#include "policy/policy.h"

namespace argus::policy {
namespace {

using nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json Canonical(const store::AuditRecord& r) {
  return {
      {"seq", r.seq},
      {"time_ms", r.time_ms},
      {"kind", r.kind},
      {"request_id", r.request_id},
      {"principal", r.principal},
      {"org_type", r.org_type},
      {"purpose", r.purpose},
      {"case_id", r.case_id},
      {"authorisation", r.authorisation},
      {"operation", r.operation},
      {"op_class", r.op_class},
      {"collection", r.collection},
      {"decision", r.decision},
      {"rule", r.rule},
      {"threshold_asked", Opt(r.threshold_asked)},
      {"threshold_applied", Opt(r.threshold_applied)},
      {"max_results", Opt(r.max_results)},
      {"human_review", r.human_review},
      {"matches", Opt(r.matches)},
      {"top_similarity", Opt(r.top_similarity)},
      {"outcome", r.outcome},
      {"detail", r.detail},
      {"prev_hash", r.prev_hash},
  };
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Cell(const json& v) {
  if (v.is_string()) return Escape(v.get<std::string>());
  if (v.is_null()) return "";
  return Escape(v.dump());
}

}  // namespace

std::string AuditHash(const store::AuditRecord& r) {
  return Sha256Hex("argus-audit-v1\n" + Canonical(r).dump());
}

json AuditJson(const store::AuditRecord& r) {
  json j = Canonical(r);
  j["time"] = FormatTime(r.time_ms);
  j["hash"] = r.hash;
  return j;
}

AuditLog::AuditLog(store::Store* store, std::unique_ptr<AuditAnchor> anchor, bool writer)
    : store_(store), anchor_(std::move(anchor)), writer_(writer && anchor_) {
  if (!writer_) return;
  store_->OnAuditCommitted([a = anchor_.get()](const store::AuditRecord& r) {
    Status st = a->Append(r.seq, r.hash);
    if (!st.ok()) {
      log::Error("audit: record " + std::to_string(r.seq) +
                 " is committed but not anchored: " + st.message());
    }
  });
}

AuditLog::~AuditLog() {
  if (writer_) store_->OnAuditCommitted(nullptr);
}

Status AuditLog::AdoptHead() {
  if (!writer_) return Status::Ok();
  auto head = anchor_->Read();
  if (!head.ok()) return head.status();
  auto high = store_->AuditHighWater();
  if (!high.ok()) return high.status();
  if (high.value() == 0) return Status::Ok();
  store::AuditRecord last;
  ARGUS_RETURN_IF_ERROR(store_->ScanAudit(high.value() - 1, [&](const store::AuditRecord& r) {
    last = r;
    return false;
  }));
  if (last.seq == 0) return Status::Ok();  // cut back: Verify says so
  if (head->entries == 0) {
    log::Error("audit: the log holds records up to " + std::to_string(last.seq) + " but " +
               anchor_->path() + " is missing; anchoring from record " + std::to_string(last.seq) +
               " on (`argus audit verify` reports where anchoring starts)");
    return anchor_->Append(last.seq, last.hash);
  }
  if (last.seq == head->seq + 1) {  // the anchor append a crash cut short
    return anchor_->Append(last.seq, last.hash);
  }
  return Status::Ok();
}

Status AuditLog::Append(store::AuditRecord& r) {
  if (r.time_ms == 0) r.time_ms = NowMs();
  return store_->AppendAudit(r, AuditHash);
}

VerifyResult AuditLog::Verify(const std::string& expect_head) {
  VerifyResult v;
  // The anchor is read before the log, so a server appending meanwhile only
  // puts the log ahead of it (re-read below).
  AuditAnchor::Head anchored;
  std::map<int64_t, std::string> tail;  // hashes from the anchored head on
  if (anchor_) {
    auto h = anchor_->Read();
    if (!h.ok()) {
      v.ok = false;
      v.problem = h.status().message();
      return v;
    }
    anchored = h.value();
  }
  int64_t expected = 1;
  store::AuditRecord prev;
  bool have_prev = false;
  auto bad = [&](int64_t seq, std::string problem) {
    v.ok = false;
    v.first_bad = seq;
    v.problem = std::move(problem);
    return false;
  };
  Status st = store_->ScanAudit(0, [&](const store::AuditRecord& r) {
    ++v.records;
    if (r.seq != expected) {
      return bad(expected, r.seq == expected + 1
                               ? "record " + std::to_string(expected) + " is missing (deleted)"
                               : "records " + std::to_string(expected) + " to " +
                                     std::to_string(r.seq - 1) + " are missing (deleted)");
    }
    if (AuditHash(r) != r.hash) {
      return bad(r.seq, "record " + std::to_string(r.seq) + " (request " +
                            (r.request_id.empty() ? "-" : r.request_id) +
                            ") does not match its hash: it was altered or moved");
    }
    if (!have_prev && !r.prev_hash.empty()) {
      return bad(r.seq, "the first record does not start the chain (prev_hash is set)");
    }
    if (have_prev && r.prev_hash != prev.hash) {
      return bad(prev.seq, "record " + std::to_string(prev.seq) +
                               " is not the record that record " + std::to_string(r.seq) +
                               " was chained to: it was rewritten or replaced");
    }
    prev = r;
    have_prev = true;
    ++expected;
    if (anchored.entries > 0 && r.seq >= anchored.seq) tail[r.seq] = r.hash;
    return true;
  });
  if (!st.ok()) {
    v.ok = false;
    v.problem = "cannot read the audit log: " + st.message();
    return v;
  }
  if (!v.ok) return v;
  auto high = store_->AuditHighWater();
  if (!high.ok()) {
    v.ok = false;
    v.problem = "cannot read the audit sequence: " + high.status().message();
    return v;
  }
  if (high.value() > prev.seq) {
    v.ok = false;
    v.first_bad = prev.seq + 1;
    v.problem =
        high.value() == prev.seq + 1
            ? "record " + std::to_string(prev.seq + 1) + " is missing (the last record was deleted)"
            : "records " + std::to_string(prev.seq + 1) + " to " + std::to_string(high.value()) +
                  " are missing (the log was cut back)";
    return v;
  }
  v.head_seq = prev.seq;
  v.head_hash = prev.hash;
  if (anchor_) {
    if (anchored.entries > 0 && prev.seq > anchored.seq + 1) {
      auto again = anchor_->Read();
      if (again.ok() && again->entries > 0 && again->seq <= prev.seq) anchored = again.value();
    }
    const std::string& path = anchor_->path();
    if (anchored.entries == 0) {
      if (v.records > 0) {
        v.ok = false;
        v.first_bad = 1;
        v.problem = "the log holds " + std::to_string(v.records) + " records but its anchor " +
                    path + (anchored.exists ? " is empty" : " is missing") +
                    ": the head cannot be checked (was the file removed?)";
        return v;
      }
    } else if (prev.seq < anchored.seq) {
      v.ok = false;
      v.first_bad = prev.seq + 1;
      v.problem = "records " + std::to_string(prev.seq + 1) + " to " +
                  std::to_string(anchored.seq) + " are missing: " + path + " anchors record " +
                  std::to_string(anchored.seq) + " as the head (the log was cut back)";
      return v;
    } else if (tail[anchored.seq] != anchored.hash) {
      v.ok = false;
      v.first_bad = anchored.seq;
      v.problem = "record " + std::to_string(anchored.seq) + " is not the record " + path +
                  " anchors (the log was rewritten)";
      return v;
    } else if (prev.seq > anchored.seq + 1 && store_->SharesChanges()) {
      // Nodes sharing the store each anchor the records they append; the
      // records after this node's anchor were appended by the others and
      // are covered by their anchors, not this one.
      v.note = "records " + std::to_string(anchored.seq + 1) + " to " + std::to_string(prev.seq) +
               " follow this node's anchor in " + path +
               " (appended by other nodes sharing the store; their anchors cover them)";
    } else if (prev.seq > anchored.seq + 1) {
      v.ok = false;
      v.first_bad = anchored.seq + 2;
      v.problem = "records " + std::to_string(anchored.seq + 2) + " to " +
                  std::to_string(prev.seq) + " are not anchored in " + path +
                  " (written without the server, or the anchor was cut back)";
      return v;
    } else {
      if (anchored.first_seq > 1) {
        v.note = "anchored from record " + std::to_string(anchored.first_seq) +
                 " on; the records before it were written before " + path +
                 " existed (or it was removed)";
      }
      if (prev.seq == anchored.seq + 1) {
        v.note += std::string(v.note.empty() ? "" : "; ") + "the last record, " +
                  std::to_string(prev.seq) +
                  ", is not anchored yet (its anchor append was cut short)";
      }
    }
  }
  if (!expect_head.empty()) {
    auto colon = expect_head.find(':');
    int64_t seq = colon == std::string::npos ? 0 : std::atoll(expect_head.substr(0, colon).c_str());
    std::string hash = colon == std::string::npos ? "" : expect_head.substr(colon + 1);
    if (seq <= 0 || hash.size() != 64) {
      v.ok = false;
      v.problem = "--expect-head must be SEQ:HASH as printed by `argus audit head`";
      return v;
    }
    bool found = false;
    store_
        ->ScanAudit(seq - 1,
                    [&](const store::AuditRecord& r) {
                      found = r.seq == seq && r.hash == hash;
                      return false;
                    })
        .ok();
    if (!found) {
      v.ok = false;
      v.first_bad = seq;
      v.problem = "record " + std::to_string(seq) + " is not the one recorded as head " +
                  expect_head + ": the log was rewritten or cut back";
    }
  }
  return v;
}

Status AuditLog::Export(int64_t since_ms, int64_t until_ms, std::ostream& out) {
  return store_->ScanAudit(0, [&](const store::AuditRecord& r) {
    if (r.time_ms >= since_ms && r.time_ms < until_ms) out << AuditJson(r).dump() << "\n";
    return true;
  });
}

Result<std::vector<json>> AuditLog::Page(int64_t after_seq, int64_t limit) {
  std::vector<json> out;
  Status st = store_->ScanAudit(after_seq, [&](const store::AuditRecord& r) {
    out.push_back(AuditJson(r));
    return int64_t(out.size()) < limit;
  });
  if (!st.ok()) return st;
  return out;
}

Result<int64_t> AuditLog::LastSeq() { return store_->AuditHighWater(); }

Result<int64_t> AuditLog::CountLastDay(const std::string& principal, const std::string& operation,
                                       int64_t now_ms) {
  return store_->CountAudit(principal, operation, "allow", now_ms - 86400000LL);
}

Result<json> AuditLog::Transparency(int64_t since_ms, int64_t until_ms) {
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> requests;
  std::map<std::tuple<std::string, std::string>, std::pair<int64_t, int64_t>> thresholds;
  std::map<std::string, int64_t> denials, purged_by_collection;
  std::map<std::string, int64_t> erasures;
  int64_t stream_matches = 0;
  int64_t purge_records = 0, purged = 0, human_review = 0, with_case = 0, total = 0;
  json policies = json::array();
  Status st = store_->ScanAudit(0, [&](const store::AuditRecord& r) {
    if (r.time_ms < since_ms || r.time_ms >= until_ms) return true;
    if (r.kind == "policy") {
      policies.push_back({{"time", FormatTime(r.time_ms)}, {"policies", r.detail}});
      return true;
    }
    if (r.kind == "match") {  // a stream processor's face match (its start was audited)
      ++stream_matches;
      return true;
    }
    if (r.kind == "purge") {
      ++purge_records;
      purged += r.matches.value_or(0);
      purged_by_collection[r.collection] += r.matches.value_or(0);
      return true;
    }
    ++total;
    requests[{r.org_type, r.op_class, r.decision}]++;
    if (r.decision == "deny") denials[r.rule.empty() ? "(none)" : r.rule]++;
    if (r.threshold_applied) {
      auto& t = thresholds[{r.op_class, json(*r.threshold_applied).dump()}];
      ++t.first;
      if (r.threshold_asked && *r.threshold_applied > *r.threshold_asked) ++t.second;
    }
    if (r.human_review) ++human_review;
    if (!r.case_id.empty()) ++with_case;
    if (r.op_class == "admin" && r.decision == "allow" && r.outcome == "ok") {
      ++erasures[r.operation];
    }
    return true;
  });
  if (!st.ok()) return st;
  json out;
  out["since"] = FormatTime(since_ms);
  out["until"] = FormatTime(until_ms);
  out["generated_at"] = FormatTime(NowMs());
  out["audited_requests"] = total;
  out["requests_with_case_id"] = with_case;
  out["stream_processor_matches"] = stream_matches;
  out["results_flagged_for_human_review"] = human_review;
  json req = json::array();
  for (const auto& [k, n] : requests) {
    req.push_back({{"org_type", std::get<0>(k)},
                   {"operation_class", std::get<1>(k)},
                   {"decision", std::get<2>(k)},
                   {"count", n}});
  }
  out["requests"] = req;
  json th = json::array();
  for (const auto& [k, n] : thresholds) {
    th.push_back({{"operation_class", std::get<0>(k)},
                  {"threshold_applied", json::parse(std::get<1>(k))},
                  {"count", n.first},
                  {"raised_by_policy", n.second}});
  }
  out["thresholds"] = th;
  json den = json::array();
  for (const auto& [rule, n] : denials) den.push_back({{"rule", rule}, {"count", n}});
  out["denials_by_rule"] = den;
  json pc = json::array();
  for (const auto& [c, n] : purged_by_collection)
    pc.push_back({{"collection", c}, {"faces_deleted", n}});
  out["retention_purges"] = {
      {"records", purge_records}, {"faces_deleted", purged}, {"by_collection", pc}};
  json er = json::object();
  for (const auto& [op, n] : erasures) er[op] = n;
  out["erasure_requests"] = er;
  out["policies_loaded"] = policies;
  VerifyResult v = Verify();
  out["audit_chain"] = {{"verified", v.ok}, {"records", v.records}};
  if (!v.ok) {
    out["audit_chain"]["first_bad_record"] = v.first_bad;
    out["audit_chain"]["problem"] = v.problem;
  } else {
    out["audit_chain"]["head"] = std::to_string(v.head_seq) + ":" + v.head_hash;
  }
  return out;
}

std::string TransparencyHtml(const json& r) {
  std::string h;
  auto table = [&](const char* title, const json& rows, std::initializer_list<const char*> cols) {
    h += "<h2>" + std::string(title) + "</h2>\n";
    if (!rows.is_array() || rows.empty()) {
      h += "<p>None in this period.</p>\n";
      return;
    }
    h += "<table>\n<tr>";
    for (const char* c : cols) h += "<th>" + Escape(c) + "</th>";
    h += "</tr>\n";
    for (const auto& row : rows) {
      h += "<tr>";
      for (const char* c : cols) h += "<td>" + Cell(row.value(c, json(nullptr))) + "</td>";
      h += "</tr>\n";
    }
    h += "</table>\n";
  };
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<title>argus transparency report</title>\n<style>\n"
       "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}\n"
       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.3em .6em;"
       "text-align:left}th{background:#eee}td:last-child{text-align:right}\n</style>\n</"
       "head>\n<body>\n";
  h += "<h1>Transparency report</h1>\n<p>From " + Cell(r["since"]) + " to " + Cell(r["until"]) +
       " (generated " + Cell(r["generated_at"]) + ").</p>\n";
  h += "<p>Audited face requests: " + Cell(r["audited_requests"]) +
       "; with a case id: " + Cell(r["requests_with_case_id"]) +
       "; results flagged for human review: " + Cell(r["results_flagged_for_human_review"]) +
       ".</p>\n";
  table("Requests by organisation type, operation class and decision", r["requests"],
        {"org_type", "operation_class", "decision", "count"});
  table("Thresholds applied", r["thresholds"],
        {"operation_class", "threshold_applied", "raised_by_policy", "count"});
  table("Denials by rule", r["denials_by_rule"], {"rule", "count"});
  const json& p = r["retention_purges"];
  h += "<h2>Retention and erasure</h2>\n<p>Retention purges: " + Cell(p["records"]) +
       ", faces deleted: " + Cell(p["faces_deleted"]) + ".</p>\n";
  table("Faces deleted by retention, by collection", p["by_collection"],
        {"collection", "faces_deleted"});
  json er = json::array();
  for (const auto& [op, n] : r["erasure_requests"].items())
    er.push_back({{"operation", op}, {"count", n}});
  table("Erasure requests", er, {"operation", "count"});
  table("Policies loaded", r["policies_loaded"], {"time", "policies"});
  const json& c = r["audit_chain"];
  h += "<h2>Audit log</h2>\n<p>" + Cell(c["records"]) + " records; hash chain " +
       (c.value("verified", false) ? "verified, head " + Cell(c.value("head", json(""))) + "."
                                   : "<strong>BROKEN</strong> at record " +
                                         Cell(c["first_bad_record"]) + ": " + Cell(c["problem"])) +
       "</p>\n</body>\n</html>\n";
  return h;
}

}  // namespace argus::policy
