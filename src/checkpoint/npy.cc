#include "xlayout/npy.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/checked_math.h"
#include "checkpoint/json_util.h"
#include "xlayout/format.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

using checkpoint_internal::Quote;

absl::Status Error(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("npy: ", message));
}

// Marks errors about the header's bytes themselves (IsMalformedNpyHeader).
constexpr absl::string_view kMalformedPayload = "xlayout.dev/npy-malformed";

absl::Status Malformed(absl::string_view message) {
  absl::Status status = Error(message);
  status.SetPayload(kMalformedPayload, absl::Cord("1"));
  return status;
}

// A Python literal from the header dict: str, bool, int, None, tuple/list.
struct PyValue {
  enum Kind { kString, kBool, kInt, kNone, kTuple, kList } kind = kNone;
  std::string str;
  bool boolean = false;
  int64_t integer = 0;
  std::vector<PyValue> items;

  std::string Describe() const {
    switch (kind) {
      case kString:
        return Quote(str);
      case kBool:
        return boolean ? "True" : "False";
      case kInt:
        return absl::StrCat(integer);
      case kNone:
        return "None";
      case kTuple:
        return "a tuple";
      case kList:
        return "a list";
    }
    return "?";
  }
};

// Recursive-descent parser for the subset of Python literals numpy writes.
class PyLiteralParser {
 public:
  PyLiteralParser(absl::string_view text, bool allow_long_suffix)
      : text_(text), allow_long_suffix_(allow_long_suffix) {}

  absl::StatusOr<std::vector<std::pair<std::string, PyValue>>> ParseDict() {
    SkipSpace();
    if (!Consume('{')) return Fail("expected '{' to open the header dict");
    std::vector<std::pair<std::string, PyValue>> entries;
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      XLAYOUT_ASSIGN_OR_RETURN(PyValue key, ParseValue(1));
      if (key.kind != PyValue::kString) {
        return Fail(
            absl::StrCat("dict key ", key.Describe(), " is not a string"));
      }
      SkipSpace();
      if (!Consume(':')) return Fail("expected ':' after a dict key");
      XLAYOUT_ASSIGN_OR_RETURN(PyValue value, ParseValue(1));
      entries.emplace_back(std::move(key.str), std::move(value));
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) break;
      return Fail("expected ',' or '}' in the header dict");
    }
    SkipSpace();
    if (pos_ != text_.size()) {
      return Fail("unexpected text after the header dict");
    }
    return entries;
  }

 private:
  absl::Status Fail(absl::string_view message) const {
    return Malformed(absl::StrCat("header col ", pos_ + 1, ": ", message));
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    size_t end = pos_ + word.size();
    if (end < text_.size() &&
        (absl::ascii_isalnum(static_cast<unsigned char>(text_[end])) ||
         text_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }

  absl::StatusOr<PyValue> ParseValue(int depth) {
    if (depth > 16) return Fail("header nests too deeply");
    SkipSpace();
    if (pos_ == text_.size()) return Fail("unexpected end of the header");
    PyValue v;
    char c = text_[pos_];
    if (c == '\'' || c == '"') {
      ++pos_;
      size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] != c) {
        if (text_[pos_] == '\\') {
          return Fail("escape sequences are not supported in header strings");
        }
        if (text_[pos_] == '\n') return Fail("unterminated string");
        ++pos_;
      }
      if (pos_ == text_.size()) return Fail("unterminated string");
      v.kind = PyValue::kString;
      v.str = std::string(text_.substr(start, pos_ - start));
      ++pos_;
      return v;
    }
    if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      v.kind = c == '(' ? PyValue::kTuple : PyValue::kList;
      ++pos_;
      bool saw_comma = false;
      while (true) {
        SkipSpace();
        if (Consume(close)) break;
        XLAYOUT_ASSIGN_OR_RETURN(PyValue item, ParseValue(depth + 1));
        v.items.push_back(std::move(item));
        SkipSpace();
        if (Consume(',')) {
          saw_comma = true;
          continue;
        }
        if (Consume(close)) break;
        return Fail(
            absl::StrCat("expected ',' or '", std::string(1, close), "'"));
      }
      if (v.kind == PyValue::kTuple && v.items.size() == 1 && !saw_comma) {
        // "(3)" is the int 3 in Python, not a tuple.
        PyValue inner = std::move(v.items[0]);
        return inner;
      }
      return v;
    }
    if (ConsumeWord("True")) {
      v.kind = PyValue::kBool;
      v.boolean = true;
      return v;
    }
    if (ConsumeWord("False")) {
      v.kind = PyValue::kBool;
      return v;
    }
    if (ConsumeWord("None")) return v;
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' ||
        c == '+') {
      size_t start = pos_;
      ++pos_;
      while (pos_ < text_.size() &&
             absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      }
      absl::string_view digits = text_.substr(start, pos_ - start);
      if (allow_long_suffix_ && pos_ < text_.size() &&
          (text_[pos_] == 'L' || text_[pos_] == 'l')) {
        ++pos_;  // Python 2 long, which numpy strips from 1.0/2.0 headers.
      }
      if (pos_ < text_.size() &&
          (absl::ascii_isalnum(static_cast<unsigned char>(text_[pos_])) ||
           text_[pos_] == '.' || text_[pos_] == '_')) {
        return Fail("expected an integer");
      }
      if (!absl::SimpleAtoi(digits, &v.integer)) {
        return Fail(absl::StrCat("integer ", digits, " does not fit in int64"));
      }
      v.kind = PyValue::kInt;
      return v;
    }
    return Fail(absl::StrCat("unexpected character ",
                             Quote(text_.substr(pos_, 1)),
                             " (only str, int, bool, None and tuple literals "
                             "are read)"));
  }

  absl::string_view text_;
  bool allow_long_suffix_;
  size_t pos_ = 0;
};

