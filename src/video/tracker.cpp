#include "video/tracker.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace argus::video {
namespace {

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

cv::Point2f Centre(const cv::Rect2f& r) { return {r.x + r.width / 2, r.y + r.height / 2}; }

}  // namespace

float Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.empty() || a.size() != b.size()) return 0.f;
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  if (na <= 0 || nb <= 0) return 0.f;
  return float(dot / std::sqrt(na * nb));
}

std::vector<int> Tracker::Update(const std::vector<TrackDetection>& dets, bool cut) {
  std::vector<int> ids(dets.size(), -1);
  // Admissible pairs with their scores.
  std::vector<std::tuple<float, size_t, size_t>> pairs;  // score, track, detection
  for (size_t t = 0; t < live_.size(); ++t) {
    const Track& tr = live_[t];
    const float steps = float(frame_ - tr.last_frame);
    cv::Rect2f pred = tr.box;
    pred.x += tr.velocity.x * steps;
    pred.y += tr.velocity.y * steps;
    const float diag = std::hypot(tr.box.width, tr.box.height);
    for (size_t d = 0; d < dets.size(); ++d) {
      const float iou = IoU(pred, dets[d].box);
      const bool both = !tr.descriptor.empty() && !dets[d].descriptor.empty();
      const float cos = both ? Cosine(tr.descriptor, dets[d].descriptor) : 0.f;
      if (both && cos < options_.min_similarity) continue;
      bool ok = !cut && iou >= options_.min_iou;
      if (!ok && both && cos >= options_.reid_similarity) {
        const cv::Point2f shift = Centre(dets[d].box) - Centre(tr.box);
        ok = cut || std::hypot(shift.x, shift.y) <= options_.reid_max_shift * diag;
      }
      if (ok) pairs.emplace_back((cut ? 0.f : iou) + options_.similarity_weight * cos, t, d);
    }
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<bool> track_used(live_.size(), false), det_used(dets.size(), false);
  for (const auto& [score, t, d] : pairs) {
    if (track_used[t] || det_used[d]) continue;
    track_used[t] = det_used[d] = true;
    Track& tr = live_[t];
    const float steps = float(std::max<int64_t>(1, frame_ - tr.last_frame));
    const cv::Point2f shift = (Centre(dets[d].box) - Centre(tr.box)) / steps;
    // A jump across a cut is not motion.
    tr.velocity = cut ? cv::Point2f() : tr.hits == 1 ? shift : tr.velocity * 0.5f + shift * 0.5f;
    tr.box = dets[d].box;
    tr.last_frame = frame_;
    ++tr.hits;
    if (!dets[d].descriptor.empty() &&
        (tr.descriptor.empty() || dets[d].confidence >= options_.min_descriptor_confidence)) {
      if (tr.descriptor.size() != dets[d].descriptor.size()) {
        tr.descriptor = dets[d].descriptor;
      } else {
        // A running mean, renormalised, so one blurred frame does not
        // replace the track's appearance.
        double n = 0;
        for (size_t i = 0; i < tr.descriptor.size(); ++i) {
          tr.descriptor[i] = 0.8f * tr.descriptor[i] + 0.2f * dets[d].descriptor[i];
          n += double(tr.descriptor[i]) * tr.descriptor[i];
        }
        const float inv = n > 0 ? float(1.0 / std::sqrt(n)) : 0.f;
        for (float& v : tr.descriptor) v *= inv;
      }
    }
    ids[d] = tr.id;
  }
  // Births.
  for (size_t d = 0; d < dets.size(); ++d) {
    if (det_used[d] || dets[d].confidence < options_.min_birth_confidence) continue;
    Track tr;
    tr.id = next_id_++;
    tr.box = dets[d].box;
    tr.descriptor = dets[d].descriptor;
    tr.first_frame = tr.last_frame = frame_;
    tr.first_x = dets[d].box.x;
    tr.hits = 1;
    ids[d] = tr.id;
    live_.push_back(std::move(tr));
  }
  // Ends.
  for (size_t t = 0; t < live_.size();) {
    if (frame_ - live_[t].last_frame > options_.max_lost) {
      ended_.push_back(std::move(live_[t]));
      live_.erase(live_.begin() + long(t));
    } else {
      ++t;
    }
  }
  ++frame_;
  return ids;
}

std::map<int, int64_t> Tracker::Indices() const {
  std::vector<const Track*> kept;
  for (const auto* list : {&ended_, &live_})
    for (const Track& t : *list)
      if (t.hits >= options_.min_hits) kept.push_back(&t);
  std::sort(kept.begin(), kept.end(), [](const Track* a, const Track* b) {
    if (a->first_frame != b->first_frame) return a->first_frame < b->first_frame;
    if (a->first_x != b->first_x) return a->first_x < b->first_x;
    return a->id < b->id;
  });
  std::map<int, int64_t> out;
  for (size_t i = 0; i < kept.size(); ++i) out[kept[i]->id] = int64_t(i);
  return out;
}

}  // namespace argus::video
