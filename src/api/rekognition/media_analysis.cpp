#include "api/rekognition/media_analysis.h"

#include <string>
#include <string_view>
#include <vector>

#include "api/rekognition/errors.h"
#include "api/rekognition/request_params.h"
#include "api/rekognition/s3_object.h"
#include "service/moderation.h"

namespace argus::api {
namespace {

const char* kFailureCodes[] = {"INTERNAL_ERROR",        "INVALID_S3_OBJECT",  "INVALID_MANIFEST",
                               "INVALID_OUTPUT_CONFIG", "INVALID_KMS_KEY",    "ACCESS_DENIED",
                               "RESOURCE_NOT_FOUND",    "RESOURCE_NOT_READY", "THROTTLED"};

// A runner failure carries its FailureDetails.Code in front of the message
// ("INVALID_OUTPUT_CONFIG: ..."); the engine keeps it as StatusMessage.
Status Failure(const char* code, const std::string& message) {
  return Status(Code::kInternal, std::string(code) + ": " + message);
}

json FailureDetails(const std::string& status_message) {
  for (const char* code : kFailureCodes) {
    std::string p = std::string(code) + ": ";
    if (status_message.rfind(p, 0) == 0) {
      return {{"Code", code}, {"Message", status_message.substr(p.size())}};
    }
  }
  return {{"Code", "INTERNAL_ERROR"}, {"Message", status_message}};
}

Result<jobs::JobManager*> Jobs(const Services& services) {
  if (!services.jobs) {
    return Status(Code::kServiceUnavailable,
                  "Media analysis jobs are not enabled on this server (no job engine).");
  }
  return services.jobs;
}

// The caller owns the jobs it starts ("" when the server runs without
// authentication); an admin sees every caller's jobs.
std::string Owner(const Services& s) { return s.principal; }
bool SeesAll(const Services& s) { return s.admin; }

// The output objects' keys: <prefix>/<JobId>/results.jsonl and
// <prefix>/<JobId>/manifest-summary.json ("<JobId>/..." without a prefix).
std::string OutputKey(const json& request, const std::string& job_id, const char* file) {
  std::string prefix = request["OutputConfig"].value("S3KeyPrefix", "");
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return prefix + job_id + "/" + file;
}

// "s3://bucket/key" → {"Bucket", "Name"}; null when malformed.
json ParseSourceRef(const std::string& ref) {
  constexpr std::string_view kScheme = "s3://";
  if (ref.rfind(kScheme, 0) != 0) return nullptr;
  size_t slash = ref.find('/', kScheme.size());
  if (slash == std::string::npos || slash == kScheme.size() || slash + 1 >= ref.size()) {
    return nullptr;
  }
  return {{"Bucket", ref.substr(kScheme.size(), slash - kScheme.size())},
          {"Name", ref.substr(slash + 1)}};
}

// The manifest's lines, without line ends; a final empty line (after the
// last newline) is not a line.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    start = end + 1;
  }
  return out;
}

bool Blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// Reads and checks the input manifest: readable, not empty, within limits.
// Returns its text.
Result<std::string> ReadManifest(const json& request) {
  auto text = ReadS3Object(request["Input"]["S3Object"], kMaxManifestBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kImageTooLarge) {
      return Status(Code::kInvalidManifest, "The manifest file is larger than the limit of " +
                                                std::to_string(kMaxManifestBytes) + " bytes.");
    }
    return text.status();
  }
  int lines = 0;
  for (std::string_view line : Lines(text.value())) {
    if (!Blank(line)) ++lines;
  }
  if (lines == 0) return Status(Code::kInvalidManifest, "The manifest file is empty.");
  if (lines > kMaxManifestLines) {
    return Status(Code::kInvalidManifest, "The manifest file has " + std::to_string(lines) +
                                              " lines; the limit is " +
                                              std::to_string(kMaxManifestLines) + " images.");
  }
  return text;
}

