#pragma once
// Helpers shared by the analyses of the video module (internal).
#include <functional>
#include <opencv2/core/types.hpp>
#include <vector>

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
