#pragma once
// `argus bench stream`: a FaceSearch stream processor on a 720p source (the
// shared hamilton_clip.mp4 upscaled, replayed at its frame rate) searching a
// collection of the two cast portraits, every result POSTed through the
// webhook sender to a loopback HTTP server: frames analysed per second, and
// the latency from a frame's decoding to its analysis and to the webhook's
// receipt (p50, p95, max). Then image requests (DetectFaces) timed alone and
// while a processor's source is unreachable and being reconnected. Prints
// figures; never passes or fails on time.
#include <string>

#include "service/faces.h"

namespace argus::bench {

struct StreamBenchOptions {
  std::string data_dir;  // holds video/hamilton_clip.mp4 and faces-misc/*.png
  std::string source;    // explicit source (URL or path); "" for the 720p clip
  std::string model_dir;
  service::FaceConfig face;
  double fps = 5;       // frames analysed per second
  double seconds = 30;  // how long the processor runs
};

// 0, or 1 when the clip, the models or the collection cannot be had.
int RunStreamBench(const StreamBenchOptions& options);

}  // namespace argus::bench