Status RunJob(jobs::JobContext& ctx, Services& services) {
  json request = json::parse(ctx.job().request, nullptr, false);
  if (!request.is_object()) return Failure("INTERNAL_ERROR", "The stored request is unreadable.");
  if (!services.moderation) {
    return Failure("RESOURCE_NOT_READY", "DetectModerationLabels is not configured.");
  }
  const json& config = request["OperationsConfig"]["DetectModerationLabels"];
  double min_confidence = config.is_object() ? config.value("MinConfidence", 50.0) : 50.0;
  auto manifest = ReadManifest(request);
  if (!manifest.ok()) {
    const char* code = manifest.status().code() == Code::kInvalidManifest ? "INVALID_MANIFEST"
                                                                          : "INVALID_S3_OBJECT";
    return Failure(code, manifest.status().message());
  }
  std::vector<std::string_view> lines = Lines(manifest.value());
  std::string results;
  nlohmann::ordered_json errors = nlohmann::ordered_json::array();
  int64_t total = 0, valid = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!ctx.Progress(double(i) / double(lines.size()))) {
      return Failure("INTERNAL_ERROR", "The job was cancelled.");
    }
    if (Blank(lines[i])) continue;
    ++total;
    nlohmann::ordered_json error = {{"line-number", int64_t(i + 1)}};
    json entry = json::parse(lines[i], nullptr, false);
    auto ref = entry.is_object() ? entry.find("source-ref") : entry.end();
    if (!entry.is_object() || ref == entry.end() || !ref->is_string()) {
      error["code"] = "InvalidManifestException";
      error["message"] =
          "The line is not a JSON object with a \"source-ref\" string (s3://bucket/key).";
      errors.push_back(error);
      continue;
    }
    const std::string& source = ref->get_ref<const std::string&>();
    error["source-ref"] = source;
    json s3object = ParseSourceRef(source);
    if (s3object.is_null()) {
      error["code"] = "InvalidManifestException";
      error["message"] = "source-ref must be an S3 URI of the form s3://bucket/key.";
      errors.push_back(error);
      continue;
    }
    json detect = {{"Image", {{"S3Object", s3object}}}, {"MinConfidence", min_confidence}};
    auto answer = DetectModerationLabels(detect, services);
    if (!answer.ok()) {
      error["code"] = MapError(answer.status().code()).type;
      error["message"] = answer.status().message();
      errors.push_back(error);
      continue;
    }
    ++valid;
    results += "{\"source-ref\":" + json(source).dump() + ",\"detect-moderation-labels\":" +
               answer->dump(-1, ' ', false, json::error_handler_t::replace) + "}\n";
  }
  nlohmann::ordered_json summary = {{"version", "1.0"},
                                    {"statistics",
                                     {{"total-json-lines", total},
                                      {"valid-json-lines", valid},
                                      {"invalid-json-lines", total - valid}}},
                                    {"errors", errors}};
  const std::string& bucket = request["OutputConfig"]["S3Bucket"].get_ref<const std::string&>();
  const std::string& id = ctx.job().id;
  if (Status st = WriteS3Object(bucket, OutputKey(request, id, "results.jsonl"), results);
      !st.ok()) {
    return Failure("INVALID_OUTPUT_CONFIG", st.message());
  }
  if (Status st = WriteS3Object(bucket, OutputKey(request, id, "manifest-summary.json"),
                                summary.dump(-1, ' ', false, json::error_handler_t::replace));
      !st.ok()) {
    return Failure("INVALID_OUTPUT_CONFIG", st.message());
  }
  ctx.SetMetadata(summary["statistics"].dump());
  ctx.Progress(1.0);
  return Status::Ok();
}

