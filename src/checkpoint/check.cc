#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "checkpoint/tensor_map.h"
#include "xlayout/buffer.h"
#include "xlayout/checkpoint_check.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/executable.h"
#include "xlayout/explain.h"
#include "xlayout/io/input_file.h"
#include "xlayout/layout_util.h"
#include "xlayout/mismatch.h"
#include "xlayout/runtime_messages.h"
#include "xlayout/sharding.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"

namespace xlayout {

absl::string_view CheckVerdictName(CheckVerdict verdict) {
  switch (verdict) {
    case CheckVerdict::kOk:
      return "ok";
    case CheckVerdict::kNeedsRelayout:
      return "needs_relayout";
    case CheckVerdict::kIncompatible:
      return "incompatible";
    case CheckVerdict::kMemoryKind:
      return "memory_kind";
    case CheckVerdict::kMissing:
      return "missing";
    case CheckVerdict::kExtra:
      return "extra";
  }
  return "unknown";
}

absl::string_view BindingSourceName(BindingSource source) {
  switch (source) {
    case BindingSource::kNone:
      return "none";
    case BindingSource::kMap:
      return "map";
    case BindingSource::kManifest:
      return "manifest";
    case BindingSource::kOrder:
      return "order";
  }
  return "unknown";
}

absl::StatusOr<std::pair<std::string, TensorBinding>> ParseTensorMapping(
    absl::string_view text) {
  // The last '=': tensor names may contain '=', values never do. The value
  // is N or N{i,...}, plain digits (SimpleAtoi alone would take "+1" and
  // " 1").
  const size_t eq = text.rfind('=');
  auto error = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--map '", text,
        "': expected NAME=N (XLA's parameter N) or NAME=N{i} (leaf i of "
        "tuple parameter N; N{i,j} for nested tuples)"));
  };
  auto number = [](absl::string_view digits, int64_t* out) {
    return !digits.empty() && absl::c_all_of(digits, absl::ascii_isdigit) &&
           absl::SimpleAtoi(digits, out);
  };
  if (eq == absl::string_view::npos || eq == 0) return error();
  absl::string_view value = text.substr(eq + 1);
  TensorBinding binding;
  const size_t brace = value.find('{');
  if (!number(value.substr(0, brace), &binding.parameter)) return error();
  if (brace != absl::string_view::npos) {
    if (!absl::EndsWith(value, "}")) return error();
    const absl::string_view inner =
        value.substr(brace + 1, value.size() - brace - 2);
    for (absl::string_view part : absl::StrSplit(inner, ',')) {
      int64_t i = 0;
      if (!number(part, &i)) return error();
      binding.tuple_index.push_back(i);
    }
  }
  return std::make_pair(std::string(text.substr(0, eq)), std::move(binding));
}

namespace {

using checkpoint_internal::BindingText;
using checkpoint_internal::ExpectedGlobal;
using checkpoint_internal::ProgramSharding;

struct BindingKey {
  int64_t parameter;
  std::vector<int64_t> tuple_index;
  template <typename H>
  friend H AbslHashValue(H h, const BindingKey& k) {
    return H::combine(std::move(h), k.parameter, k.tuple_index);
  }
  friend bool operator==(const BindingKey&, const BindingKey&) = default;
};

// The record the guard would produce for a mismatch it let through (a
// same-size buffer outside strict mode): the same structured fields, no
// message. Used only to get explain's classification and wording.
MismatchRecord SyntheticRecord(const ProgramSignature& program,
                               const ParameterCheck& c, MismatchReason reason) {
  MismatchRecord r;
  r.reason = reason;
  r.program = program.name;
  r.parameter = c.parameter;
  r.parameter_name = c.parameter_name;
  r.expected = c.expected_per_device;
  r.actual = c.actual_per_device;
  r.expected_bytes = c.expected_per_device_bytes;
  r.actual_bytes = c.actual_per_device_bytes;
  r.expected_memory_kind = c.expected_memory_kind;
  r.actual_memory_kind = c.actual_memory_kind;
  return r;
}

int64_t XlaBytesOr(const Shape& shape, int64_t fallback) {
  absl::StatusOr<int64_t> b = XlaBytes(shape);
  return b.ok() ? *b : fallback;
}

// The layouts of a needs_relayout binding, as the manifest and the program
// state them (per device), and what their sizes say.
std::string LayoutDetail(const ParameterSignature& p, const Buffer& b) {
  const int64_t want = p.per_device_xla_bytes;
  const int64_t got = b.on_device_size_in_bytes();
  std::string what;
  if (!p.per_device_known || want < 0) {
    what = "the program's size is undefined";
  } else if (want == got) {
    what = absl::StrCat("the same size (", want,
                        " bytes), the elements stored in another order");
  } else {
    what = absl::StrCat("different sizes (", want, " and ", got, " bytes)");
  }
  return absl::StrCat("layout: the program expects ",
                      p.per_device_shape.ToString(true),
                      ", the checkpoint holds ",
                      b.on_device_shape().ToString(true), ": ", what);
}

// SameStoredBytes, false when it cannot tell.
bool StoreSameBytes(const Shape& a, const Shape& b) {
  absl::StatusOr<bool> same = SameStoredBytes(a, b);
  return same.ok() && *same;
}

}  // namespace

