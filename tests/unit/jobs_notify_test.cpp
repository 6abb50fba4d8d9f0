// Job completion webhooks: SNS HTTP delivery envelopes to an httplib server
// on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "server/notify.h"

namespace argus::server {
namespace {

using namespace std::chrono_literals;

template <typename F>
bool WaitFor(F pred) {
  auto until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A loopback port nothing listens on.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Request {
  std::string body, content_type, message_type, message_id, topic_header, path;
};

class Endpoint {
 public:
  explicit Endpoint(int fail_first = 0) : fail_first_(fail_first) {
    server_.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++hits_;
      if (hits_ <= fail_first_) {
        res.status = 500;
        return;
      }
      got_.push_back({req.body, req.get_header_value("Content-Type"),
                      req.get_header_value("x-amz-sns-message-type"),
                      req.get_header_value("x-amz-sns-message-id"),
                      req.get_header_value("x-amz-sns-topic-arn"), req.path});
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitFor([this] { return server_.is_running(); });
  }
  ~Endpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> got() {
    std::lock_guard lock(mu_);
    return got_;
  }
  int hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  int fail_first_;
  std::thread thread_;
  std::mutex mu_;
  int hits_ = 0;
  std::vector<Request> got_;
};

jobs::Job FinishedJob() {
  jobs::Job j;
  j.id = std::string(64, 'a');
  j.api = "StartLabelDetection";
  j.job_tag = "nightly";
  j.notification = "arn:aws:sns:us-east-1:123456789012:video-done";
  j.request = R"({"Video":{"S3Object":{"Bucket":"clips","Name":"a/b.mp4"}},"JobTag":"nightly"})";
  j.state = jobs::State::kSucceeded;
  j.completed_ms = 1700000000123;
  return j;
}

WebhookOptions Fast() {
  WebhookOptions o;
  o.first_backoff = 20ms;
  o.timeout = 2000ms;
  return o;
}

TEST(JobsNotify, WebhookReceivesTheSnsEnvelopeAfterARetry) {
  Endpoint ep(/*fail_first=*/1);
  auto notify = MakeWebhookNotifier({{"video-done", ep.url()}}, Fast());
  notify(FinishedJob());
  ASSERT_TRUE(WaitFor([&] { return ep.got().size() == 1; }));
  EXPECT_EQ(ep.hits(), 2);
  Request r = ep.got()[0];
  EXPECT_EQ(r.path, "/hook");
  EXPECT_EQ(r.content_type, "text/plain; charset=UTF-8");
  EXPECT_EQ(r.message_type, "Notification");
  EXPECT_EQ(r.topic_header, "arn:aws:sns:us-east-1:123456789012:video-done");
  auto env = nlohmann::json::parse(r.body);
  EXPECT_EQ(env["Type"], "Notification");
  EXPECT_EQ(env["TopicArn"], "arn:aws:sns:us-east-1:123456789012:video-done");
  EXPECT_EQ(env["MessageId"], r.message_id);
  EXPECT_EQ(env["MessageId"].get<std::string>().size(), 36u);
  EXPECT_EQ(env["Timestamp"].get<std::string>().back(), 'Z');
  ASSERT_TRUE(env["Message"].is_string());
  auto msg = nlohmann::json::parse(env["Message"].get<std::string>());
  EXPECT_EQ(msg["JobId"], std::string(64, 'a'));
  EXPECT_EQ(msg["Status"], "SUCCEEDED");
  EXPECT_EQ(msg["API"], "StartLabelDetection");
  EXPECT_EQ(msg["JobTag"], "nightly");
  EXPECT_EQ(msg["Timestamp"], 1700000000123);
  EXPECT_EQ(msg["Video"]["S3Bucket"], "clips");
  EXPECT_EQ(msg["Video"]["S3ObjectName"], "a/b.mp4");
}

TEST(JobsNotify, UnknownTopicAndNoNotificationSendNothing) {
  Endpoint ep;
  auto notify = MakeWebhookNotifier({{"video-done", ep.url()}}, Fast());
  jobs::Job other = FinishedJob();
  other.notification = "arn:aws:sns:us-east-1:123456789012:someone-else";
  notify(other);
  jobs::Job none = FinishedJob();
  none.notification.clear();
  notify(none);
  jobs::Job good = FinishedJob();
  good.id = std::string(64, 'b');
  notify(good);
  ASSERT_TRUE(WaitFor([&] { return ep.got().size() == 1; }));
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(ep.hits(), 1);
  auto msg =
      nlohmann::json::parse(nlohmann::json::parse(ep.got()[0].body)["Message"].get<std::string>());
  EXPECT_EQ(msg["JobId"], std::string(64, 'b'));
}

TEST(JobsNotify, MessageWithoutVideoOrTagLeavesThemOut) {
  jobs::Job j = FinishedJob();
  j.request = "not json";
  j.job_tag.clear();
  j.state = jobs::State::kFailed;
  auto msg = nlohmann::json::parse(JobNotificationMessage(j));
  EXPECT_EQ(msg["Status"], "FAILED");
  EXPECT_FALSE(msg.contains("Video"));
  EXPECT_FALSE(msg.contains("JobTag"));
}

class JobsWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("argus-jobs-notify-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    store_ = std::move(store::Store::OpenSqlite((dir_ / "argus.db").string()).value());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(JobsWebhookTest, FailingWebhookNeverFailsTheJob) {
  Endpoint ep;
  std::string dead = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/hook";
  auto m = std::move(jobs::JobManager::Open(*store_, {}).value());
  m->RegisterRunner("StartLabelDetection", [](jobs::JobContext& ctx) -> Status {
    ctx.Append({{0, 0, 0, "{}"}});
    return Status::Ok();
  });
  WebhookOptions o = Fast();
  o.tries = 3;
  m->OnCompletion(MakeWebhookNotifier({{"dead", dead}, {"live", ep.url("/live")}}, o));
  m->Start();
  jobs::NewJob n;
  n.api = "StartLabelDetection";
  n.request = R"({"Video":{"S3Object":{"Bucket":"b","Name":"v.mp4"}}})";
  n.notification = "arn:aws:sns:eu-west-1:1:dead";
  auto dead_job = m->Submit(n);
  n.notification = "arn:aws:sns:eu-west-1:1:live";
  auto live_job = m->Submit(n);
  ASSERT_TRUE(dead_job.ok() && live_job.ok());
  ASSERT_TRUE(WaitFor([&] { return ep.got().size() == 1; }));
  auto msg =
      nlohmann::json::parse(nlohmann::json::parse(ep.got()[0].body)["Message"].get<std::string>());
  EXPECT_EQ(msg["JobId"], live_job.value());
  auto j = m->Get(dead_job.value());
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j.value().state, jobs::State::kSucceeded);
  EXPECT_EQ(j.value().result_count, 1);
  m.reset();  // stops with a delivery possibly still retrying: returns promptly
}

}  // namespace
}  // namespace argus::server
