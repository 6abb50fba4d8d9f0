#include "core/status.h"

namespace argus {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidParameter:
      return "InvalidParameter";
    case Code::kInvalidImageFormat:
      return "InvalidImageFormat";
    case Code::kImageTooLarge:
      return "ImageTooLarge";
    case Code::kInvalidS3Object:
      return "InvalidS3Object";
    case Code::kResourceNotFound:
      return "ResourceNotFound";
    case Code::kResourceAlreadyExists:
      return "ResourceAlreadyExists";
    case Code::kResourceInUse:
      return "ResourceInUse";
    case Code::kAccessDenied:
      return "AccessDenied";
    case Code::kThrottling:
      return "Throttling";
    case Code::kProvisionedThroughputExceeded:
      return "ProvisionedThroughputExceeded";
    case Code::kLimitExceeded:
      return "LimitExceeded";
    case Code::kIdempotentParameterMismatch:
      return "IdempotentParameterMismatch";
    case Code::kUnknownOperation:
      return "UnknownOperation";
    case Code::kSerialization:
      return "Serialization";
    case Code::kInternal:
      return "Internal";
    case Code::kServiceUnavailable:
      return "ServiceUnavailable";
    case Code::kMissingAuthenticationToken:
      return "MissingAuthenticationToken";
    case Code::kUnrecognizedClient:
      return "UnrecognizedClient";
    case Code::kInvalidSignature:
      return "InvalidSignature";
    case Code::kIncompleteSignature:
      return "IncompleteSignature";
    case Code::kInvalidPaginationToken:
      return "InvalidPaginationToken";
    case Code::kConflict:
      return "Conflict";
    case Code::kServiceQuotaExceeded:
      return "ServiceQuotaExceeded";
    case Code::kVideoTooLarge:
      return "VideoTooLarge";
    case Code::kInvalidManifest:
      return "InvalidManifest";
    case Code::kSessionNotFound:
      return "SessionNotFound";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace argus
