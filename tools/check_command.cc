// `xlayout check --program DUMP --checkpoint DIR [--env CURRENT.json]
// [--map NAME=INDEX...] [--strict] [--json]`: a device-free preflight of a
// checkpoint against a compiled program. The work is the library's
// CheckCheckpoint (xlayout/checkpoint_check.h); this file reads the inputs
// and prints the report.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/checkpoint_check.h"
#include "xlayout/checkpoint_io.h"
#include "xlayout/format.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/memory_kind.h"

namespace xlayout::cli {
namespace {

struct Options {
  std::string program;
  std::string checkpoint;
  std::string env;
  std::vector<std::string> map;
  std::string memory_kinds;
  bool strict = false;
  bool json = false;
};

using Json = nlohmann::ordered_json;

// Single-quotes `s` for a POSIX shell unless it is made of safe characters.
std::string ShellQuote(absl::string_view s) {
  bool safe = !s.empty();
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
          absl::StrContains("@%+=:,./-_", c))) {
      safe = false;
      break;
    }
  }
  if (safe) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

// Where the fixed checkpoint goes: DIR (without trailing slashes) +
// ".relayout".
std::string SuggestedOutput(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".relayout";
}

// The commands that rewrite the checkpoint in the program's layouts and
// memory kinds: export to row-major safetensors (every checksum verified),
// then import against the program with every binding check used, so the
// tensors land on the same parameters. Checkpoint relayout in one step
// (`xlayout relayout --checkpoint`) is the planned replacement.
std::string FixCommand(const Options& o, const CheckReport& r) {
  const std::string dir = SuggestedOutput(o.checkpoint);
  const std::string host =
      dir.substr(0, dir.size() - std::string(".relayout").size()) +
      ".host.safetensors";
  std::string cmd =
      absl::StrCat("xlayout export --checkpoint ", ShellQuote(o.checkpoint),
                   " -o ", ShellQuote(host), " && xlayout import ",
                   ShellQuote(host), " --program ", ShellQuote(o.program));
  for (const ParameterCheck& p : r.parameters) {
    if (p.parameter < 0 || p.tensor.empty()) continue;
    absl::StrAppend(&cmd, " --map ",
                    ShellQuote(absl::StrCat(p.tensor, "=", p.parameter)));
  }
  if (!o.env.empty()) absl::StrAppend(&cmd, " --env ", ShellQuote(o.env));
  absl::StrAppend(&cmd, " -o ", ShellQuote(dir));
  return cmd;
}

// The envelope's inputs: "input" is the checkpoint (as for inspect), then
// the program and the --env file, each an input object.
void AddInputs(const Options& o, Json& j) {
  j["input"] = JsonFileInput(o.checkpoint);
  j["program_input"] = JsonFileInput(o.program);
  j["env_input"] = o.env.empty() ? Json(nullptr) : JsonFileInput(o.env);
}

int Fail(const Options& o, Json input, const absl::Status& status) {
  PrintError(absl::StrCat("check: ", status.message()));
  if (o.json) {
    Json j = JsonEnvelope("check");
    AddInputs(o, j);
    j["errors"] = Json::array({JsonErrorItem(std::move(input), status)});
    PrintJson(j);
  }
  return kExitError;
}

Json Side(const std::optional<Shape>& shape, int64_t xla_bytes,
          const std::string& memory_kind) {
  if (!shape.has_value()) return Json(nullptr);
  Json j;
  j["shape"] = shape->ToString(true);
  j["xla_bytes"] = xla_bytes >= 0 ? Json(xla_bytes) : Json(nullptr);
  j["memory_kind"] = memory_kind;
  return j;
}

Json Record(const ParameterCheck& c) {
  Json j;
  j["parameter"] = c.parameter >= 0 ? Json(c.parameter) : Json(nullptr);
  j["name"] = c.parameter >= 0 ? Json(c.parameter_name) : Json(nullptr);
  j["tensor"] = c.tensor.empty() ? Json(nullptr) : Json(c.tensor);
  j["bound_by"] = std::string(BindingSourceName(c.bound_by));
  j["verdict"] = std::string(CheckVerdictName(c.verdict));
  j["expected"] =
      Side(c.expected, c.expected_xla_bytes, c.expected_memory_kind);
  j["actual"] = Side(c.actual, c.actual_xla_bytes, c.actual_memory_kind);
  j["message"] = c.messages.empty() ? Json(nullptr) : Json(c.messages.front());
  j["messages"] = c.messages;
  j["xla_rejects"] = c.xla_rejects;
  j["classification"] =
      c.classification.has_value()
          ? Json(std::string(ClassificationName(*c.classification)))
          : Json(nullptr);
  j["summary"] = c.summary.empty() ? Json(nullptr) : Json(c.summary);
  j["details"] = c.details;
  j["note"] = c.note.empty() ? Json(nullptr) : Json(c.note);
  return j;
}

