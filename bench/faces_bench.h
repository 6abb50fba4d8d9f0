#pragma once
// `argus bench faces`: argus's face pipeline (DetectFaces + a descriptor per
// face, in process) against the same face-api weights on their original
// JavaScript runtime (bench/peer, on node), on the same decoded pixels.
// Prints figures; never passes or fails on time.
#include <string>
#include <vector>

#include "service/faces.h"

namespace argus::bench {

struct FacesBenchOptions {
  std::vector<std::string> images;  // image files; empty: the images of images_dir
  std::string images_dir;           // "": face-api's demo samples in model_dir
  std::string model_dir;
  service::FaceConfig face;  // its detector is timed, and "ssd" besides
  int n = 5, warmup = 1;     // timed and untimed runs per image
  int threads = 1;           // inference threads (the peer's WASM backend has one)
  bool peer = true;          // also time the peer
  std::string peer_src;      // "": the source tree's bench/peer
  std::string peer_dir;      // "": ~/.cache/argus/bench/faces-peer
  bool json = false;         // print the result as JSON
};

// Runs the benchmark and prints the result on stdout (reasons on stderr).
// Returns 0, 1 on failure, 2 for out-of-range options.
int RunFacesBench(const FacesBenchOptions& options);

}  // namespace argus::bench
