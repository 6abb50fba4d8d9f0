// Every converted model, run on each runtime (oneDNN and OpenCV DNN) on the
// synthetic input of models/README.md, must reproduce the outputs its
// original runtime gave (tests/golden/<model>.json, made by tools/golden/)
// within the tolerance stated in that file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "ml/model.h"
#include "ml/onednn_graph.h"

namespace argus::ml {
namespace {

// The reference directory: $ARGUS_GOLDEN_DIR, else the source tree's.
std::string GoldenDir() {
  const char* env = std::getenv("ARGUS_GOLDEN_DIR");
  return env && *env ? env : ARGUS_GOLDEN_DIR;
}

// The reference files' stems, sorted; empty when the directory is missing or
// holds none (ReferenceDirectoryHoldsReferences then fails).
std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(GoldenDir(), ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == ".json") files.push_back(it->path().stem().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(GoldenFiles, ReferenceDirectoryHoldsReferences) {
  EXPECT_FALSE(GoldenFiles().empty())
      << GoldenDir() << " is missing or holds no <model>.json reference outputs";
}

const std::vector<std::string> kRuntimes = {"onednn", "opencv"};

// `name` loaded on `runtime`: the oneDNN runtime must not have fallen back.
Result<std::shared_ptr<Model>> LoadOn(const std::string& name, const std::string& runtime) {
  const ModelSpec* found = Manifest::Embedded().FindModel(name);
  if (!found) return Internal(name + " is not in the manifest");
  ModelSpec spec = *found;
  spec.runtime = runtime;
  auto model = Model::Load(spec, DefaultModelDir());
  if (model.ok() && model.value()->runtime() != runtime)
    return Internal(name + " runs on " + model.value()->runtime() + ", not " + runtime);
  return model;
}

// A model the manifest keeps on OpenCV DNN is not run on oneDNN.
bool ManifestKeepsOnOpenCV(const std::string& name, const std::string& runtime) {
  const ModelSpec* spec = Manifest::Embedded().FindModel(name);
  return runtime == "onednn" && spec && spec->runtime == "opencv";
}

class Golden : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Golden, ConvertedModelMatchesReference) {
  const auto& [file, runtime] = GetParam();
  std::ifstream in(GoldenDir() + "/" + file + ".json");
  auto ref = nlohmann::json::parse(in);
  const std::string name = ref.at("model");
  if (ManifestKeepsOnOpenCV(name, runtime)) GTEST_SKIP() << name << ": runtime opencv";
  auto model = LoadOn(name, runtime);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ModelSpec* spec = &model.value()->spec();

  const uint32_t seed = ref.at("input").value("seed", 1u);
  const double atol = ref.at("atol"), rtol = ref.at("rtol");
  std::vector<std::string> names;
  for (const auto& o : ref.at("outputs")) names.push_back(o.at("name"));
  auto outs = model.value()->Run(SyntheticInput(spec->input, seed), names);
  ASSERT_TRUE(outs.ok()) << outs.status().ToString();

