#include "xlayout/tile.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace xlayout {

bool Tile::has_combined_dims() const {
  return std::find(dims_.begin(), dims_.end(), kCombineDimension) !=
         dims_.end();
}

std::string Tile::ToString() const {
  std::string out = "(";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i > 0) out += ',';
    if (dims_[i] == kCombineDimension) {
      out += '*';
    } else if (dims_[i] < 0) {
      // XLA's printer spells other negatives this way; keep it visible.
      absl::StrAppend(&out, "Invalid value ", dims_[i]);
    } else {
      absl::StrAppend(&out, dims_[i]);
    }
  }
  out += ')';
  return out;
}

}  // namespace xlayout
