// `xlayout inspect DIR [--verify] [--json]`: a checkpoint's fingerprint and
// tensors (device shapes, sizes, padding), and with --verify both checksums
// of every tensor. The work is the library's CheckpointReader and
// VerifyCheckpoint (xlayout/checkpoint_io.h, checkpoint_transfer.h).
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/checkpoint_io.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/size.h"

namespace xlayout::cli {
namespace {

struct Options {
  std::string dir;
  bool verify = false;
  bool json = false;
  int threads = 1;
};

std::string Parameter(const TensorRecord& t) {
  if (!t.binding.has_value()) return "-";
  std::string s = absl::StrCat(t.binding->parameter);
  if (!t.binding->tuple_index.empty()) {
    absl::StrAppend(&s, "{", absl::StrJoin(t.binding->tuple_index, ","), "}");
  }
  return s;
}

std::vector<std::pair<std::string, std::string>> EnvironmentRows(
    const Environment& e) {
  std::vector<std::pair<std::string, std::string>> rows;
  auto add = [&](const char* label, const std::optional<std::string>& v) {
    if (v.has_value()) rows.emplace_back(label, *v);
  };
  // Quoted where needed, so the line can be pasted back (FormatXlaFlags).
  auto flags = [](const std::optional<FlagMap>& m) {
    return m->empty() ? std::string("(none)") : FormatXlaFlags(*m);
  };
  add("XLA", e.xla_version);
  add("libtpu", e.libtpu_version);
  if (e.xla_flags.has_value())
    rows.emplace_back("XLA_FLAGS", flags(e.xla_flags));
  if (e.libtpu_init_args.has_value()) {
    rows.emplace_back("LIBTPU_INIT_ARGS", flags(e.libtpu_init_args));
  }
  add("device kind", e.device_kind);
  add("topology", e.topology);
  if (e.device_count)
    rows.emplace_back("devices", absl::StrCat(*e.device_count));
  if (e.process_count) {
    rows.emplace_back("processes", absl::StrCat(*e.process_count));
  }
  add("backend", e.backend);
  add("platform", e.platform_version);
  add("jax", e.jax_version);
  add("jaxlib", e.jaxlib_version);
  add("code revision", e.code_revision);
  add("created", e.created);
  add("xlayout", e.xlayout_version);
  return rows;
}

int Fail(const Options& o, const absl::Status& status) {
  PrintError(absl::StrCat("inspect: ", status.message()));
  if (o.json) {
    nlohmann::ordered_json j = JsonEnvelope("inspect");
    j["input"] = JsonFileInput(o.dir);
    j["errors"] = nlohmann::ordered_json::array(
        {JsonErrorItem(JsonFileInput(o.dir), status)});
    PrintJson(j);
  }
  return kExitError;
}

int Run(const Options& o) {
  absl::StatusOr<std::unique_ptr<CheckpointReader>> reader =
      CheckpointReader::Open(o.dir);
  if (!reader.ok()) return Fail(o, reader.status());
  const CheckpointManifest& m = (*reader)->manifest();
  std::vector<TensorVerification> checks;
  if (o.verify) {
    absl::StatusOr<std::vector<TensorVerification>> v =
        VerifyCheckpoint(**reader, o.threads);
    if (!v.ok()) return Fail(o, v.status());
    checks = *std::move(v);
  }
  // Sizes.
  struct Row {
    int64_t logical = 0;
    int64_t padding = 0;
  };
  std::vector<Row> rows;
  int64_t total_device = 0, total_logical = 0;
  for (const TensorRecord& t : m.tensors) {
    absl::StatusOr<int64_t> logical = ExactBytes(LogicalShape(t.dtype, t.dims));
    if (!logical.ok()) return Fail(o, logical.status());
    rows.push_back({*logical, t.length - *logical});
    total_device += t.length;
    total_logical += *logical;
  }
  std::vector<std::string> mismatches;
  for (size_t i = 0; i < checks.size(); ++i) {
    const TensorRecord& t = m.tensors[i];
    if (!checks[i].physical_ok) {
      mismatches.push_back(
          PhysicalMismatchMessage(o.dir, t, checks[i].physical));
    }
    if (!checks[i].logical_ok) {
      mismatches.push_back(LogicalMismatchMessage(o.dir, t, checks[i].logical));
    }
  }
  for (const std::string& s : mismatches) {
    PrintError(absl::StrCat("inspect: ", s));
  }

  if (o.json) {
    nlohmann::ordered_json j = JsonEnvelope("inspect");
    j["input"] = JsonFileInput(o.dir);
    j["format"] = std::string(kCheckpointFormat);
    j["environment"] = m.environment.has_value()
                           ? nlohmann::ordered_json::parse(
                                 SerializeEnvironment(*m.environment))
                           : nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json prov;
    prov["source_files"] = m.provenance.source_files;
    prov["source_checkpoint"] =
        m.provenance.source_checkpoint.has_value()
            ? nlohmann::ordered_json(*m.provenance.source_checkpoint)
            : nlohmann::ordered_json(nullptr);
    prov["source_environment"] =
        m.provenance.source_environment.has_value()
            ? nlohmann::ordered_json::parse(
                  SerializeEnvironment(*m.provenance.source_environment))
            : nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json conv = nlohmann::ordered_json::array();
    for (const TensorConversion& c : m.provenance.conversions) {
      conv.push_back({{"tensor", c.tensor}, {"from", c.from.ToString(true)}});
    }
    prov["conversions"] = conv;
    j["provenance"] = prov;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (size_t i = 0; i < m.tensors.size(); ++i) {
      const TensorRecord& t = m.tensors[i];
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
      e["file"] = t.file;
      e["offset"] = t.offset;
      e["exact_bytes"] = t.length;
      e["logical_bytes"] = rows[i].logical;
      e["padding_bytes"] = rows[i].padding;
      e["xxh3_physical"] = FormatChecksum(t.xxh3_physical);
      e["xxh3_logical"] = FormatChecksum(t.xxh3_logical);
      e["verified"] = checks.empty()
                          ? nlohmann::ordered_json(nullptr)
                          : nlohmann::ordered_json(checks[i].physical_ok &&
                                                   checks[i].logical_ok);
      list.push_back(e);
    }
    j["tensors"] = list;
    j["totals"] = {{"tensors", static_cast<int64_t>(m.tensors.size())},
                   {"exact_bytes", total_device},
                   {"logical_bytes", total_logical},
                   {"padding_bytes", total_device - total_logical}};
    j["verified"] = o.verify ? nlohmann::ordered_json(mismatches.empty())
                             : nlohmann::ordered_json(nullptr);
    j["mismatches"] = mismatches;
    j["errors"] = nlohmann::ordered_json::array();
    PrintJson(j);
    return mismatches.empty() ? kExitOk : kExitFindings;
  }

  Style style = Style::For(stdout);
  std::printf("%s %s (%s)\n", style.Bold("Checkpoint").c_str(),
              EscapeForTerminal(o.dir).c_str(),
              std::string(kCheckpointFormat).c_str());
  std::printf("\n%s\n", style.Bold("Environment").c_str());
  if (m.environment.has_value()) {
    Table env({"component", "value"});
    for (auto& [k, v] : EnvironmentRows(*m.environment)) {
      env.AddRow({k, EscapeForTerminal(v)});
    }
    std::printf("%s", env.Render("  ").c_str());
  } else {
    std::printf("  (not recorded)\n");
  }
  const Provenance& p = m.provenance;
  if (!p.source_files.empty() || p.source_checkpoint.has_value()) {
    std::printf("\n%s\n", style.Bold("Provenance").c_str());
    auto row = [](absl::string_view label, const std::string& value) {
      std::printf("  %-20s %s\n", std::string(label).c_str(), value.c_str());
    };
    if (!p.source_files.empty()) {
      std::vector<std::string> files;
      for (const std::string& f : p.source_files) {
        files.push_back(EscapeForTerminal(f));
      }
      row("imported from", absl::StrJoin(files, ", "));
    }
    if (p.source_checkpoint.has_value()) {
      row("relayout of", EscapeForTerminal(*p.source_checkpoint));
      // What changed from the environment the source was made in.
      std::string changes = "(not recorded)";
      if (p.source_environment.has_value() && m.environment.has_value()) {
        std::vector<std::string> parts;
        for (const EnvironmentChange& c :
             DiffEnvironments(*p.source_environment, *m.environment)) {
          parts.push_back(EscapeForTerminal(c.ToString()));
        }
        changes = parts.empty() ? "none" : absl::StrJoin(parts, "; ");
      } else if (p.source_environment.has_value()) {
        changes = "this checkpoint records no environment";
      }
      row("environment changes", changes);
    }
    std::vector<std::string> converted;
    for (const TensorConversion& c : p.conversions) {
      converted.push_back(absl::StrCat(EscapeForTerminal(c.tensor), " (from ",
                                       c.from.ToString(true), ")"));
    }
    row("converted", converted.empty()
                         ? std::string("none")
                         : absl::StrCat(converted.size(), ": ",
                                        absl::StrJoin(converted, ", ")));
  }
  std::printf("\n%s\n", style.Bold("Tensors").c_str());
  std::vector<std::string> header = {
      "name",         "parameter",     "device shape", "memory kind",
      "device bytes", "logical bytes", "padding"};
  std::vector<bool> right = {false, true, false, false, true, true, true};
  if (o.verify) {
    header.push_back("checksums");
    right.push_back(false);
  }
  Table t(header, right);
  for (size_t i = 0; i < m.tensors.size(); ++i) {
    const TensorRecord& r = m.tensors[i];
    std::vector<std::string> row = {
        EscapeForTerminal(r.name),     Parameter(r),
        r.device_shape.ToString(true), EscapeForTerminal(r.memory_kind),
        WithCommas(r.length),          WithCommas(rows[i].logical),
        WithCommas(rows[i].padding)};
    if (o.verify) {
      row.push_back(checks[i].physical_ok && checks[i].logical_ok
                        ? style.Green("ok")
                        : style.Red("MISMATCH"));
    }
    t.AddRow(row);
  }
  std::printf("%s", t.Render("  ").c_str());
  const double factor =
      total_logical > 0 ? static_cast<double>(total_device) / total_logical : 1;
  std::printf(
      "\nTotal: %zu tensor%s, %s device bytes (%s), %s logical, "
      "%s bytes of padding (%s)\n",
      m.tensors.size(), m.tensors.size() == 1 ? "" : "s",
      WithCommas(total_device).c_str(), HumanBytes(total_device).c_str(),
      WithCommas(total_logical).c_str(),
      WithCommas(total_device - total_logical).c_str(),
      FormatFactor(factor).c_str());
  if (o.verify) {
    if (mismatches.empty()) {
      std::printf("%s\n", style.Green("every checksum verified").c_str());
    } else {
      std::printf("%s\n",
                  style
                      .Red(absl::StrCat(mismatches.size(), " checksum mismatch",
                                        mismatches.size() == 1 ? "" : "es"))
                      .c_str());
    }
  }
  return mismatches.empty() ? kExitOk : kExitFindings;
}

}  // namespace

RunFn RegisterInspectCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show a checkpoint's environment fingerprint and tensors (device "
      "shapes, sizes, padding); --verify checks every checksum");
  cmd->add_option("DIR", o->dir, "The checkpoint directory")->required();
  cmd->add_flag("--verify", o->verify,
                "Recompute both checksums of every tensor (physical, and "
                "logical through a conversion to row-major)");
  cmd->add_option("--threads", o->threads, "Conversion threads for --verify")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", o->json, "Print JSON on stdout");
  cmd->footer(
      "Exit status: 0 ok, 1 a checksum mismatch found by --verify (each named "
      "on stderr), 2 a refused or unreadable checkpoint (missing or "
      "truncated data file, unsafe file name, symlink, bad manifest).");
  return [o]() { return Run(*o); };
}

}  // namespace xlayout::cli
