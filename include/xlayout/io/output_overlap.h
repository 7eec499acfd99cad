// Refusing outputs that would overwrite or delete their own inputs.
#ifndef XLAYOUT_IO_OUTPUT_OVERLAP_H_
#define XLAYOUT_IO_OUTPUT_OVERLAP_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace xlayout::io {

// An input of a command, for CheckOutputApartFromInputs.
struct NamedInput {
  std::string path;
  std::string what;  // For messages: "the source checkpoint", "the input".
};

// INVALID_ARGUMENT when writing `output` (as the user gave it) could
// overwrite or delete one of `inputs`: both resolve (symlinks followed, made
// absolute and normal) to the same path or the same file under another name
// (a hard link); the output lies inside an input directory; or the output
// is a directory that contains an input, which replacing it would delete.
// "-" is standard input or output: it overlaps when the shell pointed it at
// the other side's file (the same inode). The message names both paths.
absl::Status CheckOutputApartFromInputs(const std::string& output,
                                        const std::vector<NamedInput>& inputs);

}  // namespace xlayout::io

#endif  // XLAYOUT_IO_OUTPUT_OVERLAP_H_
