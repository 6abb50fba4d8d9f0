// The frame-by-frame analyses of video.h over the image services: faces,
// people tracking, face search, labels, moderation and text.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <utility>

#include "service/faces.h"
#include "video/analysis_util.h"
#include "video/segments_internal.h"
#include "video/tracker.h"
#include "video/video.h"

namespace argus::video {

Status Cancelled() { return Internal("The job was cancelled."); }

namespace internal {

Status Unavailable(const char* model) {
  return {Code::kServiceUnavailable,
          std::string("The ") + model + " model is not available on this server."};
}

Status ForEachFrame(VideoReader& reader, double fps, const ProgressFn& progress,
                    const std::function<Status(const Frame&)>& fn) {
  using Clock = std::chrono::steady_clock;
  const double duration = double(std::max<int64_t>(1, reader.metadata().duration_ms));
  if (progress && !progress(0.0)) return Cancelled();
  auto last = Clock::now();
  Frame frame;
  while (true) {
    auto more = reader.Next(frame, fps);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    ARGUS_RETURN_IF_ERROR(fn(frame));
    if (progress && Clock::now() - last >= std::chrono::milliseconds(500)) {
      last = Clock::now();
      if (!progress(std::min(0.999, double(frame.timestamp_ms) / duration))) return Cancelled();
    }
  }
  if (progress && !progress(1.0)) return Cancelled();
  return Status::Ok();
}

int64_t RunGapMs(double rate, const VideoMetadata& meta) {
  const double gap =
      rate > 0 ? 1000.0 / rate : (meta.frame_rate > 0 ? 1000.0 / meta.frame_rate : 40);
  const double frame = meta.frame_rate > 0 ? 1000.0 / meta.frame_rate : 40;
  return int64_t(std::ceil(2 * gap + frame));
}

}  // namespace internal

using internal::BodyFromFace;
using internal::FaceBodies;
using internal::ForEachFrame;
using internal::Unavailable;

namespace {

Image ToImage(const Frame& f) {
  Image img;
  img.bgr = f.bgr;
  return img;
}

// The faces of a sampled frame (service::DetectOptions::video_frame).
Result<std::vector<service::FaceDetail>> FramesFaces(service::FaceService& faces,
                                                     const Image& img) {
  service::DetectOptions o;
  o.video_frame = true;
  return faces.DetectFaces(img, o);
}

// Runs of one name: a run continues while the name is seen again within
// `max_gap_ms` of its last sighting. T is the item type, keyed by name.
template <typename Item>
class Runs {
 public:
  explicit Runs(int64_t max_gap_ms) : max_gap_ms_(max_gap_ms) {}
  // `confidence` decides which sighting represents the run.
  void See(const std::string& name, int64_t ts, float confidence, Item item) {
    auto it = open_.find(name);
    if (it != open_.end() && ts - it->second.last > max_gap_ms_) {
      Close(it->second);
      open_.erase(it);
      it = open_.end();
    }
    if (it == open_.end()) {
      open_.emplace(name, Run{ts, ts, confidence, std::move(item)});
      return;
    }
    Run& r = it->second;
    r.last = ts;
    if (confidence > r.best) {
      r.best = confidence;
      r.item = std::move(item);
    }
  }
  std::vector<Item> Finish() {
    for (auto& [name, r] : open_) Close(r);
    open_.clear();
    std::stable_sort(done_.begin(), done_.end(),
                     [](const Item& a, const Item& b) { return a.start_ms < b.start_ms; });
    return std::move(done_);
  }

 private:
  struct Run {
    int64_t start, last;
    float best;
    Item item;
  };
  void Close(Run& r) {
    r.item.timestamp_ms = r.item.start_ms = r.start;
    r.item.end_ms = r.last;
    r.item.duration_ms = r.last - r.start;
    done_.push_back(std::move(r.item));
  }
  int64_t max_gap_ms_;
  std::map<std::string, Run> open_;
  std::vector<Item> done_;
};

// The items of a label or moderation job: one per label per sampled frame,
// or (aggregate) one per run of a label name.
template <typename Item>
class Collected {
 public:
  Collected(bool aggregate, int64_t max_gap_ms) : aggregate_(aggregate), runs_(max_gap_ms) {}
  void Add(int64_t ts, const std::string& name, float confidence, Item item) {
    item.timestamp_ms = item.start_ms = item.end_ms = ts;
    if (aggregate_)
      runs_.See(name, ts, confidence, std::move(item));
    else
      items_.push_back(std::move(item));
  }
  std::vector<Item> Finish() { return aggregate_ ? runs_.Finish() : std::move(items_); }

