// `argus bench video`: decode speed and analysis real-time factors on the
// shared clips, plus the face search check on hamilton_clip.mp4.
#include "bench/video_bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <optional>
#include <set>

#include "core/geometry.h"
#include "core/image.h"
#include "ml/model.h"
#include "service/collections.h"
#include "service/labels.h"
#include "video/decoder.h"
#include "video/video.h"

namespace argus::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// How many of the faces found by a full detection on every sampled frame
// (`every`) the detect-then-track run (`tracked`) also found: one at the
// same timestamp overlapping it at IoU 0.5 or more.
std::string Agreement(const std::vector<video::FaceItem>& tracked,
                      const std::vector<video::FaceItem>& every) {
  std::multimap<int64_t, cv::Rect2f> by_ts;
  for (const auto& t : tracked) by_ts.emplace(t.timestamp_ms, t.face.box);
  size_t found = 0;
  for (const auto& e : every) {
    auto [lo, hi] = by_ts.equal_range(e.timestamp_ms);
    for (auto it = lo; it != hi; ++it)
      if (IoU(it->second, e.face.box) >= 0.5f) {
        ++found;
        by_ts.erase(it);
        break;
      }
  }
  char line[160];
  std::snprintf(line, sizeof line, "detect-then-track found %zu of these (%.1f%%) and %zu others",
                found, every.empty() ? 100.0 : 100.0 * double(found) / double(every.size()),
                by_ts.size());
  return line;
}

// A reader that ends after `max_ms` of video.
class Limited final : public video::VideoReader {
 public:
  Limited(std::unique_ptr<video::VideoReader> inner, int64_t max_ms)
      : inner_(std::move(inner)), meta_(inner_->metadata()), max_ms_(max_ms) {
    if (max_ms_ > 0 && meta_.duration_ms > max_ms_) meta_.duration_ms = max_ms_;
  }
  const video::VideoMetadata& metadata() const override { return meta_; }
  Result<bool> Next(video::Frame& f, double fps) override {
    if (done_) return false;
    auto more = inner_->Next(f, fps);
    if (!more.ok() || !more.value()) return more;
    if (max_ms_ > 0 && f.timestamp_ms >= max_ms_) {
      done_ = true;
      return false;
    }
    last_ms_ = f.timestamp_ms;
    return true;
  }
  int64_t analysed_ms() const { return meta_.duration_ms; }

 private:
  std::unique_ptr<video::VideoReader> inner_;
  video::VideoMetadata meta_;
  int64_t max_ms_;
  int64_t last_ms_ = 0;
  bool done_ = false;
};

Result<std::unique_ptr<Limited>> OpenLimited(const std::string& path, double seconds,
                                             const video::DecoderOptions& d = {}) {
  auto r = video::OpenVideo(path, video::Limits{}, d);
  if (!r.ok()) return r.status();
  return std::make_unique<Limited>(std::move(r.value()), int64_t(seconds * 1000));
}

