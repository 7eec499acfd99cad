// `xlayout explain [FILE...]`: finds every program-input-mismatch message
// (E0102 and older forms) in logs, diagnoses it and prints the fix.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "ui.h"
#include "xlayout/explain.h"
#include "xlayout/finding_group.h"
#include "xlayout/format.h"
#include "xlayout/log_scanner.h"
#include "xlayout/oom_report.h"

namespace xlayout::cli {
namespace {

struct ExplainOptions {
  std::vector<std::string> files;
  std::vector<std::string> messages;
  bool json = false;
  bool no_group = false;
  bool summary = false;
  // Findings printed in full; -1: the default (kDefaultLimit for text, all
  // for --json); 0: no limit.
  int64_t limit = -1;
};

// Findings printed in full by default; the summary covers the rest.
constexpr int64_t kDefaultLimit = 50;
// Echoed input (shapes, program names, excerpts) is cut to this many
// characters in human output.
constexpr size_t kEchoChars = 200;

// Text that came from the input, safe and short enough to print.
std::string Echo(absl::string_view text) {
  return EscapeAndTruncate(text, kEchoChars);
}

std::string Plural(int64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(WithCommas(n), " ", n == 1 ? one : many);
}

std::string Where(const Finding& f) {
  std::vector<std::string> parts;
  if (!f.replicas.empty()) {
    parts.push_back(
        absl::StrCat(f.replicas.size() == 1 ? "replica " : "replicas ",
                     FormatRanges(f.replicas)));
  }
  if (!f.partitions.empty()) {
    parts.push_back(
        absl::StrCat(f.partitions.size() == 1 ? "partition " : "partitions ",
                     FormatRanges(f.partitions)));
  }
  return absl::StrJoin(parts, ", ");
}

// Row label for the form-specific values of a message.
std::string ValueLabel(MessageKind kind) {
  switch (kind) {
    case MessageKind::kElementType:
      return "element type";
    case MessageKind::kRank:
      return "rank";
    case MessageKind::kLayout:
      return "layout";
    case MessageKind::kDynamicDimension:
      return "runtime size";
    case MessageKind::kBufferCount:
      return "buffers";
    case MessageKind::kMemorySpace:
      return "memory kind";
    case MessageKind::kJaxLayout:
      return "JAX layout";
    case MessageKind::kInvalidBuffer:
      return "buffer";
    case MessageKind::kTpuExecute:
      return "tensor";
    case MessageKind::kMalformedLayout:
      return "rank / minor_to_major";
    default:
      return "value";
  }
}

// What a finding is about when its message names no parameter.
std::string Unnumbered(MessageKind kind) {
  switch (kind) {
    case MessageKind::kBufferCount:
      return "buffers";
    case MessageKind::kMalformedLayout:
      return "layout validation";
    default:
      return "an argument";
  }
}

std::string Bytes(const std::optional<int64_t>& b) {
  return b ? WithCommas(*b) : std::string("—");
}

// Lines of the diagnosis: library prose that may quote input (shapes,
// values), so escaped, and cut at `max_chars` (0: never).
std::vector<std::string> Escaped(const std::vector<std::string>& lines,
                                 size_t max_chars = 0) {
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (const std::string& l : lines) {
    out.push_back(max_chars == 0 ? EscapeForTerminal(l)
                                 : EscapeAndTruncate(l, max_chars));
  }
  return out;
}

void PrintFinding(const Finding& f, int index, const Style& st) {
  const Diagnosis& d = f.diagnosis;
  std::string title = absl::StrCat("[", index, "] ");
  if (d.parameter) absl::StrAppend(&title, "parameter ", *d.parameter);
  if (!d.parameter_name.empty()) {
    absl::StrAppend(&title, d.parameter ? " (" : "argument ",
                    Echo(d.parameter_name), d.parameter ? ")" : "");
  }
  if (!d.program.empty()) absl::StrAppend(&title, " of ", Echo(d.program));
  if (!d.parameter && d.parameter_name.empty() && d.program.empty()) {
    absl::StrAppend(&title, Unnumbered(d.kind));
  }
  std::printf(
      "%s — %s\n", st.Bold(title).c_str(),
      st.Yellow(d.summary.empty() ? "mismatch" : Echo(d.summary)).c_str());
  std::vector<std::string> meta = {
      absl::StrCat("classification ", ClassificationName(d.classification)),
      absl::StrCat("form ", MessageKindName(d.kind)),
      Plural(f.count, "message", "messages")};
  if (d.error_code) meta.push_back("E0102");
  std::string where = Where(f);
  if (!where.empty()) meta.push_back(where);
  if (!f.source.empty()) {
    meta.push_back(absl::StrCat(Echo(f.source), ":", f.line));
  }
  std::printf("    %s\n", st.Dim(absl::StrJoin(meta, " · ")).c_str());

  const bool has_sides = !d.expected.shape.empty() || !d.actual.shape.empty() ||
                         d.expected.printed_bytes || d.actual.printed_bytes ||
                         !d.expected_value.empty() || !d.actual_value.empty();
  if (has_sides) {
    Table table({"", st.Bold("expected"), st.Bold("actual")});
    if (!d.expected.shape.empty() || !d.actual.shape.empty()) {
      table.AddRow({"shape", Echo(d.expected.shape), Echo(d.actual.shape)});
    }
    if (!d.expected_value.empty() || !d.actual_value.empty()) {
      table.AddRow(
          {ValueLabel(d.kind), Echo(d.expected_value), Echo(d.actual_value)});
    }
    if (d.expected.printed_bytes || d.actual.printed_bytes) {
      table.AddRow({"printed bytes", Bytes(d.expected.printed_bytes),
                    Bytes(d.actual.printed_bytes)});
    }
    auto recomputed = [&](const SideReport& s) {
      if (!s.recomputed_bytes) return std::string("—");
      std::string v = WithCommas(*s.recomputed_bytes);
      if (s.printed_bytes) {
        v += *s.printed_bytes == *s.recomputed_bytes ? st.Green(" ✓")
                                                     : st.Red(" ✗");
      }
      return v;
    };
    if (d.expected.recomputed_bytes || d.actual.recomputed_bytes) {
      table.AddRow(
          {"recomputed", recomputed(d.expected), recomputed(d.actual)});
    }
    auto inferred = [&](const SideReport& s) {
      if (s.inferred_layouts.empty()) return std::string("");
      std::string v = Echo(s.inferred_layouts.front().shape);
      if (s.inferred_layouts.size() > 1) {
        absl::StrAppend(&v, " (+", s.inferred_layouts.size() - 1, ")");
      }
      return v;
    };
    if (!d.expected.inferred_layouts.empty() ||
        !d.actual.inferred_layouts.empty()) {
      table.AddRow({"inferred", inferred(d.expected), inferred(d.actual)});
    }
    std::printf("\n%s", table.Render("    ").c_str());
  }
  auto section = [&](absl::string_view name,
                     const std::vector<std::string>& lines,
                     absl::string_view bullet) {
    if (lines.empty()) return;
    std::printf("\n  %s\n", st.Bold(name).c_str());
    for (const std::string& l : lines) {
      std::printf("    %s%s\n", std::string(bullet).c_str(), l.c_str());
    }
  };
  section("What differs", Escaped(d.details, 4 * kEchoChars), "• ");
  std::vector<std::string> candidates;
  for (const auto* side : {&d.expected, &d.actual}) {
    const char* name = side == &d.expected ? "expected" : "actual";
    int rank = 1;
    for (const InferredLayout& l : side->inferred_layouts) {
      // The rule is xlayout's own text: escaped, never cut.
      candidates.push_back(absl::StrCat(name, " #", rank++, ": ", Echo(l.shape),
                                        " — ", EscapeForTerminal(l.rule)));
    }
  }
  section("Tilings that reproduce the printed sizes (best first)", candidates,
          "");
  section("Likely causes", Escaped(d.causes), "• ");
  section("Next steps", Escaped(d.next_steps), "• ");
  std::vector<std::string> commands;
  for (const std::string& c : d.fix_commands) {
    // Escaped but never cut: a command must stay runnable.
    commands.push_back(absl::StrCat("$ ", st.Cyan(EscapeForTerminal(c))));
  }
  if (!d.jax_fix.empty()) {
    // The same layout asked for from JAX, for arrays that are still on the
    // device.
    commands.push_back(
        absl::StrCat("in JAX: ", st.Cyan(EscapeForTerminal(d.jax_fix))));
  }
  section("Fix", commands, "");
  std::printf("\n");
}

// One summary line per group of findings that differ only in the parameter
// (the grouping is the library's SummarizeFindings).
void PrintSummary(const std::vector<FindingSummary>& summary, const Style& st) {
  std::printf("%s\n", st.Bold("Summary").c_str());
  for (const FindingSummary& g : summary) {
    std::string line = "  ";
    if (!g.parameters.empty()) {
      absl::StrAppend(&line,
                      g.parameters.size() == 1 ? "parameter " : "parameters ",
                      FormatRanges(g.parameters));
    } else if (!g.parameter_name.empty()) {
      absl::StrAppend(&line, "argument ", Echo(g.parameter_name));
    } else {
      absl::StrAppend(&line, Unnumbered(g.kind));
    }
    if (!g.program.empty()) absl::StrAppend(&line, " of ", Echo(g.program));
    if (!g.replicas.empty()) {
      absl::StrAppend(&line,
                      g.replicas.size() == 1 ? " on replica " : " on replicas ",
                      FormatRanges(g.replicas));
    }
    if (!g.partitions.empty()) {
      absl::StrAppend(
          &line, g.partitions.size() == 1 ? ", partition " : ", partitions ",
          FormatRanges(g.partitions));
    }
    absl::StrAppend(&line, ": ",
                    g.classification == Classification::kUnknown
                        ? Echo(g.summary)
                        : std::string(ClassificationName(g.classification)),
                    " (", Plural(g.messages, "message", "messages"), ")");
    std::printf("%s\n", line.c_str());
  }
}

nlohmann::ordered_json SummaryJson(const std::vector<FindingSummary>& summary) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const FindingSummary& g : summary) {
    nlohmann::ordered_json j;
    j["kind"] = std::string(MessageKindName(g.kind));
    j["program"] = g.program.empty() ? nlohmann::ordered_json(nullptr)
                                     : nlohmann::ordered_json(g.program);
    j["classification"] = std::string(ClassificationName(g.classification));
    j["parameters"] = g.parameters;
    j["parameter_name"] = g.parameter_name.empty()
                              ? nlohmann::ordered_json(nullptr)
                              : nlohmann::ordered_json(g.parameter_name);
    j["replicas"] = g.replicas;
    j["partitions"] = g.partitions;
    j["findings"] = g.findings;
    j["messages"] = g.messages;
    out.push_back(std::move(j));
  }
  return out;
}

