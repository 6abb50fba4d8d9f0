#include "auth/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>

#include "core/hash.h"

namespace argus::auth {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(
        s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

// RFC 3986 percent-encoding of everything but unreserved characters (and '/'
// when `keep_slash`), as SigV4's canonical forms want.
std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* d = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(d[c >> 4]);
      out.push_back(d[c & 15]);
    }
  }
  return out;
}

// Removes "." and ".." segments (RFC 3986 5.2.4), as the SDKs do before signing.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  auto parts = Split(path, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p == ".") continue;
    if (p == "..") {
      if (out.size() > 1) out.pop_back();
      continue;
    }
    out.push_back(p);
  }
  std::string s;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) s += '/';
    s += out[i];
  }
  if (s.empty() || s[0] != '/') s.insert(s.begin(), '/');
  if (path.size() > 1 && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/..")) &&
      s.back() != '/') {
    s += '/';
  }
  return s;
}

std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : Trim(v)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// All values of header `name` (lower case), canonical, joined with ",";
// nullopt when absent.
std::optional<std::string> HeaderValues(const HttpRequest& r, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size() || Lower(k) != name) continue;
    if (!out) {
      out = CanonicalHeaderValue(v);
    } else {
      *out += "," + CanonicalHeaderValue(v);
    }
  }
  return out;
}

bool ParseAmzDate(std::string_view s, std::time_t* out) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return false;
  }
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return false;
  }
  *out = timegm(&tm);
  return true;
}

std::string SigningKey(const std::string& secret, const std::string& date,
                       const std::string& region, const std::string& service) {
  std::string k = Hmac("AWS4" + secret, date);
  k = Hmac(k, region);
  k = Hmac(k, service);
  return Hmac(k, "aws4_request");
}

std::string Signature(const HttpRequest& r, const std::vector<std::string>& signed_headers,
                      const std::string& amz_date, const std::string& secret,
                      const std::string& date, const std::string& region,
                      const std::string& service) {
  std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  std::string to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                        Sha256Hex(CanonicalRequest(r, signed_headers));
  return Hex(Hmac(SigningKey(secret, date, region, service), to_sign));
}

// Headers argus acts on: x-amz-target picks the operation, x-argus-* the
// purpose and case of a request. Each one present must be signed.
bool MustBeSigned(std::string_view lower_name) {
  return lower_name == "x-amz-target" || lower_name.starts_with("x-argus-");
}

// The names (lower case, sorted, unique) of headers that must be signed but
// are not in `signed_headers`.
std::vector<std::string> UnsignedHeaders(const HttpRequest& r,
                                         const std::vector<std::string>& signed_headers) {
  std::vector<std::string> out;
  for (const auto& h : r.headers) {
    std::string name = Lower(Trim(h.first));
    if (!MustBeSigned(name)) continue;
    if (std::find(signed_headers.begin(), signed_headers.end(), name) != signed_headers.end()) {
      continue;
    }
    out.push_back(name.substr(0, 64));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status Incomplete(const std::string& what, std::string_view header) {
  return Status(Code::kIncompleteSignature,
                what + " Authorization=" + std::string(header.substr(0, 512)));
}

}  // namespace

std::string AmzDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalRequest(const HttpRequest& r, const std::vector<std::string>& signed_headers) {
  std::string_view target = r.target;
  std::string_view path = target, query;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  std::vector<std::pair<std::string_view, std::string_view>> params;
  if (!query.empty()) {
    for (std::string_view part : Split(query, '&')) {
      if (part.empty()) continue;
      size_t eq = part.find('=');
      params.emplace_back(part.substr(0, eq),
                          eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    }
    std::sort(params.begin(), params.end());
  }
  std::string out = r.method + "\n" + UriEncode(RemoveDotSegments(path), true) + "\n";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out += '&';
    out += std::string(params[i].first) + "=" + std::string(params[i].second);
  }
  out += '\n';
  for (const auto& h : signed_headers) out += h + ":" + HeaderValues(r, h).value_or("") + "\n";
  out += '\n';
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i) out += ';';
    out += signed_headers[i];
  }
  out += '\n';
  out += Sha256Hex(r.body);
  return out;
}

Result<Authorization> ParseAuthorization(std::string_view header) {
  std::string_view h = Trim(header);
  size_t sp = h.find(' ');
  std::string_view algorithm = h.substr(0, sp);
  if (algorithm != kAlgorithm) {
    return Incomplete("Unsupported AWS 'algorithm': '" + std::string(algorithm.substr(0, 64)) +
                          "'; argus accepts AWS4-HMAC-SHA256 (Signature Version 4).",
                      header);
  }
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : h.substr(sp + 1);
  Authorization a;
  std::string credential;
  bool has_credential = false, has_signed = false, has_signature = false;
  for (std::string_view part : Split(rest, ',')) {
    part = Trim(part);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    if (key == "Credential") {
      credential = value;
      has_credential = true;
    } else if (key == "SignedHeaders") {
      has_signed = true;
      for (std::string_view s : Split(value, ';')) {
        if (!s.empty()) a.signed_headers.push_back(Lower(s));
      }
    } else if (key == "Signature") {
      has_signature = true;
      a.signature = value;
    }
  }
  std::string missing;
  if (!has_credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!has_signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!has_signed) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) return Incomplete(missing, header);
  auto scope = Split(credential, '/');
  if (scope.size() != 5 || scope[0].empty()) {
    return Incomplete(
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got '" +
            credential.substr(0, 256) + "'.",
        header);
  }
  a.access_key_id = scope[0];
  a.date = scope[1];
  a.region = scope[2];
  a.service = scope[3];
  a.terminator = scope[4];
  if (a.signed_headers.empty()) return Incomplete("SignedHeaders must not be empty.", header);
  return a;
}

