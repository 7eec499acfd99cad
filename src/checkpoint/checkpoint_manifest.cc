#include "xlayout/checkpoint_manifest.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/checked_math.h"
#include "checkpoint/environment_json.h"
#include "checkpoint/json_util.h"
#include "xlayout/format.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"

namespace xlayout {
namespace {

using checkpoint_internal::EnvironmentFromJson;
using checkpoint_internal::EnvironmentToJson;
using checkpoint_internal::Excerpt;
using checkpoint_internal::FormatHash64;
using checkpoint_internal::Json;
using checkpoint_internal::OrderedJson;
using checkpoint_internal::ParseHash64;
using checkpoint_internal::Quote;

// "manifest: tensor "w": field 'offset': <message>".
// Builds the context lazily: a valid manifest of 10,000 tensors never needs
// the (quoted) tensor names.
class Where {
 public:
  explicit Where(std::string context)
      : context_([c = std::move(context)] { return c; }) {}
  explicit Where(std::function<std::string()> context)
      : context_(std::move(context)) {}
  absl::Status Error(
      absl::string_view field, absl::string_view message,
      absl::StatusCode code = absl::StatusCode::kInvalidArgument) const {
    return absl::Status(
        code, absl::StrCat(context_(), ": field '", field, "': ", message));
  }
  absl::Status Expected(absl::string_view field, absl::string_view expected,
                        const Json& got) const {
    return Error(field,
                 absl::StrCat("expected ", expected, ", got ", Excerpt(got)));
  }
  std::string context() const { return context_(); }

