#pragma once
// Helpers shared by the analyses of the video module (internal).
#include <functional>

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

}  // namespace argus::video::internal
