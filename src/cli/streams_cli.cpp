#include "cli/streams_cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "cli/jobs_cli.h"
#include "core/log.h"
#include "server/notify.h"

namespace argus::cli {

class StreamSetup {
 public:
  ~StreamSetup() {
    if (manager) manager->StopAll();  // before the sender and the config go
  }
  std::unique_ptr<server::WebhookSender> sender;
  api::StreamConfig config;
  std::unique_ptr<stream::Manager> manager;
  std::mutex file_mu;  // JSON Lines appends, one record per line
};

namespace {

bool IsSource(const std::string& v) { return video::IsLiveSourceUrl(v); }
bool IsSink(const std::string& v) { return IsHttpUrl(v) || v.rfind('/', 0) == 0; }

void AppendLine(StreamSetup& s, const std::string& path, const std::string& record) {
  std::lock_guard lock(s.file_mu);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    log::Warn("stream sink " + path + ": cannot open for appending");
    return;
  }
  std::string line = record + "\n";
  if (::write(fd, line.data(), line.size()) != ssize_t(line.size()))
    log::Warn("stream sink " + path + ": short write");
  ::close(fd);
}

}  // namespace

Result<std::shared_ptr<StreamSetup>> ConfigureStreams(const Args& a, api::Services& services) {
  auto setup = std::make_shared<StreamSetup>();
  ARGUS_ASSIGN(sources, NamedValues("stream-source", a.Get("stream-source"), &IsSource,
                                    "NAME=rtsp://...|http(s)://...|/absolute/path"));
  ARGUS_ASSIGN(sinks, NamedValues("stream-sink", a.Get("stream-sink"), &IsSink,
                                  "NAME=http(s)://...|/absolute/path.jsonl"));
  ARGUS_ASSIGN(topics, Webhooks(a.Get("webhook")));
  if (sources.empty()) {
    if (!sinks.empty()) log::Warn("--stream-sink without --stream-source: no stream processors");
    return setup;
  }
  double fps = 5;
  if (a.Has("stream-fps")) {
    char* end = nullptr;
    std::string v = a.Get("stream-fps");
    fps = std::strtod(v.c_str(), &end);
    if (!end || *end != '\0' || !(fps > 0 && fps <= 30))
      return InvalidParameter("--stream-fps wants frames per second, 0 < N <= 30, got '" + v + "'");
  }
  setup->sender = std::make_unique<server::WebhookSender>(topics);
  api::StreamConfig& c = setup->config;
  c.sources = std::move(sources);
  c.sinks = std::move(sinks);
  c.fps = fps;
  StreamSetup* raw = setup.get();
  c.deliver = [raw](const std::string& target, const std::string& record) {
    if (IsHttpUrl(target))
      raw->sender->Post(target, record, "a stream processor record");
    else
      AppendLine(*raw, target, record);
  };
  c.publish = [raw](const std::string& topic, const std::string& message) {
    raw->sender->Publish(topic, message, "a stream processor notification");
  };
  stream::Services ss;
  ss.faces = services.faces;
  ss.collections = services.collections;
  ss.labels = services.labels;
  setup->manager = std::make_unique<stream::Manager>(ss);
  c.manager = setup->manager.get();
  services.streams = &c;
  log::Info("stream processors: " + std::to_string(c.sources.size()) + " source(s), " +
            std::to_string(c.sinks.size()) + " sink(s), " + std::to_string(fps) + " fps");
  return setup;
}

}  // namespace argus::cli