 private:
  std::function<std::string()> context_;
};

std::string TensorContext(absl::string_view name) {
  return absl::StrCat("manifest: tensor ", Quote(name));
}

std::string DimsString(absl::Span<const int64_t> dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

bool IsMemoryKind(absl::string_view kind) {
  if (kind.empty()) return false;
  if (absl::StartsWith(kind, "S(") && absl::EndsWith(kind, ")") &&
      kind.size() > 3) {
    absl::string_view digits = kind.substr(2, kind.size() - 3);
    return digits.size() <= 18 &&
           std::all_of(digits.begin(), digits.end(), [](char c) {
             return absl::ascii_isdigit(static_cast<unsigned char>(c));
           });
  }
  if (!(absl::ascii_isalpha(static_cast<unsigned char>(kind[0])) ||
        kind[0] == '_')) {
    return false;
  }
  return std::all_of(kind.begin(), kind.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Checks a device shape text/Shape against the tensor's logical dtype/dims.
absl::Status CheckDeviceShape(const Where& where, absl::string_view field,
                              const Shape& shape, PrimitiveType dtype,
                              absl::Span<const int64_t> dims) {
  std::string text = shape.ToString(true);
  if (!shape.IsArray()) {
    return where.Error(field,
                       absl::StrCat("expected an array shape, got ", text));
  }
  if (!shape.is_static()) {
    return where.Error(field, absl::StrCat(text,
                                           " has dynamic dimensions; a "
                                           "checkpoint stores static arrays"));
  }
  if (!shape.has_layout()) {
    return where.Error(
        field,
        absl::StrCat(text,
                     " has no layout; a checkpoint records the full "
                     "device layout, e.g. bf16[8,128]{1,0:T(8,128)(2,1)}"));
  }
  if (shape.layout().IsSparse()) {
    return where.Error(field,
                       absl::StrCat(text, " is sparse; only dense arrays"));
  }
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) {
    return where.Error(field, absl::StrCat(text, ": ", valid.message()));
  }
  if (shape.element_type() != dtype) {
    return where.Error(
        field,
        absl::StrCat("element type ", PrimitiveTypeName(shape.element_type()),
                     " differs from the tensor's dtype ",
                     PrimitiveTypeName(dtype)));
  }
  if (shape.dimensions() != dims) {
    return where.Error(
        field,
        absl::StrCat("dims ", DimsString(shape.dimensions()),
                     " differ from the tensor's dims ", DimsString(dims)));
  }
  return absl::OkStatus();
}

absl::Status ValidateTensor(const TensorRecord& t) {
  Where where([&t] { return TensorContext(t.name); });
  if (t.name.find('\0') != std::string::npos) {
    return where.Error("name", "contains a NUL character");
  }
  if (!IsValidUtf8(t.name)) {
    return where.Error("name", "is not valid UTF-8");
  }
  if (!IsArrayType(t.dtype)) {
    return where.Error("dtype", absl::StrCat(PrimitiveTypeName(t.dtype),
                                             " is not an array element type"));
  }
  for (size_t i = 0; i < t.dims.size(); ++i) {
    if (t.dims[i] < 0) {
      return where.Error("dims", absl::StrCat("dim ", i, " is ", t.dims[i],
                                              "; dims must be >= 0"));
    }
  }
  absl::StatusOr<int64_t> logical = LogicalBytes(Shape(t.dtype, t.dims));
  if (!logical.ok()) {
    return where.Error(
        "dims", absl::StrCat(DimsString(t.dims),
                             " is too large: ", logical.status().message()));
  }
  if (t.binding.has_value()) {
    if (t.binding->parameter < 0) {
      return where.Error("binding.parameter",
                         absl::StrCat(t.binding->parameter, " is negative"));
    }
    for (int64_t i : t.binding->tuple_index) {
      if (i < 0) {
        return where.Error("binding.tuple_index",
                           absl::StrCat(i, " is negative"));
      }
    }
  }
  XLAYOUT_RETURN_IF_ERROR(
      CheckDeviceShape(where, "device_shape", t.device_shape, t.dtype, t.dims));
  absl::StatusOr<int64_t> exact = ExactBytes(t.device_shape);
  if (!exact.ok()) {
    return where.Error("device_shape",
                       absl::StrCat(t.device_shape.ToString(true),
                                    ": size: ", exact.status().message()));
  }
  if (!IsMemoryKind(t.memory_kind)) {
    return where.Error("memory_kind",
                       absl::StrCat(Quote(t.memory_kind),
                                    " is not a memory kind ([A-Za-z_]"
                                    "[A-Za-z0-9_]* or S(n))"));
  }
  absl::Status file = ValidateDataFileName(t.file);
  if (!file.ok()) return where.Error("file", file.message());
  if (t.offset < 0) {
    return where.Error("offset", absl::StrCat(t.offset, " is negative"));
  }
  if (t.offset % kTensorAlignment != 0) {
    return where.Error(
        "offset",
        absl::StrCat(t.offset, " is not a multiple of ", kTensorAlignment));
  }
  if (t.length < 0) {
    return where.Error("length", absl::StrCat(t.length, " is negative"));
  }
  if (t.length != *exact) {
    return where.Error(
        "length",
        absl::StrCat(t.length, " differs from the device shape's ", *exact,
                     " bytes (", t.device_shape.ToString(true), ")"));
  }
  if (!CheckedAdd(t.offset, t.length).has_value()) {
    return where.Error(
        "length",
        absl::StrCat("offset ", t.offset, " + ", t.length, " overflows int64"),
        absl::StatusCode::kOutOfRange);
  }
  return absl::OkStatus();
}

}  // namespace

const TensorRecord* CheckpointManifest::Find(absl::string_view name) const {
  for (const TensorRecord& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> CheckpointManifest::DataFiles() const {
  std::set<std::string> files;
  for (const TensorRecord& t : tensors) files.insert(t.file);
  return {files.begin(), files.end()};
}

std::optional<std::string> DataFileNameProblem(absl::string_view file) {
  if (file.empty()) return "is empty";
  if (file.size() > kMaxDataFileNameBytes) {
    return absl::StrCat("is longer than ", kMaxDataFileNameBytes, " bytes");
  }
  if (!IsValidUtf8(file)) return "is not UTF-8";
  for (char c : file) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "contains a control character";
    if (c == '\\') return "contains a backslash";
  }
  if (file.front() == '/') return "is absolute";
  for (absl::string_view part : absl::StrSplit(file, '/')) {
    if (part.empty()) return "has an empty path component";
    if (part == "." || part == "..") {
      return absl::StrCat("has a '", part, "' component");
    }
  }
  if (file == kManifestFileName) return "is the manifest itself";
  return std::nullopt;
}

absl::Status ValidateDataFileName(absl::string_view file) {
  std::optional<std::string> why = DataFileNameProblem(file);
  if (!why.has_value()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("data file name ", Quote(file), " ", *why,
                   "; a data file must stay inside the checkpoint "
                   "directory"));
}

std::string FormatChecksum(uint64_t xxh3) { return FormatHash64(xxh3); }

std::optional<uint64_t> ParseChecksum(absl::string_view text) {
  return ParseHash64(text);
}

absl::StatusOr<int64_t> AlignTensorOffset(int64_t offset) {
  if (offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat("negative offset ", offset));
  }
  std::optional<int64_t> aligned = RoundUp(offset, kTensorAlignment);
  if (!aligned.has_value()) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset, " aligned to ",
                                              kTensorAlignment,
                                              " overflows int64"));
  }
  return *aligned;
}

