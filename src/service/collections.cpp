#include "service/collections.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <unordered_map>

#include "core/hash.h"
#include "core/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

namespace argus::service {

struct CollectionService::Entry {
  std::string id;
  int64_t created_ms = 0;
  std::string model_version;
  std::unique_ptr<index::VectorIndex> index;
  std::mutex write_mu;  // store write + index update, in that order
  std::string loaded_from;
  uint64_t snapshot_version = 0;  // index version of the last snapshot
  std::chrono::steady_clock::time_point last_snapshot = std::chrono::steady_clock::now();
  bool deleted = false;  // under write_mu
};

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewUuid() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   (uint64_t(std::random_device{}()) << 32));
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char s[37];
  std::snprintf(s, sizeof s, "%08x-%04x-%04x-%04x-%012llx", unsigned(a >> 32),
                unsigned((a >> 16) & 0xffff), unsigned(a & 0xffff), unsigned(b >> 48),
                (unsigned long long)(b & 0xffffffffffffULL));
  return s;
}

// The same pixels give the same ImageId, as Rekognition's does for the same image.
std::string ImageId(const Image& image) {
  cv::Mat m = image.bgr.isContinuous() ? image.bgr : image.bgr.clone();
  std::string h = Sha256Hex(std::string_view(reinterpret_cast<const char*>(m.data),
                                             m.total() * m.elemSize())) +
                  std::to_string(m.cols) + "x" + std::to_string(m.rows);
  h = Sha256Hex(h);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

float SimilarityOfScore(float ip) {
  return FaceService::SimilarityFromDistance(std::sqrt(std::max(0.f, 2.f - 2.f * ip)));
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += double(a[i]) * b[i];
  return float(s);
}

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

struct QualityBar {
  float confidence, min_side_px, yaw, pitch, brightness, sharpness;
};

// Thresholds per QualityFilter level: detector confidence, smaller box side
// in pixels, |yaw| and |pitch| in degrees, brightness and sharpness (vision::
// MeasureQuality's 0..100). AUTO sits between LOW and MEDIUM: the pose
// estimate from 68 landmarks is coarse, so only clearly turned faces fail it.
QualityBar Bar(QualityFilter q) {
  switch (q) {
    case QualityFilter::kLow: return {50, 16, 85, 75, 3, 1};
    case QualityFilter::kMedium: return {80, 32, 60, 45, 10, 10};
    case QualityFilter::kHigh: return {95, 48, 40, 30, 20, 30};
    default: return {60, 20, 80, 65, 5, 2};
  }
}

Status NoFace() {
  return InvalidParameter("There are no faces in the image. Should be at least 1.");
}

}  // namespace

std::vector<std::string> QualityReasons(const FaceDetail& f, QualityFilter q) {
  std::vector<std::string> r;
  if (f.landmarks68.size() != 68) r.push_back("LOW_FACE_QUALITY");  // cannot be described
  if (q == QualityFilter::kNone) return r;
  QualityBar bar = Bar(q);
  if (f.confidence < bar.confidence) r.push_back("LOW_CONFIDENCE");
  if (std::min(f.box.width, f.box.height) < bar.min_side_px) r.push_back("SMALL_BOUNDING_BOX");
  if (f.landmarks68.size() == 68 &&
      (std::fabs(f.pose.yaw) > bar.yaw || std::fabs(f.pose.pitch) > bar.pitch)) {
    r.push_back("EXTREME_POSE");
  }
  if (f.quality.brightness < bar.brightness) r.push_back("LOW_BRIGHTNESS");
  if (f.quality.sharpness < bar.sharpness) r.push_back("LOW_SHARPNESS");
  return r;
}

Result<QualityFilter> ParseQualityFilter(const std::string& s) {
  if (s.empty() || s == "AUTO") return QualityFilter::kAuto;
  if (s == "NONE") return QualityFilter::kNone;
  if (s == "LOW") return QualityFilter::kLow;
  if (s == "MEDIUM") return QualityFilter::kMedium;
  if (s == "HIGH") return QualityFilter::kHigh;
  return InvalidParameter("QualityFilter must be one of NONE, AUTO, LOW, MEDIUM, HIGH.");
}

CollectionService::CollectionService(const CollectionsConfig& config, FaceService* faces)
    : config_(config), faces_(faces) {}