// Frames per second of decoding `path` for at most `seconds` of video.
void DecodeFigures(const std::string& path, double seconds, double fps) {
  struct Way {
    const char* name;
    double sample;
    int skip;
  };
  for (const Way& w : {Way{"libav every frame", 0, 0}, Way{"libav sampled", fps, 0},
                       Way{"libav sampled, skip non-ref", fps, 3}}) {
    video::DecoderOptions d;
    d.skip_nonref_min_gap_frames = w.skip;
    auto r = OpenLimited(path, seconds, d);
    if (!r.ok()) {
      std::printf("    %-30s %s\n", w.name, r.status().message().c_str());
      continue;
    }
    const double rate = (*r)->metadata().frame_rate;
    video::Frame f;
    int n = 0;
    int64_t last = 0;
    auto t0 = Clock::now();
    while (true) {
      auto more = (*r)->Next(f, w.sample);
      if (!more.ok() || !more.value()) break;
      ++n;
      last = f.timestamp_ms;
    }
    const double s = Seconds(t0);
    const double decoded = rate * (last + 1000.0 / std::max(1.0, rate)) / 1000.0;
    std::printf("    %-30s %5d frames out, %7.1f video frames/s, %5.1fx real time\n", w.name, n,
                decoded / s, (last / 1000.0 + 1.0 / std::max(1.0, rate)) / s);
  }
  cv::VideoCapture cap(path, cv::CAP_FFMPEG);
  if (!cap.isOpened()) {
    std::printf("    %-30s cannot open\n", "cv::VideoCapture");
    return;
  }
  const double rate = cap.get(cv::CAP_PROP_FPS);
  const int max_frames = seconds > 0 ? int(seconds * rate) : INT32_MAX;
  cv::Mat m;
  int n = 0;
  auto t0 = Clock::now();
  while (n < max_frames && cap.read(m)) ++n;
  const double s = Seconds(t0);
  std::printf("    %-30s %5d frames out, %7.1f video frames/s, %5.1fx real time\n",
              "cv::VideoCapture every frame", n, n / s, n / std::max(1.0, rate) / s);
}

void SearchCheck(const std::string& data_dir, service::FaceService& faces) {
  const std::string clip = data_dir + "/video/hamilton_clip.mp4";
  const std::string lin = data_dir + "/faces-misc/lin-manuel-miranda.png";
  const std::string alex = data_dir + "/faces-misc/alex-lacamoire.png";
  std::printf(
      "\nface search check: hamilton_clip.mp4 against {lin-manuel-miranda, "
      "alex-lacamoire} at threshold 80\n");
  if (!fs::exists(clip) || !fs::exists(lin) || !fs::exists(alex)) {
    std::printf("  skipped: the clip or the portraits are not under %s\n", data_dir.c_str());
    return;
  }
  const fs::path dir =
      fs::temp_directory_path() / ("argus_bench_video_search_" + std::to_string(::getpid()));
  {
    auto svc = CastCollection(data_dir, dir.string(), faces);
    if (!svc.ok()) {
      std::printf("  %s\n", svc.status().message().c_str());
      return;
    }
    video::Services s;
    s.faces = &faces;
    s.collections = svc->get();
    auto r = video::VideoReader::Open(clip);
    if (!r.ok()) return;
    auto t0 = Clock::now();
    auto items = video::SearchFaces(**r, s, "cast", 80, {}, nullptr);
    const double wall = Seconds(t0);
    if (!items.ok()) {
      std::printf("  SearchFaces failed: %s\n", items.status().message().c_str());
      return;
    }
    struct Seen {
      int64_t first = -1, last = -1, items = 0;
      int64_t matched = 0, matched_first = -1, matched_last = -1;  // items with matches
      std::set<std::string> names;
      float best = 0;
    };
    std::map<int64_t, Seen> people;
    for (const auto& it : items.value()) {
      Seen& p = people[it.index];
      if (p.first < 0) p.first = it.timestamp_ms;
      p.last = it.timestamp_ms;
      ++p.items;
      if (!it.matches.empty()) {
        if (p.matched_first < 0) p.matched_first = it.timestamp_ms;
        p.matched_last = it.timestamp_ms;
        ++p.matched;
      }
      for (const auto& m : it.matches) {
        p.names.insert(m.face.external_image_id);
        p.best = std::max(p.best, m.similarity);
      }
    }
    std::set<std::string> found;
    bool ambiguous = false;
    for (const auto& [index, p] : people) {
      std::string names;
      for (const auto& n : p.names) names += (names.empty() ? "" : ",") + n;
      std::printf("  person %lld: %lld..%lld ms, %lld items, matches: %s", (long long)index,
                  (long long)p.first, (long long)p.last, (long long)p.items,
                  names.empty() ? "none" : names.c_str());
      if (!names.empty())
        std::printf(" (similarity %.1f; in %lld items, %lld..%lld ms)", p.best,
                    (long long)p.matched, (long long)p.matched_first, (long long)p.matched_last);
      std::printf("\n");
      found.insert(p.names.begin(), p.names.end());
      ambiguous = ambiguous || p.names.size() > 1;
    }
    const bool ok = found.size() == 2 && found.count("lin-manuel-miranda") &&
                    found.count("alex-lacamoire") && !ambiguous;
    std::printf(
        "  %zu people tracked in %.1f s; expected both portraits found and nobody "
        "else: %s\n",
        people.size(), wall, ok ? "yes" : "NO");
    (*svc)->Close();
  }
  fs::remove_all(dir);
}

}  // namespace

