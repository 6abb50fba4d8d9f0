// Users: creation, association of faces, and search by user.
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
                                                              const std::string& after, int limit) {
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
    if (ok.count(id))
      out.done.push_back(id);
    else
      out.failed.push_back({id, "", -1, {"ASSOCIATED_TO_A_DIFFERENT_USER"}});  // raced
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
Result<std::vector<UserMatch>> CollectionService::UsersLike(Entry& e, const float* q, int max_users,
                                                            float threshold,
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

Result<SearchByImageResult> CollectionService::SearchUsersByImage(const std::string& collection,
                                                                  const Image& image, int max_users,
                                                                  float threshold,
                                                                  QualityFilter quality,
                                                                  std::vector<UserMatch>* users) {
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
}  // namespace argus::service
