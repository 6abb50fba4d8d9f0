// The analyses on real models: the missing-service errors everywhere, and on
// the shared clips (skipped with a reason when the data is absent): faces,
// labels, and face search on hamilton_clip.mp4 against a collection of the
// two reference portraits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "ml/manifest.h"
#include "ml/model.h"
#include "service/collections.h"
#include "video/video.h"

namespace argus::video {
namespace {

namespace fs = std::filesystem;

// ARGUS_DATA, else shared/data next to the checkout (or its parent).
std::string DataDir() {
  if (const char* env = std::getenv("ARGUS_DATA")) return env;
  for (const char* rel : {"/../shared/data", "/../../shared/data"}) {
    const std::string p = std::string(ARGUS_SOURCE_DIR) + rel;
    if (fs::exists(p + "/video")) return p;
  }
  return "";
}

std::string DataFile(const std::string& rel) {
  const std::string dir = DataDir();
  if (dir.empty() || !fs::exists(dir + "/" + rel)) return "";
  return dir + "/" + rel;
}

class VideoAnalyses : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new ml::Registry(ml::DefaultModelDir());
    auto f = service::FaceService::Create(*registry_);
    if (f.ok()) faces_ = f.value().release();
    auto l = service::LabelService::Create(*registry_);
    if (l.ok()) labels_ = l.value().release();
  }
  static void TearDownTestSuite() {
    delete faces_;
    delete labels_;
    delete registry_;
  }
  static inline ml::Registry* registry_ = nullptr;
  static inline service::FaceService* faces_ = nullptr;
  static inline service::LabelService* labels_ = nullptr;
};

TEST_F(VideoAnalyses, MissingServicesAreServiceUnavailable) {
  const std::string clip = DataFile("video/hamilton_clip.mp4");
  if (clip.empty()) GTEST_SKIP() << "hamilton_clip.mp4 not found (set ARGUS_DATA)";
  auto r = VideoReader::Open(clip);
  ASSERT_TRUE(r.ok());
  Services none;
  EXPECT_EQ(DetectFaces(**r, none, false, {}, nullptr).status().code(), Code::kServiceUnavailable);
  EXPECT_EQ(TrackPersons(**r, none, {}, nullptr).status().code(), Code::kServiceUnavailable);
  EXPECT_EQ(DetectLabels(**r, none, {}, true, {}, nullptr).status().code(),
            Code::kServiceUnavailable);
  EXPECT_EQ(DetectModeration(**r, none, 50, true, {}, nullptr).status().code(),
            Code::kServiceUnavailable);
  EXPECT_EQ(DetectText(**r, none, {}, {}, nullptr).status().code(), Code::kServiceUnavailable);
}

TEST_F(VideoAnalyses, FacesAndLabelSegmentsOnHamilton) {
  const std::string clip = DataFile("video/hamilton_clip.mp4");
  if (clip.empty()) GTEST_SKIP() << "hamilton_clip.mp4 not found (set ARGUS_DATA)";
  ASSERT_TRUE(faces_ && labels_) << "models missing";
  Services s;
  s.faces = faces_;
  s.labels = labels_;
  SampleRates rates;
  rates.faces = 2;
  auto r = VideoReader::Open(clip);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->metadata().format, "QuickTime / MOV");
  auto faces = DetectFaces(**r, s, false, rates, nullptr);
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  EXPECT_GT(faces->size(), 5u);
  for (const auto& f : faces.value()) {
    EXPECT_GE(f.timestamp_ms, 0);
    EXPECT_LE(f.timestamp_ms, (*r)->metadata().duration_ms);
    EXPECT_GT(f.face.box.width, 0);
  }
  auto r2 = VideoReader::Open(clip);
  ASSERT_TRUE(r2.ok());
  auto labels = DetectLabels(**r2, s, {}, true, rates, nullptr);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  bool person = false;
  for (const auto& l : labels.value()) {
    EXPECT_EQ(l.duration_ms, l.end_ms - l.start_ms);
    EXPECT_EQ(l.timestamp_ms, l.start_ms);
    if (l.label.name == "Person") person = true;
  }
  EXPECT_TRUE(person) << "no Person segment in a clip of people";
}

