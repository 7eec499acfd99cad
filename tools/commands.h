// The xlayout CLI's subcommands. Each lives in its own file and registers
// itself on the top-level app; the returned function runs it and yields the
// exit code (0 ok, 1 findings or mismatches, 2 usage or input errors).
#ifndef XLAYOUT_TOOLS_COMMANDS_H_
#define XLAYOUT_TOOLS_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace xlayout::cli {

using RunFn = std::function<int()>;

RunFn RegisterSizeCommand(CLI::App& app);       // size_command.cc
RunFn RegisterRelayoutCommand(CLI::App& app);   // relayout_command.cc
RunFn RegisterSignatureCommand(CLI::App& app);  // signature_command.cc
RunFn RegisterExplainCommand(CLI::App& app);    // explain_command.cc
RunFn RegisterImportCommand(CLI::App& app);     // import_command.cc
RunFn RegisterExportCommand(CLI::App& app);     // export_command.cc
RunFn RegisterInspectCommand(CLI::App& app);    // inspect_command.cc
RunFn RegisterDiffCommand(CLI::App& app);       // diff_command.cc
RunFn RegisterEnvCommand(CLI::App& app);        // env_command.cc
RunFn RegisterCheckCommand(CLI::App& app);      // check_command.cc

}  // namespace xlayout::cli

#endif  // XLAYOUT_TOOLS_COMMANDS_H_
