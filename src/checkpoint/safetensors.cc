#include "xlayout/safetensors.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/checked_math.h"
#include "checkpoint/json_util.h"
#include "xlayout/format.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

using checkpoint_internal::Excerpt;
using checkpoint_internal::Json;
using checkpoint_internal::OrderedJson;
using checkpoint_internal::Quote;

constexpr absl::string_view kMetadataKey = "__metadata__";

absl::Status Error(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("safetensors: ", message));
}

absl::Status TensorError(absl::string_view name, absl::string_view message) {
  return Error(absl::StrCat("tensor ", Quote(name), ": ", message));
}

std::string ShapeText(const SafetensorsDtype& dtype,
                      const std::vector<int64_t>& shape) {
  return absl::StrCat(dtype.name, "[", absl::StrJoin(shape, ","), "]");
}

// Bytes of `shape` elements of `dtype`, as safetensors computes them.
absl::StatusOr<int64_t> ByteSize(absl::string_view name,
                                 const SafetensorsDtype& dtype,
                                 const std::vector<int64_t>& shape) {
  int64_t elements = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return TensorError(name, absl::StrCat("negative dimension ", d));
    }
    std::optional<int64_t> e = CheckedMul(elements, d);
    if (!e.has_value()) {
      return absl::OutOfRangeError(absl::StrCat(
          "safetensors: tensor ", Quote(name), ": ", ShapeText(dtype, shape),
          " has more elements than fit in int64"));
    }
    elements = *e;
  }
  std::optional<int64_t> bits = CheckedMul(elements, dtype.bits);
  if (!bits.has_value()) {
    return absl::OutOfRangeError(absl::StrCat(
        "safetensors: tensor ", Quote(name), ": ", ShapeText(dtype, shape),
        " has more bytes than fit in int64"));
  }
  if (*bits % 8 != 0) {
    return TensorError(name,
                       absl::StrCat(ShapeText(dtype, shape), " is ", *bits,
                                    " bits, not a whole number of "
                                    "bytes"));
  }
  return *bits / 8;
}

absl::StatusOr<int64_t> NonNegative(absl::string_view name,
                                    absl::string_view field, const Json& v) {
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer() && !v.is_number_unsigned() &&
      v.get<int64_t>() >= 0) {
    return v.get<int64_t>();
  }
  return TensorError(name, absl::StrCat("'", field,
                                        "' expects non-negative integers "
                                        "(at most 2^63-1), got ",
                                        Excerpt(v)));
}

}  // namespace

const std::vector<SafetensorsDtype>& AllSafetensorsDtypes() {
  static const auto* kAll = new std::vector<SafetensorsDtype>{
      {"BOOL", PrimitiveType::kPred, 8},
      {"F4", PrimitiveType::kF4E2M1FN, 4},
      {"F6_E2M3", PrimitiveType::kF6E2M3FN, 6},
      {"F6_E3M2", PrimitiveType::kF6E3M2FN, 6},
      {"U8", PrimitiveType::kU8, 8},
      {"I8", PrimitiveType::kS8, 8},
      {"F8_E5M2", PrimitiveType::kF8E5M2, 8},
      {"F8_E4M3", PrimitiveType::kF8E4M3FN, 8},
      {"F8_E8M0", PrimitiveType::kF8E8M0FNU, 8},
      {"F8_E4M3FNUZ", PrimitiveType::kF8E4M3FNUZ, 8},
      {"F8_E5M2FNUZ", PrimitiveType::kF8E5M2FNUZ, 8},
      {"I16", PrimitiveType::kS16, 16},
      {"U16", PrimitiveType::kU16, 16},
      {"F16", PrimitiveType::kF16, 16},
      {"BF16", PrimitiveType::kBF16, 16},
      {"I32", PrimitiveType::kS32, 32},
      {"U32", PrimitiveType::kU32, 32},
      {"F32", PrimitiveType::kF32, 32},
      {"C64", PrimitiveType::kC64, 64},
      {"F64", PrimitiveType::kF64, 64},
      {"I64", PrimitiveType::kS64, 64},
      {"U64", PrimitiveType::kU64, 64},
  };
  return *kAll;
}

std::optional<SafetensorsDtype> SafetensorsDtypeByName(absl::string_view name) {
  for (const SafetensorsDtype& d : AllSafetensorsDtypes()) {
    if (d.name == name) return d;
  }
  return std::nullopt;
}