Result<std::unique_ptr<CollectionService>> CollectionService::Open(
    const CollectionsConfig& config, FaceService* faces) {
  std::unique_ptr<CollectionService> s(new CollectionService(config, faces));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(config.data_dir) / "index", ec);
  if (ec) return Internal("cannot create " + config.data_dir + "/index: " + ec.message());
  // One process owns a data dir: its indexes mirror the store.
  std::string lock_path = (std::filesystem::path(config.data_dir) / "argus.lock").string();
  s->lock_fd_ = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (s->lock_fd_ < 0 || ::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status(Code::kResourceInUse, "data dir " + config.data_dir +
                                            " is in use by another argus process (stop it, or "
                                            "use its API)");
  }
  auto st = store::Store::OpenSqlite(
      (std::filesystem::path(config.data_dir) / "argus.db").string());
  if (!st.ok()) return st.status();
  s->store_ = std::move(st.value());
  std::string after;
  for (;;) {
    auto page = s->store_->ListCollections(after, 1000);
    if (!page.ok()) return page.status();
    for (const auto& c : page.value()) ARGUS_RETURN_IF_ERROR(s->LoadCollection(c));
    if (page->size() < 1000) break;
    after = page->back().id;
  }
  if (config.background) s->bg_ = std::thread([p = s.get()] { p->Background(); });
  return s;
}