absl::Status ValidateManifest(const CheckpointManifest& manifest) {
  // Name -> tensor, so conversions are looked up in O(log n), not by a
  // linear Find() each (quadratic on a many-tensor checkpoint).
  std::map<absl::string_view, const TensorRecord*> names;
  for (size_t i = 0; i < manifest.tensors.size(); ++i) {
    const TensorRecord& t = manifest.tensors[i];
    if (t.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest: tensor #", i, ": field 'name': is empty"));
    }
    if (!names.emplace(t.name, &t).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(TensorContext(t.name),
                       ": field 'name': duplicate tensor name (#", i, ")"));
    }
    XLAYOUT_RETURN_IF_ERROR(ValidateTensor(t));
  }
  // Ranges within one file must be disjoint (empty ranges never overlap).
  std::map<absl::string_view,
           std::vector<std::tuple<int64_t, int64_t, absl::string_view>>>
      ranges;
  for (const TensorRecord& t : manifest.tensors) {
    if (t.length == 0) continue;
    ranges[t.file].emplace_back(t.offset, t.offset + t.length, t.name);
  }
  for (auto& [file, list] : ranges) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i) {
      const auto& [prev_begin, prev_end, prev_name] = list[i - 1];
      const auto& [begin, end, name] = list[i];
      if (begin < prev_end) {
        return absl::InvalidArgumentError(absl::StrCat(
            TensorContext(name), ": field 'offset': bytes [", begin, ", ", end,
            ") of file ", Quote(file), " overlap tensor ", Quote(prev_name),
            " at [", prev_begin, ", ", prev_end, ")"));
      }
    }
  }
  // Provenance.
  std::set<absl::string_view> converted;
  for (const TensorConversion& c : manifest.provenance.conversions) {
    std::string context =
        absl::StrCat("manifest: provenance: conversion of ", Quote(c.tensor));
    auto found = names.find(c.tensor);
    const TensorRecord* t = found == names.end() ? nullptr : found->second;
    if (t == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(context, ": no tensor of that name"));
    }
    if (!converted.insert(c.tensor).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(context, ": listed twice"));
    }
    XLAYOUT_RETURN_IF_ERROR(
        CheckDeviceShape(Where(context), "from", c.from, t->dtype, t->dims));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<int64_t> GetInt(const Where& where, absl::string_view field,
                               const Json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    return v.get<int64_t>();
  }
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_unsigned()) {
    return where.Error(field,
                       absl::StrCat(Excerpt(v), " does not fit in int64"),
                       absl::StatusCode::kOutOfRange);
  }
  return where.Expected(field, "an integer", v);
}

absl::StatusOr<std::vector<int64_t>> GetInts(const Where& where,
                                             absl::string_view field,
                                             const Json& v) {
  if (!v.is_array()) return where.Expected(field, "an array of integers", v);
  std::vector<int64_t> out;
  out.reserve(v.size());
  for (const Json& e : v) {
    XLAYOUT_ASSIGN_OR_RETURN(int64_t x, GetInt(where, field, e));
    out.push_back(x);
  }
  return out;
}

