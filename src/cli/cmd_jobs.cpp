// `argus jobs ...`: the stored jobs of a data dir, and the job engine's
// flags for `argus serve`.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "cli/jobs_cli.h"
#include "core/clock.h"
#include "server/notify.h"

namespace argus::cli {
namespace {

const char* kJobsUsage =
    "usage: argus jobs <command> [--data-dir D]\n"
    "  list [--state S] [--api A] [--owner P] [--max N]\n"
    "                             jobs, newest first (S: IN_PROGRESS, SUCCEEDED, FAILED)\n"
    "  describe JOB_ID            state, progress, attempts, times and message of a job\n"
    "  cancel JOB_ID              stop a job in progress (it fails with \"Cancelled\")\n";

// A positive number from flag `name`, or an error naming it.
Result<double> Positive(const Args& a, const std::string& name, double def, double max) {
  if (!a.Has(name)) return def;
  const std::string v = a.Get(name);
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || !end || *end != '\0' || !std::isfinite(d) || d <= 0 || d > max) {
    return InvalidParameter("--" + name + " must be a number in (0, " +
                            std::to_string(int64_t(max)) + "], got '" + v + "'");
  }
  return d;
}

Result<int> PositiveInt(const Args& a, const std::string& name, int def, int max) {
  auto d = Positive(a, name, def, max);
  if (!d.ok()) return d.status();
  if (d.value() != std::floor(d.value())) {
    return InvalidParameter("--" + name + " must be a whole number, got '" + a.Get(name) + "'");
  }
  return int(d.value());
}

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string Bar(double fraction) {
  constexpr int kWidth = 30;
  int filled = int(std::lround(std::clamp(fraction, 0.0, 1.0) * kWidth));
  std::string bar =
      "[" + std::string(size_t(filled), '#') + std::string(size_t(kWidth - filled), '-') + "]";
  char pct[16];
  std::snprintf(pct, sizeof pct, " %3.0f%%", std::clamp(fraction, 0.0, 1.0) * 100);
  return bar + pct;
}

void Describe(const store::JobRecord& j) {
  std::printf("JobId:        %s\n", j.id.c_str());
  std::printf("API:          %s\n", j.api.c_str());
  std::printf("Owner:        %s\n", j.owner.empty() ? "-" : j.owner.c_str());
  std::string state = j.state;
  if (j.state == "IN_PROGRESS") state += j.queued ? " (queued)" : " (running)";
  if (j.state == "IN_PROGRESS" && j.cancel_requested) state += ", cancel requested";
  std::printf("State:        %s\n", state.c_str());
  std::printf("Progress:     %s\n", Bar(j.progress).c_str());
  std::printf("Attempts:     %d\n", j.attempts);
  std::printf("Created:      %s\n", Time(j.created_ms).c_str());
  std::printf("Started:      %s\n", Time(j.started_ms).c_str());
  std::printf("Completed:    %s\n", Time(j.completed_ms).c_str());
  if (j.completed_ms > 0 && j.started_ms > 0) {
    std::printf("Duration:     %.1f s\n", double(j.completed_ms - j.started_ms) / 1000.0);
  }
  std::printf("Results:      %lld\n", static_cast<long long>(j.result_count));
  if (!j.job_tag.empty()) std::printf("JobTag:       %s\n", j.job_tag.c_str());
  if (!j.notification.empty()) std::printf("Notification: %s\n", j.notification.c_str());
  if (!j.status_message.empty()) std::printf("Message:      %s\n", j.status_message.c_str());
}

}  // namespace

Result<std::map<std::string, std::string>> NamedValues(const std::string& flag,
                                                       const std::string& spec,
                                                       bool (*ok)(const std::string&),
                                                       const std::string& want) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item =
        spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = eq == std::string::npos ? "" : item.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (name.empty() || !ok(value))
      return InvalidParameter("--" + flag + " wants " + want + ", got '" + item + "'");
    out[name] = value;
  }
  return out;
}

bool IsHttpUrl(const std::string& v) {
  return v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
}

Result<std::map<std::string, std::string>> Webhooks(const std::string& spec) {
  return NamedValues("webhook", spec, &IsHttpUrl, "TOPIC_NAME=http(s)://...");
}

Result<video::SampleRates> VideoRates(const Args& a) {
  video::SampleRates rates;
  const std::string flag = "video-full-face-detection-ms";
  if (!a.Has(flag)) return rates;
  const std::string v = a.Get(flag);
  char* end = nullptr;
  const long long ms = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || !end || *end != '\0' || ms < 0 || ms > 3600000)
    return InvalidParameter(
        "--" + flag + " must be a whole number of milliseconds in [0, 3600000], got '" + v + "'");
  rates.faces_full_every_ms = ms;
  return rates;
}