 private:
  bool aggregate_;
  Runs<Item> runs_;
  std::vector<Item> items_;
};

// A colour descriptor of a body: a hue/saturation histogram of the middle
// of its box (the torso), square-rooted and L2-normalised.
std::vector<float> BodyDescriptor(const cv::Mat& bgr, const cv::Rect2f& box) {
  cv::Rect r(int(box.x + box.width * 0.2f), int(box.y + box.height * 0.15f), int(box.width * 0.6f),
             int(box.height * 0.5f));
  r &= cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (r.width < 4 || r.height < 4) return {};
  cv::Mat hsv;
  cv::cvtColor(bgr(r), hsv, cv::COLOR_BGR2HSV);
  constexpr int kHue = 12, kSat = 4, kGrey = 4;
  std::vector<float> h(kHue * kSat + kGrey, 0.f);
  for (int y = 0; y < hsv.rows; ++y) {
    const auto* p = hsv.ptr<cv::Vec3b>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      const int s = p[x][1], v = p[x][2];
      if (s < 40 || v < 40)
        h[kHue * kSat + std::min(kGrey - 1, v * kGrey / 256)] += 1;
      else
        h[std::min(kHue - 1, p[x][0] * kHue / 180) * kSat + std::min(kSat - 1, s * kSat / 256)] +=
            1;
    }
  }
  double n = 0;
  for (float& v : h) {
    v = std::sqrt(v);
    n += double(v) * v;
  }
  if (n <= 0) return {};
  for (float& v : h) v = float(v / std::sqrt(n));
  return h;
}

struct Observation {
  int64_t timestamp_ms = 0;
  int track = -1;
  std::optional<cv::Rect2f> body;
  std::optional<service::FaceDetail> face;
  std::vector<float> descriptor;            // face search: the face's own
  std::vector<service::FaceMatch> matches;  // face search: confirmed by this face
};

Result<std::vector<cv::Rect2f>> DetectBodies(service::LabelService& labels, const Image& img) {
  service::LabelOptions o;
  o.include_labels = {"Person"};
  o.min_confidence = 50.f;
  auto r = labels.DetectLabels(img, o);
  if (!r.ok()) return r.status();
  std::vector<cv::Rect2f> out;
  for (const auto& l : r->labels)
    if (l.name == "Person")
      for (const auto& inst : l.instances) out.push_back(inst.box);
  return out;
}

// Pairs faces with bodies; faces without a body get an estimated one.
void PairFacesAndBodies(const std::vector<cv::Rect2f>& bodies,
                        std::vector<service::FaceDetail>& faces, const cv::Size& size,
                        std::vector<Observation>& obs, std::vector<cv::Rect2f>& boxes) {
  std::vector<cv::Rect2f> face_boxes;
  for (const auto& f : faces) face_boxes.push_back(f.box);
  const std::vector<int> face_body = FaceBodies(bodies, face_boxes);
  for (size_t b = 0; b < bodies.size(); ++b) {
    Observation o;
    o.body = bodies[b];
    for (size_t f = 0; f < faces.size(); ++f)
      if (face_body[f] == int(b)) o.face = faces[f];
    obs.push_back(std::move(o));
    boxes.push_back(bodies[b]);
  }
  for (size_t f = 0; f < faces.size(); ++f) {
    if (face_body[f] >= 0) continue;
    Observation o;
    o.face = faces[f];
    obs.push_back(std::move(o));
    boxes.push_back(BodyFromFace(faces[f].box, size));
  }
}

std::vector<PersonItem> ToPersonItems(const std::vector<Observation>& obs, const Tracker& tracker) {
  const auto indices = tracker.Indices();
  std::vector<PersonItem> items;
  for (const auto& o : obs) {
    auto it = indices.find(o.track);
    if (it == indices.end()) continue;
    PersonItem p;
    p.timestamp_ms = o.timestamp_ms;
    p.index = it->second;
    p.body = o.body;
    p.face = o.face;
    p.matches = o.matches;
    items.push_back(std::move(p));
  }
  std::stable_sort(items.begin(), items.end(), [](const PersonItem& a, const PersonItem& b) {
    return a.timestamp_ms != b.timestamp_ms ? a.timestamp_ms < b.timestamp_ms : a.index < b.index;
  });
  return items;
}

// Faces at least this confident (0..100) are searched and update their
// track's descriptor; a track with none searches its other faces.
constexpr float kSearchConfidence = 80.f;

// The descriptors a track searches: its confident faces (or, while it has
// none, its others), at most kMax spread evenly over the track (when full,
// every other one is dropped and only every other later face is taken).
class Spread {
 public:
  static constexpr size_t kMax = 32;
  void Add(std::vector<float> d, bool confident) {
    if (confident && !confident_) {
      list_.clear();
      stride_ = 1;
      seen_ = 0;
      confident_ = true;
    }
    if (confident != confident_) return;
    if (seen_++ % stride_ != 0) return;
    list_.push_back(std::move(d));
    if (list_.size() >= kMax) {
      std::vector<std::vector<float>> half;
      for (size_t i = 0; i < list_.size(); i += 2) half.push_back(std::move(list_[i]));
      list_ = std::move(half);
      stride_ *= 2;
    }
  }
  const std::vector<std::vector<float>>& Descriptors() const { return list_; }

