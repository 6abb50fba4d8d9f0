// Faces: IndexFaces (with the request's audit record in the same
// transaction when one is installed), ListFaces, DeleteFaces and face search.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "core/hash.h"
#include "core/log.h"
#include "service/collections_internal.h"

namespace argus::service {

using namespace internal;

namespace {

struct EnrolmentAuditSlot {
  store::AuditRecord* record = nullptr;
  std::function<std::string(const store::AuditRecord&)> hash;
  bool written = false;
};
thread_local EnrolmentAuditSlot enrolment_audit;

}  // namespace

void BeginEnrolmentAudit(store::AuditRecord* record,
                         std::function<std::string(const store::AuditRecord&)> hash) {
  enrolment_audit = {record, std::move(hash), false};
}

bool EndEnrolmentAudit() {
  bool written = enrolment_audit.written;
  enrolment_audit = {};
  return written;
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
  std::unique_lock lock(e.write_mu);
  if (e.deleted)
    return Status(Code::kResourceNotFound, "The collection id: " + e.id + " does not exist");
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
    f.face_id = NewUuidV4();
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
  // The request's audit record, when installed, commits with the faces.
  store::AuditAppend audit;
  if (enrolment_audit.record) {
    enrolment_audit.record->outcome = "ok";
    enrolment_audit.record->matches = int64_t(result.indexed.size());
    audit = {enrolment_audit.record, enrolment_audit.hash};
  }
  if (Status st = store_->InsertFaces(e.id, fresh, audit.record ? &audit : nullptr); !st.ok()) {
    if (audit.record) {
      audit.record->outcome.clear();
      audit.record->matches.reset();
    }
    return st;
  }
  enrolment_audit.written = audit.record != nullptr;  // durable from here
  std::vector<int64_t> labels;
  std::vector<float> vecs;
  for (size_t i = 0; i < fresh.size(); ++i) {
    labels.push_back(fresh[i].label);
    vecs.insert(vecs.end(), fresh[i].descriptor.begin(), fresh[i].descriptor.end());
    fresh[i].descriptor.clear();
    result.indexed[slot[i]].first = std::move(fresh[i]);
  }
  if (store_->SharesChanges()) {
    // Other nodes write this collection too: its index takes changes in
    // the store's commit order only, ours with theirs. Caught up before the
    // answer, so this node finds the faces as soon as they are acknowledged.
    lock.unlock();
    if (Status st = CatchUp(); !st.ok()) {
      log::Warn("collection " + e.id + ": following changes: " + st.message() +
                " (the faces are stored; the index takes them when the store is back)");
    }
    bg_cv_.notify_all();
    return result;
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
  if (e.deleted)
    return Status(Code::kResourceNotFound, "The collection id: " + e.id + " does not exist");
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
    if (it == owner.end())
      out->failed.push_back({id, "", -1, {"FACE_NOT_FOUND"}});
    else
      out->failed.push_back({id, it->second, -1, {owned_reason}});
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
                                                                  const Image& image, int max_faces,
                                                                  float threshold,
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

}  // namespace argus::service