const char* StatusName(const jobs::Job& job) {
  switch (job.state) {
    case jobs::State::kInProgress:
      return job.queued ? "QUEUED" : "IN_PROGRESS";
    case jobs::State::kSucceeded:
      return "SUCCEEDED";
    case jobs::State::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

// MediaAnalysisJobDescription (also GetMediaAnalysisJob's answer).
json Description(const jobs::Job& job) {
  json request = json::parse(job.request, nullptr, false);
  if (!request.is_object()) request = json::object();
  json out = {{"JobId", job.id},
              {"OperationsConfig", request.value("OperationsConfig", json::object())},
              {"Status", StatusName(job)},
              {"CreationTimestamp", double(job.created_ms) / 1000.0},
              {"Input", request.value("Input", json::object())},
              {"OutputConfig", request.value("OutputConfig", json::object())}};
  if (request.contains("JobName")) out["JobName"] = request["JobName"];
  if (job.state != jobs::State::kInProgress && job.completed_ms > 0) {
    out["CompletionTimestamp"] = double(job.completed_ms) / 1000.0;
  }
  if (job.state == jobs::State::kFailed) out["FailureDetails"] = FailureDetails(job.status_message);
  if (job.state == jobs::State::kSucceeded && out["OutputConfig"].contains("S3Bucket")) {
    const json& bucket = out["OutputConfig"]["S3Bucket"];
    out["Results"] = {
        {"S3Object", {{"Bucket", bucket}, {"Name", OutputKey(request, job.id, "results.jsonl")}}},
        {"ModelVersions", {{"Moderation", service::ModerationService::ModerationModelVersion()}}}};
    out["ManifestSummary"] = {
        {"S3Object",
         {{"Bucket", bucket}, {"Name", OutputKey(request, job.id, "manifest-summary.json")}}}};
  }
  return out;
}

// The job `id` when it is a media analysis job the caller may see.
Result<jobs::Job> FindJob(jobs::JobManager& jobs, const std::string& id, const Services& services) {
  auto job = jobs.Get(id);
  if (!job.ok()) return job.status();
  if (job->api != kMediaAnalysisApi || (!SeesAll(services) && job->owner != Owner(services))) {
    return Status(Code::kResourceNotFound, "The media analysis job " + id + " does not exist.");
  }
  return job;
}

bool HexId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<json> StartMediaAnalysisJob(const json& request, Services& services) {
  auto jobs = Jobs(services);
  if (!jobs.ok()) return jobs.status();
  // Shapes, lengths and patterns were checked against the model; what is
  // left is what argus does not do and what the files must allow.
  const json* config = nullptr;
  if (auto ops = request.find("OperationsConfig"); ops != request.end() && ops->is_object()) {
    if (auto d = ops->find("DetectModerationLabels"); d != ops->end() && d->is_object()) {
      config = &*d;
    }
  }
  if (!config) {
    return InvalidParameter(
        "OperationsConfig.DetectModerationLabels is required: it is the analysis media analysis "
        "jobs run.");
  }
  auto min_conf =
      NumberParam(*config, "MinConfidence", 0, 100, 50, "operationsConfig.detectModerationLabels");
  if (!min_conf.ok()) return min_conf.status();
  if (auto pv = config->find("ProjectVersion"); pv != config->end() && !pv->is_null()) {
    return Status(Code::kResourceNotFound,
                  "ProjectVersion: argus has no custom moderation adapters; omit ProjectVersion "
                  "to use the built-in model.");
  }
  if (auto kms = request.find("KmsKeyId"); kms != request.end() && !kms->is_null()) {
    return InvalidParameter(
        "KmsKeyId: argus does not encrypt with KMS keys; omit KmsKeyId (results are written "
        "as files readable by the server's user only, mode 0600, under the S3 root).");
  }
  const json& output = request["OutputConfig"];
  std::string prefix = output.value("S3KeyPrefix", "");
  if (!ValidS3KeyPrefix(prefix)) {
    return InvalidParameter(
        "OutputConfig.S3KeyPrefix must be a relative key prefix without empty, '.' or '..' "
        "segments.");
  }
  if (Status st = CheckS3Bucket(output["S3Bucket"].get<std::string>()); !st.ok()) {
    return InvalidParameter("OutputConfig.S3Bucket: " + st.message());
  }
  if (!services.moderation) {
    return Status(Code::kServiceUnavailable, "DetectModerationLabels is not configured.");
  }
  auto manifest = ReadManifest(request);
  if (!manifest.ok()) return manifest.status();
  jobs::NewJob job;
  job.api = kMediaAnalysisApi;
  job.owner = Owner(services);
  json stored = request;
  stored.erase("ClientRequestToken");
  job.request = stored.dump();
  job.client_token = request.value("ClientRequestToken", "");
  auto id = (*jobs)->Submit(job);
  if (!id.ok()) return id.status();
  return json{{"JobId", id.value()}};
}

Result<json> GetMediaAnalysisJob(const json& request, Services& services) {
  auto jobs = Jobs(services);
  if (!jobs.ok()) return jobs.status();
  auto job = FindJob(**jobs, request["JobId"].get<std::string>(), services);
  if (!job.ok()) return job.status();
  return Description(job.value());
}

Result<json> ListMediaAnalysisJobs(const json& request, Services& services) {
  auto jobs = Jobs(services);
  if (!jobs.ok()) return jobs.status();
  auto max = IntParam(request, "MaxResults", 1, 100, 100);
  if (!max.ok()) return max.status();
  jobs::ListFilter filter;
  filter.api = kMediaAnalysisApi;
  if (!SeesAll(services)) filter.owner = Owner(services);
  filter.limit = int(max.value()) + 1;
  if (auto t = request.find("NextToken"); t != request.end() && !t->is_null()) {
    std::string token = t->get<std::string>();
    if (token.rfind("m.", 0) != 0 || !HexId(token.substr(2))) {
      return Status(Code::kInvalidPaginationToken,
                    "Invalid pagination token: " + token.substr(0, 64));
    }
    filter.after_id = token.substr(2);
  }
  auto page = (*jobs)->List(filter);
  if (!page.ok()) return page.status();
  json list = json::array();
  for (size_t i = 0; i < page->size() && int64_t(i) < max.value(); ++i) {
    list.push_back(Description((*page)[i]));
  }
  json out = {{"MediaAnalysisJobs", list}};
  if (int64_t(page->size()) > max.value()) {
    out["NextToken"] = "m." + (*page)[size_t(max.value()) - 1].id;
  }
  return out;
}

void RegisterMediaAnalysisRunner(jobs::JobManager& jobs, Services& services) {
  Services* s = &services;
  jobs.RegisterRunner(kMediaAnalysisApi, [s](jobs::JobContext& ctx) { return RunJob(ctx, *s); });
}

}  // namespace argus::api
