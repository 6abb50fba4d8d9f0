// Face liveness sessions: CreateFaceLivenessSession, the argus upload path
// PutFaceLivenessFrames (in place of the streaming client) and
// GetFaceLivenessSessionResults. A session is a document in the store (kind
// "liveness-session", JSON body, through service::Documents), owned by the principal that created
// it; the analysis (service/liveness.h) runs synchronously in the upload.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "api/rekognition/handlers.h"
#include "api/rekognition/s3_object.h"
#include "api/rekognition/shapes.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/uuid.h"

namespace argus::api {
namespace {

constexpr const char* kKind = "liveness-session";
// Idempotency: (owner, ClientRequestToken) → the session it created.
constexpr const char* kTokenKind = "liveness-token";
// Rekognition's session lifetime: uploads after it are refused.
constexpr int64_t kSessionLifetimeMs = 3 * 60 * 1000;
// Sessions and tokens are deleted an hour after their last change.
constexpr int64_t kKeepMs = 60 * 60 * 1000;

Status NotConfigured() {
  return Status(Code::kServiceUnavailable,
                "Face liveness is not available on this server (no store or liveness models).");
}

Status NotFound(const std::string& id) {
  return Status(Code::kSessionNotFound, "Face liveness session " + id + " was not found.");
}

// The caller's session `id` (another principal's reads as missing).
Result<service::Document> LoadSession(const std::string& id, Services& services) {
  auto row = services.documents->Get(kKind, id);
  if (!row.ok())
    return row.status().code() == Code::kResourceNotFound ? NotFound(id) : row.status();
  if (!services.admin && row.value().owner != services.principal) return NotFound(id);
  return row;
}

// The status a client sees: CREATED past the lifetime is EXPIRED; an upload
// left IN_PROGRESS that long (the server stopped during it) is FAILED.
std::string VisibleStatus(const service::Document& row, const json& body) {
  std::string status = body.value("Status", "CREATED");
  const int64_t now = NowMs();
  if (status == "CREATED" && now - row.created_ms > kSessionLifetimeMs) return "EXPIRED";
  if (status == "IN_PROGRESS" && now - row.updated_ms > kSessionLifetimeMs) return "FAILED";
  return status;
}

// Writes `body` over the session when it is still at `version`.
Result<bool> Save(service::Document row, const json& body, int64_t version, Services& services) {
  row.body = body.dump();
  row.updated_ms = NowMs();
  return services.documents->Update(row, version);
}

// The request's frames: a video's first seconds sampled at the service's
// rate, or a burst of images of one size.
Result<std::vector<cv::Mat>> Frames(const json& request, Services& services,
                                    std::vector<Image>& images) {
  const bool has_video = request.contains("Video") && !request["Video"].is_null();
  const bool has_images = request.contains("Images") && !request["Images"].is_null();
  if (has_video == has_images)
    return InvalidParameter("PutFaceLivenessFrames needs exactly one of Video and Images.");
  std::vector<cv::Mat> frames;
  if (has_images) {
    for (const auto& item : request["Images"]) {
      ARGUS_ASSIGN(image, ImageFromRequest(json{{"Images", item}}, "Images"));
      if (!images.empty() && image.bgr.size() != images.front().bgr.size())
        return InvalidParameter("Images must all have the same size (one camera).");
      frames.push_back(image.bgr);
      images.push_back(std::move(image));
    }
    return frames;
  }
  const json& v = request["Video"];
  std::string path, temp;
  if (v.contains("S3Object") && !v["S3Object"].is_null()) {
    if (v.contains("Bytes") && !v["Bytes"].is_null())
      return InvalidParameter("Video must have Bytes or S3Object, not both.");
    ARGUS_ASSIGN(resolved, ResolveS3Object(v["S3Object"]));
    path = resolved;
  } else {
    if (!v.contains("Bytes") || !v["Bytes"].is_string())
      return InvalidParameter("Video.Bytes is required (a base64-encoded video).");
    ARGUS_ASSIGN(bytes, Base64Decode(v["Bytes"].get_ref<const std::string&>(), "Video.Bytes"));
    std::error_code ec;
    temp = (std::filesystem::temp_directory_path(ec) / ("argus-liveness-" + NewUuidV4())).string();
    // A face video: readable by this user only, never an existing file.
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t done = 0;
    while (fd >= 0 && done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    if (fd >= 0) ::close(fd);
    if (fd < 0 || done != bytes.size()) {
      if (fd >= 0) std::filesystem::remove(temp, ec);
      return Internal("cannot write the video to a temporary file");
    }
    path = temp;
  }
  auto read = [&]() -> Status {
    ARGUS_ASSIGN(reader, video::VideoReader::Open(path, services.video_limits));
    video::Frame f;
    while (int(frames.size()) < service::kLivenessMaxFrames) {
      ARGUS_ASSIGN(more, reader->Next(f, service::kLivenessVideoFps));
      if (!more) break;
      frames.push_back(f.bgr);
    }
    return Status();
  };
  Status st = read();
  if (!temp.empty()) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
  }
  if (!st.ok()) return st;
  if (frames.size() < 2) return InvalidParameter("The video has fewer than 2 frames to analyse.");
  return frames;
}

// An AuditImage: Bytes, or an S3 object under the session's OutputConfig.
Result<json> AuditImageJson(const service::LivenessImage& im, const json& output,
                            const std::string& key) {
  json out = {{"BoundingBox", BoundingBoxJson(im.box, im.size)}};
  if (output.is_object()) {
    std::string prefix = output.value("S3KeyPrefix", "");
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    const std::string bucket = output.value("S3Bucket", "");
    ARGUS_RETURN_IF_ERROR(WriteS3Object(bucket, prefix + key, im.jpeg));
    out["S3Object"] = {{"Bucket", bucket}, {"Name", prefix + key}};
  } else {
    out["Bytes"] = Base64Encode(im.jpeg);
  }
  return out;
}

}  // namespace

Result<json> CreateFaceLivenessSession(const json& request, Services& services) {
  if (!services.documents || !services.liveness) return NotConfigured();
  json settings = request.value("Settings", json::object());
  if (!settings.is_object()) settings = json::object();
  if (auto o = settings.find("OutputConfig"); o != settings.end() && !o->is_null()) {
    const std::string prefix = o->value("S3KeyPrefix", "");
    if (!ValidS3KeyPrefix(prefix))
      return InvalidParameter("OutputConfig.S3KeyPrefix is not a valid object key prefix.");
    if (Status st = CheckS3Bucket(o->value("S3Bucket", "")); !st.ok())
      return InvalidParameter("OutputConfig.S3Bucket: " + st.message());
  }
  // Opportunistic cleanup of old sessions (their images with them).
  const int64_t now = NowMs();
  for (const char* kind : {kKind, kTokenKind})
    ARGUS_RETURN_IF_ERROR(services.documents->PurgeUpdatedBefore(kind, now - kKeepMs).status());

  service::Document row;
  row.kind = kKind;
  row.id = NewUuidV4();
  row.owner = services.principal;
  row.created_ms = row.updated_ms = now;
  const std::string token = request.value("ClientRequestToken", "");
  if (!token.empty()) {
    service::Document t = row;
    t.kind = kTokenKind;
    t.id = services.principal + "/" + token;
    t.body = json{{"SessionId", row.id}}.dump();
    Status st = services.documents->Insert(t);
    if (st.code() == Code::kResourceAlreadyExists) {
      ARGUS_ASSIGN(prior, services.documents->Get(kTokenKind, t.id));
      json b = json::parse(prior.body, nullptr, false);
      if (b.is_object() && b.contains("SessionId")) return json{{"SessionId", b["SessionId"]}};
    }
    ARGUS_RETURN_IF_ERROR(st);
  }
  json body = {{"Status", "CREATED"}, {"Settings", settings}};
  row.body = body.dump();
  ARGUS_RETURN_IF_ERROR(services.documents->Insert(row));
  return json{{"SessionId", row.id}};
}

Result<json> PutFaceLivenessFrames(const json& request, Services& services) {
  if (!services.documents || !services.liveness) return NotConfigured();
  const std::string id = request.value("SessionId", "");
  ARGUS_ASSIGN(row, LoadSession(id, services));
  json body = json::parse(row.body, nullptr, false);
  if (!body.is_object()) return Internal("liveness session " + id + " is unreadable");
  const std::string status = VisibleStatus(row, body);
  if (status == "EXPIRED")
    return InvalidParameter("Face liveness session " + id + " has expired (3 minutes).");
  if (status != "CREATED")
    return InvalidParameter("Face liveness session " + id + " already has its frames (" + status +
                            "); create a new session for each check.");
  // Decode first: a request whose frames cannot be read leaves the session as it was.
  std::vector<Image> images;
  ARGUS_ASSIGN(frames, Frames(request, services, images));
  const int64_t version = row.version;
  body["Status"] = "IN_PROGRESS";
  ARGUS_ASSIGN(claimed, Save(row, body, version, services));
  if (!claimed) return InvalidParameter("Face liveness session " + id + " already has its frames.");

  const json settings = body.value("Settings", json::object());
  const int limit = settings.value("AuditImagesLimit", 0);
  const json output = settings.value("OutputConfig", json());
  auto result = services.liveness->Analyze(frames, limit);
  Status st = result.status();
  if (result.ok() && result.value().reference) {
    const auto& r = result.value();
    body["Status"] = "SUCCEEDED";
    body["Confidence"] = r.checks.confidence;
    auto ref = AuditImageJson(*r.reference, output, id + "/reference.jpg");
    st = ref.status();
    if (ref.ok()) body["ReferenceImage"] = ref.value();
    json audit = json::array();
    for (size_t i = 0; st.ok() && i < r.audit.size(); ++i) {
      auto a = AuditImageJson(r.audit[i], output,
                              id + "/audit_images/" + std::to_string(i + 1) + ".jpg");
      st = a.status();
      if (a.ok()) audit.push_back(a.value());
    }
    body["AuditImages"] = audit;
  }
  if (!st.ok() || !result.value().reference) {
    // No face in any frame, or the analysis broke: the check failed.
    body = {{"Status", "FAILED"}, {"Settings", settings}};
    body["Reason"] = st.ok() ? "no face in any frame" : st.message();
  }
  ARGUS_ASSIGN(saved, Save(row, body, version + 1, services));
  if (!saved) return Internal("face liveness session " + id + " changed during its analysis");
  if (!st.ok() && st.code() != Code::kInternal) return st;
  json out = {{"SessionId", id}, {"Status", body["Status"]}};
  if (body.contains("Confidence")) out["Confidence"] = body["Confidence"];
  return out;
}

Result<json> GetFaceLivenessSessionResults(const json& request, Services& services) {
  if (!services.documents) return NotConfigured();
  const std::string id = request.value("SessionId", "");
  ARGUS_ASSIGN(row, LoadSession(id, services));
  json body = json::parse(row.body, nullptr, false);
  if (!body.is_object()) return Internal("liveness session " + id + " is unreadable");
  json out = {{"SessionId", id}, {"Status", VisibleStatus(row, body)}};
  for (const char* member : {"Confidence", "ReferenceImage", "AuditImages"})
    if (body.contains(member)) out[member] = body[member];
  return out;
}

}  // namespace argus::api
