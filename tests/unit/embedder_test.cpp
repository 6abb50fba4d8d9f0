// Face embedders by manifest entry: the default (face-api's dlib recogniser),
// a second one from the shipped manifest (human's FaceRes), and a tiny
// ArcFace-layout ONNX generated at test time and loaded through a manifest
// entry of its own. Real models, real images; the collection's
// FaceModelVersion follows the embedder.
#include "vision/face/embedder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "core/geometry.h"
#include "core/image.h"
#include "ml/manifest.h"
#include "ml/model.h"
#include "service/collections.h"
#include "service/faces.h"

namespace argus::ml {
extern const std::vector<std::string_view> kManifestParts;
}

namespace argus::service {
namespace {

namespace fs = std::filesystem;

std::string Sample(const std::string& name) {
  return ml::PackageRoot(ml::DefaultModelDir(), "@vladmandic/face-api") + "/demo/" + name;
}

Image Load(const std::string& path) {
  auto bytes = ReadFile(path);
  EXPECT_TRUE(bytes.ok()) << path;
  auto img = DecodeImage(bytes.value());
  EXPECT_TRUE(img.ok()) << path;
  return std::move(img).value();
}

float Norm(const std::vector<float>& v) { return std::sqrt(Dot(v, v)); }

// sample1.jpg (three women): the largest face, the same face in the image
// shrunk to 80% (other pixels, same person) and a second woman's face.
struct ThreeFaces {
  std::vector<float> a, a_again, b;
};

ThreeFaces EmbedThree(FaceService& faces) {
  ThreeFaces out;
  Image img = Load(Sample("sample1.jpg"));
  auto found = faces.DetectFaces(img);
  EXPECT_TRUE(found.ok());
  EXPECT_GE(found->size(), 2u);
  if (!found.ok() || found->size() < 2) return out;
  auto a = faces.Describe(img, found.value()[0]);
  auto b = faces.Describe(img, found.value()[1]);
  Image small;
  cv::resize(img.bgr, small.bgr, cv::Size(), 0.8, 0.8, cv::INTER_AREA);
  auto found_small = faces.DetectFaces(small);
  EXPECT_TRUE(found_small.ok() && !found_small->empty());
  if (!found_small.ok() || found_small->empty()) return out;
  auto again = faces.Describe(small, found_small.value()[0]);
  EXPECT_TRUE(a.ok() && b.ok() && again.ok());
  if (a.ok()) out.a = a.value();
  if (b.ok()) out.b = b.value();
  if (again.ok()) out.a_again = again.value();
  return out;
}

void ExpectUnitVectors(const ThreeFaces& f, size_t dim) {
  for (const auto* v : {&f.a, &f.a_again, &f.b}) {
    ASSERT_EQ(v->size(), dim);
    EXPECT_NEAR(Norm(*v), 1.f, 1e-4);
  }
}

TEST(Embedder, DefaultIsFaceApiDlibRecogniserWithItsModelVersion) {
  ml::Registry registry(ml::DefaultModelDir());
  auto faces = FaceService::Create(registry);
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  EXPECT_EQ((*faces)->ModelVersion(), "1.0");
  EXPECT_STREQ(FaceService::FaceModelVersion(), "1.0");
  EXPECT_EQ((*faces)->DescriptorDimension(), 128);
  ThreeFaces f = EmbedThree(**faces);
  ExpectUnitVectors(f, 128);
  EXPECT_GT(Dot(f.a, f.a_again), Dot(f.a, f.b));
}

TEST(Embedder, FaceResFromTheManifestSwapsInWithItsOwnDimensionAndVersion) {
  ml::Registry registry(ml::DefaultModelDir());
  FaceConfig config;
  config.embedder = "human_faceres";
  auto faces = FaceService::Create(registry, config);
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  EXPECT_EQ((*faces)->ModelVersion(), "2.0");
  EXPECT_STREQ(FaceService::FaceModelVersion(), "2.0");
  ThreeFaces f = EmbedThree(**faces);
  ExpectUnitVectors(f, 1024);
  EXPECT_GT(Dot(f.a, f.a_again), Dot(f.a, f.b));
  // Back to the default for the tests that follow in this process.
  ASSERT_TRUE(FaceService::Create(registry).ok());
}

TEST(Embedder, UnknownOrNonEmbedderModelIsInvalidParameter) {
  ml::Registry registry(ml::DefaultModelDir());
  auto none = vision::FaceEmbedder::Create("no_such_model", registry);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kInvalidParameter);
  auto detector = vision::FaceEmbedder::Create("human_blazeface", registry);
  ASSERT_FALSE(detector.ok());
  EXPECT_EQ(detector.status().code(), Code::kInvalidParameter);
}

// A model dir holding the shipped models (links) and the generated tiny
// ArcFace-layout ONNX, with the embedded manifest plus an entry for it.
class TinyArcFace : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("argus_embedder_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    for (const auto& e : fs::directory_iterator(ml::DefaultModelDir()))
      if (e.path().extension() == ".onnx") fs::create_symlink(e.path(), dir_ / e.path().filename());
    const std::string cmd =
        "/usr/bin/python3 " ARGUS_TINY_ARCFACE_SCRIPT " " + (dir_ / "tiny_arcface.onnx").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::vector<std::string_view> parts = ml::kManifestParts;
    parts.push_back(kPart);
    auto m = ml::Manifest::Parse(parts);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manifest_ = std::move(m).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static constexpr std::string_view kPart = R"({"models": [
    {"name": "tiny_arcface", "task": "face_descriptor", "license": "test",
     "file": "tiny_arcface.onnx",
     "input": {"name": "input", "shape": [1, 3, 112, 112], "color": "RGB",
               "mean": [127.5, 127.5, 127.5], "scale": 0.0078431372549019607},
     "outputs": [{"name": "embedding", "shape": [1, 512]}],
     "embedder": {"alignment": "arcface5", "output": "embedding",
                  "model_version": "test-tinyarcface512-1"}}]})";

  fs::path dir_;
  ml::Manifest manifest_;
};