Json ChangeJson(const EnvironmentChange& c) {
  Json j;
  j["component"] = c.component;
  j["flag"] = c.flag.empty() ? Json(nullptr) : Json(c.flag);
  j["before"] = c.before.has_value() ? Json(*c.before) : Json(nullptr);
  j["after"] = c.after.has_value() ? Json(*c.after) : Json(nullptr);
  j["affects_layout"] = c.affects_layout;
  j["text"] = c.ToString();
  return j;
}

void PrintJsonReport(const Options& o, const CheckReport& r) {
  Json j = JsonEnvelope("check");
  AddInputs(o, j);
  j["program"] = r.program;
  j["strict"] = o.strict;
  j["ok"] = r.ok();
  Json counts;
  counts["parameters"] = r.num_parameters;
  counts["tensors"] = r.num_tensors;
  counts["ok"] = r.counts.ok;
  counts["needs_relayout"] = r.counts.needs_relayout;
  counts["incompatible"] = r.counts.incompatible;
  counts["memory_kind"] = r.counts.memory_kind;
  counts["missing"] = r.counts.missing;
  counts["extra"] = r.counts.extra;
  j["counts"] = counts;
  Json params = Json::array();
  for (const ParameterCheck& c : r.parameters) params.push_back(Record(c));
  j["parameters"] = std::move(params);
  j["buffer_count_message"] = r.buffer_count_message.has_value()
                                  ? Json(*r.buffer_count_message)
                                  : Json(nullptr);
  Json env;
  env["compared"] = r.environment_compared;
  env["note"] =
      r.environment_note.empty() ? Json(nullptr) : Json(r.environment_note);
  Json changes = Json::array();
  for (const EnvironmentChange& c : r.environment_changes) {
    changes.push_back(ChangeJson(c));
  }
  env["changes"] = std::move(changes);
  j["environment"] = std::move(env);
  Json fix;
  fix["fixable_by_relayout"] = r.fixable_by_relayout();
  fix["command"] =
      r.fixable_by_relayout() ? Json(FixCommand(o, r)) : Json(nullptr);
  j["fix"] = std::move(fix);
  j["errors"] = Json::array();
  PrintJson(j);
}

std::string VerdictText(CheckVerdict v, const Style& s) {
  switch (v) {
    case CheckVerdict::kOk:
      return s.Green("ok");
    case CheckVerdict::kNeedsRelayout:
      return s.Yellow("needs relayout");
    case CheckVerdict::kIncompatible:
      return s.Red("incompatible");
    case CheckVerdict::kMemoryKind:
      return s.Yellow("memory kind");
    case CheckVerdict::kMissing:
      return s.Red("missing");
    case CheckVerdict::kExtra:
      return s.Dim("extra");
  }
  return "?";
}

std::string Plural(int64_t n, absl::string_view word) {
  return absl::StrCat(WithCommas(n), " ", word, n == 1 ? "" : "s");
}

