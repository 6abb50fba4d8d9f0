#pragma once
// `argus bench video`: decoding speed (libav every frame and sampled, and
// cv::VideoCapture for comparison) and the wall time and real-time factor of
// the faces, persons, labels and segments analyses on the shared clips and a
// 720p upscale of one, with the face search check on hamilton_clip.mp4.
// Prints figures; never passes or fails on time.
#include <string>
#include <vector>

#include "service/faces.h"

namespace argus::bench {

struct VideoBenchOptions {
  std::string data_dir;            // holds video/*.mp4 and faces-misc/*.png
  std::vector<std::string> clips;  // explicit clips; empty: the shared ones
  std::vector<std::string> ops = {"faces", "persons", "labels", "segments"};
  std::string model_dir;
  service::FaceConfig face;
  double fps = 5;       // sampling rate of faces, persons and labels
  double seconds = 20;  // each clip analysed for at most this long (<= 0: whole)
  bool make_720p = true;
  bool search = true;  // the face search check on hamilton_clip.mp4
  int threads = 2;     // inference threads in effect (printed)
};

// 0, or 1 when no clip can be read or a service cannot be made.
int RunVideoBench(const VideoBenchOptions& options);

}  // namespace argus::bench
