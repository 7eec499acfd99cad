// `xlayout import SRC... (--program DUMP | --layout NAME=LAYOUT... | --host)
// -o DIR`: safetensors / .npy / .npz tensors into a checkpoint that records
// their device layouts. The work is the library's ImportCheckpoint
// (xlayout/checkpoint_transfer.h); this file parses flags and prints.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "version.h"
#include "xlayout/checkpoint_check.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/io_status.h"
#include "xlayout/primitive_type.h"
#include "xlayout/size.h"

namespace xlayout::cli {
namespace {

struct Options {
  std::vector<std::string> sources;
  std::string program;
  std::vector<std::string> layouts;
  bool host = false;
  std::vector<std::string> map;
  std::vector<std::string> dtypes;
  std::string env;
  int threads = 1;
  std::string out;
  bool json = false;
  bool no_progress = false;
};

absl::StatusOr<std::pair<std::string, std::string>> SplitAssignment(
    const std::string& flag, const std::string& value) {
  size_t eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", value, "': expected NAME=VALUE"));
  }
  return std::make_pair(value.substr(0, eq), value.substr(eq + 1));
}

absl::StatusOr<ImportOptions> LibraryOptions(const Options& o) {
  ImportOptions options;
  options.sources = o.sources;
  const int targets = (o.program.empty() ? 0 : 1) +
                      (o.layouts.empty() ? 0 : 1) + (o.host ? 1 : 0);
  if (targets != 1) {
    return absl::InvalidArgumentError(
        "say where the tensors go with exactly one of --program DUMP, "
        "--layout NAME=LAYOUT... or --host");
  }
  if (!o.map.empty() && o.program.empty()) {
    return absl::InvalidArgumentError("--map needs --program");
  }
  if (!o.program.empty()) {
    options.target = ImportTarget::kProgram;
    options.program = o.program;
  } else if (o.host) {
    options.target = ImportTarget::kHost;
  } else {
    options.target = ImportTarget::kLayouts;
  }
  for (const std::string& l : o.layouts) {
    auto kv = ParseLayoutAssignment(l);
    if (!kv.ok()) return kv.status();
    options.layouts.push_back(*kv);
  }
  for (const std::string& m : o.map) {
    // The same NAME=N / NAME=N{i} as check and relayout take.
    absl::StatusOr<std::pair<std::string, TensorBinding>> kv =
        ParseTensorMapping(m);
    if (!kv.ok()) return kv.status();
    options.map.push_back(*std::move(kv));
  }
  for (const std::string& d : o.dtypes) {
    auto kv = SplitAssignment("--dtype", d);
    if (!kv.ok()) return kv.status();
    std::optional<PrimitiveType> type = PrimitiveTypeFromName(kv->second);
    if (!type.has_value() || !IsArrayType(*type)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--dtype '", d, "': '", kv->second,
                       "' is not an XLA element type (bf16, f8e4m3fn, ...)"));
    }
    options.dtypes.emplace_back(kv->first, *type);
  }
  options.env_path = o.env;
  options.threads = o.threads;
  options.tool_version = XLAYOUT_VERSION;
  return options;
}

std::string Parameter(const TensorRecord& t) {
  if (!t.binding.has_value()) return "-";
  std::string s = absl::StrCat(t.binding->parameter);
  if (!t.binding->tuple_index.empty()) {
    absl::StrAppend(&s, "{");
    for (size_t i = 0; i < t.binding->tuple_index.size(); ++i) {
      absl::StrAppend(&s, i ? "," : "", t.binding->tuple_index[i]);
    }
    absl::StrAppend(&s, "}");
  }
  return s;
}

void PrintUnboundWarnings(const ImportResult& r) {
  for (const std::string& p : r.unbound_parameters) {
    PrintWarning(absl::StrCat("no tensor for parameter ", p));
  }
}

int Fail(const Options& o, const absl::Status& status) {
  PrintError(absl::StrCat("import: ", status.message()));
  if (o.json) {
    nlohmann::ordered_json j = JsonEnvelope("import");
    j["output"] = JsonFileInput(o.out);
    // The file an error is about, when the library says (a source, the
    // program, the --env file).
    const std::optional<std::string> file = io::InputFileOf(status);
    j["errors"] = nlohmann::ordered_json::array(
        {JsonErrorItem(file.has_value() ? JsonFileInput(*file)
                                        : nlohmann::ordered_json(nullptr),
                       status)});
    PrintJson(j);
  }
  return kExitError;
}

}  // namespace