  for (size_t k = 0; k < names.size(); ++k) {
    const auto& o = ref["outputs"][k];
    const cv::Mat& got = outs.value()[k];
    size_t expected_total = 1;
    for (int d : o.at("shape")) expected_total *= size_t(d);
    ASSERT_EQ(got.total(), expected_total) << name << "/" << names[k] << " element count";
    // "reference": what the stored values are of this output, when not the
    // output itself: the converted paddleocr_rec ends in logits where the
    // original ends in their softmax.
    cv::Mat compared = got.clone();
    if (o.contains("reference")) {
      ASSERT_EQ(o["reference"], "softmax over the last axis") << name << ": unknown reference";
      SoftmaxLastAxis(compared, o.at("shape").back());
    }
    const float* g = compared.ptr<float>();
    const auto& values = o.at("values");
    std::vector<size_t> idx;
    if (o.contains("indices")) {
      idx = o["indices"].get<std::vector<size_t>>();
    } else {
      for (size_t i = 0; i < values.size(); ++i) idx.push_back(i);
    }
    ASSERT_EQ(idx.size(), values.size());
    double worst = 0;
    int bad = 0;
    for (size_t i = 0; i < idx.size(); ++i) {
      ASSERT_LT(idx[i], got.total());
      double r = values[i], v = g[idx[i]];
      double err = std::abs(v - r);
      worst = std::max(worst, err);
      if (!(err <= atol + rtol * std::abs(r))) {
        if (++bad <= 5)
          ADD_FAILURE() << name << "/" << names[k] << "[" << idx[i] << "] = " << v << ", reference "
                        << r << " (atol " << atol << ", rtol " << rtol << ")";
      }
    }
    EXPECT_EQ(bad, 0) << name << "/" << names[k] << ": " << bad << " of " << idx.size()
                      << " values out of tolerance";
    RecordProperty(names[k] + "_max_abs_error", std::to_string(worst));
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Golden,
                         ::testing::Combine(::testing::ValuesIn(GoldenFiles()),
                                            ::testing::ValuesIn(kRuntimes)),
                         [](const auto& test) {
                           return std::get<0>(test.param) + "_" + std::get<1>(test.param);
                         });

// With no reference files the suite has no instances; the failure is
// ReferenceDirectoryHoldsReferences's.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

// paddleocr_det runs at the size of its input: the same input gives the
// same map whatever sizes the model ran at in between (OpenCV keeps a
// Resize layer's first output size per net, so each size needs its own),
// and its top-left matches a run on the image padded with tensor value 0
// away from the padding's edge.
class GoldenAnySize : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenAnySize, TextDetectorRunsAtEverySize) {
  if (ManifestKeepsOnOpenCV("paddleocr_det", GetParam())) GTEST_SKIP() << "runtime opencv";
  auto model = LoadOn("paddleocr_det", GetParam());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ModelSpec* spec = &model.value()->spec();
  cv::Mat big = SyntheticInput(spec->input, 3);  // 1x3x640x640
  const int sz[] = {1, 3, 480, 640};
  cv::Mat small(4, sz, CV_32F);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 480; ++y)
      std::copy_n(big.ptr<float>(0, c, y), 640, small.ptr<float>(0, c, y));
  auto a = model.value()->Run(small);
  auto b = model.value()->Run(big);
  auto c = model.value()->Run(small);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a.value()[0].total(), size_t(480 * 640));
  ASSERT_EQ(b.value()[0].total(), size_t(640 * 640));
  ASSERT_EQ(c.value()[0].total(), size_t(480 * 640));
  const float* pa = a.value()[0].ptr<float>();
  const float* pc = c.value()[0].ptr<float>();
  EXPECT_TRUE(std::equal(pa, pa + 480 * 640, pc));
  const float* pb = b.value()[0].ptr<float>();
  double worst = 0;
  for (int y = 0; y < 400; ++y)
    for (int x = 0; x < 640; ++x)
      worst = std::max(worst, double(std::abs(pa[y * 640 + x] - pb[y * 640 + x])));
  EXPECT_LT(worst, 0.05);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, GoldenAnySize, ::testing::ValuesIn(kRuntimes));

// faceapi_ssd_mobilenetv1_window is faceapi_ssd_mobilenetv1 on a 256x256 crop
// of its 512x512 input: on a crop whose origin is on the 64-pixel grid, each
// face the full net finds well inside the crop comes out of the window net
// with the same box and score (its anchors keep their sizes in pixels).
class GoldenWindow : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenWindow, SsdWindowGivesTheFullNetsFaces) {
  if (ManifestKeepsOnOpenCV("faceapi_ssd_mobilenetv1", GetParam())) GTEST_SKIP();
  auto full = LoadOn("faceapi_ssd_mobilenetv1", GetParam());
  auto window = LoadOn("faceapi_ssd_mobilenetv1_window", GetParam());
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_TRUE(window.ok()) << window.status().ToString();
  const std::string photo = DefaultModelDir() + "/packages/face-api/package/demo/sample1.jpg";
  cv::Mat img = cv::imread(photo);
  ASSERT_FALSE(img.empty()) << photo;
  // The detector's whole pass: the photo scaled into the top left of 512x512.
  const double k = 512.0 / std::max(img.cols, img.rows);
  cv::Mat canvas(512, 512, CV_8UC3, cv::Scalar(0, 0, 0)), scaled;
  cv::resize(img, scaled, cv::Size(int(std::lround(img.cols * k)), int(std::lround(img.rows * k))));
  scaled.copyTo(canvas(cv::Rect(0, 0, scaled.cols, scaled.rows)));
  auto whole = full.value()->Run(full.value()->Blob(canvas));
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  struct Box {
    cv::Rect2f r;
    float score;
  };
  auto boxes = [](const std::vector<cv::Mat>& o, int side, cv::Point at) {
    std::vector<Box> out;
    const float* b = o[0].ptr<float>();
    const float* s = o[1].ptr<float>();
    for (size_t i = 0; i < o[1].total(); ++i)
      out.push_back(
          {cv::Rect2f(b[4 * i + 1] * side + at.x, b[4 * i] * side + at.y,
                      (b[4 * i + 3] - b[4 * i + 1]) * side, (b[4 * i + 2] - b[4 * i]) * side),
           s[i]});
    return out;
  };
  int checked = 0;
  for (const Box& face : boxes(whole.value(), 512, {0, 0})) {
    if (face.score < 0.5f || face.r.width > 128 || face.r.height > 128) continue;
    // The window centred on the face, its origin on the 64-pixel grid.
    auto origin = [](float centre) {
      return std::clamp(int(std::lround((centre - 128) / 64)) * 64, 0, 256);
    };
    const cv::Point at(origin(face.r.x + face.r.width / 2), origin(face.r.y + face.r.height / 2));
    auto part = window.value()->Run(window.value()->Blob(canvas(cv::Rect(at, cv::Size(256, 256)))));
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    float best = 0;
    for (const Box& b : boxes(part.value(), 256, at)) {
      const float inter = (b.r & face.r).area();
      if (inter / (b.r.area() + face.r.area() - inter) >= 0.98f) best = std::max(best, b.score);
    }
    EXPECT_NEAR(best, face.score, 0.01) << "face at " << face.r;
    ++checked;
  }
  EXPECT_GE(checked, 3) << "sample1.jpg's faces at score 0.5 and at most 128 px";
}

