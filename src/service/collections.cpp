// Collections: opening the service, the collection operations, tags,
// retention; and the helpers the service's files share.
#include "service/collections.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <unordered_map>

#include "core/hash.h"
#include "core/log.h"
#include "service/collections_internal.h"

namespace argus::service {

namespace internal {

std::string ImageId(const Image& image) {
  cv::Mat m = image.bgr.isContinuous() ? image.bgr : image.bgr.clone();
  std::string h =
      Sha256Hex(std::string_view(reinterpret_cast<const char*>(m.data), m.total() * m.elemSize())) +
      std::to_string(m.cols) + "x" + std::to_string(m.rows);
  h = Sha256Hex(h);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

float SimilarityOfScore(float ip) {
  return FaceService::SimilarityFromDistance(std::sqrt(std::max(0.f, 2.f - 2.f * ip)));
}

Status NoFace() {
  return InvalidParameter("There are no faces in the image. Should be at least 1.");
}

}  // namespace internal

using namespace internal;

CollectionService::CollectionService(const CollectionsConfig& config, FaceService* faces)
    : config_(config), faces_(faces) {
  // The indexes hold the embedder's descriptors, whatever its dimension.
  if (faces_ && faces_->DescriptorDimension() > 0)
    config_.index.dim = faces_->DescriptorDimension();
}

Result<std::unique_ptr<CollectionService>> CollectionService::Open(
    const CollectionsConfig& config, FaceService* faces, std::shared_ptr<store::Store> store) {
  std::unique_ptr<CollectionService> s(new CollectionService(config, faces));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(config.data_dir) / "index", ec);
  if (ec) return Internal("cannot create " + config.data_dir + "/index: " + ec.message());
  // One process owns a data dir: its indexes mirror the store.
  std::string lock_path = (std::filesystem::path(config.data_dir) / "argus.lock").string();
  s->lock_fd_ = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (s->lock_fd_ < 0 || ::flock(s->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status(Code::kResourceInUse, "data dir " + config.data_dir +
                                            " is in use by another argus process (stop it, or "
                                            "use its API)");
  }
  if (!store) {
    auto st =
        store::Store::OpenSqlite((std::filesystem::path(config.data_dir) / "argus.db").string());
    if (!st.ok()) return st.status();
    store = std::move(st.value());
  }
  s->store_ = std::move(store);
  s->RemoveForeignSnapshots();
  // Shared store: changes committed from here on are followed; those the
  // loading below already sees are recognised and left alone.
  if (s->store_->SharesChanges()) {
    auto high = s->store_->ChangeHighWater();
    if (!high.ok()) return high.status();
    s->applied_change_ = high.value();
  }
  std::string after;
  for (;;) {
    auto page = s->store_->ListCollections(after, 1000);
    if (!page.ok()) return page.status();
    for (const auto& c : page.value()) ARGUS_RETURN_IF_ERROR(s->LoadCollection(c));
    if (page->size() < 1000) break;
    after = page->back().id;
  }
  if (config.background) s->bg_ = std::thread([p = s.get()] { p->Background(); });
  if (s->store_->SharesChanges()) {
    ARGUS_RETURN_IF_ERROR(s->CatchUp());
    s->follow_ = std::thread([p = s.get()] { p->Follow(); });
  }
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
  if (follow_.joinable()) follow_.join();
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

std::shared_ptr<CollectionService::Entry> CollectionService::Find(const std::string& id) {
  std::shared_lock lock(map_mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<CollectionService::Entry>> CollectionService::Get(const std::string& id) {
  if (auto e = Find(id)) return e;
  // A shared store: another node may have created the collection after
  // this node last caught up (a client that created it through one node and
  // uses it through another at once), so the store decides; while it is
  // unreachable, that it does not exist cannot be known either.
  if (store_->SharesChanges()) {
    auto c = store_->GetCollection(id);
    if (!c.ok() && c.status().code() != Code::kResourceNotFound) return c.status();
    if (c.ok()) {
      std::lock_guard lock(follow_mu_);  // as the follower loads one
      if (auto e = Find(id)) return e;
      ARGUS_RETURN_IF_ERROR(LoadCollection(c.value()));
      if (auto e = Find(id)) return e;
    }
  }
  return Status(Code::kResourceNotFound, "The collection id: " + id + " does not exist");
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

Result<std::string> CollectionService::CollectionOfArn(const std::string& arn) const {
  std::string prefix =
      "arn:aws:rekognition:" + config_.region + ":" + config_.account_id + ":collection/";
  if (arn.size() <= prefix.size() || arn.compare(0, prefix.size(), prefix) != 0) {
    return Status(
        Code::kResourceNotFound,
        "The resource " + arn + " does not exist: argus tags collections, " + prefix + "ID");
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

}  // namespace argus::service