 private:
  std::vector<std::vector<float>> list_;
  int64_t stride_ = 1, seen_ = 0;
  bool confident_ = false;
};

// Hard cuts between consecutive sampled frames, by DetectSegments' colour
// signature and its shot threshold.
class Cuts {
 public:
  bool Before(const cv::Mat& bgr) {
    internal::FrameSignature sig = internal::Signature(bgr, /*black_threshold=*/0.2f);
    const bool cut = prev_ && internal::Difference(*prev_, sig) >= internal::kShotCutThreshold;
    prev_ = sig;
    return cut;
  }

 private:
  std::optional<internal::FrameSignature> prev_;
};

// The faces of one sampled frame, and whether a hard cut came before it.
struct FrameFaces {
  std::vector<service::FaceDetail> faces;
  bool cut = false;
};

// The faces of consecutive sampled frames, detected then tracked
// (SampleRates::faces_full_every_ms).
class FaceSequence {
 public:
  FaceSequence(service::FaceService& faces, int64_t full_every_ms)
      : faces_(faces), full_every_ms_(full_every_ms) {}

  Result<FrameFaces> Next(const Frame& f) {
    FrameFaces out;
    out.cut = cuts_.Before(f.bgr);
    const Image img = ToImage(f);
    std::optional<std::vector<service::FaceDetail>> found;
    if (full_every_ms_ > 0 && last_full_ && !out.cut &&
        f.timestamp_ms - *last_full_ < full_every_ms_) {
      ARGUS_ASSIGN(near, faces_.DetectFacesNear(img, known_));
      found = std::move(near);
    }
    if (!found) {
      ARGUS_ASSIGN(all, FramesFaces(faces_, img));
      found = std::move(all);
      last_full_ = f.timestamp_ms;
    }
    known_.clear();
    for (const auto& fd : *found) known_.push_back(fd.box);
    out.faces = std::move(*found);
    return out;
  }

 private:
  service::FaceService& faces_;
  int64_t full_every_ms_;
  std::optional<int64_t> last_full_;
  std::vector<cv::Rect2f> known_;
  Cuts cuts_;
};

// The cosine of two unit face descriptors `similarity` similar.
float CosineAtSimilarity(float similarity) {
  const float d = service::FaceService::DistanceAtSimilarity(similarity);
  return 1.f - d * d / 2.f;
}

int SampledFrames(double seconds, double rate) {
  return std::max(1, int(std::ceil(seconds * (rate > 0 ? rate : 25))));
}

}  // namespace