INSTANTIATE_TEST_SUITE_P(Runtimes, GoldenWindow, ::testing::ValuesIn(kRuntimes));

// Concurrent callers of one model (each borrows its own plan or net) get
// the answers the same inputs give one after the other.
class GoldenConcurrent : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenConcurrent, ConcurrentRunsGiveTheSerialAnswers) {
  auto model = LoadOn("faceapi_ssd_mobilenetv1_window", GetParam());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  constexpr int kThreads = 4;
  std::vector<cv::Mat> inputs, serial(kThreads), parallel(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    inputs.push_back(SyntheticInput(model.value()->spec().input, uint32_t(10 + i)));
    auto r = model.value()->Run(inputs.back());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    serial[size_t(i)] = r.value()[1];
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int round = 0; round < 3; ++round) {
        auto r = model.value()->Run(inputs[size_t(i)]);
        if (!r.ok()) {
          ++failures;
          return;
        }
        parallel[size_t(i)] = r.value()[1];
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_EQ(parallel[size_t(i)].total(), serial[size_t(i)].total());
    // Scores of a run on one thread may differ from a 2-thread run in the
    // last bits (another summation order); nothing more.
    EXPECT_LE(cv::norm(parallel[size_t(i)], serial[size_t(i)], cv::NORM_INF), 1e-5)
        << "input " << i;
    EXPECT_GT(cv::norm(serial[size_t(i)], serial[size_t((i + 1) % kThreads)], cv::NORM_INF), 1e-4)
        << "inputs " << i << " and " << (i + 1) % kThreads << " give the same scores";
  }
}

INSTANTIATE_TEST_SUITE_P(Runtimes, GoldenConcurrent, ::testing::ValuesIn(kRuntimes));

// A model with an operator the oneDNN runtime lacks loads on OpenCV DNN
// (with a line on stderr) and gives OpenCV's right answer.
TEST(RuntimeFallback, UnsupportedOperatorRunsOnOpenCV) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("argus-fallback-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);
  const std::string cmd =
      std::string("/usr/bin/python3 ") + ARGUS_FALLBACK_SCRIPT + " " + dir + "/fallback.onnx";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  ModelSpec spec;
  spec.name = "fallback";
  spec.file = "fallback.onnx";
  spec.input.shape = {1, 3, 8, 8};
  spec.input.scale = 1.f / 255;  // inputs 0..1, away from tanh's saturation
  spec.outputs.push_back({"output", {1, 1, 8, 8}, ""});
  ASSERT_EQ(spec.runtime, "onednn");
  auto model = Model::Load(spec, dir);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model.value()->runtime(), "opencv");
  cv::Mat in = SyntheticInput(spec.input, 5);
  auto out = model.value()->Run(in);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out.value()[0].total(), size_t(64));
  const float* x = in.ptr<float>();
  const float* y = out.value()[0].ptr<float>();
  for (int i = 0; i < 64; ++i) {
    const float want = std::tanh(0.5f * x[i] + 0.25f * x[64 + i] - 0.5f * x[128 + i] + 0.1f);
    EXPECT_NEAR(y[i], want, 1e-5) << "pixel " << i;
  }
}

}  // namespace
}  // namespace argus::ml

int main(int argc, char** argv) {
  argus::ml::OnednnGraph::PreferPassiveWaiting(argv);
  ::testing::InitGoogleTest(&argc, argv);
  argus::ml::SetInferenceThreads(2);
  return RUN_ALL_TESTS();
}
