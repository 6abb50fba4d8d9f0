#include "stream/processor.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "core/log.h"

namespace argus::stream {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The label model's names each connected-home label stands for.
const std::map<std::string, std::vector<std::string>>& HomeLabels() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"PERSON", {"Person"}},
      {"PET", {"Dog", "Cat"}},
  };
  return m;
}

// Analysis failures in a row after which the processor fails.
constexpr int kMaxErrors = 20;

class Running final : public Processor {
 public:
  Running(Settings settings, Services services, Events events)
      : settings_(std::move(settings)), services_(services), events_(std::move(events)) {}
  ~Running() override { Stop(); }

  Status Begin() {
    video::LiveOptions live = settings_.live;
    live.fps = settings_.fps;
    auto source = video::LiveSource::Start(settings_.source, live,
                                           [this](video::LiveEvent e, const std::string& detail) {
                                             if (events_.on_source && !stop_.load())
                                               events_.on_source(e, detail);
                                           });
    if (!source.ok()) return source.status();
    source_ = std::move(source.value());
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  void Stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (source_) source_->Stop();
  }

  bool finished() const override { return finished_.load(); }

  Stats stats() const override {
    std::lock_guard lock(mu_);
    Stats s = stats_;
    if (source_) s.source = source_->stats();
    return s;
  }

 private:
  void End(State state, const std::string& message) {
    finished_ = true;
    if (events_.on_end) events_.on_end(state, message);
  }

  void Loop() {
    int errors_in_a_row = 0;
    const int64_t until =
        settings_.max_duration_ms > 0 ? SteadyMs() + settings_.max_duration_ms : INT64_MAX;
    while (!stop_.load()) {
      if (SteadyMs() >= until) {
        End(State::kStopped, "The stream processor reached its StopSelector's duration.");
        return;
      }
      video::LiveFrame frame;
      if (!source_->Take(frame, 200)) {
        if (source_->ended()) {
          End(State::kStopped, "The stream source ended.");
          return;
        }
        continue;
      }
      FrameResult result;
      Status st = Analyse(frame, result);
      {
        std::lock_guard lock(mu_);
        ++stats_.analysed;
        if (!st.ok()) ++stats_.errors;
      }
      if (!st.ok()) {
        log::Warn("stream processor: analysis failed: " + st.message());
        if (++errors_in_a_row >= kMaxErrors) {
          End(State::kFailed, "The analysis failed " + std::to_string(kMaxErrors) +
                                  " times in a row: " + st.message());
          return;
        }
        continue;
      }
      errors_in_a_row = 0;
      if (result.faces.empty() && result.labels.empty()) continue;
      {
        std::lock_guard lock(mu_);
        ++stats_.results;
      }
      if (events_.on_result && !stop_.load()) events_.on_result(result);
    }
  }

  Status Analyse(video::LiveFrame& frame, FrameResult& out) {
    Image img;
    img.bgr = frame.bgr;
    const cv::Size size = frame.bgr.size();
    if (!settings_.collection.empty()) {
      service::DetectOptions o;
      o.video_frame = true;
      ARGUS_ASSIGN(faces, services_.faces->DetectFaces(img, o));
      std::vector<const service::FaceDetail*> kept;
      for (const auto& f : faces)
        if (!f.landmarks68.empty() && InRegions(settings_, f.box, size)) kept.push_back(&f);
      auto descs = services_.faces->DescribeAll(img, kept);
      for (size_t i = 0; i < kept.size(); ++i) {
        FaceHit hit;
        hit.face = *kept[i];
        if (descs[i].ok()) {
          ARGUS_ASSIGN(found, services_.collections->SearchDescriptor(
                                  settings_.collection, descs[i].value().data(),
                                  settings_.max_matches, settings_.face_match_threshold));
          hit.matches = std::move(found);
        }
        out.faces.push_back(std::move(hit));
      }
    }
    if (!settings_.labels.empty()) {
      service::LabelOptions o;
      o.min_confidence = settings_.min_confidence;
      ARGUS_ASSIGN(found, services_.labels->DetectLabels(img, o));
      for (const auto& wanted : settings_.labels) {
        auto names = HomeLabels().find(wanted);
        if (names == HomeLabels().end()) continue;
        for (const auto& label : found.labels) {
          if (std::find(names->second.begin(), names->second.end(), label.name) ==
              names->second.end())
            continue;
          for (const auto& inst : label.instances) {
            if (inst.confidence < settings_.min_confidence || !InRegions(settings_, inst.box, size))
              continue;
            out.labels.push_back({wanted, inst.confidence, inst.box});
          }
        }
      }
    }
    out.analysed_steady_ms = SteadyMs();
    out.frame = std::move(frame);
    return Status::Ok();
  }

  const Settings settings_;
  const Services services_;
  const Events events_;
  std::unique_ptr<video::LiveSource> source_;
  std::atomic<bool> stop_{false}, finished_{false};
  mutable std::mutex mu_;
  Stats stats_;
  std::thread thread_;
};

}  // namespace

bool InRegions(const Settings& settings, const cv::Rect2f& box, cv::Size size) {
  if (settings.boxes.empty() && settings.polygons.empty()) return true;
  if (size.width <= 0 || size.height <= 0) return false;
  const cv::Point2f c((box.x + box.width / 2) / float(size.width),
                      (box.y + box.height / 2) / float(size.height));
  for (const auto& r : settings.boxes)
    if (c.x >= r.x && c.x <= r.x + r.width && c.y >= r.y && c.y <= r.y + r.height) return true;
  for (const auto& p : settings.polygons)
    if (p.size() >= 3 && cv::pointPolygonTest(p, c, false) >= 0) return true;
  return false;
}

Result<std::unique_ptr<Processor>> Processor::Start(const Settings& settings, const Services& s,
                                                    Events events) {
  if (!settings.collection.empty() && (!s.faces || !s.collections))
    return Status(Code::kServiceUnavailable, "Face search is not available on this server.");
  if (!settings.labels.empty() && !s.labels)
    return Status(Code::kServiceUnavailable,
                  "Label detection is not available on this server (the label model is missing).");
  auto p = std::make_unique<Running>(settings, s, std::move(events));
  ARGUS_RETURN_IF_ERROR(p->Begin());
  return std::unique_ptr<Processor>(std::move(p));
}

Status Manager::Start(const std::string& name, const Settings& settings, Events events) {
  std::lock_guard lock(mu_);
  auto it = running_.find(name);
  if (it != running_.end()) {
    if (!it->second->finished())
      return Status(Code::kResourceInUse, "The stream processor " + name + " is running.");
    it->second->Stop();
    running_.erase(it);
  }
  ARGUS_ASSIGN(p, Processor::Start(settings, services_, std::move(events)));
  running_.emplace(name, std::move(p));
  return Status::Ok();
}

bool Manager::Stop(const std::string& name) {
  std::unique_ptr<Processor> p;
  {
    std::lock_guard lock(mu_);
    auto it = running_.find(name);
    if (it == running_.end()) return false;
    p = std::move(it->second);
    running_.erase(it);
  }
  p->Stop();  // outside the lock: its callbacks may call back in
  return true;
}

bool Manager::Running(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = running_.find(name);
  return it != running_.end() && !it->second->finished();
}

std::optional<Stats> Manager::StatsOf(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = running_.find(name);
  if (it == running_.end()) return std::nullopt;
  return it->second->stats();
}

void Manager::StopAll() {
  std::map<std::string, std::unique_ptr<Processor>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(running_);
  }
  for (auto& [name, p] : all) p->Stop();
}

}  // namespace argus::stream