absl::StatusOr<CheckReport> CheckCheckpoint(const ProgramSignature& program,
                                            const CheckpointManifest& manifest,
                                            const CheckOptions& options) {
  const int64_t n = static_cast<int64_t>(program.parameters.size());
  const std::vector<TensorRecord>& tensors = manifest.tensors;
  const int64_t num_tensors = static_cast<int64_t>(tensors.size());

  // --- Binding: --map first, then the manifest's bindings, then order.
  std::vector<int64_t> tensor_of(n, -1);  // Parameter -> tensor index.
  std::vector<BindingSource> source_of(n, BindingSource::kNone);
  std::vector<int64_t> param_of(num_tensors, -1);  // Tensor -> parameter.
  std::vector<std::string> extra_note(num_tensors);
  std::vector<absl::string_view> names;
  names.reserve(tensors.size());
  for (const TensorRecord& t : tensors) names.push_back(t.name);
  XLAYOUT_RETURN_IF_ERROR(checkpoint_internal::ApplyTensorMap(
      options.map, names, program.parameters, program.name,
      "the checkpoint has no tensor named", param_of, tensor_of));
  std::vector<bool> mapped(num_tensors, false);
  for (int64_t t = 0; t < num_tensors; ++t) {
    if (param_of[t] < 0) continue;
    mapped[t] = true;
    source_of[param_of[t]] = BindingSource::kMap;
  }
  absl::flat_hash_map<BindingKey, int64_t> by_binding;
  by_binding.reserve(program.parameters.size());
  for (int64_t i = 0; i < n; ++i) {
    const ParameterSignature& p = program.parameters[i];
    by_binding.emplace(BindingKey{p.parameter_number, p.tuple_index}, i);
  }
  for (int64_t t = 0; t < num_tensors; ++t) {
    if (mapped[t] || !tensors[t].binding.has_value()) continue;
    const TensorBinding& b = *tensors[t].binding;
    auto it = by_binding.find(BindingKey{b.parameter, b.tuple_index});
    if (it == by_binding.end()) {
      extra_note[t] = absl::StrCat(
          "the manifest binds it to parameter ", BindingText(b),
          ", which program '", program.name, "' does not have",
          checkpoint_internal::WhyNoSuchBinding(program.parameters, b));
      continue;
    }
    const int64_t i = it->second;
    if (tensor_of[i] >= 0) {
      extra_note[t] = absl::StrCat(
          "the manifest binds it to parameter ", BindingText(b),
          ", which is already bound to tensor \"", tensors[tensor_of[i]].name,
          "\" (by ", BindingSourceName(source_of[i]), ")");
      continue;
    }
    tensor_of[i] = t;
    source_of[i] = BindingSource::kManifest;
    param_of[t] = i;
  }
  {
    int64_t next = 0;
    for (int64_t t = 0; t < num_tensors; ++t) {
      if (mapped[t] || tensors[t].binding.has_value()) continue;
      while (next < n && tensor_of[next] >= 0) ++next;
      if (next == n) {
        extra_note[t] =
            "the manifest does not bind it and every parameter is taken";
        continue;
      }
      tensor_of[next] = t;
      source_of[next] = BindingSource::kOrder;
      param_of[t] = next;
    }
  }

  // --- The runtime guard, on per-device buffers described from the
  // manifest: what each device receives of the tensor under the program's
  // sharding. A parameter without a tensor gets a buffer of its own
  // per-device shape (its findings, if any, are ignored: it is reported as
  // missing).
  XLAYOUT_ASSIGN_OR_RETURN(Executable exe,
                           Executable::Create(program, options.memory_kinds));
  const ProgramSignature& sig = exe.signature();
  std::vector<Buffer> buffers;
  buffers.reserve(n);
  std::vector<std::optional<HloSharding>> shardings(n);
  std::vector<std::string> cut_note(n);  // Why a tensor was not cut.
  for (int64_t i = 0; i < n; ++i) {
    const ParameterSignature& p = sig.parameters[i];
    shardings[i] = ProgramSharding(sig, p);
    absl::StatusOr<Buffer> b;
    if (tensor_of[i] >= 0) {
      const TensorRecord& t = tensors[tensor_of[i]];
      Shape per_device = t.device_shape;
      if (shardings[i].has_value()) {
        absl::StatusOr<Shape> cut = ShardShape(t.device_shape, *shardings[i]);
        if (cut.ok()) {
          per_device = *std::move(cut);
        } else {
          cut_note[i] = absl::StrCat("the program's sharding ", *p.sharding,
                                     " does not apply to the tensor (",
                                     cut.status().message(),
                                     "): the guard was given the whole tensor");
        }
      }
      b = Buffer::Describe(per_device, t.memory_kind);
      if (!b.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", t.name, "\" (", per_device.ToString(),
                         "): ", b.status().message()));
      }
    } else {
      b = Buffer::Describe(p.per_device_shape, p.memory_kind);
      if (!b.ok()) b = Buffer::Describe(LogicalShape(PrimitiveType::kF32, {}));
      if (!b.ok()) return b.status();
    }
    buffers.push_back(*std::move(b));
  }
  DeviceArguments device;
  device.buffers.reserve(n);
  for (const Buffer& b : buffers) device.buffers.push_back(&b);
  ValidationOptions vo;
  vo.strict_layout = options.strict;
  ValidationResult validation = exe.Validate({&device, 1}, vo);
  if (!validation.ok() && validation.findings.empty()) {
    return validation.status;
  }
  std::vector<std::vector<const MismatchRecord*>> findings(n);
  for (const MismatchRecord& r : validation.findings) {
    if (r.parameter >= 0 && r.parameter < n) {
      findings[r.parameter].push_back(&r);
    }
  }

  // --- Verdicts.
  CheckReport report;
  report.program = sig.name;
  report.dump_stage = sig.dump_stage;
  report.num_parameters = n;
  report.num_tensors = num_tensors;
  report.parameters.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const ParameterSignature& p = sig.parameters[i];
    ParameterCheck c;
    c.parameter = i;
    c.parameter_number = p.parameter_number;
    c.tuple_index = p.tuple_index;
    c.parameter_name = p.name;
    c.expected = p.shape;
    c.expected_xla_bytes = p.xla_bytes;
    if (p.per_device_known) {
      c.expected_per_device = p.per_device_shape;
      c.expected_per_device_bytes = p.per_device_xla_bytes;
    }
    c.expected_memory_kind = p.memory_kind;
    c.sharding = p.sharding.value_or("");
    c.num_partitions = sig.num_partitions;
    c.bound_by = source_of[i];
    if (tensor_of[i] < 0) {
      c.verdict = CheckVerdict::kMissing;
      c.note = "no tensor of the checkpoint is bound to this parameter";
      ++report.counts.missing;
      report.parameters.push_back(std::move(c));
      continue;
    }
    const TensorRecord& t = tensors[tensor_of[i]];
    const Buffer& b = buffers[i];
    c.tensor = t.name;
    c.actual = t.device_shape;
    c.actual_xla_bytes = XlaBytesOr(t.device_shape, -1);
    c.actual_per_device = b.on_device_shape();
    c.actual_per_device_bytes = b.on_device_size_in_bytes();
    c.actual_memory_kind = t.memory_kind;
    const Shape expected_global = ExpectedGlobal(sig, p, shardings[i], t.dims);
    if (!(expected_global == p.shape)) {
      c.expected = expected_global;
      c.expected_xla_bytes = XlaBytesOr(expected_global, -1);
    }
    const bool same_logical =
        expected_global.IsArray() &&
        expected_global.element_type() == t.dtype &&
        expected_global.dimensions() == absl::MakeConstSpan(t.dims);
    const bool same_kind = p.memory_kind == t.memory_kind;
    // Layouts spelled differently can store the same bytes (a tile that
    // covers the whole array, an empty array): nothing to relayout.
    const bool same_layout =
        SamePhysicalLayout(p.per_device_shape, b.on_device_shape());
    const bool same_bytes =
        same_layout || (same_logical && StoreSameBytes(p.per_device_shape,
                                                       b.on_device_shape()));
    for (const MismatchRecord* r : findings[i]) {
      // Strict mode flags any other layout text; the same bytes are no
      // layout change.
      if (r->reason == MismatchReason::kStrictLayout && same_bytes) continue;
      c.messages.push_back(r->message);
      if (r->reason != MismatchReason::kStrictLayout) c.xla_rejects = true;
    }
    // The size XLA compares is unknown on the program's side (undefined,
    // or a sharding that does not apply): the guard skipped the size check,
    // so whether XLA would accept the buffer is unknown too.
    const bool size_known = p.per_device_known && p.per_device_xla_bytes >= 0;
    if (!size_known && !c.xla_rejects) c.xla_rejects_known = false;
    MismatchReason reason = MismatchReason::kStrictLayout;
    if (!same_logical) {
      c.verdict = CheckVerdict::kIncompatible;
    } else if (!same_bytes) {
      c.verdict = CheckVerdict::kNeedsRelayout;
    } else if (!same_kind) {
      c.verdict = CheckVerdict::kMemoryKind;
      reason = MismatchReason::kMemorySpace;
    } else {
      c.verdict = CheckVerdict::kOk;
    }
    switch (c.verdict) {
      case CheckVerdict::kOk:
        ++report.counts.ok;
        break;
      case CheckVerdict::kNeedsRelayout:
        ++report.counts.needs_relayout;
        break;
      case CheckVerdict::kIncompatible:
        ++report.counts.incompatible;
        break;
      case CheckVerdict::kMemoryKind:
        ++report.counts.memory_kind;
        break;
      default:
        break;
    }
    if (c.verdict != CheckVerdict::kOk) {
      // explain's reading of the difference: from the guard's record when it
      // has one about the shapes, else from the same fields without message.
      const MismatchRecord* shape_record = nullptr;
      for (const MismatchRecord* r : findings[i]) {
        if (r->reason != MismatchReason::kMemorySpace ||
            c.verdict == CheckVerdict::kMemoryKind) {
          shape_record = r;
          break;
        }
      }
      Diagnosis d = shape_record != nullptr
                        ? Explain(*shape_record)
                        : Explain(SyntheticRecord(sig, c, reason));
      c.classification = d.classification;
      c.summary = d.summary;
      c.details = d.details;
      if (c.verdict == CheckVerdict::kNeedsRelayout &&
          (d.classification != Classification::kLayout || !d.consistent ||
           !d.expected.inferred_layouts.empty() ||
           !d.actual.inferred_layouts.empty())) {
        // explain reads an untiled layout as a TPU log's, which prints
        // none, and infers one; the manifest and the program state both
        // layouts exactly, so say what they are instead.
        c.classification = Classification::kLayout;
        c.summary = "same logical shape, different physical layout";
        c.details = {LayoutDetail(p, b)};
      }
      if (p.per_device_known && (!(p.per_device_shape == p.shape) ||
                                 !(b.on_device_shape() == t.device_shape))) {
        c.details.push_back(absl::StrCat(
            "per device (", p.sharding.value_or("no sharding"), " over ",
            sig.num_partitions, " partitions): the program expects ",
            p.per_device_shape.ToString(true), " (", p.per_device_xla_bytes,
            " bytes), each device would receive ",
            b.on_device_shape().ToString(true), " (",
            b.on_device_size_in_bytes(), " bytes)"));
      }
      if (c.verdict == CheckVerdict::kIncompatible &&
          expected_global.IsArray() &&
          expected_global.element_type() == t.dtype &&
          expected_global.rank() == static_cast<int64_t>(t.dims.size())) {
        // Dims that a different partition count explains: the tensor is one
        // device's piece of an array cut another way.
        ShardingChangeQuery q;
        q.expected_dims.assign(p.per_device_shape.dimensions().begin(),
                               p.per_device_shape.dimensions().end());
        q.actual_dims = t.dims;
        q.expected_per_device = shardings[i].has_value();
        q.expected_sharding = shardings[i];
        if (sig.shapes_are_global() || !shardings[i].has_value()) {
          q.global_dims.emplace(expected_global.dimensions().begin(),
                                expected_global.dimensions().end());
        }
        if (std::optional<PartitionCountChange> change =
                InferPartitionCountChange(q)) {
          c.sharding_change = change->message;
          c.details.push_back(absl::StrCat(
              "sharding: ", change->message,
              " (the tensor looks like one device's piece, not the global "
              "array)"));
        }
      }
      if (!cut_note[i].empty()) c.details.push_back(cut_note[i]);
      if (c.verdict != CheckVerdict::kMemoryKind && !same_kind) {
        c.details.push_back(absl::StrCat("memory kind: expected '",
                                         p.memory_kind, "', got '",
                                         t.memory_kind, "'"));
      }
      if (!size_known && !c.xla_rejects) {
        if (p.per_device_known) {
          c.note =
              "the program's xla_bytes for this parameter are undefined, so "
              "the size check was skipped: whether XLA accepts this buffer is "
              "unknown";
        }
      } else if (!c.xla_rejects && c.verdict != CheckVerdict::kMemoryKind) {
        c.note = absl::StrCat(
            "same xla_bytes (", c.actual_per_device_bytes,
            "): XLA accepts this buffer without an error and the program "
            "reads its bytes as ",
            c.verdict == CheckVerdict::kIncompatible
                ? "another shape"
                : "the program's layout (permuted data)");
      }
    }
    if (c.verdict == CheckVerdict::kOk && !same_layout) {
      c.note = absl::StrCat(
          "the program's layout ", p.per_device_shape.ToString(true),
          " and the checkpoint's ", b.on_device_shape().ToString(true),
          " are spelled differently but store the same bytes: no relayout "
          "needed");
    }
    if (!p.per_device_known && c.note.empty()) {
      c.note = absl::StrCat("the program's sharding ", p.sharding.value_or(""),
                            " does not apply: what each device holds is "
                            "unknown, so only the layout was checked");
    }
    report.parameters.push_back(std::move(c));
  }
  for (int64_t t = 0; t < num_tensors; ++t) {
    if (param_of[t] >= 0) continue;
    ParameterCheck c;
    c.verdict = CheckVerdict::kExtra;
    c.tensor = tensors[t].name;
    c.actual = tensors[t].device_shape;
    c.actual_memory_kind = tensors[t].memory_kind;
    if (absl::StatusOr<Buffer> b =
            Buffer::Describe(tensors[t].device_shape, tensors[t].memory_kind);
        b.ok()) {
      c.actual_xla_bytes = b->on_device_size_in_bytes();
    }
    c.note = extra_note[t];
    ++report.counts.extra;
    report.parameters.push_back(std::move(c));
  }
  if (num_tensors != n) {
    report.buffer_count_message = BufferCountMessage(num_tensors, n);
  }

  // --- Environment.
  if (!options.current_environment.has_value()) {
    report.environment_note = "no current environment given (--env)";
  } else if (!manifest.environment.has_value()) {
    report.environment_note = "the checkpoint records no environment";
  } else {
    report.environment_compared = true;
    const Environment& before = *manifest.environment;
    const Environment& after = *options.current_environment;
    // What one side does not record is not compared (as flags are), not
    // a change from or to "(unset)".
    auto flags = [&](const char* component, const std::optional<FlagMap>& x,
                     const std::optional<FlagMap>& y) {
      if (x.has_value() == y.has_value()) return;
      (x.has_value() ? report.environment_not_recorded_current
                     : report.environment_not_recorded_checkpoint)
          .push_back(EnvironmentComponentLabel(component));
    };
    flags("xla_flag", before.xla_flags, after.xla_flags);
    flags("libtpu_init_arg", before.libtpu_init_args, after.libtpu_init_args);
    for (EnvironmentChange& c : DiffEnvironments(before, after)) {
      if (c.flag.empty() && !c.before.has_value()) {
        report.environment_not_recorded_checkpoint.push_back(
            EnvironmentComponentLabel(c.component));
        continue;
      }
      if (c.flag.empty() && !c.after.has_value()) {
        // The xlayout version that wrote the checkpoint is recorded by
        // import; an environment file rarely names one.
        if (c.component != "xlayout_version") {
          report.environment_not_recorded_current.push_back(
              EnvironmentComponentLabel(c.component));
        }
        continue;
      }
      report.environment_changes.push_back(std::move(c));
    }
  }
  return report;
}

}  // namespace xlayout
