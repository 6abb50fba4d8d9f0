#pragma once
// Options of the libav decoder behind VideoReader::Open, for benchmarks and
// tests that compare decoding strategies. The defaults are what Open uses.
#include <memory>
#include <string>

#include "video/video.h"

namespace argus::video {

struct DecoderOptions {
  // Decoder threads (the server runs image requests alongside a job).
  int threads = 2;
  // Skip non-reference frames when the sampling gap spans at least this many
  // frames (0: never). Skipped frames are neither decoded nor returned, so a
  // sample may land one frame after its sampling point.
  int skip_nonref_min_gap_frames = 0;
};

Result<std::unique_ptr<VideoReader>> OpenVideo(const std::string& path, const Limits& limits,
                                               const DecoderOptions& options);

}  // namespace argus::video
