#include "ml/model.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "core/hash.h"
#include "ml/onednn_graph.h"

namespace argus::ml {

void SetInferenceThreads(int threads) {
#if defined(__SANITIZE_THREAD__)
  // OpenCV's parallel loops run on TBB, which is not instrumented: TSan
  // cannot see its hand-offs and reports the loop bodies' reads of their
  // caller's data as races. Under TSan inference stays on the calling
  // thread; argus's own threads are what that run checks.
  threads = 1;
#endif
  if (threads > 0) cv::setNumThreads(threads);
  OnednnGraph::SetThreads(threads);
}

void SoftmaxLastAxis(cv::Mat& m, int classes) {
  CV_Assert(m.isContinuous() && m.depth() == CV_32F && classes > 0 && m.total() % classes == 0);
  cv::Mat rows(int(m.total() / classes), classes, CV_32F, m.ptr<float>());
  for (int r = 0; r < rows.rows; ++r) {
    cv::Mat row = rows.row(r);
    double top;
    cv::minMaxLoc(row, nullptr, &top);
    row -= top;
    cv::exp(row, row);
    row /= cv::sum(row)[0];
  }
}

bool SideBySide(size_t n) {
  const int threads = cv::getNumThreads();
  return threads > 1 && n >= size_t(threads);
}

void ForEachSideBySide(size_t n, const std::function<void(size_t)>& each) {
  if (!SideBySide(n)) {
    for (size_t i = 0; i < n; ++i) each(i);
    return;
  }
  cv::parallel_for_(
      cv::Range(0, int(n)),
      [&](const cv::Range& r) {
        // One thread per stripe for oneDNN runs too (OpenMP does not see
        // OpenCV's nesting); restored for whatever else this thread runs.
        const bool was = OnednnGraph::SetSingleThreadedHere(true);
        for (int i = r.start; i < r.end; ++i) each(size_t(i));
        OnednnGraph::SetSingleThreadedHere(was);
      },
      double(n));
}

Status AllSideBySide(size_t n, const std::function<Status(size_t)>& each) {
  std::vector<Status> status(n);
  ForEachSideBySide(n, [&](size_t i) { status[i] = each(i); });
  for (const auto& s : status) ARGUS_RETURN_IF_ERROR(s);
  return Status::Ok();
}

Model::Model(ModelSpec spec) : spec_(std::move(spec)) {}
Model::~Model() = default;

Result<std::shared_ptr<Model>> Model::Load(const ModelSpec& spec, const std::string& model_dir) {
  std::string path = model_dir + "/" + spec.file;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Code::kServiceUnavailable,
                  "model " + spec.name + " is not installed: " + path +
                      " is missing (run `make models` or tools/setup_models.py)");
  }
  std::shared_ptr<Model> m(new Model(spec));
  m->onnx_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::string got =
      Sha256Hex(std::string_view(reinterpret_cast<const char*>(m->onnx_.data()), m->onnx_.size()));
  if (!spec.sha256.empty() && got != spec.sha256) {
    return Status(Code::kServiceUnavailable, "model " + spec.name + " at " + path + " has sha256 " +
                                                 got + ", manifest pins " + spec.sha256);
  }
  if (spec.runtime == "onednn") {
    // The graph must parse and run at the manifest's input shape (which
    // also builds that shape's plan); else the model runs in OpenCV DNN.
    auto graph = OnednnGraph::Parse(m->onnx_);
    Status why = graph.status();
    if (graph.ok() && spec.threads == 1) graph.value()->RunOnOneThread();
    if (graph.ok()) {
      std::vector<std::string> names;
      for (const auto& o : spec.outputs) names.push_back(o.name);
      // First on one thread: a graph too small for more runs on one thread
      // from then on and keeps that plan; a larger one keeps the second
      // run's, on the process's threads (OnednnGraph::Run), while its
      // one-thread primitives stay in oneDNN's cache for concurrent runs.
      const bool was = OnednnGraph::SetSingleThreadedHere(true);
      auto probe = graph.value()->Run(SyntheticInput(spec.input, 1), names);
      OnednnGraph::SetSingleThreadedHere(was);
      if (probe.ok()) probe = graph.value()->Run(SyntheticInput(spec.input, 1), names);
      if (probe.ok())
        m->graph_ = std::move(graph).value();
      else
        why = probe.status();
    }
    if (m->graph_) {
      // The graph holds the weights; the bytes are only OpenCV's.
      std::vector<uchar>().swap(m->onnx_);
      return m;
    }
    std::fprintf(stderr, "model %s: runs in OpenCV DNN: %s\n", spec.name.c_str(),
                 why.message().c_str());
  }
  try {
    m->free_.push_back({{}, m->NewNet()});
  } catch (const cv::Exception& e) {
    return Status(Code::kServiceUnavailable,
                  "model " + spec.name + " failed to load in OpenCV DNN: " + e.what());
  }
  return m;
}