Result<std::unique_ptr<jobs::JobManager>> OpenJobs(const Args& a, store::Store& store) {
  jobs::Options o;
  auto workers = PositiveInt(a, "video-workers", o.workers, 64);
  if (!workers.ok()) return workers.status();
  auto pending = PositiveInt(a, "max-pending-jobs", o.max_pending, 100000);
  if (!pending.ok()) return pending.status();
  auto days = Positive(a, "job-retention-days", 7, 3650);
  if (!days.ok()) return days.status();
  auto lease = Positive(a, "job-lease-seconds", 30, 3600);
  if (!lease.ok()) return lease.status();
  auto hooks = Webhooks(a.Get("webhook"));
  if (!hooks.ok()) return hooks.status();
  o.workers = workers.value();
  o.max_pending = pending.value();
  o.retention_ms = int64_t(days.value() * 24 * 3600 * 1000);
  o.lease_ms = int64_t(lease.value() * 1000);
  auto m = jobs::JobManager::Open(store, o);
  if (!m.ok()) return m.status();
  if (!hooks.value().empty()) {
    m.value()->OnCompletion(server::MakeWebhookNotifier(hooks.value()));
  }
  return m;
}

int CmdJobs(const Args& a) {
  const std::string sub = a.positional.empty() ? "" : a.positional[0];
  const std::string id = a.positional.size() > 1 ? a.positional[1] : "";
  if (!(sub == "list" || ((sub == "describe" || sub == "cancel") && !id.empty()))) {
    std::fputs(kJobsUsage, stderr);
    return 2;
  }
  std::string path = a.Get("data-dir", "./argus-data") + "/argus.db";
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "argus jobs: no argus database at %s (--data-dir)\n", path.c_str());
    return 1;
  }
  auto opened = store::Store::OpenSqlite(path);
  if (!opened.ok()) {
    std::fprintf(stderr, "argus jobs: %s\n", opened.status().message().c_str());
    return 1;
  }
  store::Store& s = *opened.value();
  if (sub == "list") {
    store::JobQuery q;
    q.state = a.Get("state");
    q.api = a.Get("api");
    q.owner = a.Get("owner");
    q.limit = a.GetInt("max", 1000);
    if (!q.state.empty() && !jobs::ParseState(q.state)) {
      std::fprintf(stderr, "argus jobs: --state must be IN_PROGRESS, SUCCEEDED or FAILED\n");
      return 2;
    }
    auto rows = s.ListJobs(q);
    if (!rows.ok()) {
      std::fprintf(stderr, "argus jobs: %s\n", rows.status().message().c_str());
      return 1;
    }
    std::printf("%-64s  %-11s  %8s  %-28s  %-16s  %s\n", "JOB_ID", "STATE", "PROGRESS", "API",
                "OWNER", "CREATED");
    for (const auto& j : rows.value()) {
      std::printf("%-64s  %-11s  %7.0f%%  %-28s  %-16s  %s\n", j.id.c_str(), j.state.c_str(),
                  j.progress * 100, j.api.c_str(), j.owner.empty() ? "-" : j.owner.c_str(),
                  Time(j.created_ms).c_str());
    }
    return 0;
  }
  if (sub == "describe") {
    auto j = s.GetJob(id);
    if (!j.ok()) {
      std::fprintf(stderr, "argus jobs: %s\n", j.status().message().c_str());
      return 1;
    }
    Describe(j.value());
    return 0;
  }
  auto before = s.GetJob(id);
  if (!before.ok()) {
    std::fprintf(stderr, "argus jobs: %s\n", before.status().message().c_str());
    return 1;
  }
  if (before.value().state != "IN_PROGRESS") {
    std::printf("job %s already finished (%s)\n", id.c_str(), before.value().state.c_str());
    return 0;
  }
  auto after = s.CancelJob(id, NowMs());
  if (!after.ok()) {
    std::fprintf(stderr, "argus jobs: %s\n", after.status().message().c_str());
    return 1;
  }
  if (after.value().state != "IN_PROGRESS") {
    std::printf("job %s cancelled (it was queued)\n", id.c_str());
  } else {
    std::printf("job %s: cancel requested; a running server stops it within a second\n",
                id.c_str());
  }
  return 0;
}

}  // namespace argus::cli
