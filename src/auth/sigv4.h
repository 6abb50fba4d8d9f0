#pragma once
// AWS Signature Version 4, header form (Authorization: AWS4-HMAC-SHA256 ...),
// as the AWS CLI, boto3 and the AWS SDKs send it. Verification recomputes the
// signature from the request and the key's secret and compares in constant
// time. Free of HTTP libraries so that it can be fuzzed on its own.
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace argus::auth {

inline constexpr const char* kService = "rekognition";
inline constexpr int kMaxClockSkewSeconds = 15 * 60;  // as AWS

// An HTTP request as SigV4 sees it.
struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // raw request target: path plus optional "?query", still percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;  // names in any case; repeats allowed
  std::string_view body;
};

// The parts of an Authorization header.
struct Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD from the credential scope
  std::string region;
  std::string service;
  std::string terminator;                   // "aws4_request"
  std::vector<std::string> signed_headers;  // lower case, as given
  std::string signature;                    // lower-case hex
};

// Parses "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/rekognition/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=<64 hex>".
// Errors: IncompleteSignature naming what is missing or malformed.
Result<Authorization> ParseAuthorization(std::string_view header);

struct Verified {
  std::string access_key_id;
  std::string region;  // any region is accepted; recorded for the log
};

// Returns the secret of an active key, or nullopt when the key is unknown or revoked.
using SecretLookup = std::function<std::optional<std::string>(const std::string& access_key_id)>;

// Verifies a signed request at time `now` (epoch seconds). Errors, with AWS's
// wording: MissingAuthenticationToken (no Authorization header),
// IncompleteSignature (malformed header, missing X-Amz-Date, host not signed),
// UnrecognizedClient (unknown or revoked key), InvalidSignature (an
// X-Amz-Target or X-Argus-* header present but not in SignedHeaders, named in
// the message; wrong service scope, clock skew over 15 minutes, signature
// mismatch).
Result<Verified> Verify(const HttpRequest& request, const SecretLookup& lookup, std::time_t now);

// Signs `request` in place as a client would: sets X-Amz-Date and
// Authorization (signing host, x-amz-date and every x-amz-* / x-argus-* /
// content-type header present). `host` must be among the headers.
void Sign(HttpRequest& request, const std::string& access_key_id, const std::string& secret,
          const std::string& region, std::time_t now, const std::string& service = kService);

// The canonical request and string to sign (exposed for tests).
std::string CanonicalRequest(const HttpRequest& request,
                             const std::vector<std::string>& signed_headers);
std::string AmzDate(std::time_t t);  // YYYYMMDDTHHMMSSZ

}  // namespace argus::auth