Result<std::unique_ptr<service::CollectionService>> CastCollection(const std::string& data_dir,
                                                                   const std::string& dir,
                                                                   service::FaceService& faces,
                                                                   Image* portrait) {
  service::CollectionsConfig cc;
  cc.data_dir = dir;
  cc.background = false;
  ARGUS_ASSIGN(svc, service::CollectionService::Open(cc, &faces));
  ARGUS_RETURN_IF_ERROR(svc->CreateCollection("cast", {}).status());
  for (const char* name : {"lin-manuel-miranda", "alex-lacamoire"}) {
    ARGUS_ASSIGN(bytes, ReadFile(data_dir + "/faces-misc/" + name + ".png"));
    ARGUS_ASSIGN(img, DecodeImage(bytes));
    service::IndexFacesRequest req;
    req.collection_id = "cast";
    req.external_image_id = name;
    req.max_faces = 1;
    ARGUS_ASSIGN(done, svc->IndexFaces(img, req));
    if (done.indexed.empty()) return Internal(std::string("no face indexed from ") + name);
    if (portrait) *portrait = img;
  }
  return svc;
}

bool Make720p(const std::string& src, const std::string& out, int repeat) {
  cv::VideoWriter w;
  for (int i = 0; i < repeat; ++i) {
    auto r = video::VideoReader::Open(src);
    if (!r.ok()) return false;
    if (!w.isOpened() && !w.open(out, cv::VideoWriter::fourcc('a', 'v', 'c', '1'),
                                 (*r)->metadata().frame_rate, cv::Size(1280, 720)))
      return false;
    video::Frame f;
    cv::Mat big;
    while (true) {
      auto more = (*r)->Next(f, 0);
      if (!more.ok() || !more.value()) break;
      cv::resize(f.bgr, big, cv::Size(1280, 720), 0, 0, cv::INTER_LINEAR);
      w.write(big);
    }
  }
  w.release();
  return fs::exists(out) && fs::file_size(out) > 0;
}

