// Binding tensors to program parameters by --map NAME=N or NAME=N{i,...}:
// one set of rules and messages for `import --program`, `check` and
// `relayout`. Parameters are numbered as XLA does: N is the HLO
// parameter(N), {i,...} the leaf of a tuple parameter.
#ifndef XLAYOUT_SRC_CHECKPOINT_TENSOR_MAP_H_
#define XLAYOUT_SRC_CHECKPOINT_TENSOR_MAP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/checkpoint_manifest.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/shape.h"
#include "xlayout/sharding.h"

namespace xlayout::checkpoint_internal {

// "3", or "0{1}" for a tuple leaf.
std::string BindingText(int64_t parameter, absl::Span<const int64_t> tuple);
std::string BindingText(const TensorBinding& b);
std::string BindingText(const ParameterSignature& p);

// Why `b` names no parameter of `parameters`: ": parameter 3 is not a
// tuple", ": parameter 3 is a tuple (leaves {0} to {1})", ": it has
// parameters 0 to 4".
std::string WhyNoSuchBinding(absl::Span<const ParameterSignature> parameters,
                             const TensorBinding& b);

// The position in `parameters` of the parameter `b` names (parameter number
// and tuple index), or -1.
int64_t FindParameter(absl::Span<const ParameterSignature> parameters,
                      const TensorBinding& b);

// Applies `map` in order: tensor `names[t]` goes to the parameter its
// binding names, at position k of `parameters`, so param_of[t] = k and
// tensor_of[k] = t (both -1 while unbound; sized by the caller to the
// tensors and to the parameters). Errors name the pair: an unknown tensor
// ("--map N=I: " + `no_tensor` + " \"N\""), a parameter `program` does not
// have (a bare N for a tuple parameter asks for N{i}), a tensor given
// twice, a parameter already bound.
absl::Status ApplyTensorMap(
    absl::Span<const std::pair<std::string, TensorBinding>> map,
    absl::Span<const absl::string_view> names,
    absl::Span<const ParameterSignature> parameters, absl::string_view program,
    absl::string_view no_tensor, std::vector<int64_t>& param_of,
    std::vector<int64_t>& tensor_of);

// The parameter's sharding when the program is cut over more than one
// partition and the text parses; nullopt otherwise.
std::optional<HloSharding> ProgramSharding(const ProgramSignature& program,
                                           const ParameterSignature& p);

// The GLOBAL shape (with the program's layout) a checkpoint tensor of dims
// `tensor_dims` must have to feed parameter `p`: checkpoints hold global
// arrays, for `import --program` and `check` alike. Before partitioning
// (or unknown) it is the shape read. After partitioning the shape is one
// device's: along a dim cut in t tiles of P, the global extent is one of
// (P-1)*t+1 .. P*t; the tensor's extent when it is one of them, else P*t.
Shape ExpectedGlobal(const ProgramSignature& program,
                     const ParameterSignature& p,
                     const std::optional<HloSharding>& sharding,
                     absl::Span<const int64_t> tensor_dims);

}  // namespace xlayout::checkpoint_internal

#endif  // XLAYOUT_SRC_CHECKPOINT_TENSOR_MAP_H_
