#pragma once
// `argus bench video`: decoding speed (libav every frame and sampled, and
// cv::VideoCapture for comparison) and the wall time and real-time factor of
// the faces, persons, labels and segments analyses on the shared clips and a
// 720p upscale of one, with the face search check on hamilton_clip.mp4.
// Prints figures; never passes or fails on time.
#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "service/collections.h"
#include "service/faces.h"

namespace argus::bench {

struct VideoBenchOptions {
  std::string data_dir;            // holds video/*.mp4 and faces-misc/*.png
  std::vector<std::string> clips;  // explicit clips; empty: the shared ones
  std::vector<std::string> ops = {"faces", "faces-every-frame", "persons", "labels", "segments"};
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

// A collection "cast" in a fresh CollectionService under `dir` holding the
// largest face of lin-manuel-miranda.png and alex-lacamoire.png of
// `data_dir`/faces-misc (external image ids as the file names); `portrait`,
// when given, receives the last image. An error names what failed.
Result<std::unique_ptr<service::CollectionService>> CastCollection(const std::string& data_dir,
                                                                   const std::string& dir,
                                                                   service::FaceService& faces,
                                                                   Image* portrait = nullptr);

// `src` upscaled to 1280x720 (H.264) into `out`, played `repeat` times in
// a row; false when it cannot be.
bool Make720p(const std::string& src, const std::string& out, int repeat = 1);

}  // namespace argus::bench
