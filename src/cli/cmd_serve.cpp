#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "api/rekognition/media_analysis.h"
#include "api/rekognition/video_results.h"
#include "argus/version.h"
#include "cli/args.h"
#include "cli/collections_cli.h"
#include "cli/commands.h"
#include "cli/governance_cli.h"
#include "cli/jobs_cli.h"
#include "cli/serve_security.h"
#include "cli/streams_cli.h"
#include "core/log.h"
#include "server/admission.h"
#include "server/server.h"

namespace argus::cli {

int CmdServe(const Args& a) {
  log::Level level = log::Level::kInfo;
  log::Format format = log::Format::kText;
  if (!log::ParseLevel(a.Get("log-level", "info"), &level) ||
      !log::ParseFormat(a.Get("log-format", "text"), &format)) {
    std::fprintf(stderr,
                 "argus serve: --log-level is debug|info|warn|error, --log-format "
                 "text|logfmt|json\n");
    return kExitUsage;
  }
  log::SetLevel(level);
  log::SetFormat(format);
  ApplyThreads(a);
  // A bad policy refuses to start before anything else is done.
  if (auto p = LoadPolicies(a); !p.ok()) {
    log::Error("policy: " + p.status().message());
    return kExitStartup;
  }
  std::string data_dir = a.Get("data-dir", "./argus-data");
  // The composition root: one store for the collections and the audit log.
  // --store postgresql://...: several nodes share it; a connection for each
  // worker plus a few for the requests that only read and write records.
  auto store = OpenDataDir(data_dir, a.Get("store", ""), a.GetInt("workers", 2) + 4);
  if (!store.ok()) {
    log::Error(store.status().message());
    return kExitStartup;
  }
  ml::Registry registry(ModelDir(a));
  auto faces = service::FaceService::Create(registry, FaceConfigFrom(a));
  if (!faces.ok()) {
    log::Error(faces.status().message());
    return kExitStartup;
  }
  api::Services services;
  services.faces = faces.value().get();
  service::Documents documents(*store.value());
  services.documents = &documents;
  // Collections, faces and users: store and indexes under the data dir;
  // indexes are snapshotted when the server stops.
  auto collections = OpenCollections(a, data_dir, faces.value().get(), store.value());
  if (!collections.ok()) {
    log::Error(collections.status().message());
    return kExitStartup;
  }
  services.collections = collections.value().get();
  // Labels, text and moderation: a missing model disables only its operation
  // (ServiceUnavailableException naming the model), not the server.
  auto labels = service::LabelService::Create(registry);
  // GET /readyz reports what is disabled and every model file missing or
  // altered (checked once, here).
  server::Options opts;
  auto disabled = [&](const std::string& what) {
    log::Error(what);
    opts.model_problems.push_back(what);
  };
  if (labels.ok())
    services.labels = labels.value().get();
  else
    disabled("DetectLabels disabled: " + labels.status().message());
  auto text = service::TextService::Create(registry);
  if (text.ok())
    services.text = text.value().get();
  else
    disabled("DetectText disabled: " + text.status().message());
  auto moderation = service::ModerationService::Create(registry);
  if (moderation.ok())
    services.moderation = moderation.value().get();
  else
    disabled("DetectModerationLabels disabled: " + moderation.status().message());
  auto liveness = service::LivenessService::Create(registry, faces.value().get());
  if (liveness.ok())
    services.liveness = liveness.value().get();
  else
    disabled("Face liveness disabled: " + liveness.status().message());
  for (auto& problem : ml::VerifyModelDir(registry.dir(), ml::Manifest::Embedded())) {
    log::Warn("model " + problem);
    opts.model_problems.push_back(problem);
  }
  opts.data_dir = data_dir;
  opts.version = kVersion;
  opts.host = a.Get("host", opts.host);
  opts.port = a.GetInt("port", opts.port);
  opts.workers = a.GetInt("workers", opts.workers);
  for (std::string rest = a.Get("region"); !rest.empty();) {
    size_t comma = rest.find(',');
    if (std::string r = rest.substr(0, comma); !r.empty()) opts.regions.push_back(r);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  // SigV4 key store (first-start admin key), --no-auth, limits, --s3-root.
  auto keys = ConfigureServeSecurity(a, data_dir, *store.value(), opts);
  if (!keys.ok()) {
    log::Error(keys.status().message());
    return kExitStartup;
  }
  // Use policies (a bad policy refuses to start), the audit log, retention.
  auto governance =
      ConfigureGovernance(a, data_dir, store.value().get(), collections.value().get(), opts);
  if (!governance.ok()) {
    log::Error(governance.status().message());
    return kExitStartup;
  }
  // Decoded-image memory admitted at once (docs/API.md#image-memory).
  int image_mb =
      a.GetInt("image-memory-mb", a.Has("image-memory-mb") ? 0 : server::kDefaultImageMemoryMiB);
  if (image_mb < server::kMinImageMemoryMiB) {
    log::Error("--image-memory-mb must be a number of MiB, at least " +
               std::to_string(server::kMinImageMemoryMiB) + " (one 50 MP image decoded)");
    return kExitStartup;
  }
  server::MemoryBudget image_memory(int64_t(image_mb) << 20, server::kTrimAfterBytes);
  // Stored-video jobs: kept in the store, resumed after a restart;
  // --video-max-mb / --video-max-minutes refuse larger videos at Start.
  // Fractions allowed (--video-max-mb 0.5).
  auto positive = [&](const char* flag, double def) {
    std::string v = a.Get(flag, "");
    if (v.empty()) return def;
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    return end && *end == '\0' && d > 0 ? d : -1.0;
  };
  double video_mb = positive("video-max-mb", 10240),
         video_minutes = positive("video-max-minutes", 360);
  if (video_mb <= 0 || video_minutes <= 0) {
    log::Error("--video-max-mb and --video-max-minutes must be positive numbers");
    return kExitStartup;
  }
  services.demographics_report = a.Get("demographics-report");
  services.video_limits.max_bytes = int64_t(video_mb * 1024 * 1024);
  services.video_limits.max_duration_ms = int64_t(video_minutes * 60 * 1000);
  auto rates = VideoRates(a);
  if (!rates.ok()) {
    log::Error(rates.status().message());
    return kExitStartup;
  }
  // Workers, pending limit, retention and webhooks: jobs_cli.h.
  auto jobs = OpenJobs(a, *store.value());
  if (!jobs.ok()) {
    log::Error("jobs: " + jobs.status().message());
    return kExitStartup;
  }
  api::RegisterVideoRunners(*jobs.value(), api::VideoServices(services), services.video_limits,
                            rates.value());
  api::RegisterMediaAnalysisRunner(*jobs.value(), services);
  services.jobs = jobs.value().get();
  {
    // The workers inherit a mask without SIGINT/SIGTERM: those are for the
    // thread that serves (server::Serve waits for them).
    sigset_t signals, old;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, &old);
    jobs.value()->Start();
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  // Stream processors: live sources, their sinks and notifications.
  auto streams = ConfigureStreams(a, services);
  if (!streams.ok()) {
    log::Error(streams.status().message());
    return kExitStartup;
  }
  // Processors a stopped server left running start again; on a shared
  // store, the node that runs one keeps it.
  services.audit = opts.audit;
  api::ResumeStreamProcessors(services, !store.value()->SharesChanges());
  services.audit = nullptr;  // per request (server::Serve)
  SetImageMemory(&image_memory);
  log::Info("data dir " + data_dir + ", model dir " + registry.dir());
  int rc = server::Serve(opts, services) == 0 ? kExitOk : kExitStartup;
  streams.value().reset();
  jobs.value()->Stop();
  SetImageMemory(nullptr);
  return rc;
}

}  // namespace argus::cli
