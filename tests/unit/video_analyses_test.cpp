// The analyses on real models: the missing-service errors everywhere, and on
// the shared clips (skipped with a reason when the data is absent): faces,
// labels, and face search on hamilton_clip.mp4 against a collection of the
// two reference portraits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "core/geometry.h"
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

// How many of `every`'s faces `tracked` has at the same timestamp at IoU
// 0.5 or more.
size_t FoundOf(const std::vector<FaceItem>& tracked, const std::vector<FaceItem>& every) {
  size_t found = 0;
  for (const auto& e : every)
    for (const auto& t : tracked)
      if (t.timestamp_ms == e.timestamp_ms && IoU(t.face.box, e.face.box) >= 0.5f) {
        ++found;
        break;
      }
  return found;
}

// Detect-then-track (the default) against a full detection on every sampled
// frame: on hamilton (close-ups, then an audience shot) it keeps nearly
// all of the faces. Looking only at the full detections (one sampled
// frame in five) would keep about a third.
TEST_F(VideoAnalyses, DetectThenTrackKeepsTheFacesOfFullDetectionOnHamilton) {
  const std::string clip = DataFile("video/hamilton_clip.mp4");
  if (clip.empty()) GTEST_SKIP() << "hamilton_clip.mp4 not found (set ARGUS_DATA)";
  ASSERT_TRUE(faces_) << "models missing";
  Services s;
  s.faces = faces_;
  auto run = [&](int64_t full_every_ms) {
    SampleRates rates;
    rates.faces_full_every_ms = full_every_ms;
    auto r = VideoReader::Open(clip);
    EXPECT_TRUE(r.ok());
    auto items = DetectFaces(**r, s, false, rates, nullptr);
    EXPECT_TRUE(items.ok()) << items.status().ToString();
    return items.ok() ? std::move(items).value() : std::vector<FaceItem>{};
  };
  const auto every = run(0), tracked = run(SampleRates().faces_full_every_ms);
  ASSERT_GT(every.size(), 40u);
  EXPECT_GE(FoundOf(tracked, every), every.size() * 85 / 100);
  EXPECT_LE(tracked.size(), every.size() + every.size() / 10);
}

// FaceService::DetectFacesNear on a photo of two people, shrunk into a
// larger frame (so that BlazeFace does not settle it as a close-up):
// around both faces it finds both; knowing one, or none, it leaves the
// frame to a full detection (BlazeFace sees a face it was not told of).
TEST_F(VideoAnalyses, DetectFacesNearFindsKnownFacesAndDefersOnNewOnes) {
  const std::string path = DataFile("faces-misc/two_people.jpg");
  if (path.empty()) GTEST_SKIP() << "faces-misc/two_people.jpg not found (set ARGUS_DATA)";
  ASSERT_TRUE(faces_) << "models missing";
  Image img;
  const cv::Mat photo = cv::imread(path);
  ASSERT_FALSE(photo.empty());
  img.bgr = cv::Mat(photo.size(), photo.type(), cv::Scalar::all(0));
  cv::resize(photo,
             img.bgr(cv::Rect(photo.cols / 4, photo.rows / 4, photo.cols / 2, photo.rows / 2)),
             cv::Size(photo.cols / 2, photo.rows / 2), 0, 0, cv::INTER_AREA);
  service::DetectOptions o;
  o.video_frame = true;
  auto full = faces_->DetectFaces(img, o);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->size(), 2u);
  std::vector<cv::Rect2f> known;
  for (const auto& f : full.value()) known.push_back(f.box);
  auto near = faces_->DetectFacesNear(img, known);
  ASSERT_TRUE(near.ok()) << near.status().ToString();
  ASSERT_TRUE(near->has_value());
  ASSERT_EQ((*near)->size(), 2u);
  for (const auto& f : full.value()) {
    float best = 0;
    for (const auto& n : **near) best = std::max(best, IoU(n.box, f.box));
    EXPECT_GE(best, 0.5f);
    EXPECT_EQ(f.landmarks68.size(), 68u);
  }
  auto one = faces_->DetectFacesNear(img, {known[0]});
  ASSERT_TRUE(one.ok());
  EXPECT_FALSE(one->has_value());
  auto none = faces_->DetectFacesNear(img, {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
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