RunFn RegisterImportCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Import safetensors / .npy / .npz tensors into a checkpoint that "
      "stores each tensor in its device layout and records that layout");
  cmd->add_option("SRC", o->sources,
                  "Source files: *.safetensors, *.npy (the array is named "
                  "after the file), *.npz (stored or deflated)")
      ->required();
  cmd->add_option("--program", o->program,
                  "Bind tensors to this program's parameters (HLO dump or "
                  "JSON signature), in source order or by --map, and store "
                  "each in its parameter's layout");
  cmd->add_option("--layout", o->layouts,
                  "NAME=LAYOUT: store tensor NAME in this layout "
                  "('{1,0:T(8,128)(2,1)}', a JAX Layout(...) repr, or a whole "
                  "shape); repeat for every tensor")
      ->type_size(1)
      ->allow_extra_args(false);
  cmd->add_flag("--host", o->host, "Store every tensor row-major");
  cmd->add_option("--map", o->map,
                  "NAME=N or NAME=N{i}: bind tensor NAME to XLA's parameter "
                  "N, or to leaf i of tuple parameter N (with --program)")
      ->type_size(1)
      ->allow_extra_args(false);
  cmd->add_option("--dtype", o->dtypes,
                  "NAME=TYPE: the element type of an .npy/.npz array saved "
                  "as raw void, e.g. ml_dtypes' bfloat16 ('|V2'): x=bf16")
      ->type_size(1)
      ->allow_extra_args(false);
  cmd->add_option("--env", o->env,
                  "Environment file (xlayout.environment.v1, see "
                  "docs/checkpoint.md): the fingerprint to record");
  cmd->add_option("--threads", o->threads, "Conversion threads (default 1)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("-o,--output", o->out,
                  "The checkpoint directory to write (atomically: a "
                  "temporary directory, fsync, rename). An existing one is "
                  "replaced only if it is empty or a checkpoint and nothing "
                  "else, never if it holds a source, the program or the "
                  "--env file")
      ->required();
  cmd->add_flag("--json", o->json, "Print a JSON summary on stdout");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar");
  cmd->footer(
      "Exit status: 0 on success, 2 on bad options, unreadable or refused "
      "sources, tensors that do not fit their parameters, or I/O errors (the "
      "target is then left as it was).");
  return [o]() {
    if (absl::Status s =
            OneStdinReader({{"--program", o->program}, {"--env", o->env}});
        !s.ok()) {
      PrintError(absl::StrCat("import: ", s.message()));
      return kExitError;
    }
    io::InstallSignalCleanup();
    absl::StatusOr<ImportOptions> options = LibraryOptions(*o);
    if (!options.ok()) return Fail(*o, options.status());
    std::unique_ptr<ProgressBar> bar;
    if (!o->no_progress) {
      options->progress = [&](int64_t done, int64_t total) {
        if (bar == nullptr)
          bar = std::make_unique<ProgressBar>("import", total);
        bar->Update(done);
      };
    }
    absl::StatusOr<ImportResult> r = ImportCheckpoint(o->out, *options);
    bar.reset();
    if (!r.ok()) return Fail(*o, r.status());
    NoteOutputWritten(o->out);
    const auto& tensors = r->manifest.tensors;
    if (o->json) {
      nlohmann::ordered_json j = JsonEnvelope("import");
      j["output"] = JsonFileInput(o->out);
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const TensorRecord& t : tensors) {
        nlohmann::ordered_json e;
        e["name"] = t.name;
        e["parameter"] = t.binding.has_value()
                             ? nlohmann::ordered_json(t.binding->parameter)
                             : nlohmann::ordered_json(nullptr);
        e["tuple_index"] = t.binding.has_value()
                               ? nlohmann::ordered_json(t.binding->tuple_index)
                               : nlohmann::ordered_json::array();
        e["shape"] = t.device_shape.ToString(true);
        e["memory_kind"] = t.memory_kind;
        e["exact_bytes"] = t.length;
        e["xxh3_physical"] = FormatChecksum(t.xxh3_physical);
        e["xxh3_logical"] = FormatChecksum(t.xxh3_logical);
        list.push_back(e);
      }
      j["tensors"] = list;
      j["unbound_parameters"] = r->unbound_parameters;
      j["logical_bytes"] = r->logical_bytes;
      j["exact_bytes"] = r->device_bytes;
      j["seconds"] = r->seconds;
      j["errors"] = nlohmann::ordered_json::array();
      PrintJson(j);
      // Warnings go to stderr with or without --json (docs/json.md).
      PrintUnboundWarnings(*r);
      return kExitOk;
    }
    Style style = Style::For(stdout);
    std::printf("%s %zu tensor%s into %s\n", style.Green("imported").c_str(),
                tensors.size(), tensors.size() == 1 ? "" : "s",
                EscapeForTerminal(o->out).c_str());
    Table t({"name", "parameter", "device shape", "device bytes"},
            {false, true, false, true});
    for (const TensorRecord& rec : tensors) {
      t.AddRow({EscapeForTerminal(rec.name), Parameter(rec),
                rec.device_shape.ToString(true), WithCommas(rec.length)});
    }
    std::printf("%s", t.Render("  ").c_str());
    std::printf("  %s\n",
                style
                    .Dim(absl::StrCat(
                        WithCommas(r->logical_bytes), " logical bytes -> ",
                        WithCommas(r->device_bytes), " device bytes, ",
                        absl::StrFormat("%.3f s", r->seconds)))
                    .c_str());
    PrintUnboundWarnings(*r);
    return kExitOk;
  };
}

}  // namespace xlayout::cli
