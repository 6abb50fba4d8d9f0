// Stored-video Start*/Get* operations: a Start request is checked, its video
// resolved and measured, and a job submitted; a Get request answers the
// job's state and a page of its results.
//
// Results of a job are stored in one list. Labels and moderation keep their
// timestamp items first and their segment items after them, the segment
// items' sort keys offset by kSegmentKeys, so that each aggregation is a
// contiguous range in either sort order; the metadata records the counts.
#include <sys/stat.h>

#include <algorithm>

#include "api/rekognition/handlers.h"
#include "api/rekognition/request_params.h"
#include "api/rekognition/s3_object.h"
#include "api/rekognition/video_results.h"
#include "core/base64.h"
#include "core/hash.h"

namespace argus::api {
namespace {

constexpr int64_t kSegmentKeys = int64_t(1) << 50;
constexpr int kMaxPage = 1000;

Status NoSuchJob(const std::string& id) {
  return Status(Code::kResourceNotFound, "The job id " + id + " does not exist.");
}

// How a Get request pages: the sort order and, for labels and moderation,
// the aggregation.
struct Paging {
  std::string sort_by;    // "TIMESTAMP", "INDEX", "NAME" or "" (result order)
  std::string aggregate;  // "TIMESTAMPS", "SEGMENTS" or ""
  std::string Key() const { return sort_by + "/" + aggregate; }
  jobs::SortBy Order() const {
    if (sort_by == "INDEX" || sort_by == "NAME") return jobs::SortBy::kIndex;
    if (sort_by == "TIMESTAMP") return jobs::SortBy::kTimestamp;
    return jobs::SortBy::kSeq;
  }
};

std::string TokenCheck(const std::string& job, const std::string& key, int64_t offset) {
  return Sha256Hex("argus-video-page|" + job + "|" + key + "|" + std::to_string(offset))
      .substr(0, 16);
}

// NextToken: base64 of "job|sort/aggregate|offset|check".
std::string EncodeToken(const std::string& job, const Paging& p, int64_t offset) {
  std::string key = p.Key();
  return Base64Encode(job + "|" + key + "|" + std::to_string(offset) + "|" +
                      TokenCheck(job, key, offset));
}

Result<int64_t> DecodeToken(const std::string& token, const std::string& job, const Paging& p) {
  Status bad(Code::kInvalidPaginationToken, "Invalid pagination token.");
  auto raw = Base64Decode(token, "NextToken");
  if (!raw.ok()) return bad;
  const std::string& s = raw.value();
  size_t a = s.find('|'), b = a == std::string::npos ? a : s.find('|', a + 1),
         c = b == std::string::npos ? b : s.find('|', b + 1);
  if (c == std::string::npos) return bad;
  std::string tjob = s.substr(0, a), key = s.substr(a + 1, b - a - 1),
              off = s.substr(b + 1, c - b - 1), check = s.substr(c + 1);
  if (off.empty() || off.size() > 18 ||
      !std::all_of(off.begin(), off.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return bad;
  }
  int64_t offset = std::stoll(off);
  if (check != TokenCheck(tjob, key, offset)) return bad;
  if (tjob != job) {
    return Status(Code::kInvalidPaginationToken,
                  "Invalid pagination token: it belongs to another job.");
  }
  if (key != p.Key()) {
    return Status(Code::kInvalidPaginationToken,
                  "Invalid pagination token: it was issued for another SortBy or AggregateBy.");
  }
  return offset;
}

Result<std::string> VideoPath(const json& request) {
  auto v = request.find("Video");
  if (v == request.end() || !v->is_object()) return InvalidParameter("Video is required.");
  auto o = v->find("S3Object");
  if (o == v->end() || o->is_null()) {
    return InvalidParameter("Video.S3Object is required: argus reads stored video from S3Object.");
  }
  return ResolveS3Object(*o);
}

// The job `id` as the caller may see it: another principal's job answers
// as a missing one; a job of another API as well.
Result<jobs::Job> CallersJob(const std::string& id, const std::string& start_api,
                             Services& services) {
  auto job = services.jobs->Get(id);
  if (!job.ok()) {
    if (job.status().code() == Code::kResourceNotFound) return NoSuchJob(id);
    return job.status();
  }
  if (!services.admin && job->owner != services.principal) return NoSuchJob(id);
  if (job->api != start_api) return NoSuchJob(id);
  return job;
}

Status NotConfigured() {
  return Status(Code::kServiceUnavailable,
                "Stored-video jobs are not enabled on this server (argus serve runs them).");
}

Result<json> StartVideoJob(const std::string& api, const json& request, Services& services) {
  ARGUS_RETURN_IF_ERROR(CheckVideoRequest(api, request));
  if (!services.jobs) return NotConfigured();
  if (api == "StartFaceSearch") {
    if (!services.collections) return Status(Code::kServiceUnavailable, "No collections.");
    std::string id = request.value("CollectionId", "");
    if (services.may_see && !services.may_see(id)) {
      return Status(Code::kResourceNotFound, "The collection id: " + id + " does not exist");
    }
    ARGUS_RETURN_IF_ERROR(services.collections->DescribeCollection(id).status());
  }
  ARGUS_ASSIGN(path, VideoPath(request));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && int64_t(st.st_size) > services.video_limits.max_bytes) {
    return Status(Code::kVideoTooLarge,
                  "The video is " + std::to_string(st.st_size) + " bytes, over this server's " +
                      std::to_string(services.video_limits.max_bytes) + " byte limit.");
  }
  // Over the size or duration limit: refused now. A file that does not decode
  // is accepted and its job fails with the reason, as Rekognition does.
  auto reader = video::VideoReader::Open(path, services.video_limits);
  if (!reader.ok() && reader.status().code() == Code::kVideoTooLarge) return reader.status();

  jobs::NewJob job;
  job.api = api;
  job.owner = services.principal;
  json stored = request;
  stored.erase("ClientRequestToken");
  job.request = stored.dump();
  job.client_token = request.value("ClientRequestToken", "");
  job.job_tag = request.value("JobTag", "");
  if (auto n = request.find("NotificationChannel"); n != request.end() && n->is_object())
    job.notification = n->value("SNSTopicArn", "");
  ARGUS_ASSIGN(id, services.jobs->Submit(job));
  return json{{"JobId", id}};
}

Result<json> GetVideoJob(const std::string& api, const json& request, Services& services,
                         bool sortable, bool aggregable) {
  if (!services.jobs) return NotConfigured();
  std::string id = request.value("JobId", "");
  Paging paging;
  if (sortable) {
    const bool by_name = aggregable;
    paging.sort_by = request.value("SortBy", "TIMESTAMP");
    if (paging.sort_by != "TIMESTAMP" && paging.sort_by != (by_name ? "NAME" : "INDEX")) {
      return InvalidParameter(
          std::string("1 validation error detected: Value '") + paging.sort_by +
          "' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [" +
          (by_name ? "NAME" : "INDEX") + ", TIMESTAMP]");
    }
  } else {
    paging.sort_by = api == "StartSegmentDetection" ? "" : "TIMESTAMP";
  }
  if (aggregable) {
    auto a = request.find("AggregateBy");
    paging.aggregate = a != request.end() && a->is_string() ? a->get<std::string>() : "TIMESTAMPS";
    if (a != request.end() && !a->is_null() && !a->is_string()) paging.aggregate = "?";
    if (paging.aggregate != "TIMESTAMPS" && paging.aggregate != "SEGMENTS") {
      return InvalidParameter(
          "1 validation error detected: Value at 'aggregateBy' failed to satisfy constraint: "
          "Member must satisfy enum value set: [TIMESTAMPS, SEGMENTS]");
    }
  }
  ARGUS_ASSIGN(max, IntParam(request, "MaxResults", 1, 2147483647LL, kMaxPage));
  const int limit = int(std::min<long long>(max, kMaxPage));
  ARGUS_ASSIGN(job, CallersJob(id, api, services));
  int64_t offset = 0;
  if (auto t = request.find("NextToken"); t != request.end() && t->is_string()) {
    ARGUS_ASSIGN(o, DecodeToken(t->get<std::string>(), id, paging));
    offset = o;
  }

  json stored = json::parse(job.request, nullptr, false);
  json meta = json::parse(job.metadata.empty() ? "{}" : job.metadata, nullptr, false);
  if (!meta.is_object()) meta = json::object();
  json out = {{"JobStatus", jobs::StateName(job.state)}};
  if (!job.status_message.empty()) out["StatusMessage"] = job.status_message;
  if (meta.contains("VideoMetadata")) out["VideoMetadata"] = meta["VideoMetadata"];
  if (auto e = meta.find("Extra"); e != meta.end() && e->is_object()) {
    for (const auto& [k, v] : e->items()) out[k] = v;
  }
  if (api == "StartLabelDetection" && !out.contains("LabelModelVersion"))
    out["LabelModelVersion"] = service::LabelService::LabelModelVersion();
  if (api == "StartContentModeration" && !out.contains("ModerationModelVersion"))
    out["ModerationModelVersion"] = service::ModerationService::ModerationModelVersion();
  if (api == "StartTextDetection" && !out.contains("TextModelVersion"))
    out["TextModelVersion"] = service::TextService::TextModelVersion();

  json list = json::array();
  if (job.state == jobs::State::kSucceeded) {
    int64_t items = meta.value("Items", job.result_count);
    int64_t lo = 0, hi = items;
    if (paging.aggregate == "SEGMENTS") lo = items, hi = job.result_count;
    if (offset < 0 || lo + offset > hi)
      return Status(Code::kInvalidPaginationToken, "Invalid pagination token.");
    int64_t from = lo + offset;
    int n = int(std::min<int64_t>(limit, hi - from));
    if (n > 0) {
      ARGUS_ASSIGN(page, services.jobs->Results(job.id, paging.Order(), from, n));
      for (const auto& r : page) {
        json body = json::parse(r.body, nullptr, false);
        if (!body.is_discarded()) list.push_back(std::move(body));
      }
      if (from + int64_t(page.size()) < hi)
        out["NextToken"] = EncodeToken(job.id, paging, offset + int64_t(page.size()));
    }
  }
  out[VideoResultsMember(api)] = std::move(list);
  out["JobId"] = job.id;
  if (stored.is_object() && stored.contains("Video")) out["Video"] = stored["Video"];
  if (!job.job_tag.empty()) out["JobTag"] = job.job_tag;
  if (aggregable)
    out["GetRequestMetadata"] = {{"SortBy", paging.sort_by}, {"AggregateBy", paging.aggregate}};
  return out;
}

// Runs one job of `api` (the runner registered for it).
Status RunJob(const std::string& api, jobs::JobContext& ctx, const video::Services& services,
              const video::Limits& limits, const video::SampleRates& rates) {
  json request = json::parse(ctx.job().request, nullptr, false);
  if (!request.is_object()) return Internal("The job's stored request is not valid JSON.");
  auto path = VideoPath(request);
  if (!path.ok())
    return Status(path.status().code(), "The video cannot be read: " + path.status().message());
  auto reader = video::VideoReader::Open(path.value(), limits);
  if (!reader.ok()) {
    return Status(reader.status().code(),
                  "The video cannot be decoded: " + reader.status().message());
  }
  json meta = {{"VideoMetadata", json::object()}};
  auto analysis = AnalyseVideo(api, request, *reader.value(), services, rates,
                               [&ctx](double f) { return ctx.Progress(f); });
  if (!analysis.ok()) return analysis.status();
  VideoAnalysis& a = analysis.value();
  meta["VideoMetadata"] = a.video_metadata;
  meta["Extra"] = a.extra;
  meta["Items"] = int64_t(a.items.size());
  meta["Segments"] = int64_t(a.segments.size());
  ctx.SetMetadata(meta.dump());
  std::vector<jobs::ResultItem> out;
  out.reserve(a.items.size() + a.segments.size());
  for (auto& i : a.items) out.push_back({0, i.timestamp_ms, i.index, i.body.dump()});
  for (auto& i : a.segments) {
    out.push_back({0, i.timestamp_ms + kSegmentKeys, i.index + kSegmentKeys, i.body.dump()});
  }
  ctx.Append(std::move(out));
  return Status::Ok();
}

}  // namespace

video::Services VideoServices(const Services& s) {
  video::Services v;
  v.faces = s.faces;
  v.collections = s.collections;
  v.labels = s.labels;
  v.moderation = s.moderation;
  v.text = s.text;
  return v;
}

void RegisterVideoRunners(jobs::JobManager& jobs, const video::Services& services,
                          const video::Limits& limits, const video::SampleRates& rates) {
  for (const char* api :
       {"StartFaceDetection", "StartFaceSearch", "StartPersonTracking", "StartLabelDetection",
        "StartContentModeration", "StartTextDetection", "StartSegmentDetection"}) {
    std::string name = api;
    jobs.RegisterRunner(name, [name, services, limits, rates](jobs::JobContext& ctx) {
      return RunJob(name, ctx, services, limits, rates);
    });
  }
}

Result<json> StartFaceDetection(const json& r, Services& s) {
  return StartVideoJob("StartFaceDetection", r, s);
}
Result<json> GetFaceDetection(const json& r, Services& s) {
  return GetVideoJob("StartFaceDetection", r, s, false, false);
}
Result<json> StartFaceSearch(const json& r, Services& s) {
  return StartVideoJob("StartFaceSearch", r, s);
}
Result<json> GetFaceSearch(const json& r, Services& s) {
  return GetVideoJob("StartFaceSearch", r, s, true, false);
}
Result<json> StartPersonTracking(const json& r, Services& s) {
  return StartVideoJob("StartPersonTracking", r, s);
}
Result<json> GetPersonTracking(const json& r, Services& s) {
  return GetVideoJob("StartPersonTracking", r, s, true, false);
}
Result<json> StartLabelDetection(const json& r, Services& s) {
  return StartVideoJob("StartLabelDetection", r, s);
}
Result<json> GetLabelDetection(const json& r, Services& s) {
  return GetVideoJob("StartLabelDetection", r, s, true, true);
}
Result<json> StartContentModeration(const json& r, Services& s) {
  return StartVideoJob("StartContentModeration", r, s);
}
Result<json> GetContentModeration(const json& r, Services& s) {
  return GetVideoJob("StartContentModeration", r, s, true, true);
}
Result<json> StartTextDetection(const json& r, Services& s) {
  return StartVideoJob("StartTextDetection", r, s);
}
Result<json> GetTextDetection(const json& r, Services& s) {
  return GetVideoJob("StartTextDetection", r, s, false, false);
}
Result<json> StartSegmentDetection(const json& r, Services& s) {
  return StartVideoJob("StartSegmentDetection", r, s);
}
Result<json> GetSegmentDetection(const json& r, Services& s) {
  return GetVideoJob("StartSegmentDetection", r, s, false, false);
}

Result<json> RefuseCelebrityRecognition(const json&, Services&) {
  return Status(Code::kAccessDenied,
                "argus does not recognise celebrities: identifying people who never enrolled "
                "has no consent basis. Index the faces you are entitled to search into a "
                "collection and use StartFaceSearch or SearchFacesByImage.");
}

}  // namespace argus::api