TEST_F(TinyArcFace, LoadsByManifestEntryAlignsTo112AndNormalisesAsArcFace) {
  ml::Registry registry(dir_.string(), manifest_);
  FaceConfig config;
  config.embedder = "tiny_arcface";
  auto faces = FaceService::Create(registry, config);
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  EXPECT_EQ((*faces)->ModelVersion(), "test-tinyarcface512-1");
  EXPECT_EQ((*faces)->DescriptorDimension(), 512);
  ThreeFaces f = EmbedThree(**faces);
  ExpectUnitVectors(f, 512);

  // The embedder's own pipeline against the same steps spelled out: the
  // 112x112 chip, (x - 127.5) / 127.5 in RGB order, the net, L2 norm.
  auto emb = vision::FaceEmbedder::Create("tiny_arcface", registry);
  ASSERT_TRUE(emb.ok()) << emb.status().ToString();
  Image img = Load(Sample("sample1.jpg"));
  auto found = (*faces)->DetectFaces(img);
  ASSERT_TRUE(found.ok() && !found->empty());
  const auto& lm = found.value()[0].landmarks68;
  cv::Mat chip = (*emb)->Align(img.bgr, lm);
  EXPECT_EQ(chip.size(), cv::Size(112, 112));
  cv::dnn::Net net = cv::dnn::readNetFromONNX((dir_ / "tiny_arcface.onnx").string());
  net.setInput(cv::dnn::blobFromImage(chip, 1 / 127.5, cv::Size(112, 112),
                                      cv::Scalar(127.5, 127.5, 127.5), /*swapRB=*/true));
  cv::Mat out = net.forward("embedding");
  std::vector<float> want(out.ptr<float>(), out.ptr<float>() + out.total());
  L2Normalize(want);
  auto got = (*emb)->Embed(img.bgr, lm);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.value()[i], want[i], 1e-4) << i;

  // The five points land on the ArcFace template: the chip is the image
  // warped by the least-squares similarity of the five points onto it.
  auto five = vision::FivePointsFrom68(lm);
  ASSERT_EQ(five.size(), 5u);
  cv::Point2d ms(0, 0), md(0, 0);
  for (int i = 0; i < 5; ++i)
    ms += cv::Point2d(five[i]), md += cv::Point2d(vision::kArcFaceTemplate112[i]);
  ms *= 0.2;
  md *= 0.2;
  double sxx = 0, ca = 0, sb = 0;
  for (int i = 0; i < 5; ++i) {
    cv::Point2d p = cv::Point2d(five[i]) - ms, q = cv::Point2d(vision::kArcFaceTemplate112[i]) - md;
    sxx += p.dot(p);
    ca += p.x * q.x + p.y * q.y;
    sb += p.x * q.y - p.y * q.x;
  }
  ca /= sxx;
  sb /= sxx;
  cv::Mat m = (cv::Mat_<double>(2, 3) << ca, -sb, md.x - (ca * ms.x - sb * ms.y), sb, ca,
               md.y - (sb * ms.x + ca * ms.y));
  cv::Mat direct;
  cv::warpAffine(img.bgr, direct, m, cv::Size(112, 112));
  EXPECT_LT(cv::norm(direct, chip, cv::NORM_L1) / double(chip.total() * 3), 1.0);
}