int64_t CountUtf8CodePoints(absl::string_view s) {
  int64_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

absl::StatusOr<NpyDtype> ParseNpyDescr(absl::string_view descr,
                                       std::optional<PrimitiveType> void_type) {
  NpyDtype d;
  d.descr = std::string(descr);
  absl::string_view rest = descr;
  char order = '=';
  if (!rest.empty() &&
      (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=')) {
    order = rest[0];
    rest.remove_prefix(1);
  }
  if (rest.empty()) return Error(absl::StrCat("empty dtype ", Quote(descr)));
  const char kind = rest[0];
  absl::string_view size_text = rest.substr(1);
  int size = 0;
  if (kind == 'O') {
    return Error(absl::StrCat(
        "dtype ", Quote(descr),
        " is an object array: its data is pickled Python objects, which are "
        "never loaded"));
  }
  if (kind == 'U' || kind == 'S' || kind == 'a' || kind == 'M' || kind == 'm') {
    return Error(absl::StrCat("dtype ", Quote(descr),
                              " is not numeric (strings and dates are not "
                              "tensors)"));
  }
  if (size_text.empty() || size_text.size() > 6 ||
      !absl::SimpleAtoi(size_text, &size) || size <= 0 ||
      !absl::ascii_isdigit(static_cast<unsigned char>(size_text[0]))) {
    return Error(absl::StrCat("unsupported dtype ", Quote(descr)));
  }
  d.item_bytes = size;
  PrimitiveType t = PrimitiveType::kInvalid;
  switch (kind) {
    case 'b':
      if (size == 1) t = PrimitiveType::kPred;
      break;
    case 'i':
      t = size == 1   ? PrimitiveType::kS8
          : size == 2 ? PrimitiveType::kS16
          : size == 4 ? PrimitiveType::kS32
          : size == 8 ? PrimitiveType::kS64
                      : PrimitiveType::kInvalid;
      break;
    case 'u':
      t = size == 1   ? PrimitiveType::kU8
          : size == 2 ? PrimitiveType::kU16
          : size == 4 ? PrimitiveType::kU32
          : size == 8 ? PrimitiveType::kU64
                      : PrimitiveType::kInvalid;
      break;
    case 'f':
      t = size == 2   ? PrimitiveType::kF16
          : size == 4 ? PrimitiveType::kF32
          : size == 8 ? PrimitiveType::kF64
                      : PrimitiveType::kInvalid;
      if (size == 12 || size == 16) {
        return Error(absl::StrCat("dtype ", Quote(descr),
                                  " is numpy's long double, which XLA has no "
                                  "type for"));
      }
      break;
    case 'c':
      t = size == 8    ? PrimitiveType::kC64
          : size == 16 ? PrimitiveType::kC128
                       : PrimitiveType::kInvalid;
      if (size == 24 || size == 32) {
        return Error(absl::StrCat("dtype ", Quote(descr),
                                  " is numpy's complex long double, which XLA "
                                  "has no type for"));
      }
      break;
    case 'V':
      d.is_void = true;
      if (void_type.has_value()) {
        const std::string prefix =
            absl::StrCat("dtype ", Quote(descr), " holds ", size,
                         "-byte raw elements; the requested type ",
                         PrimitiveTypeName(*void_type));
        if (IsSubByteNonPredType(*void_type)) {
          return Error(absl::StrCat(prefix, " is a ", BitWidth(*void_type),
                                    "-bit type, which .npy has no form for "
                                    "(see docs/checkpoint.md)"));
        }
        if (*void_type == PrimitiveType::kPred) {
          return Error(absl::StrCat(prefix, " is numpy's bool, '|b1'"));
        }
        if (!IsArrayType(*void_type) || ByteWidth(*void_type) != size) {
          return Error(
              absl::StrCat(prefix, " is ", ByteWidth(*void_type), " bytes"));
        }
        t = *void_type;
      }
      break;
    default:
      break;
  }
  if (t == PrimitiveType::kInvalid && !d.is_void) {
    return Error(absl::StrCat("unsupported dtype ", Quote(descr)));
  }
  if (!d.is_void && void_type.has_value() && *void_type != t) {
    return Error(absl::StrCat(
        "dtype ", Quote(descr), " is already typed (", PrimitiveTypeName(t),
        "); a type override (--dtype) applies only to raw void data and would "
        "reinterpret it as ",
        PrimitiveTypeName(*void_type)));
  }
  d.type = t;
  const int unit = t != PrimitiveType::kInvalid && IsComplexType(t)
                       ? size / 2
                       : (t != PrimitiveType::kInvalid ? ByteWidth(t) : size);
  if (order == '>' && unit > 1) {
    d.big_endian = true;
    d.swap_bytes = unit;
  }
  return d;
}

absl::StatusOr<std::string> NpyDescrOf(PrimitiveType type) {
  switch (type) {
    case PrimitiveType::kPred:
      return std::string("|b1");
    case PrimitiveType::kS8:
      return std::string("|i1");
    case PrimitiveType::kU8:
      return std::string("|u1");
    case PrimitiveType::kS16:
      return std::string("<i2");
    case PrimitiveType::kU16:
      return std::string("<u2");
    case PrimitiveType::kS32:
      return std::string("<i4");
    case PrimitiveType::kU32:
      return std::string("<u4");
    case PrimitiveType::kS64:
      return std::string("<i8");
    case PrimitiveType::kU64:
      return std::string("<u8");
    case PrimitiveType::kF16:
      return std::string("<f2");
    case PrimitiveType::kF32:
      return std::string("<f4");
    case PrimitiveType::kF64:
      return std::string("<f8");
    case PrimitiveType::kC64:
      return std::string("<c8");
    case PrimitiveType::kC128:
      return std::string("<c16");
    default:
      return absl::NotFoundError(
          absl::StrCat("npy: numpy has no dtype for ", PrimitiveTypeName(type),
                       " (ml_dtypes saves such arrays as raw void '<V",
                       ByteWidth(type), "')"));
  }
}

Shape NpyHeader::StoredShape() const {
  std::vector<int64_t> minor_to_major(shape.size());
  const int64_t n = static_cast<int64_t>(shape.size());
  for (int64_t i = 0; i < n; ++i) {
    minor_to_major[i] = fortran_order ? i : n - 1 - i;
  }
  return Shape::MakeArray(dtype.type, shape, Layout(std::move(minor_to_major)));
}

bool IsMalformedNpyHeader(const absl::Status& status) {
  return status.GetPayload(kMalformedPayload).has_value();
}

absl::StatusOr<int64_t> ParseNpyDataOffset(absl::string_view file_prefix) {
  if (file_prefix.size() < 8 || file_prefix.substr(0, 6) != kNpyMagic) {
    return Malformed(
        "not an .npy file: it does not start with the magic \"\\x93NUMPY\"");
  }
  const int major = static_cast<unsigned char>(file_prefix[6]);
  const int minor = static_cast<unsigned char>(file_prefix[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    return Malformed(absl::StrCat("format version ", major, ".", minor,
                                  " is not 1.0, 2.0 or 3.0"));
  }
  const size_t length_bytes = major == 1 ? 2 : 4;
  if (file_prefix.size() < 8 + length_bytes) {
    return Malformed("file ends inside the header length");
  }
  uint64_t length = 0;
  for (size_t i = length_bytes; i-- > 0;) {
    length = (length << 8) | static_cast<unsigned char>(file_prefix[8 + i]);
  }
  return static_cast<int64_t>(8 + length_bytes + length);
}

absl::StatusOr<NpyHeader> ParseNpyHeader(absl::string_view file_prefix,
                                         const NpyReadOptions& options,
                                         std::optional<int64_t> file_size) {
  XLAYOUT_ASSIGN_OR_RETURN(int64_t data_offset,
                           ParseNpyDataOffset(file_prefix));
  NpyHeader h;
  h.major_version = static_cast<unsigned char>(file_prefix[6]);
  h.minor_version = 0;
  const int64_t header_start = h.major_version == 1 ? 10 : 12;
  h.header_bytes = data_offset - header_start;
  h.data_offset = data_offset;
  // numpy compares the *decoded* length with the limit; the byte length is
  // an upper bound, so check it first against a generous cap to avoid
  // reading megabytes for nothing.
  if (h.header_bytes > 4 * options.max_header_chars) {
    return Error(absl::StrCat("header is ", h.header_bytes,
                              " bytes, over numpy's limit of ",
                              options.max_header_chars, " characters"));
  }
  if (file_size.has_value() && data_offset > *file_size) {
    return Error(absl::StrCat("header of ", h.header_bytes,
                              " bytes runs past the end of the ", *file_size,
                              "-byte file"));
  }
  if (static_cast<int64_t>(file_prefix.size()) < data_offset) {
    return Error(absl::StrCat("header of ", h.header_bytes,
                              " bytes runs past the ", file_prefix.size(),
                              " bytes given"));
  }
  absl::string_view text = file_prefix.substr(header_start, h.header_bytes);
  int64_t chars = h.header_bytes;
  if (h.major_version == 3) {
    if (!IsValidUtf8(text)) {
      return Malformed("a version 3.0 header must be UTF-8");
    }
    chars = CountUtf8CodePoints(text);
  }
  if (chars > options.max_header_chars) {
    return Error(
        absl::StrCat("header is ", chars, " characters, over numpy's limit of ",
                     options.max_header_chars, " (np.load refuses it too)"));
  }
  PyLiteralParser parser(text, /*allow_long_suffix=*/h.major_version <= 2);
  XLAYOUT_ASSIGN_OR_RETURN(auto entries, parser.ParseDict());
  std::map<std::string, PyValue> dict;
  for (auto& [key, value] : entries) {
    if (!dict.emplace(key, std::move(value)).second) {
      return Error(absl::StrCat("header dict repeats the key ", Quote(key)));
    }
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : dict) keys.push_back(Quote(key));
  if (dict.size() != 3 || !dict.count("descr") ||
      !dict.count("fortran_order") || !dict.count("shape")) {
    return Error(absl::StrCat(
        "header keys are [", absl::StrJoin(keys, ", "),
        "]; numpy requires exactly 'descr', 'fortran_order' and 'shape'"));
  }
  const PyValue& descr = dict["descr"];
  if (descr.kind == PyValue::kList) {
    return Error(
        "'descr' is a list: a structured (record) dtype, which is not a "
        "tensor");
  }
  if (descr.kind != PyValue::kString) {
    return Error(
        absl::StrCat("'descr' must be a string, got ", descr.Describe()));
  }
  XLAYOUT_ASSIGN_OR_RETURN(h.dtype,
                           ParseNpyDescr(descr.str, options.void_type));
  if (h.dtype.is_void && h.dtype.type == PrimitiveType::kInvalid &&
      options.require_resolved_void) {
    return Error(absl::StrCat(
        "dtype ", Quote(descr.str), " is raw ", h.dtype.item_bytes,
        "-byte void data (how numpy saves ml_dtypes types such as bfloat16); "
        "name its element type, e.g. --dtype NAME=bf16"));
  }
  const PyValue& fortran = dict["fortran_order"];
  if (fortran.kind != PyValue::kBool) {
    return Error(absl::StrCat("'fortran_order' must be True or False, got ",
                              fortran.Describe()));
  }
  h.fortran_order = fortran.boolean;
  const PyValue& shape = dict["shape"];
  if (shape.kind != PyValue::kTuple) {
    return Error(absl::StrCat("'shape' must be a tuple of ints, got ",
                              shape.Describe()));
  }
  int64_t elements = 1;
  for (const PyValue& dim : shape.items) {
    if (dim.kind != PyValue::kInt) {
      return Error(absl::StrCat("'shape' must be a tuple of ints, got an item ",
                                dim.Describe()));
    }
    if (dim.integer < 0) {
      return Error(
          absl::StrCat("'shape' has a negative dimension ", dim.integer));
    }
    h.shape.push_back(dim.integer);
    std::optional<int64_t> e = CheckedMul(elements, dim.integer);
    if (!e.has_value()) {
      // The whole shape as written (its later items unchecked yet).
      std::vector<std::string> dims;
      for (const PyValue& d : shape.items) {
        dims.push_back(d.kind == PyValue::kInt ? absl::StrCat(d.integer)
                                               : d.Describe());
      }
      return absl::OutOfRangeError(
          absl::StrCat("npy: shape (", absl::StrJoin(dims, ", "),
                       ") has more elements than fit in int64"));
    }
    elements = *e;
  }
  std::optional<int64_t> bytes = CheckedMul(elements, h.dtype.item_bytes);
  if (!bytes.has_value()) {
    return absl::OutOfRangeError(
        absl::StrCat("npy: shape (", absl::StrJoin(h.shape, ", "), ") of ",
                     descr.str, " has more bytes than fit in int64"));
  }
  h.data_bytes = *bytes;
  if (file_size.has_value()) {
    std::optional<int64_t> end = CheckedAdd(h.data_offset, h.data_bytes);
    if (!end.has_value() || *end > *file_size) {
      return Error(absl::StrCat("file is truncated: the array needs ",
                                h.data_bytes, " bytes of data from offset ",
                                h.data_offset, " but the file is ", *file_size,
                                " bytes"));
    }
    if (*end < *file_size) {
      return Error(absl::StrCat("file has ", *file_size - *end,
                                " bytes after the array data (", h.data_bytes,
                                " bytes from offset ", h.data_offset, ")"));
    }
  }
  return h;
}

absl::Status SwapToLittleEndian(const NpyDtype& dtype, char* data,
                                size_t bytes) {
  if (!dtype.big_endian || dtype.swap_bytes <= 1) return absl::OkStatus();
  const size_t unit = static_cast<size_t>(dtype.swap_bytes);
  if (bytes % unit != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("npy: ", bytes, " bytes of ", dtype.descr,
                     " data are not a whole number of ", unit, "-byte units"));
  }
  for (size_t i = 0; i < bytes; i += unit) {
    std::reverse(data + i, data + i + unit);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> WriteNpyHeader(absl::string_view descr,
                                           const std::vector<int64_t>& shape,
                                           bool fortran_order) {
  absl::StatusOr<NpyDtype> d = ParseNpyDescr(descr);
  if (!d.ok()) return d.status();
  for (int64_t dim : shape) {
    if (dim < 0) return Error(absl::StrCat("negative dimension ", dim));
  }
  std::string shape_text = absl::StrJoin(shape, ", ");
  if (shape.size() == 1) shape_text += ",";
  std::string dict =
      absl::StrCat("{'descr': '", descr,
                   "', 'fortran_order': ", fortran_order ? "True" : "False",
                   ", 'shape': (", shape_text, "), }");
  // Pad with spaces and end with '\n' so magic + version + length + dict is a
  // multiple of 64 bytes.
  auto build = [&](int major) {
    const size_t preamble = major == 1 ? 10 : 12;
    size_t total = preamble + dict.size() + 1;
    size_t padded = (total + 63) / 64 * 64;
    std::string header = dict + std::string(padded - total, ' ') + "\n";
    std::string out(kNpyMagic);
    out.push_back(static_cast<char>(major));
    out.push_back('\0');
    const size_t n = header.size();
    for (size_t i = 0; i < preamble - 8; ++i) {
      out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    }
    return out + header;
  };
  std::string v1 = build(1);
  if (v1.size() - 10 <= 65535) return v1;
  return build(2);
}

}  // namespace xlayout
