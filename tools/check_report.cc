#include "check_report.h"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ui.h"
#include "xlayout/format.h"
#include "xlayout/io/input_file.h"

namespace xlayout::cli {
namespace {

using Json = nlohmann::ordered_json;

// Quotes `s` for a POSIX shell unless it is made of safe characters: in
// single quotes, or in bash's $'...' when it holds what the terminal escaping
// of the printed line would rewrite (control characters, invalid UTF-8).
std::string ShellQuote(absl::string_view s) {
  bool safe = !s.empty();
  bool plain = IsValidUtf8(s) && EscapeForTerminal(s) == s;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!(absl::ascii_isalnum(u) || absl::StrContains("@%+=:,./-_", c))) {
      safe = false;
    }
  }
  if (safe) return std::string(s);
  if (!plain) {
    // Every byte outside printable ASCII as \xHH, so the printed command
    // names the same path once the line is escaped for the terminal.
    std::string out = "$'";
    for (char c : s) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (c == '\\' || c == '\'') {
        absl::StrAppend(&out, "\\", std::string(1, c));
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (u < 0x20 || u >= 0x7f) {
        absl::StrAppendFormat(&out, "\\x%02x", u);
      } else {
        out += c;
      }
    }
    out += "'";
    return out;
  }
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

Json Side(const std::optional<Shape>& shape, int64_t xla_bytes,
          const std::string& memory_kind) {
  if (!shape.has_value()) return Json(nullptr);
  Json j;
  j["shape"] = shape->ToString(true);
  j["xla_bytes"] = xla_bytes >= 0 ? Json(xla_bytes) : Json(nullptr);
  j["memory_kind"] = memory_kind;
  return j;
}

// What the runtime compares (issue 14): the program's per-device buffer and
// what each device receives of the tensor; null for an extra tensor.
Json PerDevice(const ParameterCheck& c) {
  if (c.parameter < 0) return Json(nullptr);
  auto side = [](const std::optional<Shape>& shape, int64_t bytes) {
    if (!shape.has_value()) return Json(nullptr);
    Json j;
    j["shape"] = shape->ToString(true);
    j["xla_bytes"] = bytes >= 0 ? Json(bytes) : Json(nullptr);
    return j;
  };
  Json j;
  j["sharding"] = c.sharding.empty() ? Json(nullptr) : Json(c.sharding);
  j["num_partitions"] = c.num_partitions;
  j["expected"] = side(c.expected_per_device, c.expected_per_device_bytes);
  j["actual"] = side(c.actual_per_device, c.actual_per_device_bytes);
  j["sharding_change"] =
      c.sharding_change.empty() ? Json(nullptr) : Json(c.sharding_change);
  return j;
}

// XLA's numbering: "3", or "0{1}" for a leaf of tuple parameter 0.
std::string ParameterText(const ParameterCheck& c) {
  std::string s = absl::StrCat(c.parameter_number);
  if (!c.tuple_index.empty()) {
    absl::StrAppend(&s, "{", absl::StrJoin(c.tuple_index, ","), "}");
  }
  return s;
}

Json Record(const ParameterCheck& c) {
  Json j;
  j["parameter"] = c.parameter >= 0 ? Json(c.parameter_number) : Json(nullptr);
  j["tuple_index"] = c.tuple_index;
  j["name"] = c.parameter >= 0 ? Json(c.parameter_name) : Json(nullptr);
  j["tensor"] = c.tensor.empty() ? Json(nullptr) : Json(c.tensor);
  j["bound_by"] = std::string(BindingSourceName(c.bound_by));
  j["verdict"] = std::string(CheckVerdictName(c.verdict));
  j["expected"] =
      Side(c.expected, c.expected_xla_bytes, c.expected_memory_kind);
  j["actual"] = Side(c.actual, c.actual_xla_bytes, c.actual_memory_kind);
  j["per_device"] = PerDevice(c);
  j["message"] = c.messages.empty() ? Json(nullptr) : Json(c.messages.front());
  j["messages"] = c.messages;
  j["xla_rejects"] = c.xla_rejects_known ? Json(c.xla_rejects) : Json(nullptr);
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

// Where the fixed checkpoint goes: DIR (without trailing slashes) +
// ".relayout".
std::string SuggestedOutput(absl::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  // "." or "..": name it after the directory itself, next to it
  // ("../ckpt.relayout"), not "..relayout" inside it.
  namespace fs = std::filesystem;
  const fs::path given{std::string(dir)};
  const std::string last = given.filename().string();
  if (last == "." || last == "..") {
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(fs::absolute(given, ec), ec);
    if (!ec && real.has_filename()) {
      fs::path out =
          real.parent_path() / (real.filename().string() + ".relayout");
      const fs::path relative = out.lexically_relative(fs::current_path(ec));
      if (!ec && !relative.empty()) out = relative;
      return out.string();
    }
  }
  return absl::StrCat(dir, ".relayout");
}

// Placeholders for inputs that cannot be named again (CheckFixCommand).
constexpr absl::string_view kProgramPlaceholder = "PROGRAM.hlo";
constexpr absl::string_view kEnvPlaceholder = "ENV.json";

// The name the fix command gives `path`: `placeholder` when it cannot be
// read again, else the path, quoted for the shell.
std::string FixArgument(const std::string& path,
                        absl::string_view placeholder) {
  return io::DescribeOneShotInput(path).has_value() ? std::string(placeholder)
                                                    : ShellQuote(path);
}

}  // namespace

std::vector<std::string> CheckFixNotes(const CheckInputs& in) {
  std::vector<std::string> notes;
  auto note = [&](absl::string_view what, const std::string& path,
                  absl::string_view placeholder) {
    std::optional<std::string> source = io::DescribeOneShotInput(path);
    if (!source.has_value()) return;
    notes.push_back(absl::StrCat(what, " was read from ", *source,
                                 " and cannot be read again: give it as a "
                                 "file in place of ",
                                 placeholder));
  };
  note("the program", in.program, kProgramPlaceholder);
  if (!in.env.empty()) note("--env", in.env, kEnvPlaceholder);
  return notes;
}

std::string CheckFixCommand(const CheckInputs& in) {
  std::string cmd = absl::StrCat("xlayout relayout --program ",
                                 FixArgument(in.program, kProgramPlaceholder),
                                 " --checkpoint ", ShellQuote(in.checkpoint));
  for (const std::string& m : in.map) {
    absl::StrAppend(&cmd, " --map ", ShellQuote(m));
  }
  if (!in.memory_kinds.empty()) {
    absl::StrAppend(&cmd, " --memory-kinds ", ShellQuote(in.memory_kinds));
  }
  if (!in.env.empty()) {
    absl::StrAppend(&cmd, " --env ", FixArgument(in.env, kEnvPlaceholder));
  }
  absl::StrAppend(&cmd, " -o ", ShellQuote(SuggestedOutput(in.checkpoint)));
  return cmd;
}

Json CheckReportJson(const CheckInputs& in, const CheckReport& r, bool strict,
                     const std::vector<std::string>& program_warnings) {
  Json j;
  j["program"] = r.program;
  j["strict"] = strict;
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
  Json not_recorded;
  not_recorded["checkpoint"] = r.environment_not_recorded_checkpoint;
  not_recorded["current"] = r.environment_not_recorded_current;
  env["not_recorded"] = std::move(not_recorded);
  j["environment"] = std::move(env);
  Json fix;
  fix["fixable_by_relayout"] = r.fixable_by_relayout();
  fix["command"] =
      r.fixable_by_relayout() ? Json(CheckFixCommand(in)) : Json(nullptr);
  const std::vector<std::string> notes =
      r.fixable_by_relayout() ? CheckFixNotes(in) : std::vector<std::string>();
  fix["note"] =
      notes.empty() ? Json(nullptr) : Json(absl::StrJoin(notes, "; "));
  j["fix"] = std::move(fix);
  j["warnings"] = program_warnings;
  return j;
}

void PrintCheckReportText(const CheckInputs& o, const CheckReport& r,
                          bool show_fix) {
  const Style s = Style::For(stdout);
  std::printf("%s %s (%s), %s; %s %s, %s\n", s.Bold("Program").c_str(),
              EscapeForTerminal(r.program).c_str(),
              EscapeForTerminal(o.program).c_str(),
              Plural(r.num_parameters, "parameter").c_str(),
              s.Bold("checkpoint").c_str(),
              EscapeForTerminal(o.checkpoint).c_str(),
              Plural(r.num_tensors, "tensor").c_str());

  // A "per device" column when some parameter is cut by its sharding: the
  // shape each device holds (what the runtime compares) and its xla_bytes.
  bool sharded = false;
  for (const ParameterCheck& c : r.parameters) {
    sharded = sharded ||
              (c.expected_per_device.has_value() && c.expected.has_value() &&
               !(*c.expected_per_device == *c.expected));
  }
  std::vector<std::string> columns = {
      "#",       "parameter",       "tensor",
      "verdict", "program expects", "checkpoint holds"};
  std::vector<bool> right = {true, false, false, false, false, false};
  if (sharded) {
    columns.push_back("per device");
    right.push_back(false);
  }
  Table table(columns, right);
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
    const std::string actual = c.verdict == CheckVerdict::kOk
                                   ? std::string("=")
                                   : shape_kind(c.actual, c.actual_memory_kind);
    std::vector<std::string> row = {
        c.parameter >= 0 ? ParameterText(c) : "-",
        c.parameter >= 0 && !c.parameter_name.empty()
            ? EscapeAndTruncate(c.parameter_name, 60)
            : "-",
        c.tensor.empty() ? "-" : EscapeAndTruncate(c.tensor, 60),
        VerdictText(c.verdict, s),
        expected,
        actual};
    if (sharded) {
      std::string per_device = "-";
      if (c.expected_per_device.has_value()) {
        per_device =
            c.expected.has_value() && *c.expected_per_device == *c.expected
                ? std::string("=")
                : absl::StrCat(
                      EscapeForTerminal(c.expected_per_device->ToString(false)),
                      " ", WithCommas(c.expected_per_device_bytes), " B");
      }
      row.push_back(std::move(per_device));
    }
    table.AddRow(std::move(row));
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
      who = absl::StrCat("parameter ", ParameterText(c));
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
    const bool partial = !r.environment_not_recorded_checkpoint.empty() ||
                         !r.environment_not_recorded_current.empty();
    std::printf("  no changes%s\n",
                partial ? " in what both sides record" : "");
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
  if (r.environment_compared) {
    auto unrecorded = [](const char* side,
                         const std::vector<std::string>& names) {
      if (names.empty()) return;
      std::printf("  not recorded by %s (not compared): %s\n", side,
                  EscapeForTerminal(absl::StrJoin(names, ", ")).c_str());
    };
    unrecorded("the checkpoint", r.environment_not_recorded_checkpoint);
    unrecorded("the current environment", r.environment_not_recorded_current);
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
        "right tensors with --map NAME=N).\n",
        s.Red("Nothing can fix").c_str(),
        absl::StrCat(Plural(r.counts.incompatible, "incompatible parameter"),
                     ":")
            .c_str());
  }
  if (r.counts.missing > 0) {
    std::printf(
        "%s %s no tensor of the checkpoint; bind one with --map NAME=N "
        "or re-export.\n",
        s.Red(Plural(r.counts.missing, "parameter")).c_str(),
        r.counts.missing == 1 ? "has" : "have");
  }
  if (!show_fix) return;
  if (any_relayout && r.fixable_by_relayout()) {
    std::printf("%s %s\n", s.Bold("Fix:").c_str(),
                EscapeForTerminal(CheckFixCommand(o)).c_str());
    for (const std::string& note : CheckFixNotes(o)) {
      std::printf("  %s\n", EscapeForTerminal(note).c_str());
    }
  } else if (any_relayout) {
    std::printf(
        "The other parameters need relayout or another memory kind; once "
        "the ones above are resolved, check again for the command.\n");
  }
}

}  // namespace xlayout::cli