Result<std::vector<FaceItem>> DetectFaces(VideoReader& reader, const Services& s,
                                          bool all_attributes, const SampleRates& rates,
                                          const ProgressFn& progress) {
  if (!s.faces) return Unavailable("face detection");
  using Faces = std::vector<service::FaceDetail>;
  std::vector<FaceItem> items;
  FaceSequence sequence(*s.faces, rates.faces_full_every_ms);
  Status st = internal::ForEachFrameInStages<FrameFaces, Faces>(
      reader, rates.faces, progress, [&](const Frame& f) { return sequence.Next(f); },
      [&](const Frame& f, FrameFaces& found) -> Result<Faces> {
        Faces faces = std::move(found.faces);
        if (all_attributes && !faces.empty()) {
          const Image img = ToImage(f);
          std::vector<service::FaceDetail*> ptrs;
          for (auto& fd : faces)
            if (!fd.landmarks68.empty()) ptrs.push_back(&fd);
          ARGUS_RETURN_IF_ERROR(s.faces->AnalyzeAll(img, ptrs, vision::kAttrAll));
        }
        return faces;
      },
      [&](const Frame& f, Faces& faces) -> Status {
        for (auto& fd : faces) items.push_back({f.timestamp_ms, std::move(fd)});
        return Status::Ok();
      });
  if (!st.ok()) return st;
  return items;
}

Result<std::vector<PersonItem>> TrackPersons(VideoReader& reader, const Services& s,
                                             const SampleRates& rates, const ProgressFn& progress) {
  if (!s.labels) return Unavailable("object detection");
  TrackerOptions to;
  to.min_iou = 0.2f;
  to.reid_similarity = 0.9f;
  to.reid_max_shift = 1.5f;
  to.similarity_weight = 0.3f;
  to.max_lost = SampledFrames(2.0, rates.persons);
  to.min_hits = 3;
  Tracker tracker(to);
  std::vector<Observation> all;
  Cuts cuts;
  struct Seen {
    std::vector<Observation> obs;
    std::vector<TrackDetection> dets;
  };
  Status st = internal::ForEachFrameSideBySide<Seen>(
      reader, rates.persons, progress,
      [&](const Frame& f) -> Result<Seen> {
        const Image img = ToImage(f);
        ARGUS_ASSIGN(bodies, DetectBodies(*s.labels, img));
        std::vector<service::FaceDetail> faces;
        if (s.faces && !bodies.empty()) {
          ARGUS_ASSIGN(found, FramesFaces(*s.faces, img));
          faces = std::move(found);
        }
        Seen seen;
        std::vector<cv::Rect2f> boxes;
        PairFacesAndBodies(bodies, faces, f.bgr.size(), seen.obs, boxes);
        for (size_t i = 0; i < seen.obs.size(); ++i) {
          TrackDetection d;
          d.box = boxes[i];
          d.descriptor = BodyDescriptor(f.bgr, boxes[i]);
          seen.dets.push_back(std::move(d));
        }
        return seen;
      },
      [&](const Frame& f, Seen& seen) -> Status {
        const auto ids = tracker.Update(seen.dets, cuts.Before(f.bgr));
        for (size_t i = 0; i < seen.obs.size(); ++i) {
          seen.obs[i].timestamp_ms = f.timestamp_ms;
          seen.obs[i].track = ids[i];
          all.push_back(std::move(seen.obs[i]));
        }
        return Status::Ok();
      });
  if (!st.ok()) return st;
  return ToPersonItems(all, tracker);
}

