#pragma once
// `argus eval text`: the parts shared by cmd_eval_text.cpp (recognition and
// detection figures) and eval_text_words.cpp (word-level exact match of
// DetectText and of the @gutenye/ocr-node peer).
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "bench/ocr_peer.h"
#include "service/text.h"

namespace argus::cli {

using Polygon = std::vector<cv::Point2f>;

float PolyIoU(const Polygon& a, const Polygon& b);

// Word detection against polygons at IoU >= 0.5; "don't care" polygons
// count neither way.
struct DetScore {
  int truths = 0, predictions = 0, true_pos = 0;
  double ms = 0;
  int runs = 0;
  void Add(const std::vector<Polygon>& gt, const std::vector<bool>& ignore,
           const std::vector<Polygon>& pred);
  nlohmann::json Json() const;
};

// The evaluation's images, decoded once.
struct TextSample {
  std::string name;
  cv::Mat bgr;
  std::string truth;         // word crops: the transcription
  std::vector<Polygon> gt;   // scene images: word polygons
  std::vector<bool> ignore;  // per polygon: "don't care"
};

struct TextEvalData {
  std::vector<TextSample> crops, scenes;
  TextSample printed;  // `argus bench ops`' DetectText image (640x480, JPEG 92)
  std::vector<std::string> printed_lines;
};

// Word-level exact match of DetectText's WORD detections and, with `peer`,
// of the peer's words (its boxes' texts split at spaces): on the word crops
// against the transcriptions, on the scene images argus against the peer
// (words paired by IoU >= 0.5) and each against the polygons, on the
// printed image against the known lines. False when the peer failed.
bool WordMatch(service::TextService& text, const TextEvalData& data,
               const bench::OcrPeerOptions* peer, nlohmann::json* out);
// The text form of WordMatch's figures.
void PrintWordMatch(const nlohmann::json& word_match);

}  // namespace argus::cli
