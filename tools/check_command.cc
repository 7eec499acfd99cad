// `xlayout check --program DUMP --checkpoint DIR [--env CURRENT.json]
// [--map NAME=N...] [--strict] [--json]`: a device-free preflight of a
// checkpoint against a compiled program. The work is the library's
// CheckCheckpoint (xlayout/checkpoint_check.h); this file reads the inputs
// and prints the report.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "check_report.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/checkpoint_check.h"
#include "xlayout/checkpoint_io.h"
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

CheckInputs Inputs(const Options& o) {
  return {.program = o.program,
          .checkpoint = o.checkpoint,
          .env = o.env,
          .map = o.map,
          .memory_kinds = o.memory_kinds};
}

int Run(const Options& o) {
  if (absl::Status s =
          OneStdinReader({{"--program", o.program}, {"--env", o.env}});
      !s.ok()) {
    PrintError(absl::StrCat("check: ", s.message()));
    return kExitError;
  }
  CheckOptions options;
  options.strict = o.strict;
  SignatureReadOptions read_options;
  if (!o.memory_kinds.empty()) {
    absl::StatusOr<MemoryKindMap> kinds = MemoryKindMap::Parse(o.memory_kinds);
    if (!kinds.ok()) {
      // A usage error: no JSON (docs/json.md).
      PrintError(
          absl::StrCat("check: --memory-kinds: ", kinds.status().message()));
      return kExitError;
    }
    options.memory_kinds = *kinds;
    read_options.memory_kinds = *std::move(kinds);
  }
  for (const std::string& m : o.map) {
    absl::StatusOr<std::pair<std::string, TensorBinding>> kv =
        ParseTensorMapping(m);
    if (!kv.ok()) return Fail(o, JsonTextInput(m), kv.status());
    options.map.push_back(*std::move(kv));
  }
  absl::StatusOr<ProgramSignature> program =
      ReadSignatureFile(o.program, read_options);
  if (!program.ok()) {
    return Fail(o, JsonFileInput(o.program), program.status());
  }
  // What the reader tolerated in the dump (a header that contradicts the
  // ENTRY parameters, a truncated dump, ...), as `signature` prints it.
  for (const std::string& w : program->warnings) PrintWarning(w);
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
    Json j = JsonEnvelope("check");
    AddInputs(o, j);
    j.update(CheckReportJson(Inputs(o), *report, o.strict, program->warnings));
    j["errors"] = Json::array();
    PrintJson(j);
  } else {
    PrintCheckReportText(Inputs(o), *report, /*show_fix=*/true);
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
                  "The checkpoint directory: its manifest is read and every "
                  "tensor's byte range is checked against the size of its "
                  "data file; no tensor data is read")
      ->required();
  cmd->add_option("--env", o->env,
                  "The current environment (xlayout.environment.v1): its "
                  "differences from the checkpoint's fingerprint are listed, "
                  "layout-affecting ones first");
  cmd->add_option("--map", o->map,
                  "NAME=N or NAME=N{i}: bind tensor NAME to XLA's parameter "
                  "N, or to leaf i of tuple parameter N (overrides the "
                  "manifest's binding; unbound tensors take "
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
                "parameter, the environment changes, the fix, the program's "
                "warnings");
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