Result<std::vector<PersonItem>> SearchFaces(VideoReader& reader, const Services& s,
                                            const std::string& collection, float threshold,
                                            const SampleRates& rates, const ProgressFn& progress) {
  if (!s.faces) return Unavailable("face detection");
  if (!s.collections) return Unavailable("face search");
  {
    auto c = s.collections->DescribeCollection(collection);
    if (!c.ok()) return c.status();
  }
  // On the Similarity scale calibrated on celeba-dev's impostor pairs
  // (their distances average 0.564, cosine 0.84, so a cosine alone says
  // little): a face joins a track it does not overlap only at Similarity
  // 80 or more (a false match rate of 1e-2), and never one it is less than
  // 10 similar to (distance 0.51), overlap or not.
  TrackerOptions to;
  to.min_iou = 0.1f;
  to.min_similarity = CosineAtSimilarity(10);
  to.reid_similarity = CosineAtSimilarity(80);
  to.reid_max_shift = 4.f;
  to.similarity_weight = 0.5f;
  to.max_lost = SampledFrames(2.0, rates.faces);
  to.min_hits = 3;
  to.min_descriptor_confidence = kSearchConfidence;
  Tracker tracker(to);
  std::map<int, Spread> searched;  // track id -> descriptors to search
  std::vector<Observation> all;
  struct Seen {
    std::vector<service::FaceDetail> described;
    std::vector<std::vector<float>> vectors;
    std::vector<cv::Rect2f> bodies;
    bool cut = false;
  };
  FaceSequence sequence(*s.faces, rates.faces_full_every_ms);
  auto analyse = [&](const Frame& f, FrameFaces& detected) -> Result<Seen> {
    const Image img = ToImage(f);
    const auto& faces = detected.faces;
    Seen seen;
    seen.cut = detected.cut;
    std::vector<const service::FaceDetail*> ptrs;
    for (const auto& fd : faces)
      if (!fd.landmarks68.empty()) ptrs.push_back(&fd);
    auto descs = s.faces->DescribeAll(img, ptrs);
    for (size_t i = 0; i < ptrs.size(); ++i) {
      if (!descs[i].ok()) continue;
      seen.described.push_back(*ptrs[i]);
      seen.vectors.push_back(std::move(descs[i].value()));
    }
    if (s.labels && !seen.described.empty()) {
      ARGUS_ASSIGN(found, DetectBodies(*s.labels, img));
      seen.bodies = std::move(found);
    }
    return seen;
  };
  auto merge = [&](const Frame& f, Seen& seen) -> Status {
    const bool cut = seen.cut;
    auto& described = seen.described;
    auto& vectors = seen.vectors;
    const auto& bodies = seen.bodies;
    std::vector<TrackDetection> dets;
    std::vector<cv::Rect2f> face_boxes;
    for (size_t i = 0; i < described.size(); ++i) {
      dets.push_back({described[i].box, described[i].confidence, vectors[i]});
      face_boxes.push_back(described[i].box);
    }
    const auto ids = tracker.Update(dets, cut);
    const std::vector<int> body_of = FaceBodies(bodies, face_boxes);
    for (size_t i = 0; i < described.size(); ++i) {
      Observation o;
      o.timestamp_ms = f.timestamp_ms;
      o.track = ids[i];
      if (body_of[i] >= 0) o.body = bodies[size_t(body_of[i])];
      o.descriptor = vectors[i];
      searched[ids[i]].Add(std::move(vectors[i]), described[i].confidence >= kSearchConfidence);
      o.face = std::move(described[i]);
      all.push_back(std::move(o));
    }
    return Status::Ok();
  };
  Status st = internal::ForEachFrameInStages<FrameFaces, Seen>(
      reader, rates.faces, progress, [&](const Frame& f) { return sequence.Next(f); }, analyse,
      merge);
  if (!st.ok()) return st;
  // A stored face matches a track when at least a quarter of the track's
  // searched faces find it at or above the threshold.
  std::map<int, std::set<std::string>> matches;  // track id -> face ids
  for (const auto& [id, index] : tracker.Indices()) {
    const auto& list = searched[id].Descriptors();
    std::map<std::string, std::pair<int, service::FaceMatch>> found_by;
    for (const auto& d : list) {
      auto found = s.collections->SearchDescriptor(collection, d.data(), 10, threshold);
      if (!found.ok()) return found.status();
      for (auto& m : found.value()) {
        auto [it, fresh] = found_by.try_emplace(m.face.face_id, 0, m);
        ++it->second.first;
        if (m.similarity > it->second.second.similarity) it->second.second = m;
      }
    }
    const int needed = std::max<int>(1, int((list.size() + 3) / 4));
    for (auto& [fid, entry] : found_by)
      if (entry.first >= needed) matches[id].insert(fid);
  }
  // Each sighting reports the track's matches that its own face finds at or
  // above the threshold, with its own similarity: a track that strayed onto
  // someone else (a cut the colours do not show) does not lend them its
  // identity.
  for (auto& o : all) {
    auto m = matches.find(o.track);
    if (!o.face || m == matches.end() || m->second.empty()) continue;
    auto found = s.collections->SearchDescriptor(collection, o.descriptor.data(), 10, threshold);
    if (!found.ok()) return found.status();
    for (auto& fm : found.value())
      if (m->second.count(fm.face.face_id)) o.matches.push_back(std::move(fm));
    std::vector<float>().swap(o.descriptor);
  }
  return ToPersonItems(all, tracker);
}

