// `xlayout export --checkpoint DIR -o OUT.safetensors|OUT.npz|OUTDIR/`:
// every tensor of a checkpoint back to row-major, both checksums verified.
// The work is the library's ExportCheckpoint (xlayout/checkpoint_transfer.h).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/io_status.h"

namespace xlayout::cli {
namespace {

struct Options {
  std::string checkpoint;
  std::string out;
  int threads = 1;
  bool json = false;
  bool no_progress = false;
};

const char* FormatName(ExportFormat f) {
  switch (f) {
    case ExportFormat::kSafetensors:
      return "safetensors";
    case ExportFormat::kNpz:
      return "npz";
    case ExportFormat::kNpyDir:
      return "npy";
  }
  return "?";
}

}  // namespace

RunFn RegisterExportCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Export a checkpoint's tensors row-major to safetensors, .npz or one "
      ".npy per tensor, verifying every checksum");
  cmd->add_option("--checkpoint", o->checkpoint, "The checkpoint directory")
      ->required();
  cmd->add_option("-o,--output", o->out,
                  "OUT.safetensors, OUT.npz (stored), or OUTDIR/ (a "
                  "directory of NAME.npy); written atomically. An existing "
                  "OUTDIR is replaced only if it is empty or holds only "
                  ".npy files of this checkpoint's tensors; never the "
                  "checkpoint or a path inside it")
      ->required();
  cmd->add_option("--threads", o->threads, "Conversion threads (default 1)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", o->json, "Print a JSON summary on stdout");
  cmd->add_flag("--no-progress", o->no_progress, "No progress bar");
  cmd->footer(
      "bf16 and f8 arrays go to .npy as raw void ('|V2', ml_dtypes' "
      "convention). Exit status: 0 on success, 2 on bad options, a refused "
      "or corrupt checkpoint (a checksum mismatch names the tensor and the "
      "file), a tensor the format cannot hold, or I/O errors (OUT is then "
      "left as it was).");
  return [o]() {
    io::InstallSignalCleanup();
    ExportOptions options;
    options.threads = o->threads;
    std::unique_ptr<ProgressBar> bar;
    if (!o->no_progress) {
      options.progress = [&](int64_t done, int64_t total) {
        if (bar == nullptr)
          bar = std::make_unique<ProgressBar>("export", total);
        bar->Update(done);
      };
    }
    absl::StatusOr<ExportResult> r =
        ExportCheckpoint(o->checkpoint, o->out, options);
    bar.reset();
    if (!r.ok()) {
      PrintError(absl::StrCat("export: ", r.status().message()));
      if (o->json) {
        nlohmann::ordered_json j = JsonEnvelope("export");
        j["input"] = JsonFileInput(o->checkpoint);
        j["output"] = JsonFileInput(o->out);
        // The error's input is the checkpoint when reading it failed; null
        // for -o and writing OUT.
        const std::optional<std::string> file = io::InputFileOf(r.status());
        j["errors"] = nlohmann::ordered_json::array(
            {JsonErrorItem(file.has_value() ? JsonFileInput(*file)
                                            : nlohmann::ordered_json(nullptr),
                           r.status())});
        PrintJson(j);
      }
      return kExitError;
    }
    NoteOutputWritten(o->out);
    if (o->json) {
      nlohmann::ordered_json j = JsonEnvelope("export");
      j["input"] = JsonFileInput(o->checkpoint);
      j["output"] = JsonFileInput(o->out);
      j["format"] = FormatName(r->format);
      j["tensors"] = r->tensors;
      j["logical_bytes"] = r->logical_bytes;
      j["verified"] = true;
      j["seconds"] = r->seconds;
      j["errors"] = nlohmann::ordered_json::array();
      PrintJson(j);
      return kExitOk;
    }
    Style style = Style::For(stdout);
    std::printf(
        "%s %lld tensor%s (%s logical bytes) to %s (%s), every "
        "checksum verified\n",
        style.Green("exported").c_str(), static_cast<long long>(r->tensors),
        r->tensors == 1 ? "" : "s", WithCommas(r->logical_bytes).c_str(),
        EscapeForTerminal(o->out).c_str(), FormatName(r->format));
    std::printf("  %s\n",
                style.Dim(absl::StrFormat("%.3f s", r->seconds)).c_str());
    return kExitOk;
  };
}

}  // namespace xlayout::cli
