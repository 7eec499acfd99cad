// safetensors headers: the 8-byte little-endian header length, the JSON
// header, and the rules the safetensors library enforces on them
// (safetensors/src/tensor.rs: header at most 100,000,000 bytes, valid UTF-8
// JSON, data offsets contiguous from 0 in offset order, byte lengths equal to
// shape x dtype bits / 8 with overflow-checked arithmetic and no partial
// byte, data covering the rest of the file exactly, "__metadata__" a
// string -> string map). We also refuse duplicate tensor names, which a JSON
// map would otherwise collapse silently, and empty names. No file I/O here.
#ifndef XLAYOUT_SAFETENSORS_H_
#define XLAYOUT_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/primitive_type.h"

namespace xlayout {

inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;
inline constexpr int64_t kSafetensorsLengthBytes = 8;

// One safetensors dtype and the XLA element type it holds.
struct SafetensorsDtype {
  absl::string_view name;  // "BF16"
  PrimitiveType type;      // kBF16
  int bits;                // Bits per element as safetensors counts them.
};

// Every dtype safetensors defines, in its own (alignment) order:
// BOOL(pred, 8 bits), F4(f4e2m1fn, 4), F6_E2M3(f6e2m3fn, 6),
// F6_E3M2(f6e3m2fn, 6), U8, I8, F8_E5M2(f8e5m2), F8_E4M3(f8e4m3fn: the
// type torch calls float8_e4m3fn), F8_E8M0(f8e8m0fnu), F8_E4M3FNUZ,
// F8_E5M2FNUZ, I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64.
// F4 and F6 elements are packed (bits per element, not per byte).
const std::vector<SafetensorsDtype>& AllSafetensorsDtypes();
std::optional<SafetensorsDtype> SafetensorsDtypeByName(absl::string_view name);
// The safetensors dtype of an XLA element type; nullopt for types
// safetensors cannot represent (s4, u4, f8e4m3, c128, ...).
std::optional<SafetensorsDtype> SafetensorsDtypeOf(PrimitiveType type);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype;
  std::vector<int64_t> shape;
  // Byte range relative to the start of the data section.
  int64_t begin = 0;
  int64_t end = 0;
  int64_t byte_size() const { return end - begin; }
};

struct SafetensorsHeader {
  int64_t header_bytes = 0;  // The JSON header's length (N).
  int64_t data_start = 0;    // 8 + N: where the data section begins.
  int64_t data_bytes = 0;    // End of the last tensor's range.
  // In data-offset order (ties: zero-length tensors by name).
  std::vector<SafetensorsTensor> tensors;
  std::optional<std::map<std::string, std::string>> metadata;  // __metadata__
};

// Reads N from the first 8 bytes of a file (`prefix` may be longer); refuses
// a file shorter than 8 bytes and N > kSafetensorsMaxHeaderBytes.
absl::StatusOr<int64_t> ParseSafetensorsHeaderLength(absl::string_view prefix);

// Parses and validates the JSON header (the N bytes after the length). With
// `file_size`, also checks that 8 + N + data_bytes == file_size. Errors name
// the tensor and what is wrong, e.g.
//   safetensors: tensor "w": data_offsets [0, 10] hold 10 bytes but
//   BF16[2,3] needs 12
absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(
    absl::string_view header_json, std::optional<int64_t> file_size);

// Both of the above on a buffer that starts at byte 0 of the file and holds
// at least the whole header.
absl::StatusOr<SafetensorsHeader> ParseSafetensorsPrefix(
    absl::string_view file_prefix, std::optional<int64_t> file_size);

// A tensor to write: the data must follow in this order, contiguously.
struct SafetensorsEntry {
  std::string name;
  PrimitiveType type = PrimitiveType::kInvalid;
  std::vector<int64_t> shape;
};

// The bytes that start a safetensors file holding `entries` in this order
// with data offsets contiguous from 0: the 8-byte length and the JSON header,
// space-padded to a multiple of 8 so the data section is 8-byte aligned (as
// the safetensors library writes it). `metadata` becomes "__metadata__" when
// non-empty. Refuses duplicate or empty names, the name "__metadata__",
// types without a safetensors dtype, negative dims, partial bytes and
// overflow. ParseSafetensorsPrefix() accepts the result.
absl::StatusOr<std::string> WriteSafetensorsHeader(
    const std::vector<SafetensorsEntry>& entries,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace xlayout

#endif  // XLAYOUT_SAFETENSORS_H_
