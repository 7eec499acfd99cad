// `xlayout relayout --shape SHAPE (--to LAYOUT | --to-host | --from-host) IN
// OUT`: converts a raw buffer file from one physical layout to another. The
// work is the library's RelayoutFile (xlayout/relayout_file.h); this file
// parses flags and prints. The checkpoint form (--program --checkpoint -o)
// shares the flags and runs in relayout_checkpoint.cc.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "relayout_checkpoint.h"
#include "ui.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/layout_util.h"
#include "xlayout/relayout.h"
#include "xlayout/relayout_file.h"
#include "xlayout/shape_parser.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"

namespace xlayout::cli {
namespace {

struct Options {
  // The checkpoint form (relayout_checkpoint.h).
  CheckpointRelayoutArgs checkpoint;
  // The buffer-file form.
  std::string shape;
  std::string to;
  bool from_host = false;
  bool to_host = false;
  int threads = 1;
  bool json = false;
  bool verbose = false;
  bool no_progress = false;
  std::string in;
  std::string out;
};

bool IsJaxLayout(absl::string_view text) {
  for (absl::string_view name : {"Layout", "DeviceLocalLayout", "Format"}) {
    if (absl::StartsWith(text, name)) {
      absl::string_view rest =
          absl::StripLeadingAsciiWhitespace(text.substr(name.size()));
      if (absl::StartsWith(rest, "(")) return true;
    }
  }
  return false;
}

// --to takes a layout `{...}`, a JAX `Layout(...)` repr, or a whole shape,
// which must be the same logical array as --shape.
absl::StatusOr<Shape> TargetShape(const Shape& from, const std::string& to) {
  absl::string_view text = absl::StripAsciiWhitespace(to);
  const bool layout_only = absl::StartsWith(text, "{") || IsJaxLayout(text);
  if (layout_only) {
    absl::StatusOr<Layout> layout =
        text.front() == '{' ? ParseLayout(text) : ParseJaxLayout(text);
    if (!layout.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--to '", to, "': ", layout.status().message()));
    }
    Shape target = from;
    target.set_layout(*layout);
    return target;
  }
  if (!absl::StrContains(text, '[')) {
    // Neither a layout nor a shape ("AUTO", "row-major"): say what --to
    // takes rather than report an unknown element type.
    return absl::InvalidArgumentError(absl::StrCat(
        "--to '", to,
        "' is not a layout: expected one in braces (e.g. "
        "'{1,0:T(8,128)}'), a JAX 'Layout(major_to_minor=..., tiling=...)' "
        "repr or a whole shape (e.g. 'f32[8,128]{0,1}'); --to-host for "
        "row-major"));
  }
  absl::StatusOr<Shape> shape = ParseShape(text);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--to '", to, "': ", shape.status().message()));
  }
  return *shape;
}

// Usage errors of the buffer form: the options that say where to convert
// to, taken together (before any input is read; no JSON is printed).
absl::Status CheckTargetOptions(const Options& o) {
  if (o.from_host && o.to_host) {
    return absl::InvalidArgumentError(
        "--from-host and --to-host together convert nothing");
  }
  if (o.to_host && !o.to.empty()) {
    return absl::InvalidArgumentError(
        "--to and --to-host both name the output layout");
  }
  if (!o.from_host && !o.to_host && o.to.empty()) {
    return absl::InvalidArgumentError(
        "say where to convert to: --to LAYOUT, --to-host or --from-host");
  }
  return absl::OkStatus();
}

// The from and to shapes the options ask for (CheckTargetOptions passed).
absl::StatusOr<std::pair<Shape, Shape>> Shapes(const Options& o) {
  absl::StatusOr<Shape> parsed = ParseShape(o.shape);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shape '", o.shape, "': ", parsed.status().message()));
  }
  if (!parsed->IsArray()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shape must be an array shape, not ", parsed->ToString(true)));
  }
  XLAYOUT_RETURN_IF_ERROR(ValidateShape(*parsed));
  Shape from, to;
  if (o.from_host) {
    from = HostShape(*parsed);
    if (o.to.empty()) {
      to = *parsed;
    } else {
      XLAYOUT_ASSIGN_OR_RETURN(to, TargetShape(*parsed, o.to));
    }
  } else {
    from = *parsed;
    if (o.to_host) {
      to = HostShape(*parsed);
    } else {
      XLAYOUT_ASSIGN_OR_RETURN(to, TargetShape(*parsed, o.to));
    }
  }
  XLAYOUT_RETURN_IF_ERROR(ValidateShape(to));
  return std::make_pair(from, to);
}