absl::StatusOr<std::string> GetString(const Where& where,
                                      absl::string_view field, const Json& v) {
  if (!v.is_string()) return where.Expected(field, "a string", v);
  return v.get<std::string>();
}

absl::StatusOr<Shape> GetShape(const Where& where, absl::string_view field,
                               const Json& v) {
  XLAYOUT_ASSIGN_OR_RETURN(std::string text, GetString(where, field, v));
  absl::StatusOr<Shape> shape = ParseShape(text);
  if (!shape.ok()) {
    return where.Error(
        field, absl::StrCat(Quote(text), ": ", shape.status().message()));
  }
  return shape;
}

absl::StatusOr<uint64_t> GetHash(const Where& where, absl::string_view field,
                                 const Json& v) {
  XLAYOUT_ASSIGN_OR_RETURN(std::string text, GetString(where, field, v));
  std::optional<uint64_t> h = ParseHash64(text);
  if (!h.has_value()) {
    return where.Expected(field, "16 hex digits (XXH3-64)", v);
  }
  return *h;
}

absl::Status UnknownField(const std::string& context, absl::string_view key) {
  return absl::InvalidArgumentError(
      absl::StrCat(context, ": unknown field ", Quote(key), " (schema ",
                   kCheckpointFormat, "; see docs/checkpoint.md)"));
}

