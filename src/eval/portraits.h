#pragma once
// Detection recall on hard portraits derived from photos that hold a face:
// darkened, low-contrast, greyscale and tightly cropped versions (mugshot
// and ID-photo style), made in memory from each image of a folder.
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "service/faces.h"

namespace argus::eval {

// For every image of `images_dir` (JPEG/PNG) where DetectFaces finds a clear
// face (confidence 90 or more; the largest such is used), each derived
// portrait counts as found when DetectFaces (the API's defaults) returns a
// face overlapping where that face went (IoU >= 0.3). A derived image under
// 80 pixels a side (the API's smallest) is not tried. Counted apart:
// portraits (the clear face is the only face found) and group photos. At
// most `limit` images (0: all). JSON: per variant and kind the images
// tried, the misses and the first missed file names.
Result<nlohmann::json> RunPortraits(service::FaceService& faces, const std::string& images_dir,
                                    int limit);

}  // namespace argus::eval
