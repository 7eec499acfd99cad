#include "xlayout/io/output_overlap.h"

#include <sys/stat.h>
#include <unistd.h>

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

// Whether descriptor `fd` is a regular file that is `path` (same inode).
bool FdIsFile(int fd, const std::string& path) {
  struct stat sf, sp;
  return fstat(fd, &sf) == 0 && S_ISREG(sf.st_mode) &&
         stat(path.c_str(), &sp) == 0 && sf.st_dev == sp.st_dev &&
         sf.st_ino == sp.st_ino;
}

absl::Status SameFileError(const std::string& output, const NamedInput& input) {
  return absl::InvalidArgumentError(absl::StrCat(
      "output '", output, "' is ", input.what, " '", input.path,
      "' itself: write to a new name (the input is never modified)"));
}

}  // namespace

absl::Status CheckOutputApartFromInputs(const std::string& output,
                                        const std::vector<NamedInput>& inputs) {
  if (output.empty()) {
    return absl::InvalidArgumentError("the output path is empty");
  }
  // "-" is standard input or output: the shell may have pointed it at the
  // other file ("IN - 1<>IN", "- IN < IN").
  if (output == "-") {
    for (const NamedInput& input : inputs) {
      if (input.path != "-" && FdIsFile(STDOUT_FILENO, input.path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "standard output is ", input.what, " '", input.path,
            "' itself: write to another file (the input is never modified)"));
      }
    }
    return absl::OkStatus();
  }
  const fs::path out = Resolved(output);
  for (const NamedInput& input : inputs) {
    if (input.path.empty()) continue;
    if (input.path == "-") {
      if (FdIsFile(STDIN_FILENO, output)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output '", output, "' is ", input.what,
            " (standard input) itself: write to a new name (the input is "
            "never modified)"));
      }
      continue;
    }
    const fs::path in = Resolved(input.path);
    if (out == in || SameFile(out, in)) return SameFileError(output, input);
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
