#pragma once
// Face embedders: a face in an image to a descriptor for face search. The
// embedder owns the face's alignment and the net's input normalisation; its
// model and both of those come from a manifest model entry with an
// "embedder" block (models/README.md).
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/model.h"

namespace argus::vision {

class FaceEmbedder {
 public:
  virtual ~FaceEmbedder() = default;

  // The embedder of manifest model `model_name` ("" for the manifest's
  // default embedder). Alignments: "dlib68" (dlib's get_face_chip_details on
  // 68 landmarks, with the entry's padding; face-api's recogniser: 150x150
  // RGB, mean [122.782, 117.001, 104.298], scale 1/255) and "arcface5" (the
  // five points of the 68 landmarks, eye centres, nose tip and mouth corners,
  // by a similarity transform onto the standard ArcFace template scaled to
  // the input size; ArcFace: 112x112, (x - 127.5) / 127.5). The input's
  // mean, scale and colour order are the entry's. InvalidParameter when the
  // entry is missing or is not an embedder.
  static Result<std::unique_ptr<FaceEmbedder>> Create(const std::string& model_name,
                                                      ml::Registry& registry);

  // The descriptor of the face with 68 landmarks `lm68` (pixels of `bgr`,
  // 8-bit BGR): float32, dimension() values, L2-normalised (unit length).
  // Thread-safe.
  virtual Result<std::vector<float>> Embed(const cv::Mat& bgr,
                                           const std::vector<cv::Point2f>& lm68) = 0;

  // The aligned chip the net sees (input size, 8-bit BGR), for tests and tools.
  virtual cv::Mat Align(const cv::Mat& bgr, const std::vector<cv::Point2f>& lm68) const = 0;

  // Descriptor length (the product of the output's manifest shape).
  virtual int dimension() const = 0;
  // Identifies the descriptors: two of different versions are not comparable.
  virtual const std::string& model_version() const = 0;
  // The manifest model name.
  virtual const std::string& model_name() const = 0;
};

// The standard ArcFace 5-point template for a 112x112 chip (pixels): left
// eye, right eye (image left to right), nose tip, left and right mouth corner.
extern const cv::Point2f kArcFaceTemplate112[5];

// ArcFace's five points from 68 iBUG landmarks: the centres of points 36-41
// and 42-47, point 30, points 48 and 54.
std::vector<cv::Point2f> FivePointsFrom68(const std::vector<cv::Point2f>& lm68);

}  // namespace argus::vision
