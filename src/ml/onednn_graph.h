#pragma once
// ml::OnednnGraph runs a converted ONNX graph on oneDNN primitives (the
// "onednn" runtime of models/README.md). The graph is parsed once:
// BatchNormalization and per-channel Mul/Add/Sub/Div by constants fold into
// the preceding Conv's (or ConvTranspose's) weights and bias. When a plan is
// built, a Conv's activation (Relu, Clip, Sigmoid, HardSigmoid, and
// x*HardSigmoid(x) as hardswish) and a residual Add become post-ops while
// each intermediate has one consumer. Convolutions, pooling, matmul,
// eltwise, binary, PRelu, softmax, reduction and concat are oneDNN
// primitives on the memory formats oneDNN picks; Reshape, Squeeze, Slice,
// Transpose and Pad are views and reorders; Resize is plain C++.
//
// A plan (primitives plus activation buffers, reused by liveness) is built
// per input shape, thread count and output list; each Run borrows one, so
// concurrent callers each get their own and Run is thread-safe. Reordered
// weights are shared by plans.
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace argus::ml {

class OnednnGraph {
 public:
  ~OnednnGraph();
  // Parses ONNX bytes. Fails (kInternalError) naming the first operator or
  // attribute this runtime does not implement, so the caller can fall back.
  static Result<std::unique_ptr<OnednnGraph>> Parse(const std::vector<uchar>& onnx);

  // Runs on a NCHW float blob; returns the named outputs as float mats of
  // their ONNX shapes. Fails for an unknown output name or a shape the graph
  // cannot take. Thread-safe.
  Result<std::vector<cv::Mat>> Run(const cv::Mat& blob, const std::vector<std::string>& outputs);

  // Multiply-adds x 2 of the convolutions and matrix products of one pass
  // at input `shape` (what GFLOP/s figures count).
  Result<double> Flops(const std::vector<int>& shape);

  // Threads oneDNN uses for a Run on the calling thread (OpenMP); 0 = the
  // process-wide setting of SetThreads.
  static void SetThreads(int threads);
  // Every Run of this graph on one thread (the manifest's "threads": 1),
  // whatever its size. Call before the first Run.
  void RunOnOneThread();
  // Marks the calling thread as running one of several side-by-side runs:
  // while set, its runs use one thread. Returns the previous mark.
  static bool SetSingleThreadedHere(bool on);

  // OpenMP threads spin after each parallel region by default (libgomp), and
  // on two cores that spinning starves OpenCV's pool and the other requests
  // (a 2-thread pass of the SSD detector 3-20x slower on a busy machine).
  // Passive waiting must be in the environment before libgomp starts, so
  // this re-executes the program (/proc/self/exe, same argv) with
  // OMP_WAIT_POLICY=PASSIVE when the variable is unset. Returns when it is
  // set or the re-execution fails. Call first thing in main.
  static void PreferPassiveWaiting(char** argv);

  OnednnGraph(const OnednnGraph&) = delete;
  OnednnGraph& operator=(const OnednnGraph&) = delete;

  struct Impl;  // defined in the .cpp

 private:
  explicit OnednnGraph(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace argus::ml
