#include "checkpoint/tensor_map.h"

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace xlayout::checkpoint_internal {

std::string BindingText(int64_t parameter, absl::Span<const int64_t> tuple) {
  std::string s = absl::StrCat(parameter);
  if (!tuple.empty()) absl::StrAppend(&s, "{", absl::StrJoin(tuple, ","), "}");
  return s;
}

std::string BindingText(const TensorBinding& b) {
  return BindingText(b.parameter, b.tuple_index);
}

std::string BindingText(const ParameterSignature& p) {
  return BindingText(p.parameter_number, p.tuple_index);
}

std::string WhyNoSuchBinding(absl::Span<const ParameterSignature> parameters,
                             const TensorBinding& b) {
  std::vector<std::string> leaves;
  int64_t last = -1;
  for (const ParameterSignature& p : parameters) {
    last = std::max(last, p.parameter_number);
    if (p.parameter_number != b.parameter || p.tuple_index.empty()) continue;
    leaves.push_back(absl::StrCat("{", absl::StrJoin(p.tuple_index, ","), "}"));
  }
  if (b.parameter > last) {
    return last < 0 ? ": it has no parameters"
                    : absl::StrCat(": it has parameters 0 to ", last);
  }
  if (leaves.empty()) {
    return absl::StrCat(": parameter ", b.parameter, " is not a tuple");
  }
  return absl::StrCat(": parameter ", b.parameter, " is a tuple (leaves ",
                      leaves.front(), " to ", leaves.back(), ")");
}

int64_t FindParameter(absl::Span<const ParameterSignature> parameters,
                      const TensorBinding& b) {
  for (size_t k = 0; k < parameters.size(); ++k) {
    if (parameters[k].parameter_number == b.parameter &&
        parameters[k].tuple_index == b.tuple_index) {
      return static_cast<int64_t>(k);
    }
  }
  return -1;
}

absl::Status ApplyTensorMap(
    absl::Span<const std::pair<std::string, TensorBinding>> map,
    absl::Span<const absl::string_view> names,
    absl::Span<const ParameterSignature> parameters, absl::string_view program,
    absl::string_view no_tensor, std::vector<int64_t>& param_of,
    std::vector<int64_t>& tensor_of) {
  absl::flat_hash_map<absl::string_view, int64_t> index_of;
  index_of.reserve(names.size());
  for (size_t t = 0; t < names.size(); ++t) {
    index_of.emplace(names[t], static_cast<int64_t>(t));
  }
  for (const auto& [name, binding] : map) {
    const std::string pair = absl::StrCat(name, "=", BindingText(binding));
    auto it = index_of.find(name);
    if (it == index_of.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--map ", pair, ": ", no_tensor, " \"", name, "\""));
    }
    const int64_t k = FindParameter(parameters, binding);
    if (k < 0) {
      std::string why = WhyNoSuchBinding(parameters, binding);
      if (binding.tuple_index.empty() &&
          absl::StrContains(why, " is a tuple ")) {
        absl::StrAppend(&why, ": bind a leaf, as ", name, "=",
                        binding.parameter, "{0}");
      }
      return absl::InvalidArgumentError(
          absl::StrCat("--map ", pair, ": program '", program,
                       "' has no parameter ", BindingText(binding), why));
    }
    const int64_t t = it->second;
    if (param_of[t] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--map ", name, " is given twice"));
    }
    if (tensor_of[k] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--map ", pair, ": parameter ", BindingText(binding),
          " is already bound to tensor \"", names[tensor_of[k]], "\""));
    }
    param_of[t] = k;
    tensor_of[k] = t;
  }
  return absl::OkStatus();
}

std::optional<HloSharding> ProgramSharding(const ProgramSignature& program,
                                           const ParameterSignature& p) {
  if (program.num_partitions <= 1 || !p.sharding.has_value()) {
    return std::nullopt;
  }
  absl::StatusOr<HloSharding> s = ParseHloSharding(*p.sharding);
  if (!s.ok()) return std::nullopt;
  return *std::move(s);
}

Shape ExpectedGlobal(const ProgramSignature& program,
                     const ParameterSignature& p,
                     const std::optional<HloSharding>& sharding,
                     absl::Span<const int64_t> tensor_dims) {
  if (program.shapes_are_global() || !sharding.has_value() ||
      !sharding->IsTiled() || !p.shape.IsArray()) {
    return p.shape;
  }
  const std::vector<int64_t> counts = sharding->TileCounts();
  if (counts.size() != static_cast<size_t>(p.shape.rank())) return p.shape;
  Shape global = p.shape;
  for (int d = 0; d < p.shape.rank(); ++d) {
    const int64_t shard = p.shape.dimensions(d), t = counts[d];
    if (t <= 1 || shard < 1) continue;
    if (shard > std::numeric_limits<int64_t>::max() / t) return p.shape;
    const int64_t lo = (shard - 1) * t + 1, hi = shard * t;
    const bool fits = tensor_dims.size() == counts.size() &&
                      tensor_dims[d] >= lo && tensor_dims[d] <= hi;
    global.set_dimension(d, fits ? tensor_dims[d] : hi,
                         p.shape.is_dynamic_dimension(d));
  }
  return global;
}

}  // namespace xlayout::checkpoint_internal
