#include "checkpoint/tensor_map.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace xlayout::checkpoint_internal {

absl::Status ApplyTensorMap(
    absl::Span<const std::pair<std::string, int64_t>> map,
    absl::Span<const absl::string_view> names, absl::string_view program,
    absl::string_view no_tensor, std::vector<int64_t>& param_of,
    std::vector<int64_t>& tensor_of) {
  const int64_t n = static_cast<int64_t>(tensor_of.size());
  absl::flat_hash_map<absl::string_view, int64_t> index_of;
  index_of.reserve(names.size());
  for (size_t t = 0; t < names.size(); ++t) {
    index_of.emplace(names[t], static_cast<int64_t>(t));
  }
  for (const auto& [name, index] : map) {
    auto it = index_of.find(name);
    if (it == index_of.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--map ", name, "=", index, ": ", no_tensor, " \"", name, "\""));
    }
    if (index < 0 || index >= n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--map ", name, "=", index, ": program '", program, "' has ", n,
          " parameter", n == 1 ? "" : "s", " (0 to ", n - 1, ")"));
    }
    const int64_t t = it->second;
    if (param_of[t] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--map ", name, " is given twice"));
    }
    if (tensor_of[index] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--map ", name, "=", index, ": parameter ", index,
          " is already bound to tensor \"", names[tensor_of[index]], "\""));
    }
    param_of[t] = index;
    tensor_of[index] = t;
  }
  return absl::OkStatus();
}

}  // namespace xlayout::checkpoint_internal
