#pragma once
// One error type for all of argus. Codes are named after Rekognition's
// exceptions; api/rekognition/errors.cpp is the only place that turns a code
// into an HTTP status and a `__type`.
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace argus {

enum class Code {
  kOk = 0,
  kInvalidParameter,
  kInvalidImageFormat,
  kImageTooLarge,
  kInvalidS3Object,
  kResourceNotFound,
  kResourceAlreadyExists,
  kResourceInUse,
  kAccessDenied,
  kThrottling,
  kProvisionedThroughputExceeded,
  kLimitExceeded,
  kIdempotentParameterMismatch,
  kUnknownOperation,
  kSerialization,
  kInternal,
  kServiceUnavailable,
  // Authentication (SigV4), all HTTP 403.
  kMissingAuthenticationToken,
  kUnrecognizedClient,
  kInvalidSignature,
  kIncompleteSignature,
  // Collections, faces and users.
  kInvalidPaginationToken,
  kConflict,
  kServiceQuotaExceeded,
  // Stored video.
  kVideoTooLarge,
  // Media analysis jobs.
  kInvalidManifest,
  // Face liveness sessions.
  kSessionNotFound,
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidParameter(std::string m) { return {Code::kInvalidParameter, std::move(m)}; }
inline Status InvalidImageFormat(std::string m) {
  return {Code::kInvalidImageFormat, std::move(m)};
}
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Result<T> holds a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

#define ARGUS_RETURN_IF_ERROR(expr) \
  do {                              \
    ::argus::Status _st = (expr);   \
    if (!_st.ok()) return _st;      \
  } while (0)

// `auto var = ` the value of the Result expr, or return its status from the
// enclosing function when it failed. `var` is a name being declared, so it
// cannot be parenthesised.
#define ARGUS_ASSIGN(var, expr)               \
  auto var##_r = (expr);                      \
  if (!var##_r.ok()) return var##_r.status(); \
  auto var = std::move(var##_r.value())  // NOLINT(bugprone-macro-parentheses)

}  // namespace argus