Result<std::vector<LabelItem>> DetectLabels(VideoReader& reader, const Services& s,
                                            const service::LabelOptions& options,
                                            bool aggregate_segments, const SampleRates& rates,
                                            const ProgressFn& progress) {
  if (!s.labels) return Unavailable("object detection");
  Collected<LabelItem> items(aggregate_segments,
                             internal::RunGapMs(rates.labels, reader.metadata()));
  using Found = service::LabelsResult;
  Status st = internal::ForEachFrameSideBySide<Found>(
      reader, rates.labels, progress,
      [&](const Frame& f) -> Result<Found> { return s.labels->DetectLabels(ToImage(f), options); },
      [&](const Frame& f, Found& result) -> Status {
        for (auto& l : result.labels) {
          LabelItem item;
          const std::string name = l.name;
          const float conf = l.confidence;
          item.label = std::move(l);
          items.Add(f.timestamp_ms, name, conf, std::move(item));
        }
        return Status::Ok();
      });
  if (!st.ok()) return st;
  return items.Finish();
}

Result<std::vector<ModerationItem>> DetectModeration(VideoReader& reader, const Services& s,
                                                     float min_confidence, bool aggregate_segments,
                                                     const SampleRates& rates,
                                                     const ProgressFn& progress) {
  if (!s.moderation) return Unavailable("moderation");
  Collected<ModerationItem> items(aggregate_segments,
                                  internal::RunGapMs(rates.moderation, reader.metadata()));
  using Found = service::ModerationResult;
  Status st = internal::ForEachFrameSideBySide<Found>(
      reader, rates.moderation, progress,
      [&](const Frame& f) -> Result<Found> {
        return s.moderation->Detect(ToImage(f), min_confidence);
      },
      [&](const Frame& f, Found& result) -> Status {
        for (auto& l : result.labels) {
          ModerationItem item;
          item.content_types = result.content_types;
          const std::string name = l.parent + "/" + l.name;
          const float conf = l.confidence;
          item.label = std::move(l);
          items.Add(f.timestamp_ms, name, conf, std::move(item));
        }
        return Status::Ok();
      });
  if (!st.ok()) return st;
  return items.Finish();
}

Result<std::vector<TextItem>> DetectText(VideoReader& reader, const Services& s,
                                         const service::TextOptions& options,
                                         const SampleRates& rates, const ProgressFn& progress) {
  if (!s.text) return Unavailable("text detection");
  std::vector<TextItem> items;
  using Found = std::vector<service::TextDetection>;
  Status st = internal::ForEachFrameSideBySide<Found>(
      reader, rates.text, progress,
      [&](const Frame& f) -> Result<Found> { return s.text->DetectText(ToImage(f), options); },
      [&](const Frame& f, Found& found) -> Status {
        for (auto& t : found) items.push_back({f.timestamp_ms, std::move(t)});
        return Status::Ok();
      });
  if (!st.ok()) return st;
  return items;
}

}  // namespace argus::video