std::unique_ptr<cv::dnn::Net> Model::NewNet() const {
  auto net = std::make_unique<cv::dnn::Net>(cv::dnn::readNetFromONNX(onnx_));
  net->setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net->setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

cv::Mat Model::Blob(const cv::Mat& bgr) const {
  const InputSpec& in = spec_.input;
  bool rgb = in.color == "RGB";
  // blobFromImage subtracts `mean` in the channel order after the swap,
  // which is the manifest's order (channel 0 = color[0]).
  cv::Scalar mean(in.mean[0], in.mean[1], in.mean[2]);
  return cv::dnn::blobFromImage(bgr, in.scale, cv::Size(in.width(), in.height()), mean, rgb, false,
                                CV_32F);
}

cv::Mat Model::BlobAnySize(const cv::Mat& bgr) const {
  const InputSpec& in = spec_.input;
  cv::Scalar mean(in.mean[0], in.mean[1], in.mean[2]);
  return cv::dnn::blobFromImage(bgr, in.scale, cv::Size(), mean, in.color == "RGB", false, CV_32F);
}

cv::Mat Model::BlobResized(const cv::Mat& bgr) const {
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(spec_.input.width(), spec_.input.height()), 0, 0,
             cv::INTER_LINEAR);
  return Blob(resized);
}

Result<std::vector<cv::Mat>> Model::Run(const cv::Mat& blob,
                                        const std::vector<std::string>& outputs) {
  std::vector<std::string> names = outputs;
  if (names.empty())
    for (const auto& o : spec_.outputs) names.push_back(o.name);
  if (graph_) {
    auto r = graph_->Run(blob, names);
    if (!r.ok())
      return Internal("inference failed in model " + spec_.name + ": " + r.status().message());
    return r;
  }
  return RunOpenCV(blob, names);
}

Result<std::vector<cv::Mat>> Model::RunOpenCV(const cv::Mat& blob,
                                              const std::vector<std::string>& names) {
  const std::vector<int> shape(blob.size.p, blob.size.p + blob.dims);
  std::unique_ptr<cv::dnn::Net> net;
  {
    // A net last run on this shape, else a fresh one (see the header).
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = free_.size(); i-- > 0;) {
      if (free_[i].shape.empty() || free_[i].shape == shape) {
        net = std::move(free_[i].net);
        free_.erase(free_.begin() + long(i));
        break;
      }
    }
  }
  std::vector<cv::Mat> result;
  try {
    if (!net) net = NewNet();
    net->setInput(blob);
    std::vector<cv::Mat> outs;
    net->forward(outs, names);
    for (auto& o : outs) result.push_back(o.clone());
  } catch (const cv::Exception& e) {
    return Internal("inference failed in model " + spec_.name + ": " + e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back({shape, std::move(net)});
  // Past two idle nets, the least recently used one set up for another size
  // goes (a fixed-size model keeps one net per concurrent caller). A
  // paddleocr_det net holds 80-230 MB of activations at 640x480-960x960.
  constexpr size_t kMaxIdleNets = 2;
  for (size_t i = 0; free_.size() > kMaxIdleNets && i + 1 < free_.size();) {
    if (free_[i].shape != shape)
      free_.erase(free_.begin() + long(i));
    else
      ++i;
  }
  return result;
}

Result<std::shared_ptr<Model>> Registry::Get(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = loaded_.find(name);
  if (it != loaded_.end()) return it->second;
  const ModelSpec* spec = manifest_.FindModel(name);
  if (!spec) return Internal("no model named " + name + " in the manifest");
  auto m = Model::Load(*spec, dir_);
  if (!m.ok()) return m.status();
  loaded_[name] = m.value();
  return m.value();
}

std::string Registry::AssetPath(const std::string& name) const {
  const AssetSpec* a = manifest_.FindAsset(name);
  return a ? dir_ + "/" + a->file : std::string();
}

std::vector<std::string> VerifyModelDir(const std::string& model_dir, const Manifest& manifest) {
  std::vector<std::string> problems;
  auto check = [&](const std::string& name, const std::string& file, const std::string& sha) {
    std::string path = model_dir + "/" + file;
    std::ifstream probe(path);
    if (!probe) {
      problems.push_back(name + ": missing " + path);
      return;
    }
    std::string got = Sha256File(path);
    if (got != sha)
      problems.push_back(name + ": altered " + path + " (sha256 " + got + ", manifest pins " + sha +
                         ")");
  };
  for (const auto& m : manifest.models()) check(m.name, m.file, m.sha256);
  for (const auto& a : manifest.assets()) check(a.name, a.file, a.sha256);
  return problems;
}

cv::Mat SyntheticInput(const InputSpec& input, uint32_t seed) {
  const int C = input.channels(), H = input.height(), W = input.width();
  int sizes[] = {1, C, H, W};
  cv::Mat blob(4, sizes, CV_32F);
  float* p = blob.ptr<float>();
  for (int c = 0; c < C; ++c) {
    for (uint32_t y = 0; y < uint32_t(H); ++y) {
      for (uint32_t x = 0; x < uint32_t(W); ++x) {
        uint32_t h =
            (uint32_t(c) * 73856093u) ^ (y * 19349663u) ^ (x * 83492791u) ^ (seed * 2654435761u);
        h ^= h >> 16;
        h *= 0x45d9f3bu;
        h ^= h >> 16;
        float pixel = float(h & 255u);
        *p++ = (pixel - input.mean[c < 3 ? c : 0]) * input.scale;
      }
    }
  }
  return blob;
}

}  // namespace argus::ml
