#include "server/notify.h"

#include <httplib.h>

#include <condition_variable>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/uuid.h"

namespace argus::server {
namespace {

using Clock = std::chrono::steady_clock;

// The topic's name when `arn` is arn:aws:sns:REGION:ACCOUNT:NAME, else "".
std::string TopicName(const std::string& arn) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = arn.find(':', start);
    parts.push_back(arn.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].empty()) return "";
  return parts[5];
}

std::string IsoTime(int64_t ms) {
  std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  return buf;
}

struct Delivery {
  std::string url, body, content_type, what;
  httplib::Headers headers;
  int attempt = 0;
  Clock::time_point due;
};

}  // namespace

class WebhookSender::Impl {
 public:
  Impl(std::map<std::string, std::string> urls, WebhookOptions opt)
      : urls_(std::move(urls)), opt_(opt) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Impl() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (!queue_.empty()) {
      log::Warn("notify: " + std::to_string(queue_.size()) +
                " notification(s) not delivered before shutdown");
    }
  }

  void Publish(const std::string& topic_arn, const std::string& message, const std::string& what) {
    std::string name = TopicName(topic_arn);
    auto it = name.empty() ? urls_.end() : urls_.find(name);
    if (it == urls_.end()) {
      std::lock_guard lock(mu_);
      if (unknown_.insert(topic_arn).second) {
        log::Warn("notify: no --webhook for SNS topic '" + topic_arn +
                  "'; its notifications are not sent");
      }
      return;
    }
    Delivery d;
    d.url = it->second;
    d.what = what;
    const std::string message_id = NewUuidV4();
    nlohmann::json env = {{"Type", "Notification"},
                          {"MessageId", message_id},
                          {"TopicArn", topic_arn},
                          {"Message", message},
                          {"Timestamp", IsoTime(NowMs())}};
    d.body = env.dump();
    d.content_type = "text/plain; charset=UTF-8";
    d.headers = {{"x-amz-sns-message-type", "Notification"},
                 {"x-amz-sns-message-id", message_id},
                 {"x-amz-sns-topic-arn", topic_arn},
                 {"User-Agent", "argus notifications"}};
    Enqueue(std::move(d));
  }

  void Post(const std::string& url, const std::string& body, const std::string& what) {
    Delivery d;
    d.url = url;
    d.body = body;
    d.what = what;
    d.content_type = "application/json";
    d.headers = {{"User-Agent", "argus stream processor"}};
    Enqueue(std::move(d));
  }

 private:
  void Enqueue(Delivery d) {
    d.due = Clock::now();
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= opt_.max_queue) {
        log::Warn("notify: queue full; " + d.what + " dropped");
        return;
      }
      queue_.push_back(std::move(d));
    }
    cv_.notify_all();
  }

  // True when the endpoint answered 2xx.
  bool Post(const Delivery& d, std::string& error) {
    // scheme://host[:port] and the path.
    size_t scheme = d.url.find("://");
    size_t slash = scheme == std::string::npos ? std::string::npos : d.url.find('/', scheme + 3);
    std::string base = slash == std::string::npos ? d.url : d.url.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : d.url.substr(slash);
    httplib::Client cli(base);
    if (!cli.is_valid()) {
      error = "not an http(s) URL";
      return false;
    }
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(opt_.timeout).count();
    auto usecs =
        std::chrono::duration_cast<std::chrono::microseconds>(opt_.timeout).count() % 1000000;
    cli.set_connection_timeout(time_t(secs), time_t(usecs));
    cli.set_read_timeout(time_t(secs), time_t(usecs));
    cli.set_write_timeout(time_t(secs), time_t(usecs));
    auto res = cli.Post(path, d.headers, d.body, d.content_type);
    if (!res) {
      error = httplib::to_string(res.error());
      return false;
    }
    if (res->status < 200 || res->status > 299) {
      error = "HTTP " + std::to_string(res->status);
      return false;
    }
    return true;
  }

  void Loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto next =
          std::min_element(queue_.begin(), queue_.end(),
                           [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
      if (next->due > Clock::now()) {
        cv_.wait_until(lock, next->due);
        continue;
      }
      Delivery d = std::move(*next);
      queue_.erase(next);
      lock.unlock();
      std::string error;
      bool ok = Post(d, error);
      ++d.attempt;
      lock.lock();
      if (ok) {
        log::Debug("notify: " + d.what + " delivered to " + d.url);
        continue;
      }
      if (d.attempt >= opt_.tries) {
        log::Warn("notify: giving up on " + d.what + " to " + d.url + " after " +
                  std::to_string(d.attempt) + " tries: " + error);
        continue;
      }
      auto wait = opt_.first_backoff * (1LL << (d.attempt - 1));
      log::Warn(
          "notify: " + d.what + " to " + d.url + " failed (" + error + "); retrying in " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) +
          " ms");
      d.due = Clock::now() + wait;
      queue_.push_back(std::move(d));
    }
  }

  const std::map<std::string, std::string> urls_;
  const WebhookOptions opt_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Delivery> queue_;
  std::set<std::string> unknown_;
  bool stop_ = false;
  std::thread thread_;
};

WebhookSender::WebhookSender(std::map<std::string, std::string> topic_urls, WebhookOptions options)
    : impl_(std::make_unique<Impl>(std::move(topic_urls), options)) {}
WebhookSender::~WebhookSender() = default;
void WebhookSender::Publish(const std::string& topic_arn, const std::string& message,
                            const std::string& what) {
  impl_->Publish(topic_arn, message, what);
}
void WebhookSender::Post(const std::string& url, const std::string& body, const std::string& what) {
  impl_->Post(url, body, what);
}

std::string JobNotificationMessage(const jobs::Job& job) {
  nlohmann::json m = {{"JobId", job.id},
                      {"Status", jobs::StateName(job.state)},
                      {"API", job.api},
                      {"Timestamp", job.completed_ms}};
  if (!job.job_tag.empty()) m["JobTag"] = job.job_tag;
  auto req = nlohmann::json::parse(job.request, nullptr, false);
  if (req.is_object() && req.contains("Video") && req["Video"].is_object() &&
      req["Video"].contains("S3Object") && req["Video"]["S3Object"].is_object()) {
    const auto& s3 = req["Video"]["S3Object"];
    nlohmann::json video = nlohmann::json::object();
    if (s3.contains("Name") && s3["Name"].is_string()) video["S3ObjectName"] = s3["Name"];
    if (s3.contains("Bucket") && s3["Bucket"].is_string()) video["S3Bucket"] = s3["Bucket"];
    m["Video"] = video;
  }
  return m.dump();
}

jobs::CompletionFn MakeWebhookNotifier(std::map<std::string, std::string> urls,
                                       WebhookOptions options) {
  auto n = std::make_shared<WebhookSender>(std::move(urls), options);
  return [n](const jobs::Job& job) {
    if (!job.notification.empty())
      n->Publish(job.notification, JobNotificationMessage(job),
                 "the notification of job " + job.id);
  };
}

}  // namespace argus::server
