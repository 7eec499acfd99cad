// xlayout: XLA physical tensor layouts — sizes, relayout, runtime checks and
// E0102 diagnosis. `xlayout <command> [options]`; `xlayout help [command]`.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "ui.h"
#include "version.h"

namespace xlayout::cli {
namespace {

// "xlayout 0.1.0 (commit 1a2b3c4d5e6f)"; "commit unknown" outside a git
// checkout.
std::string VersionText() {
  return absl::StrCat("xlayout ", XLAYOUT_VERSION, " (commit ",
                      XLAYOUT_GIT_COMMIT, ")");
}

std::vector<std::string> CommandNames(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) {
    names.push_back(sub->get_name());
  }
  names.push_back("help");
  return names;
}

CLI::App* FindCommand(CLI::App& app, const std::string& name) {
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

// "unknown command 'sise'" plus the closest command, on stderr; exit 2.
int UnknownCommand(CLI::App& app, const std::string& name) {
  PrintError(absl::StrCat("unknown command '", name, "'"));
  const std::string closest = ClosestMatch(name, CommandNames(app));
  if (!closest.empty()) {
    std::fprintf(stderr, "Did you mean 'xlayout %s'?\n", closest.c_str());
  }
  std::fprintf(stderr, "Run 'xlayout help' for the list of commands.\n");
  return kExitError;
}

// `xlayout help [COMMAND]`.
int Help(CLI::App& app, int argc, char** argv) {
  if (argc <= 2) {
    std::printf("%s", app.help().c_str());
    return kExitOk;
  }
  if (argc > 3) {
    PrintError("'xlayout help' takes at most one command name");
    return kExitError;
  }
  CLI::App* sub = FindCommand(app, argv[2]);
  if (sub == nullptr) return UnknownCommand(app, argv[2]);
  std::printf("%s", sub->help(app.get_name()).c_str());
  return kExitOk;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "xlayout: XLA physical tensor layouts — shape sizes, relayout, runtime "
      "input checks and E0102 diagnosis.",
      "xlayout"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionText());
  app.footer(
      "Run 'xlayout help <command>' or 'xlayout <command> --help' for a "
      "command's options.");

  std::vector<std::pair<CLI::App*, RunFn>> commands;
  auto add = [&](RunFn (*reg)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    RunFn run = reg(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(run));
  };
  add(RegisterSizeCommand);
  add(RegisterRelayoutCommand);
  add(RegisterSignatureCommand);
  add(RegisterExplainCommand);
  add(RegisterImportCommand);
  add(RegisterExportCommand);
  add(RegisterInspectCommand);
  add(RegisterDiffCommand);
  add(RegisterEnvCommand);
  add(RegisterCheckCommand);

  // The first word names the command; check it before CLI11 does, whose
  // message for a bad or missing one ("A subcommand is required") names
  // neither the word nor the commands.
  if (argc < 2) {
    PrintError("no command given");
    std::fprintf(stderr, "%s", app.help().c_str());
    return kExitError;
  }
  const std::string first = argv[1];
  if (first == "help") return Help(app, argc, argv);
  if (first.empty() || first[0] != '-') {
    if (FindCommand(app, first) == nullptr) return UnknownCommand(app, first);
  } else if (first != "-h" && first != "--help" && first != "--version") {
    PrintError(absl::StrCat("unknown option '", first,
                            "' before the command; options go after it: "
                            "xlayout <command> [options]"));
    std::fprintf(stderr, "Run 'xlayout help' for the list of commands.\n");
    return kExitError;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors: message on stderr, exit 2 (CLI11's own codes are not
    // ours), pointing at the help of the command being parsed.
    PrintError(e.what());
    CLI::App* sub = FindCommand(app, first);
    if (sub != nullptr) {
      std::fprintf(stderr, "Run 'xlayout %s --help' for its usage.\n",
                   first.c_str());
    } else {
      std::fprintf(stderr, "Run 'xlayout help' for usage.\n");
    }
    return kExitError;
  }
  for (auto& [sub, run] : commands) {
    if (sub->parsed()) return run();
  }
  return kExitError;
}

}  // namespace
}  // namespace xlayout::cli

int main(int argc, char** argv) { return xlayout::cli::Main(argc, argv); }
