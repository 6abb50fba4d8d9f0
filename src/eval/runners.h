#pragma once
// The evaluation protocols run through the same face pipeline as the API.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/metrics.h"
#include "service/faces.h"

namespace argus::eval {

struct PairLine {
  std::string a, b;
  bool same = false;
  int fold = -1;
};

// Reads LFW pairs.txt or CSV (image_a,image_b,same[,fold]). Bad lines are
// reported in `errors` with their line number and skipped.
Result<std::vector<PairLine>> ReadPairs(const std::string& path, std::vector<std::string>* errors);

// Pairs from an identity list (CSV image,identity, header optional): every
// pair of two images of one identity, and as many pairs of images of two
// identities drawn at random with a fixed seed (fewer only when there are
// not that many), interleaved over 10 folds. Bad lines are reported in
// `errors` with their line number and skipped.
Result<std::vector<PairLine>> PairsFromIdentities(const std::string& path,
                                                  std::vector<std::string>* errors);

// Verification: descriptors of the largest face of each image, Similarity
// as the score; an image without a face makes its pairs errors. Bad pair
// lines are reported on stderr and skipped.
Result<nlohmann::json> RunVerification(service::FaceService& faces,
                                       const std::vector<PairLine>& pairs,
                                       const std::string& images_dir,
                                       const std::string& scores_out = "");

// WIDER FACE AP (easy/medium/hard) on the annotations.json format.
Result<nlohmann::json> RunDetection(service::FaceService& faces,
                                    const std::string& annotations_file,
                                    const std::string& images_dir);

}  // namespace argus::eval