CollectionService::~CollectionService() {
  Close();
  store_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void CollectionService::Close() {
  if (!store_) return;
  {
    std::lock_guard lock(bg_mu_);
    if (stop_) return;
    stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::shared_lock lock(map_mu_);
    for (auto& [id, e] : entries_) all.push_back(e);
  }
  for (auto& e : all) {
    if (e->index->is_graph() && e->index->version() != e->snapshot_version) {
      Status st = SnapshotNow(e->id);
      if (!st.ok()) log::Warn(st.message());
    }
  }
}

std::string CollectionService::SnapshotPath(const std::string& id) const {
  return (std::filesystem::path(config_.data_dir) / "index" / (id + ".idx")).string();
}

Status CollectionService::LoadCollection(const store::Collection& c) {
  auto t0 = std::chrono::steady_clock::now();
  auto e = std::make_shared<Entry>();
  e->id = c.id;
  e->created_ms = c.created_ms;
  e->model_version = c.face_model_version;
  const int dim = config_.index.dim;
  // 1. A snapshot that agrees with the store, after replaying what it missed.
  index::SnapshotMeta meta;
  auto snap = index::VectorIndex::Load(SnapshotPath(c.id), config_.index, &meta);
  if (snap.ok() && meta.collection == c.id && meta.collection_created_ms == c.created_ms &&
      meta.model_version == c.face_model_version) {
    auto stored = store_->Labels(c.id);
    if (!stored.ok()) return stored.status();
    std::vector<int64_t> have = snap.value()->Labels();
    std::vector<int64_t> extra, missing;
    std::set_difference(have.begin(), have.end(), stored->begin(), stored->end(),
                        std::back_inserter(extra));
    std::set_difference(stored->begin(), stored->end(), have.begin(), have.end(),
                        std::back_inserter(missing));
    int64_t top = have.empty() ? 0 : have.back();
    if (missing.empty() || missing.front() > top) {
      snap.value()->Remove(extra);
      store::FaceFilter f;
      f.after_label = top;
      f.limit = 4096;
      f.descriptors = true;
      bool ok = true;
      for (;;) {
        auto page = store_->ListFaces(c.id, f);
        if (!page.ok()) return page.status();
        std::vector<int64_t> labels;
        std::vector<float> vecs;
        for (const auto& face : page.value()) {
          if (int(face.descriptor.size()) != dim) continue;
          labels.push_back(face.label);
          vecs.insert(vecs.end(), face.descriptor.begin(), face.descriptor.end());
        }
        if (!snap.value()->Add(labels, vecs.data()).ok()) ok = false;
        if (int(page->size()) < f.limit) break;
        f.after_label = page->back().label;
      }
      if (ok) {
        e->index = std::move(snap.value());
        e->loaded_from = extra.empty() && missing.empty() ? "snapshot" : "snapshot+replay";
        e->snapshot_version = extra.empty() && missing.empty() ? e->index->version() : 0;
      }
    }
    if (!e->index) log::Warn("collection " + c.id + ": snapshot disagrees with the store");
  } else if (std::filesystem::exists(SnapshotPath(c.id))) {
    log::Warn("collection " + c.id + ": snapshot not usable (" +
              (snap.ok() ? std::string("of another collection or model") : snap.status().message()) +
              "), rebuilding from the store");
  }
  // 2. Otherwise from the store: exact at once, a graph later in the background.
  if (!e->index) {
    e->index = std::make_unique<index::VectorIndex>(config_.index);
    std::vector<int64_t> labels;
    std::vector<float> vecs;
    Status add_st;
    auto flush = [&] {
      if (!labels.empty() && add_st.ok()) add_st = e->index->Add(labels, vecs.data());
      labels.clear();
      vecs.clear();
    };
    ARGUS_RETURN_IF_ERROR(store_->ScanDescriptors(c.id, [&](int64_t l, const std::vector<float>& d) {
      if (int(d.size()) != dim) return;
      labels.push_back(l);
      vecs.insert(vecs.end(), d.begin(), d.end());
      if (labels.size() >= 8192) flush();
    }));
    flush();
    ARGUS_RETURN_IF_ERROR(add_st);
    e->loaded_from = "store";
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::Info("collection " + c.id + ": " + std::to_string(e->index->size()) + " faces from " +
            e->loaded_from + " in " + std::to_string(s) + " s");
  std::unique_lock lock(map_mu_);
  entries_[c.id] = e;
  return Status::Ok();
}

std::shared_ptr<CollectionService::Entry> CollectionService::Find(const std::string& id) {
  std::shared_lock lock(map_mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<CollectionService::Entry>> CollectionService::Get(const std::string& id) {
  auto e = Find(id);
  if (!e) return Status(Code::kResourceNotFound, "The collection id: " + id + " does not exist");
  return e;
}

Status CollectionService::CheckModel(const Entry& e) const {
  if (e.model_version == FaceService::FaceModelVersion()) return Status::Ok();
  return InvalidParameter("Collection " + e.id + " holds descriptors of face model " +
                          e.model_version + "; this server computes " +
                          FaceService::FaceModelVersion() + ". Re-index into a new collection.");
}

std::string CollectionService::CollectionArn(const std::string& id) const {
  return "arn:aws:rekognition:" + config_.region + ":" + config_.account_id + ":collection/" + id;
}

void CollectionService::DropSnapshot(const std::string& id) {
  std::error_code ec;
  std::filesystem::remove(SnapshotPath(id), ec);
}

Result<std::string> CollectionService::CollectionOfArn(const std::string& arn) const {
  std::string prefix = "arn:aws:rekognition:" + config_.region + ":" + config_.account_id +
                       ":collection/";
  if (arn.size() <= prefix.size() || arn.compare(0, prefix.size(), prefix) != 0) {
    return Status(Code::kResourceNotFound,
                  "The resource " + arn + " does not exist: argus tags collections, " + prefix +
                      "ID");
  }
  std::string id = arn.substr(prefix.size());
  ARGUS_RETURN_IF_ERROR(store_->GetCollection(id).status());
  return id;
}

Status ValidateRetentionTag(const std::map<std::string, std::string>& tags) {
  auto it = tags.find(kRetentionTag);
  if (it == tags.end()) return Status::Ok();
  const std::string& v = it->second;
  bool digits = !v.empty() && v.size() <= 5 &&
                std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stol(v) < 1 || std::stol(v) > 36500) {
    return InvalidParameter(std::string("Tag ") + kRetentionTag +
                            " must be a whole number of days from 1 to 36500, got '" + v + "'.");
  }
  return Status::Ok();
}

int64_t RetentionDays(const std::map<std::string, std::string>& tags) {
  if (!ValidateRetentionTag(tags).ok()) return kDefaultRetentionDays;
  auto it = tags.find(kRetentionTag);
  return it == tags.end() ? kDefaultRetentionDays : std::stol(it->second);
}

Status CollectionService::TagCollection(const std::string& id,
                                        const std::map<std::string, std::string>& tags) {
  ARGUS_RETURN_IF_ERROR(ValidateRetentionTag(tags));
  return store_->TagCollection(id, tags, kMaxTagsPerCollection);
}

Status CollectionService::UntagCollection(const std::string& id,
                                          const std::vector<std::string>& keys) {
  return store_->UntagCollection(id, keys);
}

Result<std::vector<PurgeResult>> CollectionService::PurgeExpired(int64_t now_ms) {
  std::vector<PurgeResult> out;
  std::string after;
  for (;;) {
    auto page = store_->ListCollections(after, 500);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    after = page->back().id;
    for (const auto& c : page.value()) {
      auto full = store_->GetCollection(c.id);
      if (!full.ok()) continue;  // deleted meanwhile
      PurgeResult r;
      r.collection = c.id;
      r.retention_days = RetentionDays(full->tags);
      r.cutoff_ms = now_ms - r.retention_days * 86400000LL;
      auto entry = Get(c.id);
      if (!entry.ok()) continue;
      Entry& e = *entry.value();
      std::lock_guard lock(e.write_mu);
      if (e.deleted) continue;
      auto deleted = store_->DeleteFacesBefore(c.id, r.cutoff_ms);  // durable from here
      if (!deleted.ok()) return deleted.status();
      std::vector<int64_t> labels;
      for (const auto& f : deleted.value()) labels.push_back(f.label);
      e.index->Remove(labels);
      if (!labels.empty()) DropSnapshot(e.id);
      r.deleted = int64_t(labels.size());
      out.push_back(std::move(r));
    }
  }
  bg_cv_.notify_all();
  return out;
}

// ------------------------------------------------------------- collections

Result<store::Collection> CollectionService::CreateCollection(
    const std::string& id, const std::map<std::string, std::string>& tags) {
  ARGUS_RETURN_IF_ERROR(ValidateRetentionTag(tags));
  store::Collection c;
  c.id = id;
  c.created_ms = NowMs();
  c.face_model_version = FaceService::FaceModelVersion();
  c.tags = tags;
  std::unique_lock lock(map_mu_);  // store and map change together
  ARGUS_RETURN_IF_ERROR(store_->CreateCollection(c));
  auto e = std::make_shared<Entry>();
  e->id = id;
  e->created_ms = c.created_ms;
  e->model_version = c.face_model_version;
  e->index = std::make_unique<index::VectorIndex>(config_.index);
  e->loaded_from = "new";
  entries_[id] = e;
  std::error_code ec;
  std::filesystem::remove(SnapshotPath(id), ec);
  return c;
}

Result<store::Collection> CollectionService::DescribeCollection(const std::string& id) {
  return store_->GetCollection(id);
}

Result<std::vector<store::Collection>> CollectionService::ListCollections(const std::string& after,
                                                                          int limit) {
  return store_->ListCollections(after, limit);
}

Status CollectionService::DeleteCollection(const std::string& id) {
  std::unique_lock lock(map_mu_);
  auto it = entries_.find(id);
  std::shared_ptr<Entry> e = it == entries_.end() ? nullptr : it->second;
  std::unique_lock<std::mutex> wl;
  if (e) wl = std::unique_lock(e->write_mu);
  ARGUS_RETURN_IF_ERROR(store_->DeleteCollection(id));
  if (e) e->deleted = true;
  entries_.erase(id);
  std::error_code ec;
  std::filesystem::remove(SnapshotPath(id), ec);
  return Status::Ok();
}

// ------------------------------------------------------------------- faces

Result<std::vector<FaceOutcome>> CollectionService::Analyse(const Image& image,
                                                            QualityFilter quality) {
  DetectOptions opts;
  opts.max_faces = kMaxFacesPerImage;
  auto faces = faces_->DetectFaces(image, opts);
  if (!faces.ok()) return faces.status();
  std::vector<FaceOutcome> out;
  for (auto& f : faces.value()) {
    FaceOutcome o;
    o.reasons = QualityReasons(f, quality);
    o.detail = std::move(f);
    out.push_back(std::move(o));
  }
  // Largest first, as Rekognition ranks faces for MaxFaces.
  std::stable_sort(out.begin(), out.end(), [](const FaceOutcome& a, const FaceOutcome& b) {
    return a.detail.box.area() > b.detail.box.area();
  });
  return out;
}

Result<IndexFacesResult> CollectionService::IndexFaces(const Image& image,
                                                       const IndexFacesRequest& req) {
  auto entry = Get(req.collection_id);
  if (!entry.ok()) return entry.status();
  Entry& e = *entry.value();
  ARGUS_RETURN_IF_ERROR(CheckModel(e));
  auto analysed = Analyse(image, req.quality);
  if (!analysed.ok()) return analysed.status();
  IndexFacesResult result;
  result.model_version = e.model_version;
  // The first MaxFaces faces (largest first) that pass the quality filter
  // and can be described are indexed; one that cannot be described
  // (LOW_FACE_QUALITY) leaves its place to the next. They are described in
  // rounds of the places left, side by side (FaceService::DescribeAll), so
  // no face past MaxFaces is described.
  std::vector<FaceOutcome>& all = analysed.value();
  std::vector<std::vector<float>> desc(all.size());  // empty: not indexed
  size_t next = 0;
  for (int kept = 0; kept < req.max_faces;) {
    std::vector<size_t> round;
    std::vector<const FaceDetail*> details;
    for (; next < all.size() && int(round.size()) < req.max_faces - kept; ++next) {
      if (!all[next].reasons.empty()) continue;
      round.push_back(next);
      details.push_back(&all[next].detail);
    }
    if (round.empty()) break;
    auto described = faces_->DescribeAll(image, details);
    for (size_t k = 0; k < round.size(); ++k) {
      auto& d = described[k];
      if (!d.ok() || int(d->size()) != config_.index.dim) {
        all[round[k]].reasons.push_back("LOW_FACE_QUALITY");
      } else {
        desc[round[k]] = std::move(d.value());
        ++kept;
      }
    }
  }
  std::vector<std::pair<FaceDetail, std::vector<float>>> keep;
  for (size_t i = 0; i < all.size(); ++i) {
    FaceOutcome& o = all[i];
    if (!desc[i].empty()) {
      keep.emplace_back(o.detail, std::move(desc[i]));
      continue;
    }
    if (o.reasons.empty()) o.reasons.push_back("EXCEEDS_MAX_FACES");
    result.unindexed.push_back(std::move(o));
  }
  if (keep.empty()) return result;
  const std::string image_id = ImageId(image);
  const float iw = float(image.width()), ih = float(image.height());
  std::lock_guard lock(e.write_mu);
  if (e.deleted) return Status(Code::kResourceNotFound, "The collection id: " + e.id + " does not exist");
  // Re-indexing the same image with the same ExternalImageId returns the
  // faces stored then instead of duplicating them.
  auto existing = store_->FacesOfImage(e.id, image_id, req.external_image_id);
  if (!existing.ok()) return existing.status();
  std::vector<store::Face> fresh;
  std::vector<int> slot;  // index into result.indexed for each fresh face
  std::vector<bool> used(existing->size(), false);
  for (auto& [detail, descriptor] : keep) {
    cv::Rect2f ratio(detail.box.x / iw, detail.box.y / ih, detail.box.width / iw,
                     detail.box.height / ih);
    int match = -1;
    for (size_t i = 0; i < existing->size(); ++i) {
      const auto& x = (*existing)[i];
      if (!used[i] && IoU(ratio, cv::Rect2f(x.left, x.top, x.width, x.height)) > 0.5f) {
        match = int(i);
        break;
      }
    }
    if (match >= 0) {
      used[match] = true;
      result.indexed.emplace_back((*existing)[match], detail);
      continue;
    }
    store::Face f;
    f.face_id = NewUuid();
    f.image_id = image_id;
    f.external_image_id = req.external_image_id;
    f.confidence = detail.confidence;
    f.left = ratio.x;
    f.top = ratio.y;
    f.width = ratio.width;
    f.height = ratio.height;
    f.model_version = e.model_version;
    f.created_ms = NowMs();
    f.descriptor = descriptor;
    slot.push_back(int(result.indexed.size()));
    result.indexed.emplace_back(store::Face{}, detail);
    fresh.push_back(std::move(f));
  }
  if (fresh.empty()) return result;
  ARGUS_RETURN_IF_ERROR(store_->InsertFaces(e.id, fresh));  // durable from here
  std::vector<int64_t> labels;
  std::vector<float> vecs;
  for (size_t i = 0; i < fresh.size(); ++i) {
    labels.push_back(fresh[i].label);
    vecs.insert(vecs.end(), fresh[i].descriptor.begin(), fresh[i].descriptor.end());
    fresh[i].descriptor.clear();
    result.indexed[slot[i]].first = std::move(fresh[i]);
  }
  Status st = e.index->Add(labels, vecs.data());
  if (!st.ok()) log::Error("collection " + e.id + ": index add: " + st.message());
  bg_cv_.notify_all();
  return result;
}

Result<std::vector<store::Face>> CollectionService::ListFaces(const std::string& collection,
                                                              const store::FaceFilter& filter) {
  auto e = Get(collection);
  if (!e.ok()) return e.status();
  return store_->ListFaces(collection, filter);
}

Result<FaceIdsResult> CollectionService::DeleteFaces(const std::string& collection,
                                                     const std::vector<std::string>& face_ids) {
  auto entry = Get(collection);
  if (!entry.ok()) return entry.status();
  Entry& e = *entry.value();
  FaceIdsResult out;
  std::lock_guard lock(e.write_mu);
  if (e.deleted) return Status(Code::kResourceNotFound, "The collection id: " + e.id + " does not exist");
  auto deleted = store_->DeleteFaces(collection, face_ids);  // durable from here
  if (!deleted.ok()) return deleted.status();
  std::vector<int64_t> labels;
  std::set<std::string> gone;
  for (const auto& f : deleted.value()) {
    labels.push_back(f.label);
    gone.insert(f.face_id);
    out.done.push_back(f.face_id);
  }
  e.index->Remove(labels);
  if (!labels.empty()) DropSnapshot(e.id);
  bg_cv_.notify_all();
  // Why the others stayed: unknown, or kept by a user.
  ARGUS_RETURN_IF_ERROR(
      ExplainNotDone(collection, face_ids, gone, "ASSOCIATED_TO_AN_EXISTING_USER", &out));
  return out;
}

Status CollectionService::ExplainNotDone(const std::string& collection,
                                         const std::vector<std::string>& face_ids,
                                         const std::set<std::string>& done,
                                         const char* owned_reason, FaceIdsResult* out) {
  store::FaceFilter f;
  for (const auto& id : face_ids)
    if (!done.count(id)) f.face_ids.push_back(id);
  if (f.face_ids.empty()) return Status::Ok();
  f.limit = int(f.face_ids.size());
  auto rest = store_->ListFaces(collection, f);
  if (!rest.ok()) return rest.status();
  std::unordered_map<std::string, std::string> owner;
  for (const auto& r : rest.value()) owner[r.face_id] = r.user_id;
  std::set<std::string> seen;
  for (const auto& id : f.face_ids) {
    if (!seen.insert(id).second) continue;
    auto it = owner.find(id);
    if (it == owner.end()) out->failed.push_back({id, "", -1, {"FACE_NOT_FOUND"}});
    else out->failed.push_back({id, it->second, -1, {owned_reason}});
  }
  return Status::Ok();
}

Result<std::vector<FaceMatch>> CollectionService::SearchDescriptor(
    const std::string& collection, const float* q, int max_faces, float threshold,
    const std::string& exclude_face_id) {
  auto entry = Get(collection);
  if (!entry.ok()) return entry.status();
  Entry& e = *entry.value();
  int k = max_faces + (exclude_face_id.empty() ? 0 : 1);
  auto hits = e.index->Search(q, k);
  std::vector<int64_t> labels;
  std::unordered_map<int64_t, float> sim;
  for (const auto& h : hits) {
    float s = SimilarityOfScore(h.score);
    if (s < threshold) break;  // hits are best first
    labels.push_back(h.label);
    sim[h.label] = s;
  }
  std::vector<FaceMatch> out;
  if (labels.empty()) return out;
  auto faces = store_->FacesByLabel(collection, labels);  // deleted meanwhile: absent
  if (!faces.ok()) return faces.status();
  for (auto& f : faces.value()) {
    if (f.face_id == exclude_face_id) continue;
    float s = sim[f.label];
    out.push_back({std::move(f), s});
  }
  std::sort(out.begin(), out.end(), [](const FaceMatch& a, const FaceMatch& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.face.label < b.face.label;
  });
  if (int(out.size()) > max_faces) out.resize(max_faces);
  return out;
}

Result<std::vector<FaceMatch>> CollectionService::SearchFaces(const std::string& collection,
                                                              const std::string& face_id,
                                                              int max_faces, float threshold) {
  auto entry = Get(collection);
  if (!entry.ok()) return entry.status();
  store::FaceFilter f;
  f.face_ids = {face_id};
  f.descriptors = true;
  auto face = store_->ListFaces(collection, f);
  if (!face.ok()) return face.status();
  if (face->empty()) {
    return Status(Code::kResourceNotFound,
                  "The face " + face_id + " does not exist in collection " + collection + ".");
  }
  return SearchDescriptor(collection, face->front().descriptor.data(), max_faces, threshold,
                          face_id);
}

Result<SearchByImageResult> CollectionService::SearchFacesByImage(const std::string& collection,
                                                                  const Image& image,
                                                                  int max_faces, float threshold,
                                                                  QualityFilter quality) {
  auto entry = Get(collection);
  if (!entry.ok()) return entry.status();
  ARGUS_RETURN_IF_ERROR(CheckModel(*entry.value()));
  auto analysed = Analyse(image, quality);
  if (!analysed.ok()) return analysed.status();
  if (analysed->empty()) return NoFace();
  SearchByImageResult r;
  FaceOutcome& largest = analysed->front();
  if (!largest.reasons.empty()) {
    return InvalidParameter("The largest face in the image did not pass the quality filter (" +
                            largest.reasons.front() + ").");
  }
  auto d = faces_->Describe(image, largest.detail);
  if (!d.ok()) return InvalidParameter("The largest face in the image cannot be described.");
  r.searched = largest.detail;
  auto m = SearchDescriptor(collection, d->data(), max_faces, threshold);
  if (!m.ok()) return m.status();
  r.matches = std::move(m.value());
  return r;
}

// ------------------------------------------------------------------- users

Status CollectionService::CreateUser(const std::string& collection, const std::string& user_id,
                                     const std::string& token) {
  return store_->CreateUser(collection, user_id, token, NowMs());
}

Status CollectionService::DeleteUser(const std::string& collection, const std::string& user_id) {
  ARGUS_RETURN_IF_ERROR(Get(collection).status());
  return store_->DeleteUser(collection, user_id);
}

Result<std::vector<store::User>> CollectionService::ListUsers(const std::string& collection,
                                                              const std::string& after,
                                                              int limit) {
  ARGUS_RETURN_IF_ERROR(Get(collection).status());
  return store_->ListUsers(collection, after, limit);
}

Result<FaceIdsResult> CollectionService::AssociateFaces(const std::string& collection,
                                                        const std::string& user_id,
                                                        const std::vector<std::string>& face_ids,
                                                        float threshold) {
  ARGUS_RETURN_IF_ERROR(Get(collection).status());
  auto user = store_->GetUser(collection, user_id);
  if (!user.ok()) return user.status();
  store::FaceFilter mine;
  mine.user_id = user_id;
  mine.limit = kMaxFacesPerUser + 1;
  mine.descriptors = true;
  auto reference = store_->ListFaces(collection, mine);
  if (!reference.ok()) return reference.status();
  store::FaceFilter wanted;
  wanted.face_ids = face_ids;
  wanted.limit = int(face_ids.size());
  wanted.descriptors = true;
  auto candidates = store_->ListFaces(collection, wanted);
  if (!candidates.ok()) return candidates.status();
  std::unordered_map<std::string, const store::Face*> by_id;
  for (const auto& c : candidates.value()) by_id[c.face_id] = &c;
  // Reference faces: the user's; for a user without faces, the first face
  // asked for that exists and is free.
  std::vector<std::vector<float>> ref;
  for (const auto& f : reference.value()) ref.push_back(f.descriptor);
  FaceIdsResult out;
  std::vector<std::string> accept;
  std::set<std::string> seen;
  for (const auto& id : face_ids) {
    if (!seen.insert(id).second) continue;
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      out.failed.push_back({id, "", -1, {"FACE_NOT_FOUND"}});
      continue;
    }
    const store::Face& f = *it->second;
    if (f.user_id == user_id) {
      out.done.push_back(id);  // already this user's
      continue;
    }
    if (!f.user_id.empty()) {
      out.failed.push_back({id, f.user_id, -1, {"ASSOCIATED_TO_A_DIFFERENT_USER"}});
      continue;
    }
    if (ref.empty()) {
      ref.push_back(f.descriptor);
      accept.push_back(id);
      continue;
    }
    float best = 0;
    for (const auto& r : ref) best = std::max(best, SimilarityOfScore(Dot(r, f.descriptor)));
    if (best < threshold) {
      out.failed.push_back({id, "", best, {"LOW_MATCH_CONFIDENCE"}});
      continue;
    }
    accept.push_back(id);
  }
  if (accept.empty()) return out;
  auto done = store_->AssociateFaces(collection, user_id, accept, kMaxFacesPerUser);
  if (!done.ok()) return done.status();
  std::set<std::string> ok(done->begin(), done->end());
  for (const auto& id : accept) {
    if (ok.count(id)) out.done.push_back(id);
    else out.failed.push_back({id, "", -1, {"ASSOCIATED_TO_A_DIFFERENT_USER"}});  // raced
  }
  return out;
}

Result<FaceIdsResult> CollectionService::DisassociateFaces(
    const std::string& collection, const std::string& user_id,
    const std::vector<std::string>& face_ids) {
  ARGUS_RETURN_IF_ERROR(Get(collection).status());
  auto done = store_->DisassociateFaces(collection, user_id, face_ids);
  if (!done.ok()) return done.status();
  FaceIdsResult out;
  out.done = done.value();
  ARGUS_RETURN_IF_ERROR(ExplainNotDone(collection, face_ids,
                                       std::set<std::string>(done->begin(), done->end()),
                                       "ASSOCIATED_TO_A_DIFFERENT_USER", &out));
  return out;
}

// A user's similarity is that of its best-matching face. Faces are read best
// first in growing batches until enough users are found or the similarity
// falls under the threshold.
Result<std::vector<UserMatch>> CollectionService::UsersLike(Entry& e, const float* q,
                                                            int max_users, float threshold,
                                                            const std::string& exclude_user) {
  std::vector<UserMatch> out;
  std::unordered_map<std::string, size_t> pos;
  const int kMaxScan = 16384;
  for (int k = 128;; k *= 4) {
    auto hits = e.index->Search(q, k);
    std::vector<int64_t> labels;
    std::unordered_map<int64_t, float> sim;
    bool below = false;
    for (const auto& h : hits) {
      float s = SimilarityOfScore(h.score);
      if (s < threshold) {
        below = true;
        break;
      }
      labels.push_back(h.label);
      sim[h.label] = s;
    }
    auto faces = store_->FacesByLabel(e.id, labels);
    if (!faces.ok()) return faces.status();
    out.clear();
    pos.clear();
    for (const auto& f : faces.value()) {
      if (f.user_id.empty() || f.user_id == exclude_user) continue;
      float s = sim[f.label];
      auto it = pos.find(f.user_id);
      if (it == pos.end()) {
        pos[f.user_id] = out.size();
        out.push_back({store::User{f.user_id, 0, 0}, s});
      } else {
        out[it->second].similarity = std::max(out[it->second].similarity, s);
      }
    }
    if (below || int(out.size()) >= max_users || int(hits.size()) < k || k >= kMaxScan) break;
  }
  std::sort(out.begin(), out.end(), [](const UserMatch& a, const UserMatch& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity
                                        : a.user.user_id < b.user.user_id;
  });
  if (int(out.size()) > max_users) out.resize(max_users);
  for (auto& m : out) {
    auto u = store_->GetUser(e.id, m.user.user_id);
    if (u.ok()) m.user = u.value();
  }
  return out;
}

Result<std::vector<UserMatch>> CollectionService::SearchUsers(const std::string& collection,
                                                              const std::string& user_id,
                                                              const std::string& face_id,
                                                              int max_users, float threshold) {
  auto entry = Get(collection);
  if (!entry.ok()) return entry.status();
  if (user_id.empty() == face_id.empty()) {
    return InvalidParameter("Specify exactly one of UserId and FaceId.");
  }
  std::vector<float> q;
  if (!face_id.empty()) {
    store::FaceFilter f;
    f.face_ids = {face_id};
    f.descriptors = true;
    auto face = store_->ListFaces(collection, f);
    if (!face.ok()) return face.status();
    if (face->empty()) {
      return Status(Code::kResourceNotFound,
                    "The face " + face_id + " does not exist in collection " + collection + ".");
    }
    q = face->front().descriptor;
    return UsersLike(*entry.value(), q.data(), max_users, threshold, "");
  }
  auto user = store_->GetUser(collection, user_id);
  if (!user.ok()) return user.status();
  store::FaceFilter f;
  f.user_id = user_id;
  f.descriptors = true;
  f.limit = kMaxFacesPerUser;
  auto faces = store_->ListFaces(collection, f);
  if (!faces.ok()) return faces.status();
  if (faces->empty()) return InvalidParameter("User " + user_id + " has no faces to search with.");
  // The user's faces' mean direction stands for the user.
  q.assign(config_.index.dim, 0.f);
  for (const auto& face : faces.value())
    for (int i = 0; i < config_.index.dim && i < int(face.descriptor.size()); ++i)
      q[i] += face.descriptor[i];
  double n = 0;
  for (float x : q) n += double(x) * x;
  n = std::sqrt(n);
  if (n > 0)
    for (float& x : q) x = float(x / n);
  return UsersLike(*entry.value(), q.data(), max_users, threshold, user_id);
}

Result<SearchByImageResult> CollectionService::SearchUsersByImage(
    const std::string& collection, const Image& image, int max_users, float threshold,
    QualityFilter quality, std::vector<UserMatch>* users) {
  auto entry = Get(collection);
  if (!entry.ok()) return entry.status();
  ARGUS_RETURN_IF_ERROR(CheckModel(*entry.value()));
  auto analysed = Analyse(image, quality);
  if (!analysed.ok()) return analysed.status();
  if (analysed->empty()) return NoFace();
  FaceOutcome& largest = analysed->front();
  if (!largest.reasons.empty()) {
    return InvalidParameter("The largest face in the image did not pass the quality filter (" +
                            largest.reasons.front() + ").");
  }
  auto d = faces_->Describe(image, largest.detail);
  if (!d.ok()) return InvalidParameter("The largest face in the image cannot be described.");
  SearchByImageResult r;
  r.searched = largest.detail;
  for (size_t i = 1; i < analysed->size(); ++i) {
    FaceOutcome o = (*analysed)[i];
    o.reasons.insert(o.reasons.begin(), "FACE_NOT_LARGEST");
    r.unsearched.push_back(std::move(o));
  }
  auto m = UsersLike(*entry.value(), d->data(), max_users, threshold, "");
  if (!m.ok()) return m.status();
  *users = std::move(m.value());
  return r;
}

// -------------------------------------------------------------- background

Result<CollectionService::IndexInfo> CollectionService::Info(const std::string& collection) {
  auto e = Get(collection);
  if (!e.ok()) return e.status();
  return IndexInfo{e.value()->index->size(), e.value()->index->is_graph(),
                   e.value()->loaded_from};
}

Status CollectionService::RebuildNow(const std::string& collection) {
  auto e = Get(collection);
  if (!e.ok()) return e.status();
  if (!e.value()->index->NeedsRebuild()) return Status::Ok();
  return e.value()->index->Rebuild();
}

Status CollectionService::SnapshotNow(const std::string& collection) {
  auto e = Get(collection);
  if (!e.ok()) return e.status();
  Entry& x = *e.value();
  uint64_t v = x.index->version();
  index::SnapshotMeta meta{x.id, x.created_ms, x.model_version};
  ARGUS_RETURN_IF_ERROR(x.index->Save(SnapshotPath(x.id), meta));
  x.snapshot_version = v;
  x.last_snapshot = std::chrono::steady_clock::now();
  return Status::Ok();
}

void CollectionService::Background() {
  // Signals are for the thread that serves (SIGTERM/SIGINT stop the server).
  sigset_t signals;
  sigfillset(&signals);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::unique_lock lock(bg_mu_);
  while (!stop_) {
    bg_cv_.wait_for(lock, std::chrono::seconds(1));
    if (stop_) break;
    lock.unlock();
    std::vector<std::shared_ptr<Entry>> all;
    {
      std::shared_lock ml(map_mu_);
      for (auto& [id, e] : entries_) all.push_back(e);
    }
    for (auto& e : all) {
      if (e->index->NeedsRebuild()) {
        auto t0 = std::chrono::steady_clock::now();
        Status st = e->index->Rebuild();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!st.ok()) log::Error("collection " + e->id + ": " + st.message());
        else
          log::Info("collection " + e->id + ": index rebuilt as " +
                    (e->index->is_graph() ? "HNSW" : "exact") + " over " +
                    std::to_string(e->index->size()) + " faces in " + std::to_string(s) + " s");
      }
      auto since = std::chrono::steady_clock::now() - e->last_snapshot;
      if (e->index->is_graph() && e->index->version() != e->snapshot_version &&
          since >= std::chrono::seconds(config_.snapshot_interval_s)) {
        Status st = SnapshotNow(e->id);
        if (!st.ok()) log::Warn(st.message());
      }
      std::lock_guard sl(bg_mu_);
      if (stop_) break;
    }
    lock.lock();
  }
}

}  // namespace argus::service