TEST_F(TinyArcFace, CollectionOfOneEmbedderRefusesFacesOfAnother) {
  const fs::path data = dir_ / "data";
  ml::Registry registry(dir_.string(), manifest_);
  Image img = Load(Sample("sample1.jpg"));
  {
    auto dlib = FaceService::Create(registry);
    ASSERT_TRUE(dlib.ok()) << dlib.status().ToString();
    CollectionsConfig cc;
    cc.data_dir = data.string();
    cc.background = false;
    auto svc = CollectionService::Open(cc, dlib->get());
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    auto c = (*svc)->CreateCollection("dlib", {});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->face_model_version, "1.0");
    IndexFacesRequest req;
    req.collection_id = "dlib";
    ASSERT_TRUE((*svc)->IndexFaces(img, req).ok());
    (*svc)->Close();
  }
  FaceConfig config;
  config.embedder = "tiny_arcface";
  auto arc = FaceService::Create(registry, config);
  ASSERT_TRUE(arc.ok()) << arc.status().ToString();
  CollectionsConfig cc;
  cc.data_dir = data.string();
  cc.background = false;
  auto svc = CollectionService::Open(cc, arc->get());
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  IndexFacesRequest req;
  req.collection_id = "dlib";
  auto refused = (*svc)->IndexFaces(img, req);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidParameter);
  EXPECT_NE(refused.status().message().find("face model 1.0;"), std::string::npos);
  auto c = (*svc)->CreateCollection("arc", {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->face_model_version, "test-tinyarcface512-1");
  req.collection_id = "arc";
  auto indexed = (*svc)->IndexFaces(img, req);
  ASSERT_TRUE(indexed.ok()) << indexed.status().ToString();
  EXPECT_EQ(indexed->model_version, "test-tinyarcface512-1");
  EXPECT_FALSE(indexed->indexed.empty());
  (*svc)->Close();
  ASSERT_TRUE(FaceService::Create(registry).ok());  // the default again
}

// The Similarity scale's calibration points (docs/MODEL_CARD.md) and its
// inverse, which the video tracker's thresholds come from.
TEST(Embedder, SimilarityScaleAndItsInverse) {
  EXPECT_NEAR(FaceService::SimilarityFromDistance(0.399f), 80.f, 1.f);
  EXPECT_NEAR(FaceService::SimilarityFromDistance(0.299f), 99.f, 0.2f);
  for (float s : {1.f, 10.f, 50.f, 80.f, 99.f})
    EXPECT_NEAR(FaceService::SimilarityFromDistance(FaceService::DistanceAtSimilarity(s)), s,
                1e-3f * s + 1e-3f);
  EXPECT_GT(FaceService::DistanceAtSimilarity(10), FaceService::DistanceAtSimilarity(80));
  // Out of range is clamped, not NaN.
  EXPECT_TRUE(std::isfinite(FaceService::DistanceAtSimilarity(0)));
  EXPECT_TRUE(std::isfinite(FaceService::DistanceAtSimilarity(100)));
}

}  // namespace
}  // namespace argus::service