std::optional<SafetensorsDtype> SafetensorsDtypeOf(PrimitiveType type) {
  for (const SafetensorsDtype& d : AllSafetensorsDtypes()) {
    if (d.type == type) return d;
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> ParseSafetensorsHeaderLength(absl::string_view prefix) {
  if (prefix.size() < static_cast<size_t>(kSafetensorsLengthBytes)) {
    return Error(absl::StrCat("file is ", prefix.size(),
                              " bytes, shorter than the 8-byte header "
                              "length"));
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) {
    n = (n << 8) | static_cast<unsigned char>(prefix[i]);
  }
  if (n > kSafetensorsMaxHeaderBytes) {
    return Error(absl::StrCat("header length ", n, " exceeds the limit of ",
                              kSafetensorsMaxHeaderBytes, " bytes"));
  }
  return static_cast<int64_t>(n);
}

absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(
    absl::string_view header_json, std::optional<int64_t> file_size) {
  if (header_json.size() > kSafetensorsMaxHeaderBytes) {
    return Error(absl::StrCat("header length ", header_json.size(),
                              " exceeds the limit of ",
                              kSafetensorsMaxHeaderBytes, " bytes"));
  }
  if (!IsValidUtf8(header_json)) {
    return Error("header is not valid UTF-8");
  }
  XLAYOUT_ASSIGN_OR_RETURN(Json root, checkpoint_internal::ParseStrictJson(
                                          header_json, "safetensors: header"));
  if (!root.is_object()) {
    return Error(absl::StrCat("header is not a JSON object: ", Excerpt(root)));
  }
  SafetensorsHeader header;
  header.header_bytes = static_cast<int64_t>(header_json.size());
  header.data_start = kSafetensorsLengthBytes + header.header_bytes;
  for (const auto& [name, info] : root.items()) {
    if (name == kMetadataKey) {
      if (info.is_null()) continue;
      if (!info.is_object()) {
        return Error(
            absl::StrCat("\"__metadata__\" must be an object of "
                         "strings, got ",
                         Excerpt(info)));
      }
      std::map<std::string, std::string> metadata;
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) {
          return Error(absl::StrCat("\"__metadata__\" value for ", Quote(key),
                                    " must be a string, got ", Excerpt(value)));
        }
        metadata[key] = value.get<std::string>();
      }
      header.metadata = std::move(metadata);
      continue;
    }
    if (name.empty()) {
      // safetensors itself allows "", but a checkpoint tensor needs a name.
      return Error("a tensor name is empty");
    }
    if (name.find('\0') != std::string::npos) {
      // Valid JSON ("\u0000"), but a name is a C string to every reader
      // (and the checkpoint manifest refuses it): refused here, where the
      // source file is still named.
      return TensorError(name,
                         "the name contains a NUL character (\\u0000); "
                         "tensor names cannot hold one");
    }
    if (!info.is_object()) {
      return TensorError(name, absl::StrCat("expected an object with dtype, "
                                            "shape and data_offsets, got ",
                                            Excerpt(info)));
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!info.contains(field)) {
        return TensorError(name,
                           absl::StrCat("field '", field, "' is missing"));
      }
    }
    SafetensorsTensor t;
    t.name = name;
    const Json& dtype = info["dtype"];
    std::optional<SafetensorsDtype> d =
        dtype.is_string() ? SafetensorsDtypeByName(dtype.get<std::string>())
                          : std::nullopt;
    if (!d.has_value()) {
      std::vector<absl::string_view> names;
      for (const SafetensorsDtype& x : AllSafetensorsDtypes()) {
        names.push_back(x.name);
      }
      return TensorError(name, absl::StrCat("unknown dtype ", Excerpt(dtype),
                                            "; safetensors defines ",
                                            absl::StrJoin(names, ", ")));
    }
    t.dtype = *d;
    const Json& shape = info["shape"];
    if (!shape.is_array()) {
      return TensorError(
          name, absl::StrCat("'shape' expects an array, got ", Excerpt(shape)));
    }
    for (const Json& dim : shape) {
      XLAYOUT_ASSIGN_OR_RETURN(int64_t x, NonNegative(name, "shape", dim));
      t.shape.push_back(x);
    }
    const Json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2) {
      return TensorError(name,
                         absl::StrCat("'data_offsets' expects [begin, end], "
                                      "got ",
                                      Excerpt(offsets)));
    }
    XLAYOUT_ASSIGN_OR_RETURN(t.begin,
                             NonNegative(name, "data_offsets", offsets[0]));
    XLAYOUT_ASSIGN_OR_RETURN(t.end,
                             NonNegative(name, "data_offsets", offsets[1]));
    header.tensors.push_back(std::move(t));
  }
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
              return std::tie(a.begin, a.end, a.name) <
                     std::tie(b.begin, b.end, b.name);
            });
  int64_t expected_begin = 0;
  for (const SafetensorsTensor& t : header.tensors) {
    std::string range =
        absl::StrCat("data_offsets [", t.begin, ", ", t.end, "]");
    if (t.end < t.begin) {
      return TensorError(t.name, absl::StrCat(range, " end before begin"));
    }
    if (t.begin != expected_begin) {
      return TensorError(
          t.name,
          absl::StrCat(range,
                       t.begin < expected_begin ? " overlap" : " leave a gap",
                       ": in offset order, the data of each tensor must "
                       "begin where the previous one ends (at ",
                       expected_begin, ")"));
    }
    XLAYOUT_ASSIGN_OR_RETURN(int64_t bytes, ByteSize(t.name, t.dtype, t.shape));
    if (t.byte_size() != bytes) {
      return TensorError(
          t.name, absl::StrCat(range, " hold ", t.byte_size(), " bytes but ",
                               ShapeText(t.dtype, t.shape), " needs ", bytes));
    }
    expected_begin = t.end;
  }
  header.data_bytes = expected_begin;
  if (file_size.has_value()) {
    std::optional<int64_t> total =
        CheckedAdd(header.data_start, header.data_bytes);
    if (!total.has_value() || *total != *file_size) {
      return Error(absl::StrCat(
          "the header and tensors cover ",
          total.has_value() ? absl::StrCat(*total) : std::string("> 2^63"),
          " bytes (8 + ", header.header_bytes, " header + ", header.data_bytes,
          " data) but the file is ", *file_size,
          " bytes; the data must cover the file exactly"));
    }
  }
  return header;
}

