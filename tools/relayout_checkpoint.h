// The checkpoint form of `xlayout relayout`: --program DUMP --checkpoint DIR
// -o OUT. relayout_command.cc parses the flags of both forms and calls this
// one when --checkpoint is given.
#ifndef XLAYOUT_TOOLS_RELAYOUT_CHECKPOINT_H_
#define XLAYOUT_TOOLS_RELAYOUT_CHECKPOINT_H_

#include <string>
#include <vector>

namespace xlayout::cli {

struct CheckpointRelayoutArgs {
  std::string program;
  std::string checkpoint;
  std::string output;
  std::string env;
  std::vector<std::string> map;
  std::string memory_kinds;
  bool strict = false;
  bool verify = false;
  bool json = false;
  bool no_progress = false;
  int threads = 1;
};

// Runs it and returns the exit code: 0 written, 1 refused (incompatible or
// missing parameters; nothing written), 2 errors.
int RunCheckpointRelayout(const CheckpointRelayoutArgs& args);

}  // namespace xlayout::cli

#endif  // XLAYOUT_TOOLS_RELAYOUT_CHECKPOINT_H_
