#include "xlayout/executable.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "xlayout/runtime_messages.h"

namespace xlayout {

absl::StatusOr<Executable> Executable::Create(ProgramSignature signature,
                                              const MemoryKindMap& kinds) {
  if (signature.name.empty()) {
    return absl::InvalidArgumentError("an executable needs a program name");
  }
  if (signature.replica_count < 1 || signature.num_partitions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replica_count and num_partitions must be >= 1, got ",
        signature.replica_count, " and ", signature.num_partitions));
  }
  if (signature.replica_count > INT64_MAX / signature.num_partitions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replica_count * num_partitions overflows: ", signature.replica_count,
        " * ", signature.num_partitions));
  }
  FillDerivedFields(&signature, kinds);
  Executable exe;
  exe.num_devices_ = signature.replica_count * signature.num_partitions;
  exe.expected_.reserve(signature.parameters.size());
  exe.dynamic_prefix_.reserve(signature.parameters.size());
  // Every check is on the per-device buffer, as the runtime's: for a
  // program read before SPMD partitioning that is the global shape cut by
  // the sharding (FillDerivedFields), otherwise the shape itself.
  for (const ParameterSignature& p : signature.parameters) {
    const Shape& want = p.per_device_shape;
    const bool dynamic_prefix =
        want.IsArray() && !want.is_static() &&
        kinds.dynamic_shape_metadata(MemorySpaceOf(want)) ==
            DynamicShapeMetadata::kPrefix;
    Expected e;
    e.fast_bytes = dynamic_prefix || p.per_device_xla_bytes < 0
                       ? -2
                       : p.per_device_xla_bytes;
    e.kind_key = MemoryKindKey(p.memory_kind);
    e.layout_key = LayoutKey(want);
    exe.expected_.push_back(e);
    exe.dynamic_prefix_.push_back(dynamic_prefix);
  }
  exe.signature_ = std::move(signature);
  return exe;
}

bool Executable::AddFinding(MismatchRecord record,
                            const ValidationOptions& options, bool multi_device,
                            ValidationResult* result) const {
  std::string message = std::move(record.message);
  if (options.e0102_format) {
    if (multi_device && options.suffix_before_docs_line) {
      message = WrapE0102(AppendContext(
          message, ReplicaSuffix(record.replica, record.partition)));
    } else {
      message = WrapE0102(message);
      if (multi_device) {
        message = AppendContext(
            message, ReplicaSuffix(record.replica, record.partition));
      }
    }
  } else if (multi_device) {
    message =
        AppendContext(message, ReplicaSuffix(record.replica, record.partition));
  }
  record.message = std::move(message);
  if (result->findings.empty()) {
    result->status = absl::InvalidArgumentError(record.message);
  }
  result->findings.push_back(std::move(record));
  if (options.max_errors > 0 &&
      static_cast<int64_t>(result->findings.size()) >= options.max_errors) {
    result->truncated = true;
    return false;
  }
  return true;
}

bool Executable::CheckParameter(int64_t i, const Buffer& buffer,
                                const DeviceArguments& device,
                                const ValidationOptions& options,
                                bool multi_device,
                                ValidationResult* result) const {
  const Expected& e = expected_[i];
  const ParameterSignature& p = signature_.parameters[i];
  auto record = [&](MismatchReason reason, std::string message) {
    MismatchRecord r;
    r.reason = reason;
    r.program = signature_.name;
    r.parameter = i;
    r.parameter_name = p.name;
    r.replica = device.replica;
    r.partition = device.partition;
    r.expected = p.per_device_shape;
    r.actual = buffer.on_device_shape();
    r.expected_bytes = p.per_device_xla_bytes;
    r.actual_bytes = buffer.on_device_size_in_bytes();
    r.expected_memory_kind = p.memory_kind;
    r.actual_memory_kind = buffer.memory_kind();
    r.message = std::move(message);
    return r;
  };
  const std::string& name = signature_.name;
  const Shape& want = p.per_device_shape;
  const Shape& got = buffer.on_device_shape();
  if (dynamic_prefix_[i] && buffer.is_dynamic()) {
    // XLA replaces the size check by these when the runtime sizes travel in
    // a metadata prefix.
    if (want.element_type() != got.element_type()) {
      if (!AddFinding(record(MismatchReason::kElementType,
                             ElementTypeMessage(name, i, want, got)),
                      options, multi_device, result)) {
        return false;
      }
    }
    if (want.rank() != got.rank()) {
      if (!AddFinding(record(MismatchReason::kRank,
                             RankMessage(name, i, want.rank(), got.rank())),
                      options, multi_device, result)) {
        return false;
      }
    } else {
      Layout want_layout = want.has_layout() ? want.layout() : Layout();
      Layout got_layout = got.has_layout() ? got.layout() : Layout();
      if (want_layout != got_layout) {
        if (!AddFinding(record(MismatchReason::kLayout,
                               LayoutMessage(name, i, want, got)),
                        options, multi_device, result)) {
          return false;
        }
      }
      for (int d = 0; d < want.rank(); ++d) {
        if (got.dimensions(d) > want.dimensions(d)) {
          MismatchRecord r =
              record(MismatchReason::kDynamicDimension,
                     DynamicDimensionMessage(name, i, d, want.dimensions(d),
                                             got.dimensions(d)));
          r.dimension = d;
          if (!AddFinding(std::move(r), options, multi_device, result)) {
            return false;
          }
        }
      }
    }
  } else if (p.per_device_xla_bytes >= 0 &&
             buffer.on_device_size_in_bytes() != p.per_device_xla_bytes) {
    if (!AddFinding(
            record(MismatchReason::kSize,
                   SizeMismatchMessage(name, i, p.per_device_xla_bytes, want,
                                       buffer.on_device_size_in_bytes(), got)),
            options, multi_device, result)) {
      return false;
    }
  } else if (options.strict_layout && (buffer.layout_key() != e.layout_key ||
                                       !SamePhysicalLayout(want, got))) {
    if (!AddFinding(
            record(MismatchReason::kStrictLayout,
                   StrictLayoutMessage(
                       name, i, buffer.on_device_size_in_bytes(), want, got)),
            options, multi_device, result)) {
      return false;
    }
  }
  if (buffer.memory_kind_key() != e.kind_key ||
      buffer.memory_kind() != p.memory_kind) {
    if (!AddFinding(record(MismatchReason::kMemorySpace,
                           MemorySpaceMessage(name, i, buffer.memory_kind())),
                    options, multi_device, result)) {
      return false;
    }
  }
  return true;
}

