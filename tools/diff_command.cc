// `xlayout diff A B`: what differs between two compiled programs' input
// signatures (HLO dumps or signature JSON), parameter by parameter.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/format.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/signature_diff.h"

namespace xlayout::cli {
namespace {

struct DiffArgs {
  std::string a;
  std::string b;
  bool by_name = false;
  bool json = false;
  bool all = false;
  bool quiet = false;
};

constexpr size_t kDefaultPerGroup = 10;

nlohmann::ordered_json Inputs(const DiffArgs& args) {
  return nlohmann::ordered_json::array(
      {JsonFileInput(args.a), JsonFileInput(args.b)});
}

nlohmann::ordered_json OptionalBytes(const std::optional<int64_t>& n) {
  return n.has_value() ? nlohmann::ordered_json(*n) : nlohmann::ordered_json();
}

nlohmann::ordered_json SideJson(const DiffSide& s) {
  nlohmann::ordered_json j;
  j["index"] = s.index;
  j["name"] = s.name;
  j["shape"] = s.shape;
  j["sharding"] = s.sharding.has_value() ? nlohmann::ordered_json(*s.sharding)
                                         : nlohmann::ordered_json();
  j["memory_kind"] = s.memory_kind;
  j["per_device_shape"] = s.per_device_shape.has_value()
                              ? nlohmann::ordered_json(*s.per_device_shape)
                              : nlohmann::ordered_json();
  j["xla_bytes"] = s.xla_bytes;
  j["exact_bytes"] = s.exact_bytes;
  j["device_xla_bytes"] = s.device_xla_bytes;
  return j;
}

nlohmann::ordered_json DiffDocument(const DiffArgs& args,
                                    const SignatureDiff& d) {
  nlohmann::ordered_json out = JsonEnvelope("diff");
  out["inputs"] = Inputs(args);
  out["match"] = d.by_name ? "name" : "index";
  out["identical"] = d.identical();
  out["summary"] = SummarizeSignatureDiff(d);
  out["parameters"] = {{"a", d.parameters_a},
                       {"b", d.parameters_b},
                       {"matched", d.matched},
                       {"changed", static_cast<int64_t>(d.changed.size())},
                       {"added", static_cast<int64_t>(d.added.size())},
                       {"removed", static_cast<int64_t>(d.removed.size())}};
  nlohmann::ordered_json program = nlohmann::ordered_json::array();
  // replica_count and num_partitions are numbers, as in the signature; the
  // name is a string.
  auto value = [](const ProgramChange& c, const std::string& text) {
    int64_t n = 0;
    if (c.field != "name" && absl::SimpleAtoi(text, &n)) {
      return nlohmann::ordered_json(n);
    }
    return nlohmann::ordered_json(text);
  };
  for (const ProgramChange& c : d.program_changes) {
    program.push_back({{"field", c.field},
                       {"before", value(c, c.before)},
                       {"after", value(c, c.after)}});
  }
  out["program_changes"] = program;
  nlohmann::ordered_json counts = nlohmann::ordered_json::object();
  for (int k = 0; k < kNumSignatureChangeKinds; ++k) {
    auto kind = static_cast<SignatureChangeKind>(k);
    counts[std::string(SignatureChangeKindName(kind))] = d.CountWith(kind);
  }
  out["counts"] = counts;
  nlohmann::ordered_json groups = nlohmann::ordered_json::array();
  for (const ChangeGroup& g : GroupSignatureChanges(d)) {
    nlohmann::ordered_json params = nlohmann::ordered_json::array();
    for (int64_t i : g.changed) params.push_back(d.changed[i].a.index);
    groups.push_back({{"kind", SignatureChangeKindName(g.kind)},
                      {"detail", g.detail},
                      {"count", static_cast<int64_t>(g.changed.size())},
                      {"parameters", params}});
  }
  out["groups"] = groups;
  nlohmann::ordered_json changed = nlohmann::ordered_json::array();
  for (const ParameterDiff& p : d.changed) {
    nlohmann::ordered_json changes = nlohmann::ordered_json::array();
    for (const SignatureChange& c : p.changes) {
      changes.push_back(
          {{"kind", SignatureChangeKindName(c.kind)}, {"detail", c.detail}});
    }
    changed.push_back(
        {{"a", SideJson(p.a)}, {"b", SideJson(p.b)}, {"changes", changes}});
  }
  out["changed"] = changed;
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (const DiffSide& s : d.added) added.push_back(SideJson(s));
  out["added"] = added;
  nlohmann::ordered_json removed = nlohmann::ordered_json::array();
  for (const DiffSide& s : d.removed) removed.push_back(SideJson(s));
  out["removed"] = removed;
  out["device_bytes"] = {{"a", OptionalBytes(d.device_bytes_a)},
                         {"b", OptionalBytes(d.device_bytes_b)}};
  out["warnings"] = d.warnings;
  out["errors"] = nlohmann::ordered_json::array();
  return out;
}

int Fail(const DiffArgs& args, const absl::Status& status,
         nlohmann::ordered_json input) {
  PrintError(status.message());
  if (args.json) {
    nlohmann::ordered_json out = JsonEnvelope("diff");
    out["inputs"] = Inputs(args);
    out["errors"] = nlohmann::ordered_json::array(
        {JsonErrorItem(std::move(input), status)});
    PrintJson(out);
  }
  return kExitError;
}

std::string Who(const DiffSide& s) {
  return s.name.empty()
             ? absl::StrCat("#", s.index)
             : absl::StrCat("#", s.index, " ", EscapeAndTruncate(s.name, 60));
}

std::string Header(const std::string& path, const ProgramSignature& sig) {
  return absl::StrCat(EscapeForTerminal(path), "  (",
                      EscapeForTerminal(sig.name), ", ",
                      WithCommas(static_cast<int64_t>(sig.parameters.size())),
                      " parameters, ", WithCommas(sig.num_partitions),
                      sig.num_partitions == 1 ? " partition)" : " partitions)");
}

void PrintText(const DiffArgs& args, const ProgramSignature& a,
               const ProgramSignature& b, const SignatureDiff& d) {
  Style style = Style::For(stdout);
  std::printf("%s %s\n", style.Bold("A").c_str(), Header(args.a, a).c_str());
  std::printf("%s %s\n", style.Bold("B").c_str(), Header(args.b, b).c_str());
  std::string summary = EscapeForTerminal(SummarizeSignatureDiff(d));
  std::printf("\n%s %s\n", style.Bold("Summary").c_str(),
              d.identical() ? style.Green(summary).c_str()
                            : style.Yellow(summary).c_str());
  for (const ChangeGroup& g : GroupSignatureChanges(d)) {
    std::printf(
        "\n%s %s  %s\n",
        style.Bold(absl::StrCat(SignatureChangeKindLabel(g.kind), ":")).c_str(),
        EscapeForTerminal(g.detail).c_str(),
        style
            .Dim(absl::StrCat(
                WithCommas(static_cast<int64_t>(g.changed.size())),
                g.changed.size() == 1 ? " parameter" : " parameters"))
            .c_str());
    size_t limit = args.all ? g.changed.size() : kDefaultPerGroup;
    for (size_t i = 0; i < g.changed.size() && i < limit; ++i) {
      const ParameterDiff& p = d.changed[g.changed[i]];
      bool per_device = g.kind == SignatureChangeKind::kPerDeviceShape;
      std::string before =
          per_device ? p.a.per_device_shape.value_or("?") : p.a.shape;
      std::string after =
          per_device ? p.b.per_device_shape.value_or("?") : p.b.shape;
      if (g.kind == SignatureChangeKind::kSharding) {
        before = p.a.sharding.value_or("none");
        after = p.b.sharding.value_or("none");
      }
      std::string who = Who(p.a);
      if (d.by_name && p.a.index != p.b.index) {
        who = absl::StrCat(who, " (#", p.b.index, " in B)");
      }
      std::printf("  %s  %s → %s\n", who.c_str(),
                  EscapeAndTruncate(before, 120).c_str(),
                  EscapeAndTruncate(after, 120).c_str());
    }
    if (g.changed.size() > limit) {
      std::printf(
          "  %s\n",
          style
              .Dim(absl::StrCat(
                  "... and ",
                  WithCommas(static_cast<int64_t>(g.changed.size() - limit)),
                  " more (--all lists every one)"))
              .c_str());
    }
  }
  auto print_sides = [&](const char* title, const std::vector<DiffSide>& v) {
    if (v.empty()) return;
    std::printf("\n%s %s\n", style.Bold(title).c_str(),
                style.Dim(WithCommas(static_cast<int64_t>(v.size()))).c_str());
    size_t limit = args.all ? v.size() : kDefaultPerGroup;
    for (size_t i = 0; i < v.size() && i < limit; ++i) {
      std::printf("  %s  %s\n", Who(v[i]).c_str(),
                  EscapeAndTruncate(v[i].shape, 120).c_str());
    }
    if (v.size() > limit) {
      std::printf("  ... and %s more\n",
                  WithCommas(static_cast<int64_t>(v.size() - limit)).c_str());
    }
  };
  print_sides("Only in A (removed):", d.removed);
  print_sides("Only in B (added):", d.added);
}

int Run(const DiffArgs& args) {
  if (absl::Status s = OneStdinReader({{"A", args.a}, {"B", args.b}});
      !s.ok()) {
    PrintError(s.message());
    return kExitError;
  }
  absl::StatusOr<ProgramSignature> a = ReadSignatureFile(args.a);
  if (!a.ok()) return Fail(args, a.status(), JsonFileInput(args.a));
  absl::StatusOr<ProgramSignature> b = ReadSignatureFile(args.b);
  if (!b.ok()) return Fail(args, b.status(), JsonFileInput(args.b));
  SignatureDiffOptions options;
  options.by_name = args.by_name;
  absl::StatusOr<SignatureDiff> d = DiffSignatures(*a, *b, options);
  if (!d.ok()) return Fail(args, d.status(), nullptr);
  if (!args.quiet) {
    for (const std::string& w : a->warnings) PrintWarning("A: " + w);
    for (const std::string& w : b->warnings) PrintWarning("B: " + w);
    for (const std::string& w : d->warnings) PrintWarning(w);
  }
  if (args.json) {
    PrintJson(DiffDocument(args, *d));
  } else {
    PrintText(args, *a, *b, *d);
  }
  return d->identical() ? kExitOk : kExitFindings;
}

}  // namespace

RunFn RegisterDiffCommand(CLI::App& app) {
  auto args = std::make_shared<DiffArgs>();
  CLI::App* cmd = app.add_subcommand(
      "diff",
      "Compare the input signatures of two compiled programs (e.g. the same "
      "model for two topologies or XLA versions), parameter by parameter: "
      "dtype, dims, layout (dim order and each tile level), memory kind, "
      "sharding, per-device shape and byte sizes. A summary comes first, "
      "then the parameters grouped by kind of change.");
  cmd->add_option("A", args->a,
                  "The first program: an HLO text dump or a JSON signature "
                  "(xlayout signature --json).")
      ->required();
  cmd->add_option("B", args->b, "The second program, in either form.")
      ->required();
  cmd->add_flag("--by-name", args->by_name,
                "Match parameters by name instead of by position (names must "
                "be unique on both sides).");
  cmd->add_flag("--all", args->all,
                "List every parameter of each group (default: the first 10).");
  cmd->add_flag("--json", args->json,
                "Print one JSON object (schema xlayout.v1, docs/json.md: "
                "summary, counts, groups, changed, added, removed, "
                "device_bytes).");
  cmd->add_flag("-q,--quiet", args->quiet, "Do not print warnings.");
  cmd->footer(
      "Shapes of sharded parameters are read as each program's dump stage "
      "says: global before SPMD partitioning (or when the stage is "
      "unknown), cut into per-device shapes by XLA's tiling rule, ceil(dim "
      "/ tiles); per-device already in a dump after partitioning, and not "
      "divided again.\n"
      "Exit status: 0 identical, 1 the programs differ, 2 unreadable input "
      "or usage error.\n"
      "Example: xlayout diff examples/topology_4.hlo examples/topology_8.hlo");
  return [args] { return Run(*args); };
}

}  // namespace xlayout::cli
