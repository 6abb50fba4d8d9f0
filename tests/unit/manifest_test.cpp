#include "ml/manifest.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ml/model.h"

namespace argus::ml {
namespace {

TEST(Manifest, ParsesModelsPackagesAssets) {
  const char* part = R"({
    "packages": [{"name": "p", "version": "1.0.0", "integrity": "sha512-x", "license": "MIT",
                  "dir": "p"}],
    "assets": [{"name": "keys", "package": "p", "source": "k.txt", "file": "keys.txt",
                "sha256": "00"}],
    "models": [{"name": "m", "package": "p", "source": "m.json", "file": "m.onnx",
                "sha256": "ab", "input": {"name": "in", "shape": [1, 3, 8, 4], "color": "BGR",
                "mean": [1, 2, 3], "scale": 0.5},
                "outputs": [{"name": "out", "shape": [1, 2]}]}]})";
  auto m = Manifest::Parse({part});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelSpec* s = m->FindModel("m");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->input.width(), 4);
  EXPECT_EQ(s->input.height(), 8);
  EXPECT_EQ(s->input.color, "BGR");
  EXPECT_FLOAT_EQ(s->input.mean[2], 3.f);
  EXPECT_FLOAT_EQ(s->input.scale, 0.5f);
  ASSERT_EQ(s->outputs.size(), 1u);
  EXPECT_EQ(s->outputs[0].name, "out");
  EXPECT_NE(m->FindAsset("keys"), nullptr);
  EXPECT_EQ(m->FindPackage("p")->version, "1.0.0");
  EXPECT_EQ(m->FindModel("nope"), nullptr);
}

TEST(Manifest, RejectsModelWithoutInputShape) {
  auto m = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx", "input": {}}]})"});
  EXPECT_FALSE(m.ok());
}

TEST(Manifest, RuntimeDefaultsToOnednnAndAcceptsOnlyKnownOnes) {
  auto plain = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx",
      "input": {"shape": [1, 3, 2, 2]}}]})"});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->FindModel("m")->runtime, "onednn");
  auto opencv = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx", "runtime": "opencv",
      "input": {"shape": [1, 3, 2, 2]}}]})"});
  ASSERT_TRUE(opencv.ok()) << opencv.status().ToString();
  EXPECT_EQ(opencv->FindModel("m")->runtime, "opencv");
  auto bad = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx", "runtime": "tvm",
      "input": {"shape": [1, 3, 2, 2]}}]})"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("runtime"), std::string::npos);
}

TEST(Manifest, ThreadsIsOneOrAbsent) {
  auto plain = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx",
      "input": {"shape": [1, 3, 2, 2]}}]})"});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->FindModel("m")->threads, 0);
  auto one = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx", "threads": 1,
      "input": {"shape": [1, 3, 2, 2]}}]})"});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->FindModel("m")->threads, 1);
  auto bad = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx", "threads": 4,
      "input": {"shape": [1, 3, 2, 2]}}]})"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("threads"), std::string::npos);
  EXPECT_EQ(Manifest::Embedded().FindModel("paddleocr_rec")->threads, 1);
}

TEST(Manifest, EmbeddedManifestIsConsistent) {
  const Manifest& m = Manifest::Embedded();
  for (const auto& s : m.models()) {
    EXPECT_NE(m.FindPackage(s.package), nullptr) << s.name << " names an unknown package";
    EXPECT_EQ(s.sha256.size(), 64u) << s.name;
    EXPECT_FALSE(s.license.empty()) << s.name;
    EXPECT_FALSE(s.outputs.empty()) << s.name;
  }
}

// FaceModelVersion, IndexFacesModelVersion: the service model's pattern
// [0-9\.]+, one version per embedder.
TEST(Manifest, EmbedderVersionsAreNumericAndDistinct) {
  std::set<std::string> seen;
  int embedders = 0;
  for (const auto& s : Manifest::Embedded().models()) {
    if (!s.embedder) continue;
    ++embedders;
    const std::string& v = s.embedder->model_version;
    EXPECT_FALSE(v.empty()) << s.name;
    EXPECT_EQ(v.find_first_not_of("0123456789."), std::string::npos) << s.name << ": " << v;
    EXPECT_TRUE(seen.insert(v).second) << s.name << " repeats " << v;
  }
  EXPECT_GE(embedders, 2);
}

TEST(SyntheticInput, MatchesTheDocumentedHash) {
  InputSpec in;
  in.shape = {1, 3, 2, 2};
  in.mean = {10, 20, 30};
  in.scale = 2.f;
  cv::Mat t = SyntheticInput(in, 1);
  // c=0,y=0,x=0,seed=1: h = 2654435761; h ^= h>>16; h *= 0x45d9f3b; h ^= h>>16.
  uint32_t h = 2654435761u;
  h ^= h >> 16;
  h *= 0x45d9f3bu;
  h ^= h >> 16;
  EXPECT_FLOAT_EQ(t.ptr<float>()[0], (float(h & 255u) - 10.f) * 2.f);
  // Channel 2 uses mean[2].
  float v = t.ptr<float>()[8];
  EXPECT_GE(v, (0.f - 30.f) * 2.f);
  EXPECT_LE(v, (255.f - 30.f) * 2.f);
}

TEST(VerifyModelDir, ReportsMissingFiles) {
  auto m = Manifest::Parse({R"({"models": [{"name": "m", "file": "m.onnx", "sha256": "ab",
      "input": {"shape": [1, 3, 2, 2]}}]})"});
  ASSERT_TRUE(m.ok());
  auto problems = VerifyModelDir("/nonexistent-argus-dir", m.value());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("missing"), std::string::npos);
}

}  // namespace
}  // namespace argus::ml
