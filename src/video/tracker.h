#pragma once
// Multi-object tracker over the boxes of one sampled frame after another,
// with an optional appearance descriptor per box (a face descriptor, a colour
// histogram of a body). Internal to the video module.
//
// Association rule, per sampled frame:
// - Each live track predicts its box by moving its last box by its velocity
//   (the smoothed centre shift per sampled frame) times the frames since it
//   was last seen.
// - A (track, detection) pair is admissible when IoU(predicted, detection)
//   >= min_iou, or, with descriptors on both sides, when their cosine
//   similarity >= reid_similarity and the detection's centre lies within
//   reid_max_shift box sizes of the track's last box (a return after an
//   occlusion). A pair whose cosine similarity is below min_similarity is
//   never admissible.
// - Score = IoU + similarity_weight * cosine (cosine 0 without
//   descriptors); admissible pairs are matched greedily, best score first,
//   each track and detection at most once.
// - After a hard cut (the caller's `cut`: the frame's colours changed
//   wholesale, see segments_internal.h) position says nothing: only the
//   appearance rule admits a pair, at any distance.
// - A track unmatched for more than max_lost sampled frames ends; an
//   unmatched detection at or above min_birth_confidence starts a new track.
// - A track seen in fewer than min_hits sampled frames is flicker: Indices()
//   leaves it out. The others are numbered 0, 1, ... in order of their first
//   frame (tracks born in the same frame: left to right).
#include <cstdint>
#include <map>
#include <opencv2/core.hpp>
#include <vector>

namespace argus::video {

struct TrackerOptions {
  float min_iou = 0.2f;
  float min_similarity = -1.f;  // cosine; -1 disables the veto
  float reid_similarity = 2.f;  // cosine; above 1 disables re-identification
  float reid_max_shift = 3.f;   // in box diagonals
  float similarity_weight = 0.5f;
  int max_lost = 10;                 // sampled frames
  int min_hits = 3;                  // sampled frames
  float min_birth_confidence = 0.f;  // 0..100
  // Only detections at least this confident (0..100) update a track's
  // descriptor (a running mean: 0.8 old + 0.2 new, renormalised).
  float min_descriptor_confidence = 0.f;
};

struct TrackDetection {
  cv::Rect2f box;
  float confidence = 100;         // 0..100
  std::vector<float> descriptor;  // L2-normalised, or empty
};

class Tracker {
 public:
  explicit Tracker(const TrackerOptions& options = {}) : options_(options) {}
  // Associates one sampled frame's detections; the track id of each
  // detection (ids are internal; Indices() maps them to output indices).
  // `cut`: this frame follows a hard cut.
  std::vector<int> Update(const std::vector<TrackDetection>& detections, bool cut = false);
  // Tracks seen in at least min_hits frames: id -> index 0, 1, ...
  std::map<int, int64_t> Indices() const;

 private:
  struct Track {
    int id = 0;
    cv::Rect2f box;
    cv::Point2f velocity;
    std::vector<float> descriptor;
    int64_t first_frame = 0, last_frame = 0;
    float first_x = 0;
    int hits = 0;
  };
  TrackerOptions options_;
  std::vector<Track> live_;
  std::vector<Track> ended_;
  int64_t frame_ = 0;
  int next_id_ = 0;
};

// Cosine similarity of two descriptors of equal length (0 when either is
// empty or their lengths differ).
float Cosine(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace argus::video