ValidationResult Executable::Validate(absl::Span<const DeviceArguments> args,
                                      const ValidationOptions& options) const {
  ValidationResult result;
  if (args.empty()) {
    result.status = absl::InvalidArgumentError(absl::StrCat(
        "Executable(", signature_.name, ") was given no device arguments"));
    return result;
  }
  // Device coordinates are the caller's bookkeeping, not a buffer mismatch:
  // reject them before looking at any buffer.
  if (args.size() > 1) {
    absl::flat_hash_set<std::pair<int64_t, int64_t>> seen;
    seen.reserve(args.size());
    for (const DeviceArguments& d : args) {
      if (!seen.insert({d.replica, d.partition}).second) {
        result.status = absl::InvalidArgumentError(
            absl::StrCat("arguments for replica ", d.replica, " and partition ",
                         d.partition, " are given twice"));
        return result;
      }
    }
  }
  for (const DeviceArguments& d : args) {
    if (d.replica < 0 || d.replica >= signature_.replica_count ||
        d.partition < 0 || d.partition >= signature_.num_partitions) {
      result.status = absl::InvalidArgumentError(absl::StrCat(
          "Executable(", signature_.name, ") has ", signature_.replica_count,
          " replicas and ", signature_.num_partitions,
          " partitions; there is no replica ", d.replica, " partition ",
          d.partition));
      return result;
    }
    for (size_t i = 0; i < d.buffers.size(); ++i) {
      if (d.buffers[i] == nullptr) {
        result.status = absl::InvalidArgumentError(
            absl::StrCat("null buffer for parameter ", i, " on replica ",
                         d.replica, " partition ", d.partition));
        return result;
      }
    }
  }
  const bool multi_device = args.size() > 1;
  const int64_t n = num_parameters();
  for (const DeviceArguments& d : args) {
    if (static_cast<int64_t>(d.buffers.size()) != n) {
      MismatchRecord r;
      r.reason = MismatchReason::kBufferCount;
      r.program = signature_.name;
      r.replica = d.replica;
      r.partition = d.partition;
      r.expected_bytes = n;
      r.actual_bytes = static_cast<int64_t>(d.buffers.size());
      r.message = BufferCountMessage(r.actual_bytes, n);
      if (!AddFinding(std::move(r), options, multi_device, &result)) break;
      continue;  // XLA stops here for this device; so do we.
    }
    // Fast path: the all-good case touches four words per buffer and takes
    // one branch per parameter; anything else goes to CheckParameter.
    const int64_t first_bad = options.strict_layout
                                  ? FirstSuspect<true>(d.buffers.data(), n)
                                  : FirstSuspect<false>(d.buffers.data(), n);
    bool keep_going = true;
    for (int64_t i = first_bad; i < n; ++i) {
      const Buffer& b = *d.buffers[i];
      if (!Suspect(b, expected_[i], options.strict_layout)) continue;
      if (!CheckParameter(i, b, d, options, multi_device, &result)) {
        keep_going = false;
        break;
      }
    }
    if (!keep_going) break;
  }
  return result;
}

absl::Status Executable::Execute(absl::Span<const DeviceArguments> args,
                                 const LaunchFn& launch,
                                 const ValidationOptions& options,
                                 std::vector<MismatchRecord>* findings) const {
  ValidationResult result = Validate(args, options);
  if (findings != nullptr) *findings = std::move(result.findings);
  if (!result.ok()) return result.status;
  return launch(args);
}

}  // namespace xlayout
