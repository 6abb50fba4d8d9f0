#include "api/rekognition/errors.h"

#include <nlohmann/json.hpp>

namespace argus::api {

ErrorShape MapError(Code code) {
  switch (code) {
    case Code::kOk:
      return {200, ""};
    case Code::kInvalidParameter:
      return {400, "InvalidParameterException"};
    case Code::kInvalidImageFormat:
      return {400, "InvalidImageFormatException"};
    case Code::kImageTooLarge:
      return {400, "ImageTooLargeException"};
    case Code::kInvalidS3Object:
      return {400, "InvalidS3ObjectException"};
    case Code::kResourceNotFound:
      return {400, "ResourceNotFoundException"};
    case Code::kResourceAlreadyExists:
      return {400, "ResourceAlreadyExistsException"};
    case Code::kResourceInUse:
      return {400, "ResourceInUseException"};
    case Code::kAccessDenied:
      return {400, "AccessDeniedException"};
    case Code::kThrottling:
      return {500, "ThrottlingException"};  // a fault in the model, as AWS sends it
    case Code::kProvisionedThroughputExceeded:
      return {400, "ProvisionedThroughputExceededException"};
    case Code::kLimitExceeded:
      return {400, "LimitExceededException"};
    case Code::kIdempotentParameterMismatch:
      return {400, "IdempotentParameterMismatchException"};
    case Code::kUnknownOperation:
      return {400, "UnknownOperationException"};
    case Code::kSerialization:
      return {400, "SerializationException"};
    case Code::kServiceUnavailable:
      return {503, "ServiceUnavailableException"};
    case Code::kInternal:
      return {500, "InternalServerError"};
    case Code::kMissingAuthenticationToken:
      return {403, "MissingAuthenticationTokenException"};
    case Code::kUnrecognizedClient:
      return {403, "UnrecognizedClientException"};
    case Code::kInvalidSignature:
      return {403, "InvalidSignatureException"};
    case Code::kIncompleteSignature:
      return {403, "IncompleteSignatureException"};
    case Code::kInvalidPaginationToken:
      return {400, "InvalidPaginationTokenException"};
    case Code::kConflict:
      return {400, "ConflictException"};
    case Code::kServiceQuotaExceeded:
      return {400, "ServiceQuotaExceededException"};
    case Code::kVideoTooLarge:
      return {400, "VideoTooLargeException"};
    case Code::kInvalidManifest:
      return {400, "InvalidManifestException"};
    case Code::kSessionNotFound:
      return {400, "SessionNotFoundException"};
  }
  return {500, "InternalServerError"};
}

std::string ErrorBody(const Status& status) {
  nlohmann::json j = {{"__type", MapError(status.code()).type}, {"message", status.message()}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace argus::api