void PrintTextReport(const Options& o, const CheckReport& r) {
  const Style s = Style::For(stdout);
  std::printf("%s %s (%s), %s; %s %s, %s\n", s.Bold("Program").c_str(),
              EscapeForTerminal(r.program).c_str(),
              EscapeForTerminal(o.program).c_str(),
              Plural(r.num_parameters, "parameter").c_str(),
              s.Bold("checkpoint").c_str(),
              EscapeForTerminal(o.checkpoint).c_str(),
              Plural(r.num_tensors, "tensor").c_str());

  Table table({"#", "parameter", "tensor", "verdict", "program expects",
               "checkpoint holds"},
              {true, false, false, false, false, false});
  for (const ParameterCheck& c : r.parameters) {
    auto shape_kind = [](const std::optional<Shape>& shape,
                         const std::string& kind) {
      if (!shape.has_value()) return std::string("-");
      std::string text = EscapeForTerminal(shape->ToString(true));
      if (kind != "device") {
        absl::StrAppend(&text, " [", EscapeForTerminal(kind), "]");
      }
      return text;
    };
    std::string expected = shape_kind(c.expected, c.expected_memory_kind);
    std::string actual = shape_kind(c.actual, c.actual_memory_kind);
    if (c.verdict == CheckVerdict::kOk) actual = "=";
    table.AddRow({c.parameter >= 0 ? absl::StrCat(c.parameter) : "-",
                  c.parameter >= 0 && !c.parameter_name.empty()
                      ? EscapeAndTruncate(c.parameter_name, 60)
                      : "-",
                  c.tensor.empty() ? "-" : EscapeAndTruncate(c.tensor, 60),
                  VerdictText(c.verdict, s), expected, actual});
  }
  std::printf("\n%s", table.Render("  ").c_str());

  bool header = false;
  auto findings_header = [&] {
    if (!header) std::printf("\n%s\n", s.Bold("Findings").c_str());
    header = true;
  };
  for (const ParameterCheck& c : r.parameters) {
    if (c.verdict == CheckVerdict::kOk) continue;
    findings_header();
    std::string who;
    if (c.parameter >= 0) {
      who = absl::StrCat("parameter ", c.parameter);
      if (!c.parameter_name.empty()) {
        absl::StrAppend(&who, " (", EscapeForTerminal(c.parameter_name), ")");
      }
      if (!c.tensor.empty()) {
        absl::StrAppend(&who, " ← tensor \"", EscapeForTerminal(c.tensor),
                        "\" (by ", BindingSourceName(c.bound_by), ")");
      }
    } else {
      who = absl::StrCat("tensor \"", EscapeForTerminal(c.tensor), "\"");
    }
    std::string what = VerdictText(c.verdict, s);
    if (!c.summary.empty() && c.verdict != CheckVerdict::kMemoryKind) {
      absl::StrAppend(&what, ": ", EscapeForTerminal(c.summary));
    }
    std::printf("  %s: %s\n", who.c_str(), what.c_str());
    for (const std::string& m : c.messages) {
      std::printf("    %s\n", EscapeForTerminal(m).c_str());
    }
    for (const std::string& d : c.details) {
      std::printf("    - %s\n", EscapeForTerminal(d).c_str());
    }
    if (!c.note.empty()) {
      std::printf(
          "    %s\n",
          s.Dim(absl::StrCat("note: ", EscapeForTerminal(c.note))).c_str());
    }
  }
  if (r.buffer_count_message.has_value()) {
    findings_header();
    std::printf("  feeding every tensor: %s\n",
                EscapeForTerminal(*r.buffer_count_message).c_str());
  }

  std::printf("\n%s\n", s.Bold("Environment (checkpoint → current)").c_str());
  if (!r.environment_compared) {
    std::printf("  not compared: %s\n",
                EscapeForTerminal(r.environment_note).c_str());
  } else if (r.environment_changes.empty()) {
    std::printf("  no changes\n");
  } else {
    bool layout_header = false, other_header = false;
    for (const EnvironmentChange& c : r.environment_changes) {
      if (c.affects_layout && !layout_header) {
        std::printf("  changes that can affect layouts:\n");
        layout_header = true;
      }
      if (!c.affects_layout && !other_header) {
        std::printf("  other changes:\n");
        other_header = true;
      }
      std::printf("    %s\n", EscapeForTerminal(c.ToString()).c_str());
    }
  }

  std::vector<std::string> parts;
  auto part = [&](int64_t n, absl::string_view what) {
    if (n > 0) parts.push_back(absl::StrCat(WithCommas(n), " ", what));
  };
  part(r.counts.ok, "ok");
  part(r.counts.needs_relayout,
       r.counts.needs_relayout == 1 ? "needs relayout" : "need relayout");
  part(r.counts.incompatible, "incompatible");
  part(r.counts.memory_kind, "in another memory kind");
  part(r.counts.missing, "missing");
  std::printf("\n%s %s: %s", s.Bold("Summary").c_str(),
              Plural(r.num_parameters, "parameter").c_str(),
              parts.empty() ? "none" : absl::StrJoin(parts, ", ").c_str());
  if (r.counts.extra > 0) {
    std::printf("; %s bound to no parameter",
                Plural(r.counts.extra, "extra tensor").c_str());
  }
  std::printf("\n");

  if (r.ok()) {
    std::printf("%s\n", s.Green("The checkpoint matches the program.").c_str());
    return;
  }
  const bool any_relayout =
      r.counts.needs_relayout > 0 || r.counts.memory_kind > 0;
  if (r.counts.incompatible > 0) {
    std::printf(
        "%s %s the checkpoint holds another dtype or other dims than the "
        "program expects (re-export the model for this program, or bind the "
        "right tensors with --map NAME=INDEX).\n",
        s.Red("Nothing can fix").c_str(),
        absl::StrCat(Plural(r.counts.incompatible, "incompatible parameter"),
                     ":")
            .c_str());
  }
  if (r.counts.missing > 0) {
    std::printf(
        "%s %s no tensor of the checkpoint; bind one with --map NAME=INDEX "
        "or re-export.\n",
        s.Red(Plural(r.counts.missing, "parameter")).c_str(),
        r.counts.missing == 1 ? "has" : "have");
  }
  if (any_relayout && r.fixable_by_relayout()) {
    std::printf("%s %s\n", s.Bold("Fix:").c_str(),
                EscapeForTerminal(FixCommand(o, r)).c_str());
  } else if (any_relayout) {
    std::printf(
        "The other parameters need relayout or another memory kind; once "
        "the ones above are resolved, check again for the command.\n");
  }
}