absl::StatusOr<RelayoutFileResult> Run(const Options& o) {
  XLAYOUT_ASSIGN_OR_RETURN(auto shapes, Shapes(o));
  RelayoutFileOptions options;
  options.relayout.threads = o.threads;
  if (o.verbose) {
    // The plan the driver runs, described before the run.
    const RelayoutOptions plan_options = RelayoutFilePlanOptions(options);
    XLAYOUT_ASSIGN_OR_RETURN(
        std::unique_ptr<RelayoutPlan> plan,
        RelayoutPlan::Create(shapes.first, shapes.second, plan_options));
    std::fprintf(stderr, "%s", plan->DebugString().c_str());
  }
  std::unique_ptr<ProgressBar> bar;
  options.progress = [&](int64_t done, int64_t total) {
    if (bar == nullptr && !o.no_progress && total >= (64 << 20)) {
      bar = std::make_unique<ProgressBar>("relayout", total);
    }
    if (bar) bar->Update(done);
  };
  absl::StatusOr<RelayoutFileResult> r =
      RelayoutFile(shapes.first, shapes.second, o.in, o.out, options);
  bar.reset();
  return r;
}

}  // namespace

RunFn RegisterRelayoutCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "relayout",
      "Convert a raw buffer file between two physical layouts of the same "
      "array, or a checkpoint to the layouts a compiled program expects "
      "(bit-exact; padding written as zeros)");
  CheckpointRelayoutArgs& c = o->checkpoint;
  auto* program = cmd->add_option(
      "--program", c.program,
      "Checkpoint form: the program, an XLA HLO text dump or a JSON "
      "signature");
  auto* checkpoint = cmd->add_option(
      "--checkpoint", c.checkpoint,
      "Checkpoint form: the source checkpoint directory (never modified)");
  auto* output = cmd->add_option(
      "-o,--output", c.output,
      "Checkpoint form: the new checkpoint directory, written atomically (an "
      "existing one is replaced only if it is empty or a checkpoint and "
      "nothing else; never the source, the program, the --env file or a "
      "directory holding them)");
  cmd->add_option("--env", c.env,
                  "Checkpoint form: the program's environment "
                  "(xlayout.environment.v1), recorded as the new fingerprint "
                  "and compared with the source's");
  cmd->add_option("--map", c.map,
                  "Checkpoint form: NAME=N or NAME=N{i} binds tensor NAME to "
                  "XLA's parameter N or leaf i of tuple parameter N (as for "
                  "check)")
      ->type_size(1)
      ->allow_extra_args(false);
  cmd->add_option("--memory-kinds", c.memory_kinds,
                  "Checkpoint form: memory space to memory kind mapping for "
                  "S(n), e.g. '0=device,1=alternate,5=pinned_host' (the "
                  "default)");
  cmd->add_flag("--strict", c.strict,
                "Checkpoint form: strict layout check in the report (as for "
                "check); same-size, different-layout tensors are converted "
                "either way");
  cmd->add_flag("--verify", c.verify,
                "Checkpoint form: re-read the output before it is renamed "
                "into place and check every physical checksum, and every "
                "logical checksum against the source's (without it, "
                "converted tensors are checked as they are read and copied "
                "ones, copied in the kernel, keep the source's checksums)");
  cmd->add_option(
      "--shape", o->shape,
      "Buffer form: the array and the layout IN is stored in, e.g. "
      "'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' or with a JAX "
      "'Layout(...)' repr (with --from-host: the device layout to produce)");
  cmd->add_option("--to", o->to,
                  "Buffer form: target layout: '{2,1,0:T(8,128)(2,1)}', a JAX "
                  "'Layout(major_to_minor=..., tiling=...)' repr, or a whole "
                  "shape of the same array");
  cmd->add_flag("--from-host", o->from_host,
                "Buffer form: IN is the row-major host layout (as in .npy / "
                "safetensors); OUT gets the --shape layout (or --to)");
  cmd->add_flag("--to-host", o->to_host,
                "Buffer form: OUT gets the row-major host layout");
  cmd->add_option("--threads", o->threads,
                  "Worker threads (default 1; for a checkpoint, tensors run "
                  "in parallel)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", o->json, "Print a JSON summary on stdout");
  cmd->add_flag("-v,--verbose", o->verbose,
                "Buffer form: describe the relayout plan on stderr");
  cmd->add_flag("--no-progress", o->no_progress,
                "No progress bar (it shows only on a TTY; for a buffer, for "
                "outputs of 64 MiB or more)");
  auto* in = cmd->add_option(
      "IN", o->in,
      "Buffer form: input buffer file, or '-' for stdin (a regular file; "
      "FIFOs, devices and directories are refused)");
  auto* out = cmd->add_option(
      "OUT", o->out,
      "Buffer form: output file, replaced atomically (temporary file, fsync, "
      "rename; keeps its mode; a symlink's target is replaced), or '-' for "
      "stdout");
  // The two forms exclude each other; each needs all of its parts.
  for (CLI::Option* buffer_opt :
       {cmd->get_option("--shape"), cmd->get_option("--to"),
        cmd->get_option("--from-host"), cmd->get_option("--to-host"),
        cmd->get_option("--verbose"), in, out}) {
    buffer_opt->excludes(checkpoint);
  }
  for (CLI::Option* ckpt_opt :
       {program, output, cmd->get_option("--env"), cmd->get_option("--map"),
        cmd->get_option("--memory-kinds"), cmd->get_option("--strict"),
        cmd->get_option("--verify")}) {
    ckpt_opt->needs(checkpoint);
  }
  checkpoint->needs(program)->needs(output);
  cmd->footer(
      "Forms:\n"
      "  xlayout relayout --shape SHAPE (--to LAYOUT | --to-host | "
      "--from-host) IN OUT\n"
      "  xlayout relayout --program DUMP --checkpoint DIR -o OUT [--env "
      "ENV.json] [--map NAME=N]... [--memory-kinds MAP] [--strict] "
      "[--threads N] [--verify]\n"
      "The checkpoint form binds tensors as `xlayout check` does, converts "
      "every tensor that needs another layout or memory kind (verifying "
      "each one's source checksum), copies the rest byte for byte in the "
      "kernel, unread, with their checksums, and records the "
      "new fingerprint (--env) and the provenance. If a parameter is "
      "incompatible or missing it writes nothing and prints check's report.\n"
      "Sub-byte types with E(n) are packed XLA's way: element 0 in the most "
      "significant bits.\n"
      "Exit status: 0 on success; 1 when a checkpoint cannot be fixed by a "
      "relayout (nothing written); 2 on bad options, mismatched shapes, wrong "
      "input size, refused file types or I/O errors such as a full disk (the "
      "output is then left untouched and no temporary file remains).");
  return [o, in, out]() {
    for (const auto& [option, path] :
         {std::pair{in, &o->in}, std::pair{out, &o->out}}) {
      if (option->count() > 0 && path->empty()) {
        PrintError(absl::StrCat("relayout: ", option->get_name(),
                                " is an empty path"));
        return kExitError;
      }
    }
    if (!o->checkpoint.checkpoint.empty()) {
      CheckpointRelayoutArgs args = o->checkpoint;
      args.threads = o->threads;
      args.json = o->json;
      args.no_progress = o->no_progress;
      return RunCheckpointRelayout(args);
    }
    if (o->shape.empty() || o->in.empty() || o->out.empty()) {
      PrintError(
          "relayout: give --shape SHAPE ... IN OUT (a buffer file) or "
          "--program DUMP --checkpoint DIR -o OUT (a checkpoint); see "
          "'xlayout help relayout'");
      return kExitError;
    }
    if (absl::Status usage = CheckTargetOptions(*o); !usage.ok()) {
      PrintError(absl::StrCat("relayout: ", usage.message()));
      return kExitError;
    }
    io::InstallSignalCleanup();
    absl::StatusOr<RelayoutFileResult> r = Run(*o);
    if (!r.ok()) {
      PrintError(absl::StrCat("relayout: ", r.status().message()));
      if (o->json) {
        nlohmann::ordered_json j = JsonEnvelope("relayout");
        j["errors"] = nlohmann::ordered_json::array(
            {JsonErrorItem(JsonFileInput(o->in), r.status())});
        PrintJson(j);
      }
      return kExitError;
    }
    if (o->out != "-") NoteOutputWritten(o->out);
    const std::string hash = absl::StrFormat("%016x", r->xxh3_64);
    const double rate =
        r->seconds > 0 ? (r->input_bytes + r->output_bytes) / r->seconds : 0;
    if (o->json) {
      nlohmann::ordered_json j = JsonEnvelope("relayout");
      j["input"] = {{"file", o->in},
                    {"shape", r->from.ToString(true)},
                    {"exact_bytes", r->input_bytes},
                    {"bands", r->bands}};
      j["output"] = {{"file", o->out},
                     {"shape", r->to.ToString(true)},
                     {"exact_bytes", r->output_bytes},
                     {"xxh3_64", hash}};
      j["threads"] = r->threads;
      j["seconds"] = r->seconds;
      j["bytes_per_second"] = rate;
      j["errors"] = nlohmann::ordered_json::array();
      if (o->out == "-") {
        // Stdout carries the data; the summary goes to stderr.
        std::fprintf(stderr, "%s\n",
                     j.dump(2, ' ', false,
                            nlohmann::ordered_json::error_handler_t::replace)
                         .c_str());
      } else {
        PrintJson(j);
      }
      return kExitOk;
    }
    if (o->out == "-") return kExitOk;  // Stdout is the data.
    Style style = Style::For(stdout);
    std::printf("%s %s\n", style.Green("relayout").c_str(),
                EscapeForTerminal(o->out).c_str());
    Table t({"", "shape", "bytes"}, {false, false, true});
    t.AddRow({"from", r->from.ToString(true), WithCommas(r->input_bytes)});
    t.AddRow({"to", r->to.ToString(true), WithCommas(r->output_bytes)});
    std::printf("%s", t.Render("  ").c_str());
    std::printf(
        "  %s\n",
        style
            .Dim(absl::StrFormat(
                "%.3f s, %s/s (read + written), %d thread%s%s, xxh3 %s",
                r->seconds, HumanBytes(static_cast<int64_t>(rate)), r->threads,
                r->threads == 1 ? "" : "s",
                r->bands > 0 ? absl::StrFormat(", read in %d bands", r->bands)
                             : std::string(),
                hash))
            .c_str());
    return kExitOk;
  };
}

}  // namespace xlayout::cli
