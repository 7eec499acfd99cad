// `xlayout relayout --program DUMP --checkpoint DIR -o OUT`: the checkpoint
// in the program's layouts. The work is the library's RelayoutCheckpoint
// (xlayout/checkpoint_relayout.h); this file reads the inputs, draws the
// progress bar and prints the result.
#include "relayout_checkpoint.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "check_report.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "version.h"
#include "xlayout/checkpoint_check.h"
#include "xlayout/checkpoint_io.h"
#include "xlayout/checkpoint_relayout.h"
#include "xlayout/format.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/output_overlap.h"
#include "xlayout/memory_kind.h"
#include "xlayout/size.h"

namespace xlayout::cli {
namespace {

using Json = nlohmann::ordered_json;

CheckInputs Inputs(const CheckpointRelayoutArgs& a) {
  return {.program = a.program,
          .checkpoint = a.checkpoint,
          .env = a.env,
          .map = a.map,
          .memory_kinds = a.memory_kinds};
}

void AddInputs(const CheckpointRelayoutArgs& a, Json& j) {
  j["input"] = JsonFileInput(a.checkpoint);
  j["program_input"] = JsonFileInput(a.program);
  j["env_input"] = a.env.empty() ? Json(nullptr) : JsonFileInput(a.env);
}

int Fail(const CheckpointRelayoutArgs& a, Json input,
         const absl::Status& status) {
  PrintError(absl::StrCat("relayout: ", status.message()));
  if (a.json) {
    Json j = JsonEnvelope("relayout");
    AddInputs(a, j);
    j["errors"] = Json::array({JsonErrorItem(std::move(input), status)});
    PrintJson(j);
  }
  return kExitError;
}

Json Side(const Shape& shape, int64_t bytes, const std::string& kind) {
  Json j;
  j["shape"] = shape.ToString(true);
  j["exact_bytes"] = bytes;
  j["memory_kind"] = kind;
  return j;
}

void PrintJsonResult(const CheckpointRelayoutArgs& a,
                     const CheckpointRelayoutResult& r,
                     const std::vector<std::string>& program_warnings) {
  Json j = JsonEnvelope("relayout");
  AddInputs(a, j);
  j["program"] = r.report.program;
  j["written"] = r.written;
  j["output"] = r.written ? Json{{"file", a.output}, {"target", r.target}}
                          : Json(nullptr);
  Json counts;
  // The checkpoint's tensors, also when the relayout was refused and no
  // tensor has an action.
  counts["tensors"] = r.report.num_tensors;
  counts["converted"] = r.converted;
  counts["copied"] = r.copied;
  j["counts"] = counts;
  Json tensors = Json::array();
  for (const TensorRelayoutAction& t : r.tensors) {
    Json e;
    e["tensor"] = t.tensor;
    e["action"] = t.converted ? "converted" : "copied";
    e["from"] = Side(t.from, t.bytes_in, t.from_memory_kind);
    e["to"] = Side(t.to, t.bytes_out, t.to_memory_kind);
    tensors.push_back(std::move(e));
  }
  j["tensors"] = std::move(tensors);
  j["bytes_read"] = r.bytes_read;
  j["bytes_written"] = r.bytes_written;
  j["environment"] =
      r.environment_note.empty() ? Json(nullptr) : Json(r.environment_note);
  j["verified"] = r.verified;
  j["threads"] = a.threads;
  j["seconds"] = r.seconds;
  j["bytes_per_second"] =
      r.seconds > 0 ? (r.bytes_read + r.bytes_written) / r.seconds : 0.0;
  // The check the run was based on, as `check --json` reports it.
  j["check"] = CheckReportJson(Inputs(a), r.report, a.strict, program_warnings);
  j["errors"] = Json::array();
  PrintJson(j);
}

void PrintTextResult(const CheckpointRelayoutArgs& a,
                     const CheckpointRelayoutResult& r) {
  const Style s = Style::For(stdout);
  std::printf("%s %s → %s for program %s (%s)\n", s.Bold("Relayout").c_str(),
              EscapeForTerminal(a.checkpoint).c_str(),
              EscapeForTerminal(a.output).c_str(),
              EscapeForTerminal(r.report.program).c_str(),
              EscapeForTerminal(a.program).c_str());
  // Tensors that change memory kind, converted and copied apart: each count
  // belongs to its own half of the summary.
  int64_t new_kind = 0, converted_new_kind = 0;
  for (const TensorRelayoutAction& t : r.tensors) {
    if (t.from_memory_kind == t.to_memory_kind) continue;
    ++new_kind;
    if (t.converted) ++converted_new_kind;
  }
  const int64_t copied_new_kind = new_kind - converted_new_kind;
  auto to_kind = [](int64_t n) {
    return n > 0 ? absl::StrCat(" (", WithCommas(n), " to another memory kind)")
                 : std::string();
  };
  if (r.converted > 0 || new_kind > 0) {
    Table table({"tensor", "from", "to", "bytes"}, {false, false, false, true});
    for (const TensorRelayoutAction& t : r.tensors) {
      if (!t.converted && t.from_memory_kind == t.to_memory_kind) continue;
      auto shape_kind = [](const Shape& shape, const std::string& kind) {
        std::string text = EscapeForTerminal(shape.ToString(true));
        if (kind != "device") {
          absl::StrAppend(&text, " [", EscapeForTerminal(kind), "]");
        }
        return text;
      };
      table.AddRow({EscapeAndTruncate(t.tensor, 60),
                    shape_kind(t.from, t.from_memory_kind),
                    shape_kind(t.to, t.to_memory_kind),
                    absl::StrCat(WithCommas(t.bytes_in), " → ",
                                 WithCommas(t.bytes_out))});
    }
    std::printf("\n%s\n%s", s.Bold("Changed").c_str(),
                table.Render("  ").c_str());
  }
  std::printf("\n  environment recorded: %s\n",
              EscapeForTerminal(r.environment_note).c_str());
  // Copies are made in the kernel, unread: say so, rather than claim every
  // source checksum was checked.
  std::string checksums = r.converted > 0
                              ? "every converted tensor's source verified"
                              : "no tensor converted";
  if (r.verified) {
    absl::StrAppend(&checksums,
                    "; the output re-read and every physical and logical "
                    "checksum verified",
                    r.copied > 0 ? ", copies included" : "");
  } else if (r.copied > 0) {
    absl::StrAppend(&checksums, "; ", WithCommas(r.copied), " copied ",
                    r.copied == 1 ? "tensor" : "tensors",
                    " carried over unread with the source's checksums "
                    "(--verify re-reads them)");
  }
  std::printf("  checksums: %s\n", checksums.c_str());
  const double rate =
      r.seconds > 0 ? (r.bytes_read + r.bytes_written) / r.seconds : 0;
  auto plural = [](int64_t n, absl::string_view word) {
    return absl::StrCat(WithCommas(n), " ", word, n == 1 ? "" : "s");
  };
  std::printf(
      "\n%s %s converted%s, %s copied%s; wrote %s (%s) in %.3f s, %s/s "
      "(read + written), %s\n",
      s.Bold("Summary").c_str(), plural(r.converted, "tensor").c_str(),
      to_kind(converted_new_kind).c_str(), WithCommas(r.copied).c_str(),
      to_kind(copied_new_kind).c_str(), EscapeForTerminal(a.output).c_str(),
      HumanBytes(r.bytes_written).c_str(), r.seconds,
      HumanBytes(static_cast<int64_t>(rate)).c_str(),
      plural(a.threads, "thread").c_str());
}

}  // namespace

int RunCheckpointRelayout(const CheckpointRelayoutArgs& a) {
  if (absl::Status s =
          OneStdinReader({{"--program", a.program}, {"--env", a.env}});
      !s.ok()) {
    PrintError(absl::StrCat("relayout: ", s.message()));
    return kExitError;
  }
  io::InstallSignalCleanup();
  CheckpointRelayoutOptions options;
  options.threads = a.threads;
  options.verify = a.verify;
  options.source_name = a.checkpoint;
  options.tool_version = XLAYOUT_VERSION;
  options.check.strict = a.strict;
  SignatureReadOptions read_options;
  if (!a.memory_kinds.empty()) {
    absl::StatusOr<MemoryKindMap> kinds = MemoryKindMap::Parse(a.memory_kinds);
    if (!kinds.ok()) {
      // A usage error: no JSON (docs/json.md).
      PrintError(
          absl::StrCat("relayout: --memory-kinds: ", kinds.status().message()));
      return kExitError;
    }
    options.check.memory_kinds = *kinds;
    read_options.memory_kinds = *std::move(kinds);
  }
  for (const std::string& m : a.map) {
    absl::StatusOr<std::pair<std::string, TensorBinding>> kv =
        ParseTensorMapping(m);
    if (!kv.ok()) return Fail(a, JsonTextInput(m), kv.status());
    options.check.map.push_back(*std::move(kv));
  }
  // The program and environment files must survive the output too, as
  // the checkpoint must (RelayoutCheckpoint checks that one again).
  std::vector<io::NamedInput> files = {{a.checkpoint, "the source checkpoint"},
                                       {a.program, "the program"}};
  if (!a.env.empty()) files.push_back({a.env, "the environment file"});
  if (absl::Status s = io::CheckOutputApartFromInputs(a.output, files);
      !s.ok()) {
    return Fail(a, Json(nullptr), s);
  }
  absl::StatusOr<ProgramSignature> program =
      ReadSignatureFile(a.program, read_options);
  if (!program.ok()) {
    return Fail(a, JsonFileInput(a.program), program.status());
  }
  // What the reader tolerated in the dump, as `signature` and `check` print
  // it.
  for (const std::string& w : program->warnings) PrintWarning(w);
  absl::StatusOr<std::unique_ptr<CheckpointReader>> reader =
      CheckpointReader::Open(a.checkpoint);
  if (!reader.ok()) {
    return Fail(a, JsonFileInput(a.checkpoint), reader.status());
  }
  if (!a.env.empty()) {
    absl::StatusOr<Environment> env = ReadEnvironmentFile(a.env, "--env");
    if (!env.ok()) return Fail(a, JsonFileInput(a.env), env.status());
    options.check.current_environment = *std::move(env);
  }
  std::unique_ptr<ProgressBar> bar;
  if (!a.no_progress) {
    options.progress = [&](int64_t done, int64_t total) {
      if (bar == nullptr)
        bar = std::make_unique<ProgressBar>("relayout", total);
      bar->Update(done);
    };
  }
  absl::StatusOr<CheckpointRelayoutResult> r =
      RelayoutCheckpoint(*program, **reader, a.output, options);
  bar.reset();
  if (!r.ok()) return Fail(a, Json(nullptr), r.status());
  if (!r->written) {
    // Refused: the same report as `check`, and nothing written.
    const CheckReport& report = r->report;
    if (a.json) {
      PrintJsonResult(a, *r, program->warnings);
    } else {
      PrintCheckReportText(Inputs(a), report, /*show_fix=*/false);
    }
    PrintError(absl::StrCat("relayout: nothing written: ",
                            report.counts.incompatible + report.counts.missing,
                            " parameter(s) cannot be fixed by a relayout (",
                            report.counts.incompatible, " incompatible, ",
                            report.counts.missing, " missing); see the report ",
                            a.json ? "in the JSON output" : "above"));
    return kExitFindings;
  }
  NoteOutputWritten(a.output);
  if (a.json) {
    PrintJsonResult(a, *r, program->warnings);
  } else {
    PrintTextResult(a, *r);
  }
  return kExitOk;
}

}  // namespace xlayout::cli