Result<Verified> Verify(const HttpRequest& r, const SecretLookup& lookup, std::time_t now) {
  std::optional<std::string> header = HeaderValues(r, "authorization");
  if (!header || header->empty()) {
    return Status(Code::kMissingAuthenticationToken, "Missing Authentication Token");
  }
  auto parsed = ParseAuthorization(*header);
  if (!parsed.ok()) return parsed.status();
  const Authorization& a = parsed.value();
  if (std::find(a.signed_headers.begin(), a.signed_headers.end(), "host") ==
      a.signed_headers.end()) {
    return Incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.", *header);
  }
  if (auto missing = UnsignedHeaders(r, a.signed_headers); !missing.empty()) {
    std::string list;
    for (const auto& name : missing) list += (list.empty() ? "" : ", ") + name;
    return Status(Code::kInvalidSignature,
                  "There were headers present in the request which were not signed: " + list +
                      ". argus requires X-Amz-Target and every X-Argus-* header to be in "
                      "SignedHeaders.");
  }
  std::optional<std::string> amz_date = HeaderValues(r, "x-amz-date");
  if (!amz_date) {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a "
        "'Date' header.",
        *header);
  }
  std::time_t signed_at = 0;
  if (!ParseAmzDate(*amz_date, &signed_at)) {
    return Incomplete("X-Amz-Date must be in ISO-8601 basic format (YYYYMMDDTHHMMSSZ), got '" +
                          amz_date->substr(0, 64) + "'.",
                      *header);
  }
  if (a.service != kService) {
    return Status(Code::kInvalidSignature, "Credential should be scoped to correct service: '" +
                                               std::string(kService) + "'. ");
  }
  if (a.terminator != "aws4_request") {
    return Status(Code::kInvalidSignature,
                  "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                      a.terminator.substr(0, 64) + "'. ");
  }
  if (a.region.empty()) {
    return Status(Code::kInvalidSignature,
                  "Credential should be scoped to a valid region, not ''. ");
  }
  if (a.date != amz_date->substr(0, 8)) {
    return Status(Code::kInvalidSignature,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '" +
                      a.date.substr(0, 16) + "' != '" + amz_date->substr(0, 8) + "', from '" +
                      *amz_date + "'.");
  }
  if (signed_at < now - kMaxClockSkewSeconds) {
    return Status(Code::kInvalidSignature,
                  "Signature expired: " + *amz_date + " is now earlier than " +
                      AmzDate(now - kMaxClockSkewSeconds) + " (" + AmzDate(now) + " - 15 min.)");
  }
  if (signed_at > now + kMaxClockSkewSeconds) {
    return Status(Code::kInvalidSignature,
                  "Signature not yet current: " + *amz_date + " is still later than " +
                      AmzDate(now + kMaxClockSkewSeconds) + " (" + AmzDate(now) + " + 15 min.)");
  }
  std::optional<std::string> secret = lookup(a.access_key_id);
  if (!secret) {
    return Status(Code::kUnrecognizedClient,
                  "The security token included in the request is invalid.");
  }
  std::string expected =
      Signature(r, a.signed_headers, *amz_date, *secret, a.date, a.region, a.service);
  if (expected.size() != a.signature.size() ||
      CRYPTO_memcmp(expected.data(), a.signature.data(), expected.size()) != 0) {
    return Status(Code::kInvalidSignature,
                  "The request signature we calculated does not match the signature you provided. "
                  "Check your AWS Secret Access Key and signing method. Consult the service "
                  "documentation for details.");
  }
  return Verified{a.access_key_id, a.region};
}

void Sign(HttpRequest& r, const std::string& access_key_id, const std::string& secret,
          const std::string& region, std::time_t now, const std::string& service) {
  std::string amz_date = AmzDate(now);
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                 [](const auto& h) {
                                   std::string k = Lower(h.first);
                                   return k == "authorization" || k == "x-amz-date";
                                 }),
                  r.headers.end());
  r.headers.emplace_back("X-Amz-Date", amz_date);
  std::vector<std::string> names;
  for (const auto& [k, v] : r.headers) {
    std::string l = Lower(k);
    if (l == "host" || l == "content-type" || l.starts_with("x-amz-") || MustBeSigned(l)) {
      names.push_back(l);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string date = amz_date.substr(0, 8);
  std::string signature = Signature(r, names, amz_date, secret, date, region, service);
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) list += (i ? ";" : "") + names[i];
  r.headers.emplace_back("Authorization", std::string(kAlgorithm) + " Credential=" + access_key_id +
                                              "/" + date + "/" + region + "/" + service +
                                              "/aws4_request, SignedHeaders=" + list +
                                              ", Signature=" + signature);
}

}  // namespace argus::auth
