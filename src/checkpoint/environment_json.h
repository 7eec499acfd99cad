// Environment <-> JSON value, for embedding an environment in a manifest.
#ifndef XLAYOUT_SRC_CHECKPOINT_ENVIRONMENT_JSON_H_
#define XLAYOUT_SRC_CHECKPOINT_ENVIRONMENT_JSON_H_

#include "absl/status/statusor.h"
#include "checkpoint/json_util.h"
#include "xlayout/environment.h"

namespace xlayout::checkpoint_internal {

// Errors start with "environment: field '...'".
absl::StatusOr<Environment> EnvironmentFromJson(const Json& root);
OrderedJson EnvironmentToJson(const Environment& env);

}  // namespace xlayout::checkpoint_internal

#endif  // XLAYOUT_SRC_CHECKPOINT_ENVIRONMENT_JSON_H_