int Run(const Options& o) {
  CheckOptions options;
  options.strict = o.strict;
  SignatureReadOptions read_options;
  if (!o.memory_kinds.empty()) {
    absl::StatusOr<MemoryKindMap> kinds = MemoryKindMap::Parse(o.memory_kinds);
    if (!kinds.ok()) {
      return Fail(o, Json(nullptr),
                  absl::Status(kinds.status().code(),
                               absl::StrCat("--memory-kinds: ",
                                            kinds.status().message())));
    }
    options.memory_kinds = *kinds;
    read_options.memory_kinds = *std::move(kinds);
  }
  for (const std::string& m : o.map) {
    absl::StatusOr<std::pair<std::string, int64_t>> kv = ParseTensorMapping(m);
    if (!kv.ok()) return Fail(o, JsonTextInput(m), kv.status());
    options.map.push_back(*std::move(kv));
  }
  absl::StatusOr<ProgramSignature> program =
      ReadSignatureFile(o.program, read_options);
  if (!program.ok()) {
    return Fail(o, JsonFileInput(o.program), program.status());
  }
  absl::StatusOr<std::unique_ptr<CheckpointReader>> reader =
      CheckpointReader::Open(o.checkpoint);
  if (!reader.ok()) {
    return Fail(o, JsonFileInput(o.checkpoint), reader.status());
  }
  if (!o.env.empty()) {
    absl::StatusOr<Environment> env = ReadEnvironmentFile(o.env, "--env");
    if (!env.ok()) return Fail(o, JsonFileInput(o.env), env.status());
    options.current_environment = *std::move(env);
  }
  absl::StatusOr<CheckReport> report =
      CheckCheckpoint(*program, (*reader)->manifest(), options);
  if (!report.ok()) return Fail(o, Json(nullptr), report.status());
  if (o.json) {
    PrintJsonReport(o, *report);
  } else {
    PrintTextReport(o, *report);
  }
  return report->ok() ? kExitOk : kExitFindings;
}

}  // namespace

RunFn RegisterCheckCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Preflight a checkpoint against a compiled program without a device: "
      "bind tensors to parameters, run the runtime guard (XLA's E0102 "
      "messages), classify every parameter and diff the environment "
      "fingerprint");
  cmd->add_option("--program", o->program,
                  "The program: an XLA HLO text dump or a JSON signature")
      ->required();
  cmd->add_option("--checkpoint", o->checkpoint,
                  "The checkpoint directory (only its manifest is read)")
      ->required();
  cmd->add_option("--env", o->env,
                  "The current environment (xlayout.environment.v1): its "
                  "differences from the checkpoint's fingerprint are listed, "
                  "layout-affecting ones first");
  cmd->add_option("--map", o->map,
                  "NAME=INDEX: bind tensor NAME to runtime parameter INDEX "
                  "(overrides the manifest's binding; unbound tensors take "
                  "the free parameters in order)")
      ->type_size(1)
      ->allow_extra_args(false);
  cmd->add_option("--memory-kinds", o->memory_kinds,
                  "Memory space to memory kind mapping for S(n), e.g. "
                  "'0=device,1=alternate,5=pinned_host' (the default)");
  cmd->add_flag("--strict", o->strict,
                "Report same-size, different-layout tensors as runtime-guard "
                "errors too (strict layout check); they are flagged as "
                "needing relayout either way");
  cmd->add_flag("--json", o->json,
                "Print JSON on stdout (docs/json.md): one record per "
                "parameter, the environment changes, the fix");
  cmd->footer(
      "Verdicts: ok, needs relayout (same dtype and dims, another layout), "
      "incompatible (another dtype or dims), memory kind, missing, extra.\n"
      "Exit status: 0 every parameter ok (extra tensors allowed), 1 a "
      "parameter needs relayout, is incompatible, missing or in another "
      "memory kind, 2 an unreadable program, checkpoint or --env file, or a "
      "bad option.");
  return [o]() { return Run(*o); };
}

}  // namespace xlayout::cli
