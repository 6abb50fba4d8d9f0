#pragma once
// Stream processors free of HTTP and JSON: a live source (video/live.h)
// analysed a few frames a second, each result handed to a callback as soon
// as its frame is analysed. Face search: the faces of each frame are
// described and searched in a collection. Connected home: people and pets
// are detected by the label model. Regions of interest restrict both to
// the faces or objects whose centre lies inside one of them.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "service/collections.h"
#include "service/faces.h"
#include "service/labels.h"
#include "video/live.h"

namespace argus::stream {

struct Settings {
  std::string source;  // what video::LiveSource::Start reads
  double fps = 5;      // frames analysed per second at most
  // Face search when `collection` is set.
  std::string collection;
  float face_match_threshold = 80;  // 0..100
  int max_matches = 5;              // per face
  // Connected home when `labels` is non-empty: "PERSON", "PET" (ALL is
  // both); objects under min_confidence are left out.
  std::set<std::string> labels;
  float min_confidence = 50;
  // Regions of interest as ratios of the frame: boxes and polygons. Empty:
  // the whole frame.
  std::vector<cv::Rect2f> boxes;
  std::vector<std::vector<cv::Point2f>> polygons;
  int64_t max_duration_ms = 0;  // > 0: stops by itself after this long
  video::LiveOptions live;      // fps is taken from `fps`
};

struct FaceHit {
  service::FaceDetail face;                 // pixels of the frame
  std::vector<service::FaceMatch> matches;  // similarity descending
};

struct LabelHit {
  std::string name;  // "PERSON" or "PET"
  float confidence = 0;
  cv::Rect2f box;  // pixels of the frame
};

struct FrameResult {
  video::LiveFrame frame;  // the analysed frame (image included)
  std::vector<FaceHit> faces;
  std::vector<LabelHit> labels;
  int64_t analysed_steady_ms = 0;  // when the analysis finished
};

struct Services {
  service::FaceService* faces = nullptr;
  service::CollectionService* collections = nullptr;
  service::LabelService* labels = nullptr;
};

enum class State { kRunning, kStopped, kFailed };

struct Events {
  // A frame with at least one face (face search) or one label (connected
  // home). Called on the processor's thread; should not block for long.
  std::function<void(const FrameResult&)> on_result;
  // The source connected, dropped or ended (video::LiveEvent).
  std::function<void(video::LiveEvent, const std::string& detail)> on_source;
  // The processor stopped by itself: the source ended (kStopped) or an
  // analysis failed in a way that will not pass (kFailed, with the reason).
  std::function<void(State, const std::string& message)> on_end;
};

struct Stats {
  int64_t analysed = 0, results = 0, errors = 0;
  video::LiveStats source;
};

// One running processor: a source thread and an analysis thread.
class Processor {
 public:
  // InvalidParameter for a source LiveSource refuses; ServiceUnavailable
  // when the models its settings need are not loaded.
  static Result<std::unique_ptr<Processor>> Start(const Settings& settings, const Services& s,
                                                  Events events);
  virtual ~Processor() = default;
  // Stops both threads; no callback runs after it returns.
  virtual void Stop() = 0;
  virtual bool finished() const = 0;  // stopped by itself
  virtual Stats stats() const = 0;
};

// The processors running in this server, by name. Thread-safe.
class Manager {
 public:
  explicit Manager(Services services) : services_(services) {}
  ~Manager() { StopAll(); }
  // Starts `name` (replacing a finished run of the same name);
  // ResourceInUse when it is running.
  Status Start(const std::string& name, const Settings& settings, Events events);
  // Stops `name`; false when it was not running here.
  bool Stop(const std::string& name);
  bool Running(const std::string& name);
  std::optional<Stats> StatsOf(const std::string& name);
  void StopAll();
  const Services& services() const { return services_; }

 private:
  Services services_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Processor>> running_;
};

// Whether the centre of `box` (pixels of a frame of `size`) lies in one of
// the regions (any, when there are none).
bool InRegions(const Settings& settings, const cv::Rect2f& box, cv::Size size);

}  // namespace argus::stream
