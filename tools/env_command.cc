// `xlayout env diff A.json B.json`: the differences between two environment
// files (xlayout.environment.v1), component by component, the ones that can
// change a compiled program's layouts first.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/environment.h"
#include "xlayout/format.h"

namespace xlayout::cli {
namespace {

struct EnvDiffArgs {
  std::string a;
  std::string b;
  bool json = false;
};

nlohmann::ordered_json Inputs(const EnvDiffArgs& args) {
  return nlohmann::ordered_json::array(
      {JsonFileInput(args.a), JsonFileInput(args.b)});
}

nlohmann::ordered_json OrNull(const std::optional<std::string>& s) {
  return s.has_value() ? nlohmann::ordered_json(*s) : nlohmann::ordered_json();
}

int Fail(const EnvDiffArgs& args, const absl::Status& status,
         const std::string& path) {
  PrintError(status.message());
  if (args.json) {
    nlohmann::ordered_json out = JsonEnvelope("env diff");
    out["inputs"] = Inputs(args);
    out["errors"] = nlohmann::ordered_json::array(
        {JsonErrorItem(JsonFileInput(path), status)});
    PrintJson(out);
  }
  return kExitError;
}

int RunDiff(const EnvDiffArgs& args) {
  if (absl::Status s = OneStdinReader({{"A", args.a}, {"B", args.b}});
      !s.ok()) {
    PrintError(s.message());
    return kExitError;
  }
  absl::StatusOr<Environment> a = ReadEnvironmentFile(args.a);
  if (!a.ok()) return Fail(args, a.status(), args.a);
  absl::StatusOr<Environment> b = ReadEnvironmentFile(args.b);
  if (!b.ok()) return Fail(args, b.status(), args.b);
  std::vector<EnvironmentChange> changes = DiffEnvironments(*a, *b);
  int64_t layout = 0;
  for (const EnvironmentChange& c : changes) layout += c.affects_layout;
  const int64_t total = static_cast<int64_t>(changes.size());
  // What DiffEnvironments leaves out, said so that "identical" is not read
  // as more than it is.
  std::vector<std::string> not_compared = {
      "--xla_dump_* flags (they only control debug output)"};
  auto unrecorded = [&](const char* var, bool in_a, bool in_b) {
    if (in_a == in_b) return;
    not_compared.push_back(
        absl::StrCat(var, " (", in_a ? "B" : "A", " does not record them)"));
  };
  unrecorded("XLA_FLAGS", a->xla_flags.has_value(), b->xla_flags.has_value());
  unrecorded("LIBTPU_INIT_ARGS", a->libtpu_init_args.has_value(),
             b->libtpu_init_args.has_value());
  std::string summary =
      changes.empty()
          ? "identical environments"
          : absl::StrCat(
                total, total == 1 ? " component differs" : " components differ",
                "; ", layout, " can change layouts");
  if (args.json) {
    nlohmann::ordered_json out = JsonEnvelope("env diff");
    out["inputs"] = Inputs(args);
    out["identical"] = changes.empty();
    out["summary"] = summary;
    out["layout_affecting"] = layout;
    out["not_compared"] = not_compared;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const EnvironmentChange& c : changes) {
      list.push_back({{"component", c.component},
                      {"flag", c.flag.empty() ? nlohmann::ordered_json()
                                              : nlohmann::ordered_json(c.flag)},
                      {"before", OrNull(c.before)},
                      {"after", OrNull(c.after)},
                      {"affects_layout", c.affects_layout},
                      {"text", c.ToString()}});
    }
    out["changes"] = list;
    out["errors"] = nlohmann::ordered_json::array();
    PrintJson(out);
    return changes.empty() ? kExitOk : kExitFindings;
  }
  Style style = Style::For(stdout);
  std::printf("%s %s\n%s %s\n", style.Bold("A").c_str(),
              EscapeForTerminal(args.a).c_str(), style.Bold("B").c_str(),
              EscapeForTerminal(args.b).c_str());
  std::printf("\n%s %s\n", style.Bold("Summary").c_str(),
              changes.empty() ? style.Green(summary).c_str()
                              : style.Yellow(summary).c_str());
  std::printf("%s\n", style
                          .Dim(absl::StrCat("Not compared: ",
                                            absl::StrJoin(not_compared, "; ")))
                          .c_str());
  auto section = [&](const char* title, bool affects) {
    int64_t n = affects ? layout : total - layout;
    if (n == 0) return;
    std::printf("\n%s %s\n", style.Bold(title).c_str(),
                style.Dim(absl::StrCat("(", n, ")")).c_str());
    for (const EnvironmentChange& c : changes) {
      if (c.affects_layout != affects) continue;
      std::printf("  %s\n", EscapeForTerminal(c.ToString()).c_str());
    }
  };
  section("Can change layouts", true);
  section("Other", false);
  return changes.empty() ? kExitOk : kExitFindings;
}

}  // namespace

RunFn RegisterEnvCommand(CLI::App& app) {
  auto args = std::make_shared<EnvDiffArgs>();
  CLI::App* env = app.add_subcommand(
      "env",
      "Work with environment files (xlayout.environment.v1: XLA/libtpu "
      "versions, flags, device kind, topology), the --env of checkpoints.");
  CLI::App* diff = env->add_subcommand(
      "diff",
      "Show the differences between two environment files, component by "
      "component; those that can change a compiled program's layouts (XLA "
      "and libtpu versions, XLA_FLAGS and LIBTPU_INIT_ARGS flags, device "
      "kind, topology, device count) come first.");
  diff->add_option("A", args->a, "The first environment file (JSON), or -.")
      ->required();
  diff->add_option("B", args->b, "The second environment file (JSON).")
      ->required();
  diff->add_flag("--json", args->json,
                 "Print one JSON object (schema xlayout.v1, docs/json.md: "
                 "identical, summary, layout_affecting, changes[]).");
  diff->footer(
      "Exit status: 0 same environment, 1 they differ, 2 unreadable input or "
      "usage error.\n"
      "Example: xlayout env diff old/environment.json new/environment.json");
  return [args, diff] {
    if (!diff->parsed()) {
      PrintError("env: no subcommand given; the subcommands are: diff");
      std::fprintf(stderr, "Run 'xlayout env --help' for their usage.\n");
      return kExitError;
    }
    return RunDiff(*args);
  };
}

}  // namespace xlayout::cli
