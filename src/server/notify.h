#pragma once
// Job completion notifications delivered as Amazon SNS would: a job whose
// notification channel is an SNS topic ARN with a configured webhook URL for
// the topic's name gets the SNS HTTP delivery envelope POSTed there, with
// the message Rekognition publishes. Delivery runs on a background thread,
// retries with exponential backoff, and never changes the job.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "jobs/jobs.h"

namespace argus::server {

struct WebhookOptions {
  int tries = 5;                                  // attempts per notification
  std::chrono::milliseconds first_backoff{1000};  // doubled after each failure
  std::chrono::milliseconds timeout{5000};        // connect and read, per attempt
  size_t max_queue = 1000;                        // notifications waiting; more are dropped
};

// Webhook deliveries on one background thread, each retried with
// exponential backoff: SNS messages in the SNS HTTP delivery envelope to the
// URL configured for the topic's name, and plain JSON bodies to a URL
// (stream processor results). Pending deliveries are dropped, logged, when
// it is destroyed.
class WebhookSender {
 public:
  explicit WebhookSender(std::map<std::string, std::string> topic_urls,
                         WebhookOptions options = {});
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;
  // A topic without a URL sends nothing (logged once per topic). `what`
  // names the delivery in the log.
  void Publish(const std::string& topic_arn, const std::string& message, const std::string& what);
  void Post(const std::string& url, const std::string& body, const std::string& what);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The message Rekognition publishes for `job` (JSON text): JobId, Status,
// API, JobTag (when set), Timestamp (ms) and Video {S3ObjectName, S3Bucket} from the
// request's Video.S3Object when present.
std::string JobNotificationMessage(const jobs::Job& job);

// A completion callback posting to `urls` (topic name → http(s) URL). Jobs
// without a notification or with a topic that has no URL send nothing (the
// latter is logged once per topic). Pending deliveries are dropped, logged,
// when the last copy of the callback is destroyed.
jobs::CompletionFn MakeWebhookNotifier(std::map<std::string, std::string> urls,
                                       WebhookOptions options = {});

}  // namespace argus::server