absl::StatusOr<TensorRecord> TensorFromJson(const Json& j, size_t index) {
  TensorRecord t;
  auto context = [&t, index] {
    return t.name.empty() ? absl::StrCat("manifest: tensor #", index)
                          : TensorContext(t.name);
  };
  Where where(context);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(context(), ": expected an object, got ", Excerpt(j)));
  }
  auto name_it = j.find("name");
  if (name_it == j.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(context(), ": field 'name' is missing"));
  }
  XLAYOUT_ASSIGN_OR_RETURN(t.name, GetString(where, "name", *name_it));
  static constexpr const char* kRequired[] = {
      "dtype",  "dims",   "device_shape",  "memory_kind", "file",
      "offset", "length", "xxh3_physical", "xxh3_logical"};
  for (const char* field : kRequired) {
    if (!j.contains(field)) {
      return absl::InvalidArgumentError(
          absl::StrCat(context(), ": field '", field, "' is missing"));
    }
  }
  for (const auto& [key, v] : j.items()) {
    if (key == "name") continue;
    if (key == "binding") {
      if (!v.is_object()) {
        return where.Expected(key, "an object {\"parameter\": N}", v);
      }
      TensorBinding b;
      bool has_parameter = false;
      for (const auto& [bkey, bv] : v.items()) {
        if (bkey == "parameter") {
          XLAYOUT_ASSIGN_OR_RETURN(b.parameter,
                                   GetInt(where, "binding.parameter", bv));
          has_parameter = true;
        } else if (bkey == "tuple_index") {
          XLAYOUT_ASSIGN_OR_RETURN(b.tuple_index,
                                   GetInts(where, "binding.tuple_index", bv));
        } else {
          return UnknownField(absl::StrCat(context(), ": binding"), bkey);
        }
      }
      if (!has_parameter) {
        return absl::InvalidArgumentError(
            absl::StrCat(context(), ": field 'binding.parameter' is missing"));
      }
      t.binding = std::move(b);
    } else if (key == "dtype") {
      XLAYOUT_ASSIGN_OR_RETURN(std::string name, GetString(where, key, v));
      std::optional<PrimitiveType> type = PrimitiveTypeFromName(name);
      if (!type.has_value() || !IsArrayType(*type)) {
        return where.Expected(key, "an XLA element type such as \"bf16\"", v);
      }
      t.dtype = *type;
    } else if (key == "dims") {
      XLAYOUT_ASSIGN_OR_RETURN(t.dims, GetInts(where, key, v));
    } else if (key == "device_shape") {
      XLAYOUT_ASSIGN_OR_RETURN(t.device_shape, GetShape(where, key, v));
    } else if (key == "memory_kind") {
      XLAYOUT_ASSIGN_OR_RETURN(t.memory_kind, GetString(where, key, v));
    } else if (key == "file") {
      XLAYOUT_ASSIGN_OR_RETURN(t.file, GetString(where, key, v));
    } else if (key == "offset") {
      XLAYOUT_ASSIGN_OR_RETURN(t.offset, GetInt(where, key, v));
    } else if (key == "length") {
      XLAYOUT_ASSIGN_OR_RETURN(t.length, GetInt(where, key, v));
    } else if (key == "xxh3_physical") {
      XLAYOUT_ASSIGN_OR_RETURN(t.xxh3_physical, GetHash(where, key, v));
    } else if (key == "xxh3_logical") {
      XLAYOUT_ASSIGN_OR_RETURN(t.xxh3_logical, GetHash(where, key, v));
    } else {
      return UnknownField(context(), key);
    }
  }
  return t;
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::StatusOr<Provenance> ProvenanceFromJson(const Json& j) {
  const std::string context = "manifest: provenance";
  Where where(context);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(context, ": expected an object, got ", Excerpt(j)));
  }
  Provenance p;
  for (const auto& [key, v] : j.items()) {
    if (key == "source_files") {
      if (!v.is_array()) return where.Expected(key, "an array of strings", v);
      for (const Json& e : v) {
        XLAYOUT_ASSIGN_OR_RETURN(std::string s, GetString(where, key, e));
        p.source_files.push_back(std::move(s));
      }
    } else if (key == "source_checkpoint") {
      XLAYOUT_ASSIGN_OR_RETURN(p.source_checkpoint, GetString(where, key, v));
    } else if (key == "source_environment") {
      absl::StatusOr<Environment> env = EnvironmentFromJson(v);
      if (!env.ok()) {
        return Prefixed("manifest: provenance: source_", env.status());
      }
      p.source_environment = *std::move(env);
    } else if (key == "conversions") {
      if (!v.is_array()) return where.Expected(key, "an array", v);
      for (size_t i = 0; i < v.size(); ++i) {
        const Json& c = v[i];
        std::string ccontext = absl::StrCat(context, ": conversions[", i, "]");
        Where cwhere(ccontext);
        if (!c.is_object()) {
          return absl::InvalidArgumentError(
              absl::StrCat(ccontext, ": expected an object, got ", Excerpt(c)));
        }
        if (!c.contains("tensor") || !c.contains("from")) {
          return absl::InvalidArgumentError(absl::StrCat(
              ccontext, ": fields 'tensor' and 'from' are required"));
        }
        TensorConversion conversion;
        for (const auto& [ckey, cv] : c.items()) {
          if (ckey == "tensor") {
            XLAYOUT_ASSIGN_OR_RETURN(conversion.tensor,
                                     GetString(cwhere, ckey, cv));
          } else if (ckey == "from") {
            XLAYOUT_ASSIGN_OR_RETURN(conversion.from,
                                     GetShape(cwhere, ckey, cv));
          } else {
            return UnknownField(ccontext, ckey);
          }
        }
        p.conversions.push_back(std::move(conversion));
      }
    } else {
      return UnknownField(context, key);
    }
  }
  return p;
}

}  // namespace

absl::StatusOr<CheckpointManifest> ParseManifest(absl::string_view json_text) {
  XLAYOUT_ASSIGN_OR_RETURN(
      Json root, checkpoint_internal::ParseStrictJson(json_text, "manifest"));
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest: expected a JSON object, got ", Excerpt(root)));
  }
  auto format = root.find("format");
  if (format == root.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest: field 'format' is missing; expected \"",
                     kCheckpointFormat, "\""));
  }
  if (!format->is_string() || format->get<std::string>() != kCheckpointFormat) {
    return Where("manifest")
        .Expected("format", Quote(kCheckpointFormat), *format);
  }
  if (!root.contains("tensors")) {
    return absl::InvalidArgumentError("manifest: field 'tensors' is missing");
  }
  CheckpointManifest manifest;
  for (const auto& [key, v] : root.items()) {
    if (key == "format") continue;
    if (key == "environment") {
      absl::StatusOr<Environment> env = EnvironmentFromJson(v);
      if (!env.ok()) return Prefixed("manifest: ", env.status());
      manifest.environment = *std::move(env);
    } else if (key == "provenance") {
      XLAYOUT_ASSIGN_OR_RETURN(manifest.provenance, ProvenanceFromJson(v));
    } else if (key == "tensors") {
      if (!v.is_array()) {
        return Where("manifest").Expected(key, "an array of tensors", v);
      }
      manifest.tensors.reserve(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        XLAYOUT_ASSIGN_OR_RETURN(TensorRecord t, TensorFromJson(v[i], i));
        manifest.tensors.push_back(std::move(t));
      }
    } else {
      return UnknownField("manifest", key);
    }
  }
  XLAYOUT_RETURN_IF_ERROR(ValidateManifest(manifest));
  return manifest;
}

