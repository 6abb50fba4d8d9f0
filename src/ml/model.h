#pragma once
// ml::Model wraps a converted ONNX model on one of two runtimes, chosen by
// the manifest's "runtime": oneDNN (ml::OnednnGraph, the default; it keeps
// its own pool of plans per input shape) or OpenCV DNN, the reference and
// the fallback for a graph the oneDNN runtime cannot run (one stderr line
// at Load). On OpenCV, cv::dnn::Net is not
// thread-safe, so a Model keeps a pool of nets: each Run() borrows one, and a
// new one is created (from the bytes read once) only when all are busy.
// A net serves one input shape: OpenCV 4.6's Resize layer keeps the output
// size of the first input it was set up with, so a fully convolutional model
// run at several sizes (paddleocr_det) gets a net per size; the pool keeps
// the most recently used ones.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/manifest.h"

namespace argus::ml {

class OnednnGraph;

// Sets the worker threads for inference, OpenCV's and oneDNN's (OpenMP)
// (0 = the libraries' defaults).
void SetInferenceThreads(int threads);

// In place: each run of `classes` consecutive values of the continuous float
// matrix m (its last axis) becomes its softmax.
void SoftmaxLastAxis(cv::Mat& m, int classes);

// Whether n independent runs go side by side in ForEachSideBySide: when
// there are at least as many as inference threads, and more than one.
bool SideBySide(size_t n);

// Calls each(i) for every i in [0, n). Where SideBySide(n), the calls run
// side by side in cv::parallel_for_ (one stripe each), so each net inside
// runs on one thread: OpenCV runs nested parallel loops serially, and a
// oneDNN run inside a stripe is told to use one thread. Several
// single-threaded runs fill the cores better than each run on all threads
// in turn (docs/ARCHITECTURE.md has the figures); with more threads than
// runs, each run on all of them wins, so they run in turn. While another
// request is inside a parallel loop, they run in turn on one thread.
// `each` must not depend on the order of calls.
void ForEachSideBySide(size_t n, const std::function<void(size_t)>& each);
// ForEachSideBySide over calls that can fail: every call runs, and the
// first failure in index order is returned.
Status AllSideBySide(size_t n, const std::function<Status(size_t)>& each);

class Model {
 public:
  ~Model();
  // Reads spec.file from model_dir, checks its sha256 against the manifest
  // and parses it once. Errors name the file and what is wrong with it.
  static Result<std::shared_ptr<Model>> Load(const ModelSpec& spec, const std::string& model_dir);

  // Blob for an 8-bit BGR image already resized to the input size, using the
  // manifest's colour order, mean and scale.
  cv::Mat Blob(const cv::Mat& bgr) const;
  // Blob at the image's own size, for models whose graph takes any size.
  cv::Mat BlobAnySize(const cv::Mat& bgr) const;
  // Resizes `bgr` to the input size (no aspect preservation) and makes the blob.
  cv::Mat BlobResized(const cv::Mat& bgr) const;

  // Runs on a NCHW blob; returns the named outputs (default: the manifest's
  // outputs, in manifest order). Thread-safe.
  Result<std::vector<cv::Mat>> Run(const cv::Mat& blob,
                                   const std::vector<std::string>& outputs = {});

  const ModelSpec& spec() const { return spec_; }
  // The runtime this model runs on: "onednn", or "opencv" when the manifest
  // asks for it or the oneDNN runtime cannot run the graph.
  std::string runtime() const { return graph_ ? "onednn" : "opencv"; }

 private:
  explicit Model(ModelSpec spec);
  std::unique_ptr<cv::dnn::Net> NewNet() const;
  Result<std::vector<cv::Mat>> RunOpenCV(const cv::Mat& blob,
                                         const std::vector<std::string>& names);

  ModelSpec spec_;
  std::vector<uchar> onnx_;             // the ONNX bytes (empty on oneDNN)
  std::unique_ptr<OnednnGraph> graph_;  // null: OpenCV DNN
  std::mutex mu_;                       // guards free_
  struct PooledNet {
    std::vector<int> shape;  // input shape it was last run on (empty: not yet)
    std::unique_ptr<cv::dnn::Net> net;
  };
  std::vector<PooledNet> free_;  // most recently returned last
};

// Loads models by manifest name on first use and keeps them.
class Registry {
 public:
  explicit Registry(std::string model_dir, const Manifest& manifest = Manifest::Embedded())
      : dir_(std::move(model_dir)), manifest_(manifest) {}
  Result<std::shared_ptr<Model>> Get(const std::string& name);
  const std::string& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }
  // Path of a manifest asset in the model dir ("" if unknown).
  std::string AssetPath(const std::string& name) const;

 private:
  std::string dir_;
  const Manifest& manifest_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Model>> loaded_;
};

// Checks every model and asset file in model_dir against the manifest.
// Returns one line per problem (missing, altered); empty when all is well.
std::vector<std::string> VerifyModelDir(const std::string& model_dir, const Manifest& manifest);

// The deterministic synthetic input of models/README.md (golden tests, benchmarks).
cv::Mat SyntheticInput(const InputSpec& input, uint32_t seed);

}  // namespace argus::ml