int Run(const ExplainOptions& opt) {
  FindingCollector collector(/*group=*/!opt.no_group);
  UnparsedTally unparsed;
  nlohmann::ordered_json errors = nlohmann::ordered_json::array();
  std::string source;
  auto on_message = [&](ScannedMessage m) { collector.Add(m, source); };
  auto on_unparsed = [&](UnparsedCandidate u) { unparsed.Add(u, source); };
  // Out-of-memory reports (oom_report.h), recognised in the same blocks.
  OomReportCollector oom_reports;
  auto on_oom = [&](OomReport r) { oom_reports.Add(std::move(r), source); };
  for (size_t i = 0; i < opt.messages.size(); ++i) {
    source = absl::StrCat("<message ", i + 1, ">");
    LogScanner scanner(on_message, on_unparsed);
    scanner.Feed(opt.messages[i]);
    scanner.Finish();
    OomReportScanner oom(on_oom);
    oom.Feed(opt.messages[i]);
    oom.Finish();
  }
  std::vector<std::string> files = opt.files;
  {
    std::vector<std::pair<std::string, std::string>> inputs;
    for (const std::string& f : files) inputs.emplace_back("FILE", f);
    if (absl::Status s = OneStdinReader(inputs); !s.ok()) {
      PrintError(s.message());
      return kExitError;
    }
  }
  if (files.empty() && opt.messages.empty()) {
    files.push_back("-");
    if (isatty(STDIN_FILENO) == 1) {
      std::fprintf(stderr,
                   "Reading a log from stdin: paste it, then press Ctrl-D. "
                   "(Or: xlayout explain FILE...)\n");
    }
  }
  for (const std::string& path : files) {
    source = path == "-" ? "<stdin>" : path;
    struct stat st_buf;
    if (path != "-" && ::stat(path.c_str(), &st_buf) == 0 &&
        S_ISDIR(st_buf.st_mode)) {
      absl::Status s = absl::InvalidArgumentError(
          absl::StrCat(path, ": is a directory, not a log file"));
      PrintError(s.message());
      errors.push_back(JsonErrorItem(JsonFileInput(path), s));
      continue;
    }
    std::unique_ptr<ProgressBar> bar;
    if (path != "-" && ::stat(path.c_str(), &st_buf) == 0 &&
        st_buf.st_size > (int64_t{64} << 20)) {
      bar = std::make_unique<ProgressBar>(
          absl::StrCat("scanning ", EscapeForTerminal(path)), st_buf.st_size);
    }
    LogScanner scanner(on_message, on_unparsed);
    OomReportScanner oom(on_oom);
    int64_t leading_nuls = 0;
    absl::Status s = ScanFile(
        path, scanner, oom,
        [&](int64_t done) {
          if (bar) bar->Update(done);
        },
        &leading_nuls);
    scanner.Finish();
    oom.Finish();
    bar.reset();
    if (leading_nuls > 0) {
      PrintWarning(absl::StrCat(
          path, ": skipped ", WithCommas(leading_nuls),
          " NUL bytes at the start (what logrotate's copytruncate leaves "
          "when the writer keeps its file offset)"));
    }
    if (!s.ok()) {
      PrintError(s.message());
      errors.push_back(JsonErrorItem(JsonFileInput(path), s));
    }
  }
  // One warning per kind of unreadable candidate, with its count.
  for (const UnparsedTally::Entry& e : unparsed.entries()) {
    PrintWarning(absl::StrCat(
        Plural(e.count, "place looks", "places look"),
        " like a program-input-mismatch message but could not be read (",
        e.reason, "); first at ", e.source, ":", e.line, ": ",
        EscapeAndTruncate(e.excerpt, kEchoChars)));
  }
  const std::vector<Finding>& findings = collector.findings();
  const std::vector<FindingSummary> summary = SummarizeFindings(findings);
  const int64_t total = static_cast<int64_t>(findings.size());
  int64_t limit = opt.limit;
  if (limit < 0) limit = opt.json ? 0 : kDefaultLimit;
  int64_t shown =
      opt.summary ? 0 : (limit == 0 ? total : std::min(total, limit));
  if (opt.json) {
    nlohmann::ordered_json out = JsonEnvelope("explain");
    out["messages"] = collector.messages();
    out["findings_total"] = total;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (int64_t i = 0; i < shown; ++i) {
      list.push_back(FindingToJson(findings[i]));
    }
    out["findings"] = std::move(list);
    out["summary"] = SummaryJson(summary);
    nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
    for (const UnparsedTally::Entry& e : unparsed.entries()) {
      nlohmann::ordered_json w;
      w["input"] = JsonFileInput(e.source, e.line);
      w["reason"] = e.reason;
      w["count"] = e.count;
      w["excerpt"] = e.excerpt;
      warnings.push_back(std::move(w));
    }
    out["unreadable"] = std::move(warnings);
    nlohmann::ordered_json oom_list = nlohmann::ordered_json::array();
    for (const OomReport& r : oom_reports.reports()) {
      oom_list.push_back(OomReportToJson(r));
    }
    out["oom_reports"] = std::move(oom_list);
    out["errors"] = errors;
    PrintJson(out);
  } else {
    Style st = Style::For(stdout);
    if (findings.empty()) {
      // Only a claim about what was read: after an input error the reader
      // gets the error, not "none found".
      if (errors.empty() && oom_reports.reports().empty()) {
        std::printf("No program-input-mismatch (E0102) messages found.\n");
      }
    } else {
      std::printf(
          "%s\n\n",
          st.Bold(absl::StrCat(
                      Plural(total, "finding", "findings"), " from ",
                      Plural(collector.messages(), "message", "messages")))
              .c_str());
      for (int64_t i = 0; i < shown; ++i) {
        PrintFinding(findings[i], static_cast<int>(i + 1), st);
      }
      if (shown < total && !opt.summary) {
        std::printf(
            "%s\n\n",
            st.Dim(absl::StrCat(WithCommas(total - shown),
                                " more findings not shown (--limit ", limit,
                                "; --limit 0 shows all, --summary none)"))
                .c_str());
      }
      if (collector.grouped() || opt.summary) PrintSummary(summary, st);
    }
  }
  if (!opt.json && !oom_reports.reports().empty()) {
    Style st = Style::For(stdout);
    std::printf("%s%s\n", findings.empty() ? "" : "\n",
                st.Bold(absl::StrCat("Out-of-memory reports (",
                                     oom_reports.reports().size(), ")"))
                    .c_str());
    for (const OomReport& r : oom_reports.reports()) {
      // The lines repeat input (names, shapes): escaped for the terminal.
      for (const std::string& l : DescribeOomReport(r)) {
        std::printf("%s\n", EscapeForTerminal(l).c_str());
      }
    }
  }
  if (!errors.empty()) return kExitError;
  return findings.empty() && oom_reports.reports().empty() ? kExitOk
                                                           : kExitFindings;
}

}  // namespace

