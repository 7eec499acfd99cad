// `xlayout signature DUMP`: what a compiled program expects as inputs, read
// from an XLA HLO text dump (or a JSON signature).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/format.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/memory_kind.h"
#include "xlayout/size.h"

namespace xlayout::cli {
namespace {

struct SignatureArgs {
  std::string path;
  bool json = false;
  std::string memory_kinds;
  bool quiet = false;
};

std::string Bytes(int64_t n) { return n < 0 ? "?" : WithCommas(n); }

// What the dump's SPMD stage means for the shapes printed.
std::string StageLine(const ProgramSignature& sig) {
  std::string what;
  switch (sig.dump_stage) {
    case DumpStage::kSinglePartition:
      // The stage's reason says the same thing ("num_partitions is 1: every
      // device holds the global shapes"): said once.
      return "one partition (num_partitions is 1) — every device holds the "
             "global shapes";
    case DumpStage::kBeforePartitioning:
      what =
          "dump before SPMD partitioning — shapes are global; each device "
          "holds its sharding's piece";
      break;
    case DumpStage::kAfterPartitioning:
      what =
          "dump after SPMD partitioning — shapes are per-device already, not "
          "divided again";
      break;
    case DumpStage::kUnknown:
      what =
          "SPMD stage unknown — shapes are taken as global; each device "
          "holds its sharding's piece";
      break;
  }
  if (!sig.dump_stage_reason.empty()) {
    absl::StrAppend(&what, " (", sig.dump_stage_certain ? "" : "not certain: ",
                    sig.dump_stage_reason, ")");
  }
  return what;
}

// The --json document: the envelope, the input, the memory-kind mapping
// the kinds were named with (so the file reads back without the flag),
// then the library's signature object, key for key.
nlohmann::ordered_json SignatureDocument(const SignatureArgs& args,
                                         const ProgramSignature& sig) {
  nlohmann::ordered_json out = JsonEnvelope("signature");
  out["input"] = JsonFileInput(args.path);
  nlohmann::ordered_json body = nlohmann::ordered_json::parse(
      SignatureToJson(sig, -1), nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    for (auto& [key, value] : body.items()) out[key] = value;
  }
  out["errors"] = nlohmann::ordered_json::array();
  return out;
}

int Fail(const SignatureArgs& args, const absl::Status& status,
         absl::string_view prefix = "") {
  PrintError(absl::StrCat(prefix, status.message()));
  if (args.json) {
    nlohmann::ordered_json out = JsonEnvelope("signature");
    out["input"] = JsonFileInput(args.path);
    out["errors"] = nlohmann::ordered_json::array(
        {JsonErrorItem(JsonFileInput(args.path), status)});
    PrintJson(out);
  }
  return kExitError;
}

int Run(const SignatureArgs& args) {
  SignatureReadOptions options;
  if (!args.memory_kinds.empty()) {
    absl::StatusOr<MemoryKindMap> kinds =
        MemoryKindMap::Parse(args.memory_kinds);
    if (!kinds.ok()) {
      // A usage error: no JSON (docs/json.md), and DUMP is not to blame.
      PrintError(absl::StrCat("--memory-kinds: ", kinds.status().message()));
      return kExitError;
    }
    options.memory_kinds = *std::move(kinds);
  }
  absl::StatusOr<ProgramSignature> sig = ReadSignatureFile(args.path, options);
  if (!sig.ok()) return Fail(args, sig.status());
  // Totals over the parameters with a defined size, overflow-checked.
  // A parameter whose per-device shape is unknown (its sharding does not
  // apply) makes the per-device total unknown: no made-up number.
  std::vector<int64_t> xla, exact, device;
  bool unknown = false;
  bool device_unknown = false;
  for (const ParameterSignature& p : sig->parameters) {
    if (!p.per_device_known) device_unknown = true;
    if (p.xla_bytes < 0 || p.exact_bytes < 0 ||
        (p.per_device_known && p.per_device_xla_bytes < 0)) {
      unknown = true;
    }
    if (p.xla_bytes > 0) xla.push_back(p.xla_bytes);
    if (p.exact_bytes > 0) exact.push_back(p.exact_bytes);
    if (p.per_device_xla_bytes > 0) device.push_back(p.per_device_xla_bytes);
  }
  absl::StatusOr<int64_t> total_xla =
      SumBytes(xla, "xla_bytes of the parameters");
  if (!total_xla.ok()) return Fail(args, total_xla.status());
  absl::StatusOr<int64_t> total_exact =
      SumBytes(exact, "exact_bytes of the parameters");
  if (!total_exact.ok()) return Fail(args, total_exact.status());
  absl::StatusOr<int64_t> total_device =
      SumBytes(device, "per-device xla_bytes of the parameters");
  if (!total_device.ok()) return Fail(args, total_device.status());
  if (!args.quiet) {
    for (const std::string& w : sig->warnings) PrintWarning(w);
  }
  if (args.json) {
    PrintJson(SignatureDocument(args, *sig));
    return kExitOk;
  }
  Style style = Style::For(stdout);
  std::printf("%s %s\n", style.Bold("Program").c_str(),
              EscapeForTerminal(sig->name).c_str());
  std::printf(
      "%s %s, %s %s, %s %s  %s\n", style.Bold("Replicas").c_str(),
      WithCommas(sig->replica_count).c_str(), style.Bold("partitions").c_str(),
      WithCommas(sig->num_partitions).c_str(), style.Bold("parameters").c_str(),
      WithCommas(static_cast<int64_t>(sig->parameters.size())).c_str(),
      style
          .Dim(absl::StrCat("(layouts from ",
                            LayoutSourceName(sig->layout_source), ")"))
          .c_str());
  std::printf("%s %s\n", style.Bold("Read").c_str(),
              EscapeForTerminal(StageLine(*sig)).c_str());
  // "per device" is the shape every device holds ("=" when it is the shape
  // itself; the layout is the same), "device bytes" its xla_bytes.
  Table table({"#", "name", "shape", "xla_bytes", "exact_bytes", "per device",
               "device bytes", "memory kind", "sharding"},
              {true, false, false, true, true, false, true, false, false});
  for (const ParameterSignature& p : sig->parameters) {
    const bool same = p.per_device_shape == p.shape;
    std::string per_device =
        !p.per_device_known
            ? "unknown"
            : (same ? "="
                    : EscapeForTerminal(p.per_device_shape.ToString(false)));
    table.AddRow(
        {absl::StrCat(p.index),
         p.name.empty() ? "-" : EscapeAndTruncate(p.name, 80),
         EscapeForTerminal(p.shape.ToString(true)), Bytes(p.xla_bytes),
         Bytes(p.exact_bytes), std::move(per_device),
         p.per_device_known ? Bytes(p.per_device_xla_bytes) : "unknown",
         EscapeForTerminal(p.memory_kind),
         p.sharding ? EscapeAndTruncate(*p.sharding, 80) : "-"});
  }
  std::printf("\n%s", table.Render("  ").c_str());
  const std::string device_total =
      device_unknown
          ? std::string("unknown (a sharding does not apply, see warnings)")
          : absl::StrCat(WithCommas(*total_device), " (",
                         HumanBytes(*total_device), ")");
  std::printf(
      "\n%s xla_bytes %s (%s), exact_bytes %s (%s); per device xla_bytes "
      "%s%s\n",
      style.Bold("Total").c_str(), WithCommas(*total_xla).c_str(),
      HumanBytes(*total_xla).c_str(), WithCommas(*total_exact).c_str(),
      HumanBytes(*total_exact).c_str(), device_total.c_str(),
      unknown ? " — some sizes are undefined (see warnings)" : "");
  return kExitOk;
}

}  // namespace

RunFn RegisterSignatureCommand(CLI::App& app) {
  auto args = std::make_shared<SignatureArgs>();
  CLI::App* cmd = app.add_subcommand(
      "signature",
      "Show what a compiled program expects as input buffers: name, replicas, "
      "partitions, whether the dump was taken before or after SPMD "
      "partitioning and, per runtime parameter, the on-device shape, "
      "xla_bytes (the size XLA's runtime compares, E0102), exact_bytes, the "
      "per-device shape and bytes, memory kind and sharding.");
  cmd->add_option("DUMP", args->path,
                  "XLA HLO text dump (--xla_dump_to or compiled.as_text()), a "
                  "JSON signature written by --json, or - for stdin. Only the "
                  "HloModule header and the ENTRY parameters are read; the "
                  "file is streamed, so dumps of any size are fine.")
      ->required();
  cmd->add_flag(
      "--json", args->json,
      "Print the signature as one JSON object (schema xlayout.v1, "
      "docs/json.md: name, replica_count, num_partitions, parameters[{index, "
      "name, shape, xla_bytes, exact_bytes, memory_kind, sharding, "
      "per_device_shape, per_device_xla_bytes, per_device_exact_bytes (null "
      "when the sharding does not apply)}], "
      "dump_stage, memory_kinds); it reads back as DUMP.");
  cmd->add_option("--memory-kinds", args->memory_kinds,
                  "Memory space to memory kind mapping for S(n), e.g. "
                  "'0=device,1=alternate,5=pinned_host' (the default).");
  cmd->add_flag("-q,--quiet", args->quiet, "Do not print warnings.");
  cmd->footer(
      "Exit status: 0 success, 2 unreadable or malformed input.\n"
      "Example: xlayout signature "
      "/tmp/dump/module_0042.jit_step.after_optimizations.txt");
  return [args] { return Run(*args); };
}

}  // namespace xlayout::cli
