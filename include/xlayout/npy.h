// .npy headers (numpy/lib/format.py, format versions 1.0, 2.0 and 3.0): the
// magic, the version, the header length (2 bytes in 1.0, 4 in 2.0/3.0), and
// the header dict {'descr', 'fortran_order', 'shape'} written as a Python
// literal (latin-1 in 1.0/2.0, UTF-8 in 3.0). The rules numpy applies when
// reading are applied here too: at most 10,000 characters of header
// (numpy's _MAX_HEADER_SIZE), exactly those three keys, a tuple of
// non-negative int dims and a bool fortran_order. Object ('O') and
// structured dtypes, which np.load would unpickle or interpret field by
// field, are refused, never loaded. No file I/O here.
#ifndef XLAYOUT_NPY_H_
#define XLAYOUT_NPY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xlayout/layout.h"
#include "xlayout/primitive_type.h"
#include "xlayout/shape.h"

namespace xlayout {

inline constexpr absl::string_view kNpyMagic = "\x93NUMPY";
inline constexpr int64_t kNpyMaxHeaderChars = 10000;
// Bytes a reader needs before it knows the header length (magic 6, version
// 2, length 2 or 4).
inline constexpr int64_t kNpyPreambleBytes = 12;

// A numpy dtype descr such as '<f4', '|b1', '>c8' or '<V2', resolved.
struct NpyDtype {
  std::string descr;
  // kInvalid for a raw void ('V<n>') without an override.
  PrimitiveType type = PrimitiveType::kInvalid;
  int item_bytes = 0;
  bool is_void = false;
  // The data is big-endian and must be byte-swapped to little-endian, in
  // units of `swap_bytes` (the element width; half of it for complex).
  bool big_endian = false;
  int swap_bytes = 1;
};

// Parses a descr. '<', '>', '=' (native: little-endian here) and '|' byte
// orders; kinds b1, i1-i8, u1-u8, f2/f4/f8, c8/c16, and V<n>. A void descr
// resolves to `void_type` when given (its width must equal n bytes: e.g.
// bf16 for the '<V2' that ml_dtypes' bfloat16 saves as), else stays
// kInvalid with is_void set. Everything else is refused with the reason:
// 'O' (pickled objects), 'U'/'S' (strings), 'M'/'m' (dates), f16/c32 (long
// double), structured lists. A `void_type` for a typed descr is an error
// unless it names the same type (it must not silently reinterpret data).
absl::StatusOr<NpyDtype> ParseNpyDescr(
    absl::string_view descr,
    std::optional<PrimitiveType> void_type = std::nullopt);

// The descr numpy writes for an XLA element type ("<f4", "|b1", "<c8"), or
// NOT_FOUND for types numpy has no dtype for (bf16, f8*, s4, ...). Callers
// that want ml_dtypes' convention write "<V<bytes>" themselves.
absl::StatusOr<std::string> NpyDescrOf(PrimitiveType type);

struct NpyHeader {
  int major_version = 1;
  int minor_version = 0;
  NpyDtype dtype;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  int64_t header_bytes = 0;  // Length of the dict text (incl. padding).
  int64_t data_offset = 0;   // Where the array data begins.
  int64_t data_bytes = 0;    // prod(shape) * item_bytes, overflow-checked.

  // The array as stored: row-major ({n-1,...,0}) or, with fortran_order,
  // column-major ({0,...,n-1}), i.e. a transposed layout XLA and the
  // relayout engine understand. Null-type for an unresolved void dtype.
  Shape StoredShape() const;
};

struct NpyReadOptions {
  // The element type of a 'V<n>' array (the import's --dtype NAME=bf16).
  std::optional<PrimitiveType> void_type;
  int64_t max_header_chars = kNpyMaxHeaderChars;
  // Refuse a 'V<n>' descr that has no void_type (the default). When false,
  // it parses with dtype.type == kInvalid, for `inspect`-like callers.
  bool require_resolved_void = true;
};

// The header length field: needs kNpyPreambleBytes (or fewer for 1.0 files
// as long as the length is present); returns the data offset.
absl::StatusOr<int64_t> ParseNpyDataOffset(absl::string_view file_prefix);

// True for an error of ParseNpyDataOffset or ParseNpyHeader about the
// header's bytes themselves (no magic, an unknown version, a version 3.0
// header that is not UTF-8, text that is not a Python dict literal), as a
// damaged copy gives; false for a well-formed header that is refused for
// what it says (its dtype, shape or data size).
bool IsMalformedNpyHeader(const absl::Status& status);

// Parses the header at the start of `file_prefix` (which must hold at least
// data_offset bytes). With `file_size`, also checks that the data fills the
// rest of the file exactly (a truncated file, or bytes after the data, is an
// error). Errors start with "npy: ".
absl::StatusOr<NpyHeader> ParseNpyHeader(
    absl::string_view file_prefix, const NpyReadOptions& options = {},
    std::optional<int64_t> file_size = std::nullopt);

// Swaps big-endian array data to little-endian in place, in units of
// dtype.swap_bytes (a no-op unless dtype.big_endian). `data` may be any
// chunk of the array that starts on an element boundary; its size must be a
// multiple of the swap unit (INVALID_ARGUMENT otherwise).
absl::Status SwapToLittleEndian(const NpyDtype& dtype, char* data,
                                size_t bytes);

// The bytes that start a .npy file for the array: version 1.0 when the header
// fits in 65,535 bytes, else 2.0 (3.0 is never needed: the dict is ASCII);
// the dict padded with spaces and a final '\n' so the data starts at a
// multiple of 64 bytes, as numpy writes it. `descr` must pass ParseNpyDescr.
absl::StatusOr<std::string> WriteNpyHeader(absl::string_view descr,
                                           const std::vector<int64_t>& shape,
                                           bool fortran_order = false);

}  // namespace xlayout

#endif  // XLAYOUT_NPY_H_
