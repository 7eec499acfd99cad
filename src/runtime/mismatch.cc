#include "xlayout/mismatch.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace xlayout {

absl::string_view MessageKindName(MessageKind kind) {
  switch (kind) {
    case MessageKind::kSize:
      return "size";
    case MessageKind::kSizeNoShapes:
      return "size_no_shapes";
    case MessageKind::kMemorySpace:
      return "memory_space";
    case MessageKind::kElementType:
      return "element_type";
    case MessageKind::kRank:
      return "rank";
    case MessageKind::kLayout:
      return "layout";
    case MessageKind::kDynamicDimension:
      return "dynamic_dimension";
    case MessageKind::kBufferCount:
      return "buffer_count";
    case MessageKind::kIncompatibleShape:
      return "incompatible_shape";
    case MessageKind::kHostShape:
      return "host_shape";
    case MessageKind::kStrictLayout:
      return "strict_layout";
    case MessageKind::kTpuExecute:
      return "tpu_execute";
    case MessageKind::kJaxLayout:
      return "jax_layout";
    case MessageKind::kInvalidBuffer:
      return "invalid_buffer";
    case MessageKind::kMalformedLayout:
      return "malformed_layout";
    case MessageKind::kMosaicLayout:
      return "mosaic_layout";
  }
  return "unknown";
}

absl::string_view MismatchReasonName(MismatchReason reason) {
  switch (reason) {
    case MismatchReason::kBufferCount:
      return "buffer_count";
    case MismatchReason::kSize:
      return "size";
    case MismatchReason::kMemorySpace:
      return "memory_space";
    case MismatchReason::kElementType:
      return "element_type";
    case MismatchReason::kRank:
      return "rank";
    case MismatchReason::kLayout:
      return "layout";
    case MismatchReason::kDynamicDimension:
      return "dynamic_dimension";
    case MismatchReason::kStrictLayout:
      return "strict_layout";
  }
  return "unknown";
}

MismatchFact FactFromRecord(const MismatchRecord& r) {
  MismatchFact f;
  f.program = r.program;
  if (r.parameter >= 0) f.parameter = r.parameter;
  f.parameter_name = r.parameter_name;
  f.replica = r.replica;
  f.partition = r.partition;
  f.message = r.message;
  f.error_code = absl::StrContains(r.message, "RuntimeProgramInputMismatch");
  f.layouts_complete = true;
  auto side = [&](const std::optional<Shape>& shape, int64_t bytes,
                  const std::string& memory_kind, MismatchSide* out) {
    if (shape.has_value()) {
      out->shape = *shape;
      out->layout_printed = shape->IsArray() ? shape->has_layout() : true;
      if (shape->IsArray()) {
        out->element_type = shape->element_type();
        out->rank = shape->rank();
        if (shape->has_layout()) out->layout = shape->layout();
      }
    }
    if (bytes >= 0) out->bytes = bytes;
    out->memory_kind = memory_kind;
  };
  const bool counts = r.reason == MismatchReason::kBufferCount;
  side(r.expected, counts ? -1 : r.expected_bytes, r.expected_memory_kind,
       &f.expected);
  side(r.actual, counts ? -1 : r.actual_bytes, r.actual_memory_kind, &f.actual);
  switch (r.reason) {
    case MismatchReason::kBufferCount:
      f.kind = MessageKind::kBufferCount;
      f.expected.buffer_count = r.expected_bytes;
      f.actual.buffer_count = r.actual_bytes;
      f.expected.value = absl::StrCat(r.expected_bytes);
      f.actual.value = absl::StrCat(r.actual_bytes);
      break;
    case MismatchReason::kSize:
      f.kind = MessageKind::kSize;
      break;
    case MismatchReason::kStrictLayout:
      f.kind = MessageKind::kStrictLayout;
      break;
    case MismatchReason::kMemorySpace:
      f.kind = MessageKind::kMemorySpace;
      // XLA's message names only the buffer's memory kind.
      f.actual.value = r.actual_memory_kind;
      break;
    case MismatchReason::kElementType:
      f.kind = MessageKind::kElementType;
      if (r.expected && r.actual) {
        f.expected.value = PrimitiveTypeEnumName(r.expected->element_type());
        f.actual.value = PrimitiveTypeEnumName(r.actual->element_type());
      }
      break;
    case MismatchReason::kRank:
      f.kind = MessageKind::kRank;
      if (r.expected && r.actual) {
        f.expected.value = absl::StrCat(r.expected->rank());
        f.actual.value = absl::StrCat(r.actual->rank());
      }
      break;
    case MismatchReason::kLayout:
      f.kind = MessageKind::kLayout;
      if (f.expected.layout && f.actual.layout) {
        f.expected.value = f.expected.layout->ToString();
        f.actual.value = f.actual.layout->ToString();
      }
      break;
    case MismatchReason::kDynamicDimension:
      f.kind = MessageKind::kDynamicDimension;
      if (r.dimension >= 0) f.dimension = r.dimension;
      if (r.expected && r.actual && r.dimension >= 0 &&
          r.dimension < r.expected->rank() && r.dimension < r.actual->rank()) {
        f.expected.dimension_size = r.expected->dimensions(r.dimension);
        f.actual.dimension_size = r.actual->dimensions(r.dimension);
        f.expected.value = absl::StrCat(*f.expected.dimension_size);
        f.actual.value = absl::StrCat(*f.actual.dimension_size);
      }
      break;
  }
  return f;
}

}  // namespace xlayout
