#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

absl::StatusOr<std::pair<std::string, int64_t>> ParseTensorMapping(
    absl::string_view text) {
  const size_t eq = text.rfind('=');
  int64_t index = -1;
  if (eq == absl::string_view::npos || eq == 0 ||
      !absl::SimpleAtoi(text.substr(eq + 1), &index) || index < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--map '", text,
        "': expected NAME=INDEX with INDEX a parameter number >= 0"));
  }
  return std::make_pair(std::string(text.substr(0, eq)), index);
}

namespace {

std::string BindingText(const TensorBinding& b) {
  std::string s = absl::StrCat(b.parameter);
  if (!b.tuple_index.empty()) {
    absl::StrAppend(&s, "{", absl::StrJoin(b.tuple_index, ","), "}");
  }
  return s;
}

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
  r.expected = c.expected;
  r.actual = c.actual;
  r.expected_bytes = c.expected_xla_bytes;
  r.actual_bytes = c.actual_xla_bytes;
  r.expected_memory_kind = c.expected_memory_kind;
  r.actual_memory_kind = c.actual_memory_kind;
  return r;
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
      options.map, names, program.name, "the checkpoint has no tensor named",
      param_of, tensor_of));
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
      extra_note[t] =
          absl::StrCat("the manifest binds it to parameter ", BindingText(b),
                       ", which program '", program.name, "' does not have");
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

  // --- The runtime guard, on buffers described from the manifest. A
  // parameter without a tensor gets a buffer of its own shape (its findings,
  // if any, are ignored: it is reported as missing).
  XLAYOUT_ASSIGN_OR_RETURN(Executable exe,
                           Executable::Create(program, options.memory_kinds));
  const ProgramSignature& sig = exe.signature();
  std::vector<Buffer> buffers;
  buffers.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const ParameterSignature& p = sig.parameters[i];
    absl::StatusOr<Buffer> b;
    if (tensor_of[i] >= 0) {
      const TensorRecord& t = tensors[tensor_of[i]];
      b = Buffer::Describe(t.device_shape, t.memory_kind);
      if (!b.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", t.name, "\" (", t.device_shape.ToString(),
                         "): ", b.status().message()));
      }
    } else {
      b = Buffer::Describe(p.shape, p.memory_kind);
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
  report.num_parameters = n;
  report.num_tensors = num_tensors;
  report.parameters.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const ParameterSignature& p = sig.parameters[i];
    ParameterCheck c;
    c.parameter = i;
    c.parameter_name = p.name;
    c.expected = p.shape;
    c.expected_xla_bytes = p.xla_bytes;
    c.expected_memory_kind = p.memory_kind;
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
    c.actual_xla_bytes = b.on_device_size_in_bytes();
    c.actual_memory_kind = t.memory_kind;
    for (const MismatchRecord* r : findings[i]) {
      c.messages.push_back(r->message);
      if (r->reason != MismatchReason::kStrictLayout) c.xla_rejects = true;
    }
    const bool same_logical =
        p.shape.IsArray() && p.shape.element_type() == t.dtype &&
        p.shape.dimensions() == absl::MakeConstSpan(t.dims);
    const bool same_kind = p.memory_kind == t.memory_kind;
    MismatchReason reason = MismatchReason::kStrictLayout;
    if (!same_logical) {
      c.verdict = CheckVerdict::kIncompatible;
    } else if (!SamePhysicalLayout(p.shape, t.device_shape)) {
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
      if (c.verdict != CheckVerdict::kMemoryKind && !same_kind) {
        c.details.push_back(absl::StrCat("memory kind: expected '",
                                         p.memory_kind, "', got '",
                                         t.memory_kind, "'"));
      }
      if (!c.xla_rejects && c.verdict != CheckVerdict::kMemoryKind) {
        c.note = absl::StrCat(
            "same xla_bytes (", c.actual_xla_bytes,
            "): XLA accepts this buffer without an error and the program "
            "reads its bytes as ",
            c.verdict == CheckVerdict::kIncompatible
                ? "another shape"
                : "the program's layout (permuted data)");
      }
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
    // The xlayout version that wrote the checkpoint is recorded by import;
    // an environment file that does not name one says nothing about it.
    for (EnvironmentChange& c : DiffEnvironments(
             *manifest.environment, *options.current_environment)) {
      if (c.component == "xlayout_version" && !c.after.has_value()) continue;
      report.environment_changes.push_back(std::move(c));
    }
  }
  return report;
}

}  // namespace xlayout