RunFn RegisterExplainCommand(CLI::App& app) {
  auto opt = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explain",
      "Find program-input-mismatch errors (XLA E0102: 'Executable(...) "
      "expected parameter N of size X ... but got buffer with incompatible "
      "size Y ...', the CPU/GPU short form, the memory-space message and "
      "older forms; TensorFlow's TPUExecute shape check, PJRT's shape check, "
      "JAX's and Mosaic's layout checks, deleted or donated buffers and "
      "malformed layouts) in logs, and explain each: what differs, why, and "
      "the exact command that fixes it.");
  cmd->add_option("files", opt->files,
                  "Log files to scan ('-' or none: stdin). Any size; read as a "
                  "stream.");
  // Exactly one value per -m, so `-m TEXT FILE` leaves FILE a file.
  cmd->add_option("-m,--message", opt->messages,
                  "Explain this message text instead of (or besides) files; "
                  "repeat -m for several messages.")
      ->type_size(1)
      ->allow_extra_args(false)
      // One value per -m (help shows `TEXT`, not `TEXT ...`); every -m is
      // kept.
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--json", opt->json,
                "Print one JSON object (schema xlayout.v1, docs/json.md): "
                "findings[], summary[], unreadable[], errors[].");
  cmd->add_flag("--summary", opt->summary,
                "Print only the summary: one line per mismatch across "
                "parameters, replicas and partitions.");
  cmd->add_option("--limit", opt->limit,
                  "Print at most N findings in full (default 50 for text, all "
                  "for --json; 0: no limit). The summary covers every one.")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            int64_t n = 0;
            if (!absl::SimpleAtoi(v, &n) || n < 0) {
              return "expected a count >= 0, got '" + v + "'";
            }
            return "";
          },
          "N>=0"));
  cmd->add_flag("--no-group", opt->no_group,
                "One finding per message instead of grouping identical "
                "mismatches across replicas and partitions.");
  cmd->footer(
      "Exit status: 0 no mismatch found, 1 mismatches found, 2 usage or input "
      "error.\nExample: xlayout explain train.log\n         python train.py "
      "2>&1 | xlayout explain --json");
  return [opt] { return Run(*opt); };
}

}  // namespace xlayout::cli