TEST_F(VideoAnalyses, SearchFacesOnHamiltonFindsBothPortraitsAndNobodyElse) {
  const std::string clip = DataFile("video/hamilton_clip.mp4");
  const std::string lin = DataFile("faces-misc/lin-manuel-miranda.png");
  const std::string alex = DataFile("faces-misc/alex-lacamoire.png");
  if (clip.empty() || lin.empty() || alex.empty())
    GTEST_SKIP() << "hamilton clip or reference portraits not found (set ARGUS_DATA)";
  ASSERT_TRUE(faces_) << "models missing";
  const fs::path data =
      fs::temp_directory_path() / ("argus_video_search_" + std::to_string(::getpid()));
  {
    service::CollectionsConfig cc;
    cc.data_dir = data.string();
    cc.background = false;
    auto svc = service::CollectionService::Open(cc, faces_);
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    ASSERT_TRUE((*svc)->CreateCollection("cast", {}).ok());
    for (const auto& [path, name] :
         {std::pair{lin, "lin-manuel-miranda"}, std::pair{alex, "alex-lacamoire"}}) {
      auto bytes = ReadFile(path);
      ASSERT_TRUE(bytes.ok());
      auto img = DecodeImage(bytes.value());
      ASSERT_TRUE(img.ok());
      service::IndexFacesRequest req;
      req.collection_id = "cast";
      req.external_image_id = name;
      req.max_faces = 1;
      auto indexed = (*svc)->IndexFaces(img.value(), req);
      ASSERT_TRUE(indexed.ok()) << indexed.status().ToString();
      ASSERT_EQ(indexed->indexed.size(), 1u) << name;
    }
    Services s;
    s.faces = faces_;
    s.collections = svc->get();
    auto r = VideoReader::Open(clip);
    ASSERT_TRUE(r.ok());
    auto missing = SearchFaces(**r, s, "nobody", 80, {}, nullptr);
    EXPECT_EQ(missing.status().code(), Code::kResourceNotFound);
    auto r2 = VideoReader::Open(clip);
    ASSERT_TRUE(r2.ok());
    auto items = SearchFaces(**r2, s, "cast", 80, {}, nullptr);
    ASSERT_TRUE(items.ok()) << items.status().ToString();
    // Who each index matched, and when.
    std::map<int64_t, std::set<std::string>> who;
    std::map<std::string, std::pair<int64_t, int64_t>> when;
    for (const auto& it : items.value()) {
      for (const auto& m : it.matches) {
        EXPECT_TRUE(it.face.has_value());
        EXPECT_GE(m.similarity, 80.f);
        who[it.index].insert(m.face.external_image_id);
        auto [w, fresh] =
            when.try_emplace(m.face.external_image_id, it.timestamp_ms, it.timestamp_ms);
        w->second.first = std::min(w->second.first, it.timestamp_ms);
        w->second.second = std::max(w->second.second, it.timestamp_ms);
      }
    }
    for (const auto& [name, span] : when)
      std::printf("  %s seen %lld..%lld ms\n", name.c_str(), (long long)span.first,
                  (long long)span.second);
    EXPECT_EQ(when.size(), 2u);
    EXPECT_TRUE(when.count("lin-manuel-miranda"));
    EXPECT_TRUE(when.count("alex-lacamoire"));
    for (const auto& [index, names] : who)
      EXPECT_EQ(names.size(), 1u) << "person " << index << " matched both portraits";
    // From 7.04 s (frame 211, a cut the colours barely show) the clip shows
    // the audience: a track that runs on across that cut must not lend its
    // match to the faces there.
    for (const auto& [name, span] : when) EXPECT_LT(span.second, 7040) << name;
    (*svc)->Close();
  }
  fs::remove_all(data);
}

}  // namespace
}  // namespace argus::video
