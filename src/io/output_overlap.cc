#include "xlayout/io/output_overlap.h"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace xlayout::io {
namespace {

namespace fs = std::filesystem;

// Absolute, symlinks resolved as far as the path exists, normalised.
fs::path Resolved(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) return fs::path(path).lexically_normal();
  fs::path p = fs::weakly_canonical(absolute, ec);
  if (ec) return absolute.lexically_normal();
  return p;
}

// True when `inner` is `outer` or lies below it.
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // A trailing separator.
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

bool SameFile(const fs::path& a, const fs::path& b) {
  struct stat sa, sb;
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

absl::Status CheckOutputApartFromInputs(const std::string& output,
                                        const std::vector<NamedInput>& inputs) {
  if (output == "-") return absl::OkStatus();
  if (output.empty()) {
    return absl::InvalidArgumentError("the output path is empty");
  }
  const fs::path out = Resolved(output);
  for (const NamedInput& input : inputs) {
    if (input.path == "-" || input.path.empty()) continue;
    const fs::path in = Resolved(input.path);
    if (out == in || SameFile(out, in)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output '", output, "' is ", input.what, " '", input.path,
          "' itself: write to a new name (the input is never modified)"));
    }
    if (IsWithin(out, in)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output '", output, "' is inside ", input.what, " '", input.path,
          "': write to a new name outside it (the input is never modified)"));
    }
    if (IsWithin(in, out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", output, "' contains ", input.what, " '",
                       input.path, "': replacing it would delete the input"));
    }
  }
  return absl::OkStatus();
}

}  // namespace xlayout::io
