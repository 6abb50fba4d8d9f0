#include "auth/sigv4.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/key_store.h"
#include "server/admission.h"

namespace argus::auth {
namespace {

constexpr std::time_t kNow = 1440938160;  // 20150830T123600Z
const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// AWS's published example (IAM ListUsers, "Create a signed AWS API request").
TEST(SigV4, MatchesTheAwsDocumentationExample) {
  HttpRequest r{"GET",
                "/?Action=ListUsers&Version=2010-05-08",
                {{"Host", "iam.amazonaws.com"},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                ""};
  Sign(r, "AKIDEXAMPLE", kSecret, "us-east-1", kNow, "iam");
  EXPECT_EQ(r.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

HttpRequest Signed(const std::string& body, const std::string& secret = kSecret,
                   std::time_t when = kNow, const std::string& region = "eu-west-1") {
  HttpRequest r{"POST",
                "/",
                {{"Host", "127.0.0.1:8080"},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "RekognitionService.DetectFaces"}},
                body};
  Sign(r, "AKAGTEST", secret, region, when);
  return r;
}

SecretLookup Keys() {
  return [](const std::string& id) -> std::optional<std::string> {
    if (id == "AKAGTEST") return std::string(kSecret);
    return std::nullopt;
  };
}

TEST(SigV4, VerifiesWhatItSignsAndRecordsTheRegion) {
  std::string body = "{\"Image\":{}}";
  HttpRequest r = Signed(body);
  r.body = body;
  auto v = Verify(r, Keys(), kNow + 60);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->access_key_id, "AKAGTEST");
  EXPECT_EQ(v->region, "eu-west-1");
}

TEST(SigV4, WrongSecretIsInvalidSignature) {
  std::string body = "{}";
  HttpRequest r = Signed(body, "not-the-secret");
  auto v = Verify(r, Keys(), kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kInvalidSignature);
  EXPECT_NE(v.status().message().find("does not match the signature you provided"),
            std::string::npos);
}

TEST(SigV4, TamperedBodyOrTargetIsInvalidSignature) {
  std::string body = "{\"MaxFaces\":1}", other = "{\"MaxFaces\":2}";
  HttpRequest r = Signed(body);
  r.body = other;
  EXPECT_EQ(Verify(r, Keys(), kNow).status().code(), Code::kInvalidSignature);
  r = Signed(body);
  r.headers[2].second = "RekognitionService.IndexFaces";
  EXPECT_EQ(Verify(r, Keys(), kNow).status().code(), Code::kInvalidSignature);
}

TEST(SigV4, HeaderValuesAreCanonicalisedAsTheSdksDo) {
  std::string body = "{}";
  HttpRequest r = Signed(body);
  r.headers[1].second = "  application/x-amz-json-1.1  ";  // trimmed before hashing
  r.headers[0].first = "HOST";                             // names are case-insensitive
  EXPECT_TRUE(Verify(r, Keys(), kNow).ok());
}

TEST(SigV4, UnknownKeyIsUnrecognizedClient) {
  std::string body = "{}";
  HttpRequest r = Signed(body);
  auto none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto v = Verify(r, none, kNow);
  EXPECT_EQ(v.status().code(), Code::kUnrecognizedClient);
  EXPECT_EQ(v.status().message(), "The security token included in the request is invalid.");
}

TEST(SigV4, UnsignedIsMissingAuthenticationToken) {
  HttpRequest r{"POST", "/", {{"Host", "x"}}, "{}"};
  EXPECT_EQ(Verify(r, Keys(), kNow).status().code(), Code::kMissingAuthenticationToken);
}

TEST(SigV4, ClockSkewOverFifteenMinutesIsRefused) {
  std::string body = "{}";
  HttpRequest r = Signed(body);
  EXPECT_TRUE(Verify(r, Keys(), kNow + 14 * 60).ok());
  auto late = Verify(r, Keys(), kNow + 16 * 60);
  EXPECT_EQ(late.status().code(), Code::kInvalidSignature);
  EXPECT_EQ(late.status().message().rfind("Signature expired: 20150830T123600Z", 0), 0u)
      << late.status().message();
  auto early = Verify(r, Keys(), kNow - 16 * 60);
  EXPECT_EQ(early.status().message().rfind("Signature not yet current", 0), 0u);
}

TEST(SigV4, WrongServiceScopeIsInvalidSignature) {
  std::string body = "{}";
  HttpRequest r{"POST", "/", {{"Host", "x"}}, body};
  Sign(r, "AKAGTEST", kSecret, "us-east-1", kNow, "s3");
  auto v = Verify(r, Keys(), kNow);
  EXPECT_EQ(v.status().code(), Code::kInvalidSignature);
  EXPECT_NE(v.status().message().find("'rekognition'"), std::string::npos);
}

TEST(SigV4, MalformedHeadersAreIncompleteSignature) {
  for (const char* h :
       {"AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKAGTEST/20150830/us-east-1/rekognition/aws4_request",
        "Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256 SignedHeaders=;;;, Signature=, Credential=////"}) {
    HttpRequest r{
        "POST", "/", {{"Host", "x"}, {"X-Amz-Date", "20150830T123600Z"}, {"Authorization", h}}, ""};
    auto v = Verify(r, Keys(), kNow);
    EXPECT_EQ(v.status().code(), Code::kIncompleteSignature) << h << " " << v.status().ToString();
  }
  // host must be signed.
  HttpRequest r{"POST",
                "/",
                {{"Host", "x"},
                 {"X-Amz-Date", "20150830T123600Z"},
                 {"Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKAGTEST/20150830/us-east-1/"
                  "rekognition/aws4_request, SignedHeaders=x-amz-date, Signature=00"}},
                ""};
  EXPECT_EQ(Verify(r, Keys(), kNow).status().code(), Code::kIncompleteSignature);
}

// A request for `target` signed by hand with `signed_headers` only, carrying
// `extra` headers besides Host, Content-Type, X-Amz-Target and X-Amz-Date.
HttpRequest SignedOnly(const std::vector<std::string>& signed_headers,
                       const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  HttpRequest r{"POST",
                "/",
                {{"Host", "127.0.0.1:8080"},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "RekognitionService.DescribeCollection"},
                 {"X-Amz-Date", AmzDate(kNow)}},
                "{}"};
  r.headers.insert(r.headers.end(), extra.begin(), extra.end());
  // Sign() signs every header it knows; sign a copy without the left-out
  // ones and keep its Authorization.
  HttpRequest copy = r;
  std::erase_if(copy.headers, [&](const auto& h) {
    std::string l = h.first;
    for (char& c : l) c = char(std::tolower(static_cast<unsigned char>(c)));
    return l != "host" && l != "x-amz-date" &&
           std::find(signed_headers.begin(), signed_headers.end(), l) == signed_headers.end();
  });
  Sign(copy, "AKAGTEST", kSecret, "us-east-1", kNow);
  r.headers.push_back(copy.headers.back());
  return r;
}

TEST(SigV4, UnsignedTargetIsInvalidSignatureNamingTheHeader) {
  HttpRequest r = SignedOnly({"content-type"});
  auto v = Verify(r, Keys(), kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kInvalidSignature);
  EXPECT_NE(v.status().message().find("not signed: x-amz-target."), std::string::npos)
      << v.status().message();
  // Re-targeting after signing is refused for the same reason.
  r.headers[2].second = "RekognitionService.DeleteCollection";
  EXPECT_EQ(Verify(r, Keys(), kNow).status().code(), Code::kInvalidSignature);
}

TEST(SigV4, UnsignedArgusHeadersAreInvalidSignatureNamingThem) {
  HttpRequest r = SignedOnly({"content-type", "x-amz-target"},
                             {{"X-Argus-Purpose", "missing_persons"}, {"x-argus-case-id", "c-1"}});
  auto v = Verify(r, Keys(), kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kInvalidSignature);
  EXPECT_NE(v.status().message().find("not signed: x-argus-case-id, x-argus-purpose."),
            std::string::npos)
      << v.status().message();
  // Any x-argus-* header counts, whatever its case.
  r = SignedOnly({"content-type", "x-amz-target"}, {{"X-ARGUS-Future", "1"}});
  EXPECT_NE(Verify(r, Keys(), kNow).status().message().find("x-argus-future"), std::string::npos);
}

TEST(SigV4, SignedArgusHeadersAndUnsignedOthersAreAccepted) {
  // Content-Type, User-Agent and the like may stay unsigned: argus does not act on them.
  HttpRequest r = SignedOnly(
      {"x-amz-target", "x-argus-purpose"},
      {{"X-Argus-Purpose", "missing_persons"}, {"User-Agent", "curl/8"}, {"Content-Length", "2"}});
  auto v = Verify(r, Keys(), kNow);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

TEST(SigV4, SignSignsArgusHeaders) {
  HttpRequest r{"POST",
                "/",
                {{"Host", "x"},
                 {"X-Amz-Target", "RekognitionService.SearchFaces"},
                 {"X-Argus-Purpose", "missing_persons"}},
                "{}"};
  Sign(r, "AKAGTEST", kSecret, "us-east-1", kNow);
  EXPECT_NE(r.headers.back().second.find("SignedHeaders=host;x-amz-date;x-amz-target;"
                                         "x-argus-purpose,"),
            std::string::npos)
      << r.headers.back().second;
  EXPECT_TRUE(Verify(r, Keys(), kNow).ok());
}

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("argus-keys-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

NewKey Researcher() {
  NewKey k;
  k.name = "lab";
  k.org_type = OrgType::kResearch;
  k.purpose = "research";
  k.authorisation = "IRB-2024-17";
  return k;
}

TEST_F(KeyStoreTest, IssuesLooksUpListsAndRevokes) {
  auto s = KeyStore::Open(dir_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto k = s.value()->Create(Researcher());
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->key.access_key_id.size(), 20u);
  EXPECT_EQ(k->secret_access_key.size(), 40u);
  auto a = s.value()->Lookup(k->key.access_key_id);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->secret, k->secret_access_key);
  EXPECT_EQ(a->principal.org_type, OrgType::kResearch);
  EXPECT_EQ(a->principal.authorisation, "IRB-2024-17");
  // A second key for the same principal inherits it; a contradicting org type is refused.
  NewKey again;
  again.name = "lab";
  EXPECT_TRUE(s.value()->Create(again).ok());
  again.org_type = OrgType::kLawEnforcement;
  EXPECT_EQ(s.value()->Create(again).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(s.value()->List()->size(), 2u);
  ASSERT_TRUE(s.value()->Revoke(k->key.access_key_id).ok());
  EXPECT_FALSE(s.value()->Lookup(k->key.access_key_id).has_value());
  EXPECT_EQ(s.value()->Revoke(k->key.access_key_id).code(), Code::kResourceNotFound);
  EXPECT_EQ(s.value()->ActiveCount(), 1u);
}

TEST_F(KeyStoreTest, NewPrincipalNeedsOrgTypeAndPurpose) {
  auto s = KeyStore::Open(dir_);
  NewKey k;
  k.name = "someone";
  EXPECT_EQ(s.value()->Create(k).status().code(), Code::kInvalidParameter);
  k = Researcher();
  k.purpose = "Not A Purpose!";
  EXPECT_EQ(s.value()->Create(k).status().code(), Code::kInvalidParameter);
  k = Researcher();
  k.name = "bad name/with slash";
  EXPECT_EQ(s.value()->Create(k).status().code(), Code::kInvalidParameter);
}

TEST_F(KeyStoreTest, SecretsAreNotStoredInTheClear) {
  std::string secret;
  {
    auto s = KeyStore::Open(dir_);
    secret = s.value()->Create(Researcher())->secret_access_key;
  }
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find(secret), std::string::npos) << f.path();
  }
  EXPECT_EQ(std::filesystem::status(dir_ / "argus.key").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto reopened = KeyStore::Open(dir_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened.value()->ActiveCount(), 1u);
}

TEST_F(KeyStoreTest, ARevocationByAnotherProcessTakesEffectAtOnce) {
  auto server = KeyStore::Open(dir_);
  auto cli = KeyStore::Open(dir_);
  auto k = cli.value()->Create(Researcher());
  ASSERT_TRUE(server.value()->Lookup(k->key.access_key_id).has_value());
  ASSERT_TRUE(cli.value()->Revoke(k->key.access_key_id).ok());
  EXPECT_FALSE(server.value()->Lookup(k->key.access_key_id).has_value());
}

TEST(RateLimiter, RefusesPastTheBurstPerKey) {
  server::RateLimiter rl(2);
  EXPECT_TRUE(rl.Allow("a", 1));
  EXPECT_TRUE(rl.Allow("a", 1));
  EXPECT_FALSE(rl.Allow("a", 1));
  EXPECT_TRUE(rl.Allow("b", 1));
  EXPECT_TRUE(rl.Allow("a", 0));  // 0 = unlimited
}

TEST(Admission, RefusesWhenWorkersAndQueueAreFull) {
  server::Admission a(1, 0);
  EXPECT_TRUE(a.Enter());
  EXPECT_FALSE(a.Enter());
  a.Leave();
  EXPECT_TRUE(a.Enter());
  a.Leave();
}

}  // namespace
}  // namespace argus::auth
