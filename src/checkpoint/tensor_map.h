// Binding tensors to program parameters by --map NAME=INDEX: one set of
// rules and messages for `import --program` and `check`.
#ifndef XLAYOUT_SRC_CHECKPOINT_TENSOR_MAP_H_
#define XLAYOUT_SRC_CHECKPOINT_TENSOR_MAP_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace xlayout::checkpoint_internal {

// Applies `map` in order: tensor `names[t]` goes to parameter INDEX, so
// param_of[t] = INDEX and tensor_of[INDEX] = t (both -1 while unbound; sized
// by the caller to the tensors and to the program's parameters). Errors name
// the pair: an unknown tensor ("--map N=I: " + `no_tensor` + " \"N\""), an
// index outside `program`'s parameters, a tensor given twice, a parameter
// already bound.
absl::Status ApplyTensorMap(
    absl::Span<const std::pair<std::string, int64_t>> map,
    absl::Span<const absl::string_view> names, absl::string_view program,
    absl::string_view no_tensor, std::vector<int64_t>& param_of,
    std::vector<int64_t>& tensor_of);

}  // namespace xlayout::checkpoint_internal

#endif  // XLAYOUT_SRC_CHECKPOINT_TENSOR_MAP_H_