int RunVideoBench(const VideoBenchOptions& o) {
  std::vector<std::pair<std::string, std::string>> clips;  // name, path
  for (const auto& c : o.clips) clips.emplace_back(fs::path(c).filename().string(), c);
  const fs::path tmp =
      fs::temp_directory_path() / ("argus_bench_video_" + std::to_string(::getpid()));
  if (o.clips.empty()) {
    for (const char* name : {"hamilton_clip.mp4", "mot20_crowd.mp4", "one_by_one_person.mp4"}) {
      const std::string p = o.data_dir + "/video/" + name;
      if (fs::exists(p)) clips.emplace_back(name, p);
    }
    if (o.make_720p && !clips.empty() && clips[0].first == "hamilton_clip.mp4") {
      fs::create_directories(tmp);
      const std::string out = (tmp / "hamilton_720p.mp4").string();
      if (Make720p(clips[0].second, out)) clips.emplace_back("hamilton_720p.mp4 (upscaled)", out);
    }
  }
  if (clips.empty()) {
    std::fprintf(stderr, "argus bench video: no clip under %s/video (use --data DIR or CLIP...)\n",
                 o.data_dir.c_str());
    return 1;
  }
  ml::Registry registry(o.model_dir);
  auto faces = service::FaceService::Create(registry, o.face);
  auto labels = service::LabelService::Create(registry);
  if (!faces.ok() || !labels.ok()) {
    std::fprintf(stderr, "argus bench video: %s\n",
                 (!faces.ok() ? faces.status() : labels.status()).message().c_str());
    return 1;
  }
  video::Services s;
  s.faces = faces->get();
  s.labels = labels->get();
  std::printf(
      "argus bench video: %d inference threads, analyses sampled at %.1f fps, each clip "
      "cut at %.0f s\n",
      o.threads, o.fps, o.seconds);
  for (const auto& [name, path] : clips) {
    auto probe = video::VideoReader::Open(path);
    if (!probe.ok()) {
      std::printf("\n%s: %s\n", name.c_str(), probe.status().message().c_str());
      continue;
    }
    const auto& m = (*probe)->metadata();
    std::printf("\n%s: %dx%d, %.2f fps, %.1f s, %s, %s\n", name.c_str(), m.width, m.height,
                m.frame_rate, m.duration_ms / 1000.0, m.codec.c_str(), m.format.c_str());
    std::printf("  decode\n");
    DecodeFigures(path, o.seconds, o.fps);
    std::printf("  analyses\n");
    std::optional<std::vector<video::FaceItem>> tracked_faces;
    for (const auto& op : o.ops) {
      auto r = OpenLimited(path, o.seconds);
      if (!r.ok()) continue;
      const double video_s = (*r)->analysed_ms() / 1000.0;
      video::SampleRates rates;
      rates.faces = rates.persons = rates.labels = o.fps;
      std::string result;
      auto t0 = Clock::now();
      if (op == "faces" || op == "faces-every-frame") {
        // "faces-every-frame": a full detection on every sampled frame, the
        // reference the detect-then-track default is compared with.
        if (op == "faces-every-frame") rates.faces_full_every_ms = 0;
        auto items = video::DetectFaces(**r, s, false, rates, nullptr);
        if (!items.ok()) {
          result = items.status().message();
        } else {
          result = std::to_string(items->size()) + " face items";
          if (op == "faces")
            tracked_faces = std::move(items).value();
          else if (tracked_faces)
            result += "; " + Agreement(*tracked_faces, items.value());
        }
      } else if (op == "persons") {
        auto items = video::TrackPersons(**r, s, rates, nullptr);
        if (items.ok()) {
          std::set<int64_t> ids;
          std::map<int64_t, int> per_ts;
          for (const auto& it : items.value()) {
            ids.insert(it.index);
            ++per_ts[it.timestamp_ms];
          }
          int most = 0;
          for (const auto& [ts, n] : per_ts) most = std::max(most, n);
          result = std::to_string(ids.size()) + " distinct person indices, at most " +
                   std::to_string(most) + " in one frame, " + std::to_string(items->size()) +
                   " items";
        } else {
          result = items.status().message();
        }
      } else if (op == "labels") {
        auto items = video::DetectLabels(**r, s, {}, true, rates, nullptr);
        result = items.ok() ? std::to_string(items->size()) + " label segments"
                            : items.status().message();
      } else if (op == "segments") {
        auto items = video::DetectSegments(**r, {}, nullptr);
        if (items.ok()) {
          int shots = 0;
          for (const auto& it : items.value()) shots += it.type == video::SegmentItem::Type::kShot;
          result = std::to_string(shots) + " shots, " + std::to_string(items->size() - shots) +
                   " technical cues";
        } else {
          result = items.status().message();
        }
      } else {
        result = "unknown op";
      }
      const double wall = Seconds(t0);
      std::printf(
          "    %-17s %6.2f s for %5.1f s of video: %5.2fx real time; %s; peak RSS %.0f MiB\n",
          op.c_str(), wall, video_s, video_s / wall, result.c_str(), PeakRssMiB());
    }
  }
  if (o.search) SearchCheck(o.data_dir, **faces);
  fs::remove_all(tmp);
  return 0;
}

}  // namespace argus::bench
