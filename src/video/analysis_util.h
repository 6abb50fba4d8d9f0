#pragma once
// Helpers shared by the analyses of the video module (internal).
#include <algorithm>
#include <functional>
#include <opencv2/core.hpp>
#include <optional>
#include <vector>

#include "ml/model.h"
#include "video/video.h"

namespace argus::video::internal {

// ServiceUnavailable naming the missing model.
Status Unavailable(const char* model);
// Calls `fn` on each frame sampled at `fps` (<= 0: every frame), reporting
// progress at the start, at least every half second of work and at the end;
// Cancelled() when `progress` returns false; the first error of `fn` or of
// the reader.
Status ForEachFrame(VideoReader& reader, double fps, const ProgressFn& progress,
                    const std::function<Status(const Frame&)>& fn);
// ForEachFrame in three stages: `first` sees each sampled frame in order on
// the calling thread (with all inference threads: for work that depends
// on the frames before), then `analyse` (the inference) runs on as many
// consecutive sampled frames as there are inference threads at once, side
// by side on one thread each (ml::AllSideBySide: two one-thread runs fill
// two cores better than one run on both), then `merge` sees each frame and
// its result in order on the calling thread (trackers and aggregations stay
// sequential). At most that many frames are held. The first error of a
// stage, in frame order, ends the walk.
template <typename D, typename T>
Status ForEachFrameInStages(VideoReader& reader, double fps, const ProgressFn& progress,
                            const std::function<Result<D>(const Frame&)>& first,
                            const std::function<Result<T>(const Frame&, D&)>& analyse,
                            const std::function<Status(const Frame&, T&)>& merge) {
  const size_t batch = size_t(std::max(1, cv::getNumThreads()));
  std::vector<Frame> frames;
  std::vector<std::optional<D>> firsts;
  auto flush = [&]() -> Status {
    std::vector<std::optional<T>> out(frames.size());
    Status st = ml::AllSideBySide(frames.size(), [&](size_t i) -> Status {
      Result<T> r = analyse(frames[i], *firsts[i]);
      if (!r.ok()) return r.status();
      out[i] = std::move(r).value();
      return Status::Ok();
    });
    for (size_t i = 0; i < frames.size() && st.ok(); ++i) st = merge(frames[i], *out[i]);
    frames.clear();
    firsts.clear();
    return st;
  };
  ARGUS_RETURN_IF_ERROR(ForEachFrame(reader, fps, progress, [&](const Frame& f) -> Status {
    Result<D> d = first(f);
    if (!d.ok()) return d.status();
    frames.push_back(f);
    firsts.emplace_back(std::move(d).value());
    return frames.size() >= batch ? flush() : Status::Ok();
  }));
  return flush();
}

// ForEachFrameInStages without the first stage.
template <typename T>
Status ForEachFrameSideBySide(VideoReader& reader, double fps, const ProgressFn& progress,
                              const std::function<Result<T>(const Frame&)>& analyse,
                              const std::function<Status(const Frame&, T&)>& merge) {
  struct None {};
  return ForEachFrameInStages<None, T>(
      reader, fps, progress, [](const Frame&) -> Result<None> { return None{}; },
      [&](const Frame& f, None&) { return analyse(f); }, merge);
}

// Longest gap between two sightings of a label in one run: two sampling
// gaps at `rate` plus a frame of the video (samples land on frames).
int64_t RunGapMs(double rate, const VideoMetadata& meta);

// For person tracking: the body (index into `bodies`) each face belongs to,
// -1 for a face that has none. A face goes to the smallest free body whose
// upper half holds its centre; a face left over goes to a free body holding
// its centre anywhere (a person bending or turning), so that it does not
// count as a person of its own.
std::vector<int> FaceBodies(const std::vector<cv::Rect2f>& bodies,
                            const std::vector<cv::Rect2f>& faces);
// A body box estimated from a face seen without one, clipped to the frame.
cv::Rect2f BodyFromFace(const cv::Rect2f& face, const cv::Size& frame);

}  // namespace argus::video::internal
