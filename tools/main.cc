// xlayout: XLA physical tensor layouts — sizes, relayout, runtime checks and
// E0102 diagnosis. `xlayout <command> [options]`; `xlayout help [command]`.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
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

// The innermost command being parsed (`env diff` for `xlayout env diff ...`),
// or nullptr.
const CLI::App* ParsedCommand(const CLI::App& app) {
  const CLI::App* deepest = nullptr;
  for (const CLI::App* sub = &app; sub != nullptr;) {
    const CLI::App* next = nullptr;
    for (const CLI::App* s : sub->get_subcommands({})) {
      if (s->parsed()) next = s;
    }
    if (next != nullptr) deepest = next;
    sub = next;
  }
  return deepest;
}

// A usage error's message. Arguments no option or positional took are named
// first: CLI11 checks the required options before it reports them, so
// `check --progam X` would otherwise say "--program is required". For a
// single unknown long option, the closest one of the command follows, as
// "Did you mean '--program'?" (`*hint`).
std::string UsageErrorMessage(const CLI::App& app, const CLI::ParseError& e,
                              std::string* hint) {
  if (app.remaining_size(/*recurse=*/true) == 0) return e.what();
  std::vector<std::string> extras;
  for (const std::string& arg : app.remaining(/*recurse=*/true)) {
    if (arg != "--") extras.push_back(arg);
  }
  const CLI::App* command = ParsedCommand(app);
  if (extras.size() == 1 && extras[0].rfind("--", 0) == 0 &&
      extras[0].size() > 2 && command != nullptr) {
    std::string word = extras[0].substr(0, extras[0].find('='));
    std::vector<std::string> names;
    for (const CLI::Option* opt : command->get_options()) {
      for (const std::string& n : opt->get_lnames()) names.push_back("--" + n);
    }
    const std::string closest = ClosestMatch(word, names);
    if (!closest.empty() && closest != word) {
      *hint = absl::StrCat("Did you mean '", closest, "'?");
    }
  }
  // CLI11 prints the list last first; reversed, it is in command-line order.
  std::reverse(extras.begin(), extras.end());
  return CLI::ExtrasError(extras).what();
}

// `xlayout help [COMMAND]`.
int Help(CLI::App& app, int argc, char** argv) {
  if (argc <= 2) {
    std::printf("%s", app.help().c_str());
    return kExitOk;
  }
  // `xlayout help env diff`: a command, then its subcommands.
  CLI::App* sub = FindCommand(app, argv[2]);
  if (sub == nullptr) return UnknownCommand(app, argv[2]);
  std::string path = absl::StrCat(app.get_name(), " ", sub->get_name());
  for (int i = 3; i < argc; ++i) {
    CLI::App* inner = FindCommand(*sub, argv[i]);
    if (inner == nullptr) {
      PrintError(absl::StrCat("'", path, "' has no subcommand '",
                              EscapeForTerminal(argv[i]), "'"));
      return kExitError;
    }
    sub = inner;
    path = absl::StrCat(path, " ", sub->get_name());
  }
  std::printf("%s", sub->help(path.substr(0, path.rfind(' '))).c_str());
  return kExitOk;
}

// Runs the command; sets `*command` to its name once it is known.
int Run(int argc, char** argv, std::string* command) {
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
    std::string hint;
    PrintError(UsageErrorMessage(app, e, &hint));
    if (!hint.empty()) std::fprintf(stderr, "%s\n", hint.c_str());
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
    if (sub->parsed()) {
      // The whole command path: "env diff", not "env".
      *command = sub->get_name();
      for (const CLI::App* s = sub; s != nullptr;) {
        const CLI::App* next = nullptr;
        for (const CLI::App* inner : s->get_subcommands({})) {
          if (inner->parsed()) next = inner;
        }
        if (next != nullptr) absl::StrAppend(command, " ", next->get_name());
        s = next;
      }
      return run();
    }
  }
  return kExitError;
}

// A standard descriptor closed by the caller (`>&-`) would be reused by the
// next open(), and printf or the error messages would then write into that
// file. Occupy each closed one with /dev/null opened the wrong way, so that
// using it fails with EBADF as the closed descriptor would.
void OccupyClosedStandardStreams() {
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int got = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
    if (got >= 0 && got != fd) close(got);
  }
}

// Every command's output ends here: what could not be written to standard
// output (a full disk, a closed descriptor) is an error, exit 2, whatever
// the command found. A reader that closed the pipe
// still ends the process by SIGPIPE, quietly, as before.
int Main(int argc, char** argv) {
  OccupyClosedStandardStreams();
  // A file size limit (ulimit -f) makes write() fail with EFBIG, reported
  // and cleaned up like a full disk, rather than kill the process with
  // SIGXFSZ and leave a temporary file behind.
  signal(SIGXFSZ, SIG_IGN);
  std::string command;
  const int rc = Run(argc, argv, &command);
  std::string message;
  const int exit_code =
      StdoutExitCode(rc, FlushOutput(stdout, std::cout), command, &message);
  if (!message.empty()) PrintError(message);
  return exit_code;
}

}  // namespace
}  // namespace xlayout::cli

int main(int argc, char** argv) { return xlayout::cli::Main(argc, argv); }