absl::StatusOr<std::string> SerializeManifest(
    const CheckpointManifest& manifest) {
  XLAYOUT_RETURN_IF_ERROR(ValidateManifest(manifest));
  OrderedJson root = OrderedJson::object();
  root["format"] = std::string(kCheckpointFormat);
  if (manifest.environment.has_value()) {
    root["environment"] = EnvironmentToJson(*manifest.environment);
  }
  const Provenance& p = manifest.provenance;
  OrderedJson prov = OrderedJson::object();
  if (!p.source_files.empty()) prov["source_files"] = p.source_files;
  if (p.source_checkpoint.has_value()) {
    prov["source_checkpoint"] = *p.source_checkpoint;
  }
  if (p.source_environment.has_value()) {
    prov["source_environment"] = EnvironmentToJson(*p.source_environment);
  }
  if (!p.conversions.empty()) {
    OrderedJson list = OrderedJson::array();
    for (const TensorConversion& c : p.conversions) {
      OrderedJson e = OrderedJson::object();
      e["tensor"] = c.tensor;
      e["from"] = c.from.ToString(true);
      list.push_back(std::move(e));
    }
    prov["conversions"] = std::move(list);
  }
  if (!prov.empty()) root["provenance"] = std::move(prov);
  OrderedJson tensors = OrderedJson::array();
  for (const TensorRecord& t : manifest.tensors) {
    OrderedJson e = OrderedJson::object();
    e["name"] = t.name;
    if (t.binding.has_value()) {
      OrderedJson b = OrderedJson::object();
      b["parameter"] = t.binding->parameter;
      if (!t.binding->tuple_index.empty()) {
        b["tuple_index"] = t.binding->tuple_index;
      }
      e["binding"] = std::move(b);
    }
    e["dtype"] = std::string(PrimitiveTypeName(t.dtype));
    e["dims"] = t.dims;
    e["device_shape"] = t.device_shape.ToString(true);
    e["memory_kind"] = t.memory_kind;
    e["file"] = t.file;
    e["offset"] = t.offset;
    e["length"] = t.length;
    e["xxh3_physical"] = FormatHash64(t.xxh3_physical);
    e["xxh3_logical"] = FormatHash64(t.xxh3_logical);
    tensors.push_back(std::move(e));
  }
  root["tensors"] = std::move(tensors);
  return root.dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

absl::Status ValidateDataFileSizes(
    const CheckpointManifest& manifest,
    const std::map<std::string, int64_t, std::less<>>& file_sizes) {
  for (const TensorRecord& t : manifest.tensors) {
    auto it = file_sizes.find(t.file);
    if (it == file_sizes.end()) {
      return absl::NotFoundError(absl::StrCat(
          TensorContext(t.name), ": data file ", Quote(t.file), " is missing"));
    }
    std::optional<int64_t> end = CheckedAdd(t.offset, t.length);
    if (!end.has_value() || *end > it->second) {
      return absl::OutOfRangeError(absl::StrCat(
          TensorContext(t.name), ": bytes [", t.offset, ", ",
          end.has_value() ? absl::StrCat(*end) : std::string("overflow"),
          ") lie past the end of data file ", Quote(t.file), " (", it->second,
          " bytes): the file is truncated"));
    }
  }
  return absl::OkStatus();
}

}  // namespace xlayout