absl::StatusOr<SafetensorsHeader> ParseSafetensorsPrefix(
    absl::string_view file_prefix, std::optional<int64_t> file_size) {
  XLAYOUT_ASSIGN_OR_RETURN(int64_t n,
                           ParseSafetensorsHeaderLength(file_prefix));
  if (file_size.has_value() && kSafetensorsLengthBytes + n > *file_size) {
    return Error(absl::StrCat("header length ", n, " runs past the end of the ",
                              *file_size, "-byte file"));
  }
  if (static_cast<int64_t>(file_prefix.size()) < kSafetensorsLengthBytes + n) {
    return Error(absl::StrCat("header length ", n, " runs past the end of the ",
                              file_prefix.size(), " bytes given"));
  }
  return ParseSafetensorsHeader(file_prefix.substr(kSafetensorsLengthBytes, n),
                                file_size);
}

absl::StatusOr<std::string> WriteSafetensorsHeader(
    const std::vector<SafetensorsEntry>& entries,
    const std::map<std::string, std::string>& metadata) {
  OrderedJson root = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson m = OrderedJson::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    root[std::string(kMetadataKey)] = std::move(m);
  }
  std::set<absl::string_view> names;
  int64_t offset = 0;
  for (const SafetensorsEntry& e : entries) {
    if (e.name.empty()) return Error("a tensor name is empty");
    if (e.name == kMetadataKey) {
      return TensorError(e.name, "name is reserved for the metadata");
    }
    if (!IsValidUtf8(e.name)) {
      return TensorError(e.name, "name is not valid UTF-8");
    }
    if (!names.insert(e.name).second) {
      return TensorError(e.name, "duplicate tensor name");
    }
    std::optional<SafetensorsDtype> d = SafetensorsDtypeOf(e.type);
    if (!d.has_value()) {
      return TensorError(
          e.name, absl::StrCat("element type ", PrimitiveTypeName(e.type),
                               " has no safetensors dtype"));
    }
    XLAYOUT_ASSIGN_OR_RETURN(int64_t bytes, ByteSize(e.name, *d, e.shape));
    std::optional<int64_t> end = CheckedAdd(offset, bytes);
    if (!end.has_value()) {
      return absl::OutOfRangeError("safetensors: total data overflows int64");
    }
    OrderedJson info = OrderedJson::object();
    info["dtype"] = std::string(d->name);
    info["shape"] = e.shape;
    info["data_offsets"] = {offset, *end};
    root[e.name] = std::move(info);
    offset = *end;
  }
  for (const auto& [k, v] : metadata) {
    if (!IsValidUtf8(k) || !IsValidUtf8(v)) {
      return Error("\"__metadata__\" holds invalid UTF-8");
    }
  }
  std::string json = root.dump();
  while (json.size() % 8 != 0) json.push_back(' ');
  if (json.size() > kSafetensorsMaxHeaderBytes) {
    return Error(absl::StrCat("header of ", json.size(),
                              " bytes exceeds the limit of ",
                              kSafetensorsMaxHeaderBytes));
  }
  std::string out(kSafetensorsLengthBytes, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  }
  out += json;
  return out;
}

}  // namespace xlayout
