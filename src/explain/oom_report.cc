#include "xlayout/oom_report.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "explain/escapes.h"
#include "explain/oom_find.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "base/checked_math.h"
#include "xlayout/format.h"
#include "xlayout/io/block_reader.h"
#include "xlayout/io/input_file.h"
#include "xlayout/layout.h"
#include "xlayout/primitive_type.h"
#include "xlayout/shape.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"

namespace xlayout {
namespace {

constexpr size_t kMaxLine = size_t{64} << 10;  // Bytes of a line kept.
constexpr size_t kMaxField = 400;              // Free-text fields kept.
constexpr size_t kMaxBuffers = 1000;           // Entries kept per report.
constexpr int kMaxHeaderLines = 80;            // Lines between header and list.
constexpr int kMaxFreeTextLines = 20;  // Wrapped Operator / XLA label lines.
constexpr int64_t kGpuAttachLines = 200000;  // BFC dump before "OOM when".
constexpr int kMaxReorderRank = 6;           // 720 orders at most.

using int128 = __int128;

absl::string_view Trim(absl::string_view s) {
  return absl::StripAsciiWhitespace(s);
}

std::string Cut(absl::string_view s, size_t max) {
  return std::string(s.substr(0, max));
}

// "2.75M" -> 2.75 with 2 decimals; digits only, at most 18.
bool ParseDecimal(absl::string_view s, int64_t* mantissa, int* decimals) {
  if (s.empty() || s.size() > 18) return false;
  int64_t m = 0;
  int d = -1;
  for (char c : s) {
    if (c == '.') {
      if (d >= 0) return false;
      d = 0;
      continue;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    m = m * 10 + (c - '0');
    if (d >= 0) ++d;
  }
  if (d == 0) return false;  // "2." is not a number.
  *mantissa = m;
  *decimals = d < 0 ? 0 : d;
  return true;
}

std::string Pow1024Name(int k) {
  static constexpr const char* kNames[] = {"",    "KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  return kNames[k];
}

}  // namespace

std::optional<PrintedSize> ParsePrintedSize(absl::string_view text) {
  absl::string_view s = Trim(text);
  size_t i = 0;
  while (
      i < s.size() &&
      (absl::ascii_isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    ++i;
  }
  int64_t mantissa = 0;
  int decimals = 0;
  if (!ParseDecimal(s.substr(0, i), &mantissa, &decimals)) return std::nullopt;
  absl::string_view unit = Trim(s.substr(i));
  PrintedSize out;
  out.text = std::string(s);
  if (unit == "B" || unit == "bytes" || unit == "byte") {
    if (decimals != 0) return std::nullopt;
    out.min_bytes = out.max_bytes = mantissa;
    out.rule =
        absl::StrCat(out.text, " = ", WithCommas(mantissa), " bytes (exact)");
    return out;
  }
  static constexpr absl::string_view kPrefixes = "KMGTPE";
  if (unit.empty()) return std::nullopt;
  size_t k =
      kPrefixes.find(absl::ascii_toupper(static_cast<unsigned char>(unit[0])));
  if (k == absl::string_view::npos) return std::nullopt;
  absl::string_view rest = unit.substr(1);
  if (rest != "" && rest != "i" && rest != "B" && rest != "iB") {
    return std::nullopt;
  }
  const int power = static_cast<int>(k) + 1;  // K = 1024^1.
  // XLA (tsl HumanReadableNumBytes) divides by 1024, truncating, down to
  // q whole units of 1024^(power-1), then prints q / 1024 rounded to the
  // printed decimals. So q / 1024 lies within half a last digit of the
  // printed value: q in [1024 (2m - 1) / (2 10^d), 1024 (2m + 1) / (2 10^d)],
  // and the count in [q_lo 1024^(power-1), (q_hi + 1) 1024^(power-1) - 1].
  int128 scale = 1;
  for (int j = 0; j < decimals; ++j) scale *= 10;
  const int128 den = 2 * scale;
  int128 q_lo =
      mantissa == 0 ? 0 : (1024 * (2 * int128{mantissa} - 1) + den - 1) / den;
  int128 q_hi = 1024 * (2 * int128{mantissa} + 1) / den;
  int128 step = 1;
  for (int j = 1; j < power; ++j) step *= 1024;
  const int128 lo = q_lo * step;
  const int128 hi = (q_hi + 1) * step - 1;
  if (hi > INT64_MAX) return std::nullopt;
  out.min_bytes = static_cast<int64_t>(lo);
  out.max_bytes = static_cast<int64_t>(hi);
  std::string value(s.substr(0, i));
  out.rule =
      absl::StrCat(out.text, " = ", value, " × 2^", 10 * power, " to ",
                   decimals, decimals == 1 ? " decimal" : " decimals",
                   power > 1 ? absl::StrCat(" (after truncation to whole ",
                                            Pow1024Name(power - 1), ")")
                             : std::string(),
                   ": ", WithCommas(out.min_bytes), "–",
                   WithCommas(out.max_bytes), " bytes");
  return out;
}

absl::string_view OomKindName(OomKind kind) {
  switch (kind) {
    case OomKind::kTpuMemorySpace:
      return "tpu_memory_space";
    case OomKind::kTpuScopedVmem:
      return "tpu_scoped_vmem";
    case OomKind::kTpuAllocation:
      return "tpu_allocation";
    case OomKind::kGpuAllocator:
      return "gpu_allocator";
  }
  return "unknown";
}

absl::string_view SizeCheckName(SizeCheck check) {
  switch (check) {
    case SizeCheck::kNotPrinted:
      return "-";
    case SizeCheck::kMatch:
      return "match";
    case SizeCheck::kMismatch:
      return "mismatch";
  }
  return "-";
}

namespace {

SizeCheck Check(const std::optional<PrintedSize>& printed,
                const std::optional<int64_t>& exact) {
  if (!printed || !exact) return SizeCheck::kNotPrinted;
  return *exact >= printed->min_bytes && *exact <= printed->max_bytes
             ? SizeCheck::kMatch
             : SizeCheck::kMismatch;
}

std::string M2M(const Layout& l) {
  return absl::StrCat("{", absl::StrJoin(l.minor_to_major(), ","), "}");
}

// The dim order with the fewest device bytes for `shape`'s tiles, keeping
// as many positions of the printed order as possible among the best.
std::optional<OomRemedy> BestReorder(const Shape& shape, int64_t device) {
  const int rank = shape.rank();
  if (rank < 2 || rank > kMaxReorderRank || !shape.has_layout() ||
      shape.layout().tiles().empty()) {
    return std::nullopt;
  }
  const Layout& original = shape.layout();
  std::vector<int64_t> order(original.minor_to_major().begin(),
                             original.minor_to_major().end());
  std::vector<int64_t> perm = order;
  std::sort(perm.begin(), perm.end());
  std::optional<Shape> best;
  int64_t best_bytes = device;
  int best_kept = -1;
  do {
    Shape s = shape;
    Layout l = original;
    *l.mutable_minor_to_major() = perm;
    s.set_layout(std::move(l));
    absl::StatusOr<int64_t> bytes = XlaBytes(s);
    if (!bytes.ok()) continue;
    int kept = 0;
    for (int i = 0; i < rank; ++i) kept += perm[i] == order[i];
    if (*bytes < best_bytes ||
        (best && *bytes == best_bytes && kept > best_kept)) {
      best = std::move(s);
      best_bytes = *bytes;
      best_kept = kept;
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  if (!best || best_bytes >= device) return std::nullopt;
  OomRemedy r;
  r.kind = "reorder";
  r.shape = best->ToString(true);
  r.device_bytes = best_bytes;
  r.saved_bytes = device - best_bytes;
  const int64_t minor = best->layout().minor_to_major(0);
  const int64_t extent = shape.dimensions(static_cast<int>(minor));
  const int64_t lane = original.tiles()[0].dims().back();
  r.text = absl::StrCat(
      "dim order minor_to_major ", M2M(best->layout()), " instead of ",
      M2M(original), " puts dim ", minor, " (", extent,
      extent % lane == 0 ? absl::StrCat(", a multiple of ", lane) : "",
      ") minor-most: ", WithCommas(best_bytes), " bytes instead of ",
      WithCommas(device), ", saves ", WithCommas(r.saved_bytes), " (",
      HumanBytes(r.saved_bytes), ")");
  return r;
}

}  // namespace

void AnalyzeOomBuffer(OomBuffer& b) {
  b.device_bytes.reset();
  b.logical_bytes.reset();
  b.padding_bytes.reset();
  b.padded_dims.clear();
  b.remedies.clear();
  b.inferred_layouts.clear();
  b.tile_inferred = false;
  b.shape.clear();
  b.error.clear();
  if (b.shape_text.empty()) {
    b.error = "no shape printed";
    return;
  }
  ShapeParseOptions options;
  options.fill_missing_layouts = false;
  absl::StatusOr<Shape> parsed = ParseShape(b.shape_text, options);
  if (!parsed.ok()) {
    b.error =
        absl::StrCat("cannot read the shape: ", parsed.status().message());
    return;
  }
  Shape shape = *std::move(parsed);
  if (!shape.IsArray()) {
    b.error = "not an array shape";
    return;
  }
  if (!shape.has_layout()) shape.set_layout(DefaultLayout(shape.rank()));
  if (absl::Status valid = ValidateShape(shape); !valid.ok()) {
    b.error = absl::StrCat("invalid shape: ", valid.message());
    return;
  }
  absl::StatusOr<int64_t> logical = LogicalBytes(shape);
  absl::StatusOr<int64_t> device = XlaBytes(shape);
  if (!logical.ok() || !device.ok()) {
    b.error = std::string(
        (!logical.ok() ? logical.status() : device.status()).message());
    return;
  }
  b.logical_bytes = *logical;
  // The printed size only fits a tiled layout the report left out: infer it
  // as explain does for E0102 (same candidates, same order), within the
  // rounding of the printed size.
  if (b.size && (*device < b.size->min_bytes || *device > b.size->max_bytes)) {
    b.inferred_layouts =
        InferLayouts(shape, b.size->min_bytes, b.size->max_bytes);
    if (!b.inferred_layouts.empty()) {
      absl::StatusOr<Shape> inferred =
          ParseShape(b.inferred_layouts.front().shape);
      if (inferred.ok()) {
        absl::StatusOr<int64_t> bytes = XlaBytes(*inferred);
        if (bytes.ok()) {
          shape = *std::move(inferred);
          device = bytes;
          b.tile_inferred = true;
        }
      }
    }
  }
  b.shape = shape.ToString(true);
  b.device_bytes = *device;
  b.padding_bytes = *device - *logical;
  b.size_check = Check(b.size, b.device_bytes);
  b.unpadded_check = Check(b.unpadded_size, b.logical_bytes);
  // "Extra memory due to padding" is printed only when there is some; a
  // missing line is a claim of none.
  b.padding_check =
      b.padding ? Check(b.padding, b.padding_bytes) : SizeCheck::kNotPrinted;
  if (*b.padding_bytes <= 0) return;

  absl::StatusOr<ArraySizes> sizes = ComputeArraySizes(shape);
  if (sizes.ok()) {
    for (const DimSizeInfo& d : sizes->dims) {
      if (!d.tile || d.xla_padded_extent <= d.extent || d.extent <= 0) continue;
      PaddedDimension p;
      p.dim = d.dim;
      p.extent = d.extent;
      p.padded_extent = d.xla_padded_extent;
      p.tile = *d.tile;
      if (*device % d.xla_padded_extent == 0) {
        p.padding_bytes = *device - *device / d.xla_padded_extent * d.extent;
      }
      b.padded_dims.push_back(p);
    }
  }
  if (std::optional<OomRemedy> r = BestReorder(shape, *device)) {
    b.remedies.push_back(*std::move(r));
  }
  for (const PaddedDimension& p : b.padded_dims) {
    if (p.tile <= 0) continue;
    std::vector<int64_t> dims(shape.dimensions().begin(),
                              shape.dimensions().end());
    const int64_t down = p.extent / p.tile * p.tile;
    // Padding the dim itself to a multiple of the tile: the same bytes,
    // but every padded element becomes data.
    {
      Shape s = shape;
      std::vector<int64_t> up = dims;
      up[p.dim] = p.padded_extent;
      Shape padded = Shape::MakeArray(s.element_type(), up, s.layout());
      absl::StatusOr<int64_t> bytes = XlaBytes(padded);
      if (bytes.ok()) {
        OomRemedy r;
        r.kind = "pad_dim";
        r.shape = padded.ToString(true);
        r.device_bytes = *bytes;
        r.saved_bytes = *device - *bytes;
        r.text = absl::StrCat("dim ", p.dim, " (", p.extent, ") is padded to ",
                              p.padded_extent, " by the tile's ", p.tile,
                              ", costing ", WithCommas(p.padding_bytes),
                              " bytes: padding the dim to ", p.padded_extent,
                              " (a multiple of ", p.tile, ") uses the same ",
                              WithCommas(*bytes), " bytes with no padding");
        b.remedies.push_back(std::move(r));
      }
    }
    if (down > 0 && down < p.extent) {
      std::vector<int64_t> trimmed = dims;
      trimmed[p.dim] = down;
      Shape t = Shape::MakeArray(shape.element_type(), trimmed, shape.layout());
      absl::StatusOr<int64_t> bytes = XlaBytes(t);
      if (bytes.ok() && *bytes < *device) {
        OomRemedy r;
        r.kind = "trim_dim";
        r.shape = t.ToString(true);
        r.device_bytes = *bytes;
        r.saved_bytes = *device - *bytes;
        r.text = absl::StrCat("dim ", p.dim, " as ", down, " (the multiple of ",
                              p.tile, " below ", p.extent, ") needs ",
                              WithCommas(*bytes), " bytes, saves ",
                              WithCommas(r.saved_bytes));
        b.remedies.push_back(std::move(r));
      }
    }
  }
}

namespace {

// --- Report analysis ---------------------------------------------------------

void AnalyzeReport(OomReport& r) {
  r.buffers_sized = 0;
  r.device_bytes_total = r.logical_bytes_total = r.padding_bytes_total = 0;
  r.savable_bytes_total = 0;
  r.notes.clear();
  for (OomBuffer& b : r.buffers) {
    AnalyzeOomBuffer(b);
    if (!b.device_bytes || !b.logical_bytes) continue;
    ++r.buffers_sized;
    // Sums of int64 device sizes: checked, saturating at "does not fit".
    auto add = [](int64_t& total, int64_t v) {
      std::optional<int64_t> s = CheckedAdd(total, v);
      total = s ? *s : INT64_MAX;
    };
    add(r.device_bytes_total, *b.device_bytes);
    add(r.logical_bytes_total, *b.logical_bytes);
    add(r.padding_bytes_total, *b.padding_bytes);
    for (const OomRemedy& m : b.remedies) {
      if (m.kind == "reorder") add(r.savable_bytes_total, m.saved_bytes);
    }
  }
  if (r.allocation_bytes && r.kind == OomKind::kGpuAllocator) {
    r.used_check = Check(r.used, r.allocation_bytes);
  }
  if (r.allocation_bytes && r.kind != OomKind::kGpuAllocator) {
    for (const OomBuffer& b : r.buffers) {
      if (b.device_bytes == r.allocation_bytes) {
        r.notes.push_back(absl::StrCat("the allocation of ",
                                       WithCommas(*r.allocation_bytes),
                                       " bytes is the device size of buffer #",
                                       b.number, " (", b.shape, ")"));
        break;
      }
    }
  }
  if (r.kind == OomKind::kGpuAllocator && r.tensor_logical_bytes &&
      r.allocation_bytes) {
    // The BFC allocator rounds every request up to a multiple of 256 bytes.
    const int64_t rounded = (*r.tensor_logical_bytes + 255) / 256 * 256;
    r.notes.push_back(absl::StrCat(
        "tensor ", r.tensor_shape, ": ", WithCommas(*r.tensor_logical_bytes),
        " bytes; rounded up to a multiple of 256: ", WithCommas(rounded),
        rounded == *r.allocation_bytes ? " = " : " ≠ ", "the allocator's ",
        WithCommas(*r.allocation_bytes),
        rounded == *r.allocation_bytes
            ? ""
            : " (another request, or a different rounding)"));
  }
  if (r.buffers_sized > 0) {
    r.notes.push_back(absl::StrCat(
        "padding in the ", r.buffers_sized, " listed buffer",
        r.buffers_sized == 1 ? "" : "s", ": ",
        WithCommas(r.padding_bytes_total), " bytes (",
        HumanBytes(r.padding_bytes_total), ") of ",
        WithCommas(r.device_bytes_total), " device bytes; logical ",
        WithCommas(r.logical_bytes_total)));
    if (r.savable_bytes_total > 0) {
      std::string more;
      if (r.exceeded && r.savable_bytes_total >= r.exceeded->max_bytes) {
        more = absl::StrCat(", more than the ", r.exceeded->text, " by which ",
                            r.memory_space, " was exceeded");
      } else if (r.exceeded) {
        more = absl::StrCat(", less than the ", r.exceeded->text, " by which ",
                            r.memory_space, " was exceeded");
      }
      r.notes.push_back(absl::StrCat(
          "a dim order without padding saves ",
          WithCommas(r.savable_bytes_total), " bytes (",
          HumanBytes(r.savable_bytes_total), ") in these buffers", more));
    }
  }
}

// --- Line parsing -----------------------------------------------------------

// "Name: value" -> value, when `s` starts with `label`.
bool Field(absl::string_view s, absl::string_view label,
           absl::string_view* value) {
  if (!absl::StartsWith(s, label)) return false;
  *value = Trim(s.substr(label.size()));
  return true;
}

// The whitespace-free token starting at s[pos].
absl::string_view TokenAt(absl::string_view s, size_t pos) {
  if (pos >= s.size()) return {};
  size_t end = pos;
  while (end < s.size() &&
         !absl::ascii_isspace(static_cast<unsigned char>(s[end]))) {
    ++end;
  }
  return s.substr(pos, end - pos);
}

// A size token followed by optional punctuation: "21.95G." -> 21.95G.
std::optional<PrintedSize> SizeToken(absl::string_view token) {
  while (!token.empty() &&
         (token.back() == '.' || token.back() == ',' || token.back() == ';' ||
          token.back() == ')' || token.back() == ':')) {
    token.remove_suffix(1);
  }
  return ParsePrintedSize(token);
}

// The size that follows `key` in `s` ("Used " -> "21.95G").
std::optional<PrintedSize> SizeAfter(absl::string_view s,
                                     absl::string_view key) {
  size_t p = s.find(key);
  if (p == absl::string_view::npos) return std::nullopt;
  return SizeToken(TokenAt(s, p + key.size()));
}

std::optional<int64_t> IntAfter(absl::string_view s, absl::string_view key) {
  size_t p = s.find(key);
  if (p == absl::string_view::npos) return std::nullopt;
  p += key.size();
  size_t e = p;
  while (e < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[e])))
    ++e;
  int64_t v = 0;
  if (e == p || !absl::SimpleAtoi(s.substr(p, e - p), &v)) return std::nullopt;
  return v;
}

// "E1000: CompileTimeHbmOom" anywhere in `s`.
bool FindErrorCode(absl::string_view s, std::string* code, std::string* name) {
  for (absl::string_view n :
       {"CompileTimeHbmOom", "CompileTimeScopedVmemOom"}) {
    size_t p = s.find(n);
    if (p == absl::string_view::npos) continue;
    *name = std::string(n);
    // "E1000: " right before the name.
    absl::string_view before = Trim(s.substr(0, p));
    if (absl::EndsWith(before, ":")) before.remove_suffix(1);
    if (before.size() >= 5) {
      absl::string_view c = before.substr(before.size() - 5);
      if (c[0] == 'E' && std::all_of(c.begin() + 1, c.end(), [](char ch) {
            return absl::ascii_isdigit(static_cast<unsigned char>(ch));
          })) {
        *code = std::string(c);
      }
    }
    if (code->empty()) {
      // The name alone: the code XLA documents for it.
      *code = n == "CompileTimeHbmOom" ? "E1000" : "E1001";
      code->insert(0, "(");
      code->append(")");
    }
    return true;
  }
  return false;
}

// TensorFlow dtype names in "OOM when allocating tensor ... and type T".
std::optional<PrimitiveType> TfType(absl::string_view t) {
  struct Entry {
    absl::string_view name;
    PrimitiveType type;
  };
  static constexpr Entry kTypes[] = {
      {"float", PrimitiveType::kF32},       {"half", PrimitiveType::kF16},
      {"bfloat16", PrimitiveType::kBF16},   {"double", PrimitiveType::kF64},
      {"int8", PrimitiveType::kS8},         {"int16", PrimitiveType::kS16},
      {"int32", PrimitiveType::kS32},       {"int64", PrimitiveType::kS64},
      {"uint8", PrimitiveType::kU8},        {"uint16", PrimitiveType::kU16},
      {"uint32", PrimitiveType::kU32},      {"uint64", PrimitiveType::kU64},
      {"bool", PrimitiveType::kPred},       {"complex64", PrimitiveType::kC64},
      {"complex128", PrimitiveType::kC128},
  };
  for (const Entry& e : kTypes) {
    if (e.name == t) return e.type;
  }
  return std::nullopt;
}

// --- Fast search ------------------------------------------------------------

}  // namespace

namespace oom_internal {

namespace {

// Whether the "m....y" at p[i] can be the "memory" of "ut of memory",
// "exceed memory" or "memory in memory space" (what MayTrigger accepts);
// true where the context is cut off by the start or end of p.
bool MemoryContext(const char* p, size_t i, size_t n) {
  if (i < 2 || i + 8 >= n) return true;
  return (p[i - 1] == ' ' && (p[i - 2] == 'f' || p[i - 2] == 'd')) ||
         (p[i + 6] == ' ' && p[i + 7] == 'i' && p[i + 8] == 'n');
}

// The definition, for candidates at p[i, stop) in p[0, n); returns stop
// if there is none.
size_t FindCandidateScalar(const char* p, size_t i, size_t stop, size_t n,
                           int64_t* nl) {
  for (; i < stop; ++i) {
    const char c = p[i];
    if (c == '\n') {
      ++*nl;
    } else if (c == 'm' && i + 5 < n && p[i + 5] == 'y' &&
               MemoryContext(p, i, n)) {
      break;
    } else if (c == 'O' && i + 2 < n && (p[i + 2] == 'm' || p[i + 2] == 'M')) {
      break;
    }
  }
  return i;
}

#if defined(__SSE2__)
// The lanes of `memory` (an "m....y" at p[k]) whose context can start a
// report: "f " or "d " before, or " in" after. Reads p[-2] .. p[15 + 8].
// Out of line: it runs for few rounds, and the search loop keeps its
// registers.
[[gnu::noinline]] __m128i MemoryInContext(const char* p, __m128i memory) {
  auto load = [&](int at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
  };
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i l2 = load(-2);
  const __m128i before =
      _mm_and_si128(_mm_cmpeq_epi8(load(-1), space),
                    _mm_or_si128(_mm_cmpeq_epi8(l2, _mm_set1_epi8('f')),
                                 _mm_cmpeq_epi8(l2, _mm_set1_epi8('d'))));
  const __m128i after =
      _mm_and_si128(_mm_cmpeq_epi8(load(6), space),
                    _mm_and_si128(_mm_cmpeq_epi8(load(7), _mm_set1_epi8('i')),
                                  _mm_cmpeq_epi8(load(8), _mm_set1_epi8('n'))));
  return _mm_and_si128(memory, _mm_or_si128(before, after));
}
#endif

}  // namespace

size_t FindCandidate(const char* p, size_t n, int64_t* newlines) {
  int64_t nl = 0;
  // The first two positions have no left context: the scalar definition.
  size_t i = FindCandidateScalar(p, 0, std::min<size_t>(n, 2), n, &nl);
  if (i < std::min<size_t>(n, 2)) {
    *newlines += nl;
    return i;
  }
#if defined(__SSE2__)
  const __m128i m = _mm_set1_epi8('m');
  const __m128i y = _mm_set1_epi8('y');
  const __m128i o = _mm_set1_epi8('O');
  const __m128i big_m = _mm_set1_epi8('M');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  auto load = [&](size_t at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
  };
  // Newlines are counted per byte lane (0xff per match, subtracted), and
  // the lanes summed with SAD before any of them can wrap (255 rounds).
  __m128i lanes = zero;
  __m128i sums = zero;
  int rounds = 0;
  int hit_at = -1;
  auto flush = [&] {
    sums = _mm_add_epi64(sums, _mm_sad_epu8(lanes, zero));
    lanes = zero;
    rounds = 0;
  };
  // Lanes i .. i + 15 look at p[i - 2] .. p[i + 15 + 8].
  for (; i + 16 + 8 < n; i += 16) {
    const __m128i a = load(i);
    __m128i memory =
        _mm_and_si128(_mm_cmpeq_epi8(a, m), _mm_cmpeq_epi8(load(i + 5), y));
    const __m128i b = load(i + 2);
    const __m128i oom = _mm_and_si128(
        _mm_cmpeq_epi8(a, o),
        _mm_or_si128(_mm_cmpeq_epi8(b, m), _mm_cmpeq_epi8(b, big_m)));
    int hit = _mm_movemask_epi8(_mm_or_si128(memory, oom));
    if (hit != 0 && _mm_movemask_epi8(memory) != 0) {
      memory = MemoryInContext(p + i, memory);
      hit = _mm_movemask_epi8(_mm_or_si128(memory, oom));
    }
    if (hit != 0) {
      hit_at = __builtin_ctz(static_cast<unsigned>(hit));
      for (int k = 0; k < hit_at; ++k) nl += p[i + k] == '\n';
      break;
    }
    lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(a, lf));
    if (++rounds == 255) flush();
  }
  flush();
  nl += _mm_cvtsi128_si64(sums) +
        _mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
  if (hit_at >= 0) {
    *newlines += nl;
    return i + static_cast<size_t>(hit_at);
  }
#endif
  i = FindCandidateScalar(p, i, n, n, &nl);
  *newlines += nl;
  return i;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define XLAYOUT_OOM_AVX2 1
// FindCandidate on 32 bytes per round, for CPUs with AVX2 (chosen at run
// time: the build targets baseline x86-64).
// An unaligned 32-byte load, for the AVX2 search below (a lambda would not
// inherit its target).
__attribute__((target("avx2"))) inline __m256i Load256(const char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// MemoryInContext for 32 lanes.
[[gnu::noinline]] __attribute__((target("avx2"))) __m256i MemoryInContextAvx2(
    const char* p, __m256i memory) {
  const __m256i space = _mm256_set1_epi8(' ');
  const __m256i l2 = Load256(p - 2);
  const __m256i before = _mm256_and_si256(
      _mm256_cmpeq_epi8(Load256(p - 1), space),
      _mm256_or_si256(_mm256_cmpeq_epi8(l2, _mm256_set1_epi8('f')),
                      _mm256_cmpeq_epi8(l2, _mm256_set1_epi8('d'))));
  const __m256i after = _mm256_and_si256(
      _mm256_cmpeq_epi8(Load256(p + 6), space),
      _mm256_and_si256(
          _mm256_cmpeq_epi8(Load256(p + 7), _mm256_set1_epi8('i')),
          _mm256_cmpeq_epi8(Load256(p + 8), _mm256_set1_epi8('n'))));
  return _mm256_and_si256(memory, _mm256_or_si256(before, after));
}

__attribute__((target("avx2"))) size_t FindCandidateAvx2(const char* p,
                                                         size_t n,
                                                         int64_t* newlines) {
  int64_t nl = 0;
  size_t i = FindCandidateScalar(p, 0, std::min<size_t>(n, 2), n, &nl);
  if (i < std::min<size_t>(n, 2)) {
    *newlines += nl;
    return i;
  }
  const __m256i m = _mm256_set1_epi8('m');
  const __m256i y = _mm256_set1_epi8('y');
  const __m256i o = _mm256_set1_epi8('O');
  const __m256i big_m = _mm256_set1_epi8('M');
  const __m256i lf = _mm256_set1_epi8('\n');
  const __m256i zero = _mm256_setzero_si256();
  __m256i lanes = zero;
  __m256i sums = zero;
  int rounds = 0;
  int hit_at = -1;
  for (; i + 32 + 8 < n; i += 32) {
    const __m256i a = Load256(p + i);
    __m256i memory = _mm256_and_si256(_mm256_cmpeq_epi8(a, m),
                                      _mm256_cmpeq_epi8(Load256(p + i + 5), y));
    const __m256i b = Load256(p + i + 2);
    const __m256i oom = _mm256_and_si256(
        _mm256_cmpeq_epi8(a, o),
        _mm256_or_si256(_mm256_cmpeq_epi8(b, m), _mm256_cmpeq_epi8(b, big_m)));
    unsigned hit = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_or_si256(memory, oom)));
    if (hit != 0 && _mm256_movemask_epi8(memory) != 0) {
      memory = MemoryInContextAvx2(p + i, memory);
      hit = static_cast<unsigned>(
          _mm256_movemask_epi8(_mm256_or_si256(memory, oom)));
    }
    if (hit != 0) {
      hit_at = __builtin_ctz(hit);
      for (int k = 0; k < hit_at; ++k) nl += p[i + k] == '\n';
      break;
    }
    lanes = _mm256_sub_epi8(lanes, _mm256_cmpeq_epi8(a, lf));
    if (++rounds == 255) {
      sums = _mm256_add_epi64(sums, _mm256_sad_epu8(lanes, zero));
      lanes = zero;
      rounds = 0;
    }
  }
  sums = _mm256_add_epi64(sums, _mm256_sad_epu8(lanes, zero));
  alignas(32) int64_t parts[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(parts), sums);
  nl += parts[0] + parts[1] + parts[2] + parts[3];
  if (hit_at >= 0) {
    *newlines += nl;
    return i + static_cast<size_t>(hit_at);
  }
  i = FindCandidateScalar(p, i, n, n, &nl);
  *newlines += nl;
  return i;
}
#endif

size_t FindCandidateFast(const char* p, size_t n, int64_t* newlines) {
#if defined(XLAYOUT_OOM_AVX2)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return FindCandidateAvx2(p, n, newlines);
#endif
  return FindCandidate(p, n, newlines);
}

}  // namespace oom_internal

namespace {

using oom_internal::FindCandidateFast;

bool HasCandidate(absl::string_view s) {
  int64_t ignored = 0;
  return FindCandidateFast(s.data(), s.size(), &ignored) < s.size();
}

}  // namespace

// --- The scanner ------------------------------------------------------------

struct OomReportScanner::Impl {
  explicit Impl(ReportFn fn) : on_report(std::move(fn)) {}

  ReportFn on_report;
  int64_t bytes = 0;
  int64_t found = 0;
  int64_t line_no = 1;  // Line of the next byte.
  // The current line when a block ended inside it.
  std::string partial;
  int64_t partial_offset = 0;
  bool partial_candidate = false;
  std::string partial_end;  // Its last 5 bytes, for hits across blocks.

  // The open TPU report.
  std::optional<OomReport> report;
  bool items = false;
  int unknown = 0;  // Unrecognised lines since the last field.
  bool shape_open = false;
  std::string* free_text = nullptr;  // Operator / XLA label being wrapped.
  int free_lines = 0;
  // An error-code line seen just before a report: "E1000:
  // CompileTimeHbmOom:" printed on its own line.
  std::string pending_code, pending_name;
  int64_t pending_line = 0;
  // The last GPU report, open for its "OOM when allocating tensor" line.
  std::optional<OomReport> gpu;

  int64_t cur_line = 0;

  bool in_report() const { return report.has_value(); }

  void Emit(OomReport r) {
    AnalyzeReport(r);
    ++found;
    on_report(std::move(r));
  }

  void CloseReport() {
    if (report) {
      OomReport r = *std::move(report);
      report.reset();
      Emit(std::move(r));
    }
    items = false;
    unknown = 0;
    shape_open = false;
    free_text = nullptr;
  }

  void CloseGpu() {
    if (gpu) {
      OomReport r = *std::move(gpu);
      gpu.reset();
      Emit(std::move(r));
    }
  }

  void CloseAll() {
    // In input order: the GPU report was opened first if both are open.
    if (gpu && report && gpu->line > report->line) {
      CloseReport();
      CloseGpu();
    } else {
      CloseGpu();
      CloseReport();
    }
  }

  // One physical line (without '\n'); `offset` is its first byte.
  void Line(absl::string_view raw, int64_t line, int64_t offset) {
    if (raw.size() > kMaxLine) raw = raw.substr(0, kMaxLine);
    // Colour codes (a logger that colours each line of an error, a bold
    // size) are not part of the report: read the line without them.
    std::string clean;
    if (std::memchr(raw.data(), '\x1b', raw.size()) != nullptr) {
      std::vector<uint32_t> map;
      explain_internal::StripEscapes(raw, &clean, &map);
      raw = clean;
    }
    // (A report quoted on one line holds its trigger on that line too.)
    if (!report && !gpu && !MayStartReport(raw)) return;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    // A report quoted on one line (a Python repr, a JSON string): "\n"
    // escapes separate its lines.
    if (raw.find("\\n") != absl::string_view::npos) {
      size_t start = 0;
      std::string piece;
      while (true) {
        size_t e = raw.find("\\n", start);
        Unquote(raw.substr(start, e == absl::string_view::npos
                                      ? absl::string_view::npos
                                      : e - start),
                &piece);
        Piece(piece, line, offset);
        if (e == absl::string_view::npos) break;
        start = e + 2;
      }
      return;
    }
    Piece(raw, line, offset);
  }

  // A piece of a quoted report without the quoting's escapes: `\"`, `\'`
  // and `\\` are the character escaped (nested quoting too, so an
  // Operator's op_name="..." reads as XLA printed it), `\t` and `\r` are
  // whitespace, and a backslash left at the end (from `\\n` in nested
  // quoting) goes.
  static void Unquote(absl::string_view s, std::string* out) {
    out->clear();
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\') {
        out->push_back(s[i]);
        continue;
      }
      if (i + 1 == s.size()) break;
      const char n = s[i + 1];
      if (n == 't' || n == 'r') {
        out->push_back(' ');
        ++i;
      } else if (n != '"' && n != '\'' && n != '\\') {
        out->push_back(s[i]);
      }
    }
  }

  // Every line that can start a report holds one of these (the headers,
  // wrapped ones included, the error names, the GPU allocators' words, the
  // allocation line). Most candidate lines merely mention "memory": outside
  // a report they are dropped here, before any parsing.
  static bool MayStartReport(absl::string_view s) {
    for (size_t p = s.find('O'); p != absl::string_view::npos;
         p = s.find('O', p + 1)) {
      const absl::string_view next = s.substr(p + 1, 2);
      if (next == "OM" || next == "om") return true;
    }
    for (size_t p = s.find("memory"); p != absl::string_view::npos;
         p = s.find("memory", p + 1)) {
      const absl::string_view before = s.substr(0, p);
      if (absl::EndsWith(before, "ut of ") ||
          absl::EndsWith(before, "exceed ") ||
          absl::StartsWith(s.substr(p), "memory in memory space")) {
        return true;
      }
    }
    return false;
  }

  void Piece(absl::string_view raw, int64_t line, int64_t offset) {
    absl::string_view s = raw.substr(LogPrefixLength(raw));
    s = Trim(s);
    cur_line = line;
    if (gpu && line - gpu->line > kGpuAttachLines) CloseGpu();

    // The header, also when a wrap split it ("Ran out of memory in mem" /
    // "ory space hbm", or inside "Ran out of").
    if (IsTpuHeader(s)) {
      CloseReport();
      StartTpu(s, line, offset);
      return;
    }
    std::string code, name;
    if (FindErrorCode(s, &code, &name)) {
      if (report && report->error_name.empty()) {
        report->error_code = code;
        report->error_name = name;
      } else {
        pending_code = code;
        pending_name = name;
        pending_line = line;
      }
      return;
    }
    if (size_t p = s.find("ran out of memory trying to allocate ");
        p != absl::string_view::npos &&
        s.find("Allocator (") != absl::string_view::npos) {
      StartGpu(s, line, offset);
      gpu->used = SizeAfter(s, "trying to allocate ");
      gpu->allocation_bytes = IntAfter(s, "(rounded to ");
      if (size_t q = s.find("requested by op "); q != absl::string_view::npos) {
        gpu->op = Cut(TokenAt(s, q + 16), kMaxField);
      }
      return;
    }
    if (s.find("Out of memory while trying to allocate ") !=
        absl::string_view::npos) {
      StartGpu(s, line, offset);
      gpu->allocation_bytes = IntAfter(s, "trying to allocate ");
      gpu->memory_space = "gpu";
      return;
    }
    if (size_t p = s.find("OOM when allocating tensor with shape[");
        p != absl::string_view::npos) {
      AttachTensor(s, p, line, offset);
      return;
    }
    if (s.find("would exceed memory") != absl::string_view::npos &&
        s.find("Allocation (size=") != absl::string_view::npos) {
      if (!report) {
        OpenTpu(OomKind::kTpuAllocation, "", s, line, offset);
      }
      report->allocation_bytes = IntAfter(s, "Allocation (size=");
      report->memory_bytes = IntAfter(s, "would exceed memory (size=");
      unknown = 0;
      return;
    }
    if (!report) return;
    ReportLine(s);
  }

  void OpenTpu(OomKind kind, absl::string_view space, absl::string_view s,
               int64_t line, int64_t offset) {
    CloseGpu();  // Reports are handed over in input order.
    report.emplace();
    report->kind = kind;
    report->memory_space = std::string(space);
    report->header = Cut(s, kMaxField);
    report->line = line;
    report->offset = offset;
    if (!pending_name.empty() && line - pending_line <= 3) {
      report->error_code = pending_code;
      report->error_name = pending_name;
    }
    pending_code.clear();
    pending_name.clear();
    items = false;
    unknown = 0;
    shape_open = false;
    free_text = nullptr;
  }

  // XLA's "Ran out of memory in memory space S", or its start when a wrap
  // cut the line after "Ran out of memory", or its rest when the wrap was
  // inside "Ran out of". Other programs' "Ran out of memory while ..." is
  // not it.
  static bool IsTpuHeader(absl::string_view s) {
    if (s.find("memory in memory space ") != absl::string_view::npos) {
      return true;
    }
    static constexpr absl::string_view kHead = "Ran out of memory";
    static constexpr absl::string_view kTail = " in memory space ";
    size_t p = s.find(kHead);
    if (p == absl::string_view::npos) return false;
    absl::string_view rest = Trim(s.substr(p + kHead.size()));
    return rest.empty() || absl::StartsWith(kTail.substr(1), rest);
  }

  static absl::string_view Word(absl::string_view token) {
    while (!token.empty() &&
           !absl::ascii_isalnum(static_cast<unsigned char>(token.back()))) {
      token.remove_suffix(1);
    }
    return token;
  }

  void StartTpu(absl::string_view s, int64_t line, int64_t offset) {
    absl::string_view space;
    if (size_t p = s.find("memory space "); p != absl::string_view::npos) {
      space = Word(TokenAt(s, p + std::strlen("memory space ")));
    }
    OpenTpu(OomKind::kTpuMemorySpace, space, s, line, offset);
    std::string code, name;
    if (FindErrorCode(s, &code, &name)) {
      report->error_code = code;
      report->error_name = name;
    }
    HeaderFields(s);
  }

  void HeaderFields(absl::string_view s) {
    OomReport& r = *report;
    if (size_t u = s.find("Used "); u != absl::string_view::npos) {
      absl::string_view used = s.substr(u);
      if (auto v = SizeAfter(used, "Used ")) r.used = v;
      if (auto v = SizeAfter(used, " of ")) r.capacity = v;
      if (size_t of = used.find(" of ");
          r.memory_space.empty() && of != absl::string_view::npos) {
        // "Used X of Y hbm.": the space follows the capacity.
        absl::string_view rest = used.substr(of + 4);
        size_t sp = rest.find(' ');
        if (sp != absl::string_view::npos) {
          r.memory_space = std::string(Word(TokenAt(rest, sp + 1)));
        }
      }
    }
    if (auto v = SizeAfter(s, " capacity by ")) r.exceeded = v;
    if (s.find("Scoped allocation with size ") != absl::string_view::npos) {
      r.kind = OomKind::kTpuScopedVmem;
      r.used = SizeAfter(s, "Scoped allocation with size ");
      r.capacity = SizeAfter(s, " and limit ");
      r.exceeded = SizeAfter(s, " limit by ");
    }
    if (r.error_name == "CompileTimeScopedVmemOom") {
      r.kind = OomKind::kTpuScopedVmem;
    }
  }

  void StartGpu(absl::string_view s, int64_t line, int64_t offset) {
    CloseGpu();
    gpu.emplace();
    gpu->kind = OomKind::kGpuAllocator;
    gpu->header = Cut(s, kMaxField);
    gpu->line = line;
    gpu->offset = offset;
    if (size_t a = s.find("Allocator ("); a != absl::string_view::npos) {
      size_t e = s.find(')', a);
      if (e != absl::string_view::npos) {
        gpu->memory_space = Cut(s.substr(a + 11, e - a - 11), kMaxField);
      }
    }
  }

  void AttachTensor(absl::string_view s, size_t p, int64_t line,
                    int64_t offset) {
    p += std::strlen("OOM when allocating tensor with shape[");
    size_t close = s.find(']', p);
    if (close == absl::string_view::npos) return;
    std::vector<int64_t> dims;
    absl::string_view list = s.substr(p, close - p);
    bool ok = true;
    if (!list.empty()) {
      size_t start = 0;
      while (true) {
        size_t comma = list.find(',', start);
        absl::string_view d = Trim(list.substr(
            start, comma == absl::string_view::npos ? absl::string_view::npos
                                                    : comma - start));
        int64_t v = 0;
        if (!absl::SimpleAtoi(d, &v) || v < 0) {
          ok = false;
          break;
        }
        dims.push_back(v);
        if (comma == absl::string_view::npos) break;
        start = comma + 1;
      }
    }
    absl::string_view rest = s.substr(close + 1);
    absl::string_view type_name;
    if (size_t t = rest.find("and type "); t != absl::string_view::npos) {
      type_name = TokenAt(rest, t + 9);
    }
    std::string allocator;
    if (size_t a = rest.find("by allocator "); a != absl::string_view::npos) {
      allocator = std::string(TokenAt(rest, a + 13));
    }
    if (!gpu || (!allocator.empty() && !gpu->memory_space.empty() &&
                 allocator != gpu->memory_space)) {
      StartGpu(s, line, offset);
      gpu->memory_space = allocator;
    }
    std::optional<PrimitiveType> type = TfType(type_name);
    gpu->tensor_shape = absl::StrCat(
        type ? PrimitiveTypeName(*type) : absl::string_view(type_name), "[",
        absl::StrJoin(dims, ","), "]");
    if (ok && type) {
      std::optional<int64_t> n = int64_t{ByteWidth(*type)};
      for (int64_t d : dims) {
        if (n) n = CheckedMul(*n, d);
      }
      gpu->tensor_logical_bytes = n;
    }
    CloseGpu();
  }

  void ReportLine(absl::string_view s) {
    OomReport& r = *report;
    absl::string_view v;
    if (size_t p = s.find("Largest program allocations");
        p != absl::string_view::npos) {
      items = true;
      unknown = 0;
      if (r.memory_space.empty()) {
        if (size_t in = s.find(" in ", p); in != absl::string_view::npos) {
          r.memory_space = std::string(Word(TokenAt(s, in + 4)));
        }
      }
      return;
    }
    if (!items) {
      const bool known = s.empty() || absl::StrContains(s, "Used ") ||
                         absl::StrContains(s, "capacity by") ||
                         absl::StrContains(s, "Scoped allocation");
      if (known) {
        HeaderFields(s);
      } else if (++unknown > kMaxHeaderLines) {
        CloseReport();
      }
      return;
    }
    // "N. Size: X"
    size_t digits = 0;
    while (digits < s.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(s[digits]))) {
      ++digits;
    }
    if (digits > 0 && absl::StartsWith(s.substr(digits), ". Size:")) {
      if (r.buffers.size() >= kMaxBuffers) return;
      OomBuffer b;
      if (!absl::SimpleAtoi(s.substr(0, digits), &b.number)) b.number = 0;
      b.size = SizeToken(Trim(s.substr(digits + 7)));
      b.line = cur_line;
      r.buffers.push_back(std::move(b));
      FieldSeen();
      return;
    }
    if (r.buffers.empty()) {
      if (!s.empty() && ++unknown > kMaxHeaderLines) CloseReport();
      return;
    }
    OomBuffer& b = r.buffers.back();
    if (Field(s, "Shape:", &v)) {
      FieldSeen();
      b.shape_text = std::string(v);
      shape_open = !ShapeComplete(b.shape_text);
    } else if (Field(s, "Unpadded size:", &v)) {
      FieldSeen();
      b.unpadded_size = SizeToken(v);
    } else if (Field(s, "Extra memory due to padding:", &v)) {
      FieldSeen();
      b.padding = SizeToken(TokenAt(v, 0));
      size_t open = v.find('(');
      if (open != absl::string_view::npos) {
        b.expansion = Cut(TokenAt(v, open + 1), 32);
      }
    } else if (Field(s, "Operator:", &v)) {
      FieldSeen();
      b.operator_text = Cut(v, kMaxField);
      free_text = &b.operator_text;
    } else if (Field(s, "XLA label:", &v)) {
      FieldSeen();
      b.xla_label = Cut(v, kMaxField);
      free_text = &b.xla_label;
    } else if (Field(s, "Allocation type:", &v)) {
      FieldSeen();
      b.allocation_type = Cut(v, 64);
    } else if (absl::StartsWith(s, "====") || s.empty()) {
      shape_open = false;
      free_text = nullptr;
    } else if (shape_open ||
               (absl::StartsWith(s, "{") && !b.shape_text.empty() &&
                b.shape_text.find('{') == std::string::npos &&
                free_text == nullptr)) {
      // A shape wrapped over lines: whitespace is not significant in it.
      if (b.shape_text.size() < kMaxField) absl::StrAppend(&b.shape_text, s);
      shape_open = !ShapeComplete(b.shape_text);
    } else if (free_text != nullptr && free_lines < kMaxFreeTextLines) {
      ++free_lines;
      if (free_text->size() < kMaxField) {
        absl::StrAppend(free_text, " ", s);
        if (free_text->size() > kMaxField) free_text->resize(kMaxField);
      }
    } else {
      CloseReport();
    }
  }

  void FieldSeen() {
    unknown = 0;
    shape_open = false;
    free_text = nullptr;
    free_lines = 0;
  }

  static bool ShapeComplete(const std::string& text) {
    ShapeParseOptions options;
    options.fill_missing_layouts = false;
    return ParseShape(text, options).ok();
  }

  // --- Feeding ---------------------------------------------------------------

  void Feed(absl::string_view data) {
    bytes += static_cast<int64_t>(data.size());
    const int64_t base = bytes - static_cast<int64_t>(data.size());
    size_t pos = 0;
    const size_t n = data.size();
    if (!partial.empty() || partial_candidate) {
      const void* nlp = std::memchr(data.data(), '\n', n);
      const size_t e = nlp == nullptr
                           ? n
                           : static_cast<size_t>(static_cast<const char*>(nlp) -
                                                 data.data());
      absl::string_view piece = data.substr(0, e);
      std::string seam = partial_end;
      absl::StrAppend(&seam, piece.substr(0, 5));
      partial_candidate =
          partial_candidate || HasCandidate(seam) || HasCandidate(piece);
      if (partial.size() < kMaxLine) {
        absl::StrAppend(&partial, piece.substr(0, kMaxLine - partial.size()));
      }
      KeepEnd(piece);
      if (nlp == nullptr) return;
      if (partial_candidate || in_report()) {
        Line(partial, line_no, partial_offset);
      }
      ++line_no;
      partial.clear();
      partial_end.clear();
      partial_candidate = false;
      pos = e + 1;
    }
    // pos: the start of the current line (or earlier); from: where the
    // search for a candidate goes on.
    size_t from = pos;
    while (pos < n) {
      if (in_report()) {
        const void* nlp = std::memchr(data.data() + pos, '\n', n - pos);
        if (nlp == nullptr) {
          Stash(data.substr(pos), base + static_cast<int64_t>(pos), true);
          return;
        }
        const size_t e =
            static_cast<size_t>(static_cast<const char*>(nlp) - data.data());
        Line(data.substr(pos, e - pos), line_no,
             base + static_cast<int64_t>(pos));
        ++line_no;
        pos = from = e + 1;
        continue;
      }
      int64_t newlines = 0;
      const size_t hit =
          from + FindCandidateFast(data.data() + from, n - from, &newlines);
      line_no += newlines;
      if (hit < n && !MayTrigger(data, hit)) {
        // A "memory" that starts nothing (the usual case): look on, from
        // the same line.
        from = hit + 1;
        continue;
      }
      if (hit >= n) {
        // No candidate: keep the last line's start and end for the next
        // block.
        const void* last = memrchr(data.data() + pos, '\n', n - pos);
        const size_t start =
            last == nullptr
                ? pos
                : static_cast<size_t>(static_cast<const char*>(last) -
                                      data.data()) +
                      1;
        if (last == nullptr && pos > 0) {
          // pos is a line start already (after a handled line).
        }
        Stash(data.substr(start), base + static_cast<int64_t>(start), false);
        return;
      }
      // The line holding the candidate.
      const void* before =
          hit > pos ? memrchr(data.data() + pos, '\n', hit - pos) : nullptr;
      const size_t start =
          before == nullptr
              ? pos
              : static_cast<size_t>(static_cast<const char*>(before) -
                                    data.data()) +
                    1;
      const void* nlp = std::memchr(data.data() + hit, '\n', n - hit);
      if (nlp == nullptr) {
        Stash(data.substr(start), base + static_cast<int64_t>(start), true);
        return;
      }
      const size_t e =
          static_cast<size_t>(static_cast<const char*>(nlp) - data.data());
      Line(data.substr(start, e - start), line_no,
           base + static_cast<int64_t>(start));
      ++line_no;
      pos = from = e + 1;
    }
  }

  // Whether the candidate at data[at] ("O.m", "O.M" or "m....y") can be
  // part of a line that starts a report (see MayStartReport); true when the
  // block ends too close to tell.
  static bool MayTrigger(absl::string_view data, size_t at) {
    if (data[at] == 'O') {
      return at + 1 < data.size() &&
             (data[at + 1] == 'o' || data[at + 1] == 'O');
    }
    static constexpr absl::string_view kMemory = "memory";
    static constexpr absl::string_view kSpace = "memory in memory space";
    if (at + kSpace.size() > data.size() || at < 7) return true;
    if (data.substr(at, kMemory.size()) != kMemory) return false;
    const absl::string_view before = data.substr(0, at);
    return absl::EndsWith(before, "ut of ") ||
           absl::EndsWith(before, "exceed ") ||
           data.substr(at, kSpace.size()) == kSpace;
  }

  // Keeps the start (for parsing) and the end (for a candidate across the
  // next block boundary) of an unfinished line.
  void Stash(absl::string_view rest, int64_t offset, bool candidate) {
    partial.assign(rest.data(), std::min(rest.size(), kMaxLine));
    partial_offset = offset;
    partial_candidate = candidate;
    partial_end.clear();
    KeepEnd(rest);
    // An empty tail still needs a seam check only if it is non-empty.
    if (rest.empty()) partial_candidate = false;
  }

  void KeepEnd(absl::string_view piece) {
    if (piece.size() >= 5) {
      partial_end = std::string(piece.substr(piece.size() - 5));
    } else {
      absl::StrAppend(&partial_end, piece);
      if (partial_end.size() > 5) {
        partial_end.erase(0, partial_end.size() - 5);
      }
    }
  }

  void Finish() {
    if (!partial.empty() && (partial_candidate || in_report())) {
      Line(partial, line_no, partial_offset);
    }
    partial.clear();
    partial_end.clear();
    partial_candidate = false;
    CloseAll();
  }
};

OomReportScanner::OomReportScanner(ReportFn on_report)
    : impl_(std::make_unique<Impl>(std::move(on_report))) {}
OomReportScanner::~OomReportScanner() = default;
void OomReportScanner::Feed(absl::string_view data) { impl_->Feed(data); }
void OomReportScanner::Finish() { impl_->Finish(); }
int64_t OomReportScanner::bytes_scanned() const { return impl_->bytes; }
int64_t OomReportScanner::reports_found() const { return impl_->found; }

std::vector<OomReport> ScanOomReports(absl::string_view text) {
  std::vector<OomReport> out;
  OomReportScanner scanner([&](OomReport r) { out.push_back(std::move(r)); });
  scanner.Feed(text);
  scanner.Finish();
  return out;
}

// --- Grouping, text, JSON ---------------------------------------------------

namespace {

std::string SizeKey(const std::optional<PrintedSize>& s) {
  return s ? s->text : "-";
}

std::string ReportKey(const OomReport& r) {
  std::string key = absl::StrCat(
      OomKindName(r.kind), "|", r.memory_space, "|", r.error_code, "|",
      SizeKey(r.used), "|", SizeKey(r.capacity), "|", SizeKey(r.exceeded), "|",
      r.allocation_bytes.value_or(-1), "|", r.memory_bytes.value_or(-1), "|",
      r.tensor_shape, "|", r.op);
  for (const OomBuffer& b : r.buffers) {
    absl::StrAppend(&key, "|", b.number, ":", SizeKey(b.size), ":",
                    b.shape_text, ":", SizeKey(b.unpadded_size), ":",
                    SizeKey(b.padding));
  }
  return key;
}

}  // namespace

void OomReportCollector::Add(OomReport report, absl::string_view source) {
  ++messages_;
  auto [it, inserted] = index_.try_emplace(ReportKey(report), reports_.size());
  if (!inserted) {
    ++reports_[it->second].count;
    return;
  }
  report.source = std::string(source);
  report.count = 1;
  reports_.push_back(std::move(report));
}

namespace {

std::string Mark(SizeCheck c) {
  switch (c) {
    case SizeCheck::kMatch:
      return " ✓";
    case SizeCheck::kMismatch:
      return " ✗";
    default:
      return "";
  }
}

// "64.00M → 67,108,864 ✓"
std::string Checked(absl::string_view label,
                    const std::optional<PrintedSize>& printed,
                    const std::optional<int64_t>& exact, SizeCheck check) {
  if (!printed && !exact) return "";
  return absl::StrCat(label, " ",
                      printed ? EscapeAndTruncate(printed->text, 32)
                              : std::string("(not printed)"),
                      " → ", exact ? WithCommas(*exact) : std::string("?"),
                      Mark(check));
}

}  // namespace

std::vector<std::string> DescribeOomReport(const OomReport& r) {
  std::vector<std::string> out;
  std::string title;
  switch (r.kind) {
    case OomKind::kTpuMemorySpace:
      title = absl::StrCat("TPU out of memory in ",
                           EscapeAndTruncate(r.memory_space, 32));
      break;
    case OomKind::kTpuScopedVmem:
      title = "TPU scoped VMEM out of memory";
      break;
    case OomKind::kTpuAllocation:
      title = "TPU allocation would exceed memory";
      break;
    case OomKind::kGpuAllocator:
      title =
          absl::StrCat("GPU allocator ", EscapeAndTruncate(r.memory_space, 64),
                       " out of memory");
      break;
  }
  if (!r.error_code.empty()) {
    absl::StrAppend(&title, " — ", r.error_code, " ", r.error_name);
  }
  std::vector<std::string> meta;
  if (r.count > 1) meta.push_back(absl::StrCat(r.count, " identical reports"));
  if (!r.source.empty()) {
    meta.push_back(absl::StrCat(EscapeAndTruncate(r.source, 200), ":", r.line));
  }
  if (!meta.empty()) absl::StrAppend(&title, " · ", absl::StrJoin(meta, " · "));
  out.push_back(title);
  if (r.used || r.capacity || r.exceeded) {
    std::string l = "  ";
    if (r.used) {
      absl::StrAppend(&l,
                      r.kind == OomKind::kGpuAllocator ? "requested " : "used ",
                      EscapeAndTruncate(r.used->text, 32));
    }
    if (r.capacity) {
      absl::StrAppend(&l,
                      r.kind == OomKind::kTpuScopedVmem ? " of limit " : " of ",
                      EscapeAndTruncate(r.capacity->text, 32));
    }
    if (r.exceeded) {
      absl::StrAppend(&l, ", exceeded by ",
                      EscapeAndTruncate(r.exceeded->text, 32));
    }
    out.push_back(l);
  }
  if (r.allocation_bytes) {
    std::string l = absl::StrCat("  exact allocation ",
                                 WithCommas(*r.allocation_bytes), " bytes");
    if (r.memory_bytes) {
      absl::StrAppend(&l, " of memory ", WithCommas(*r.memory_bytes));
    }
    if (r.used_check != SizeCheck::kNotPrinted) {
      absl::StrAppend(&l, "; printed ", EscapeAndTruncate(r.used->text, 32),
                      Mark(r.used_check), " (", r.used->rule, ")");
    }
    out.push_back(l);
  }
  if (!r.op.empty())
    out.push_back(absl::StrCat("  op ", EscapeAndTruncate(r.op, 200)));
  for (const OomBuffer& b : r.buffers) {
    out.push_back(absl::StrCat(
        "  #", b.number, " ", EscapeAndTruncate(b.shape_text, 200),
        b.allocation_type.empty()
            ? ""
            : absl::StrCat("  (", EscapeAndTruncate(b.allocation_type, 64),
                           ")")));
    if (!b.error.empty()) {
      out.push_back(absl::StrCat("      ", EscapeAndTruncate(b.error, 200)));
      continue;
    }
    if (b.tile_inferred) {
      out.push_back(absl::StrCat(
          "      printed without its tiling; the size fits ",
          EscapeAndTruncate(b.shape, 200), " — ",
          EscapeAndTruncate(b.inferred_layouts.front().rule, 300)));
    } else if (b.size_check == SizeCheck::kMismatch) {
      out.push_back("      no TPU tiling reproduces the printed size");
    }
    std::vector<std::string> parts;
    for (std::string p :
         {Checked("size", b.size, b.device_bytes, b.size_check),
          Checked("unpadded", b.unpadded_size, b.logical_bytes,
                  b.unpadded_check),
          Checked("padding", b.padding, b.padding_bytes, b.padding_check)}) {
      if (!p.empty()) parts.push_back(std::move(p));
    }
    if (!b.expansion.empty()) {
      parts.push_back(absl::StrCat(
          "printed ", EscapeAndTruncate(b.expansion, 32), " expansion"));
    }
    out.push_back(absl::StrCat("      ", absl::StrJoin(parts, "   ")));
    if (b.size) out.push_back(absl::StrCat("      (", b.size->rule, ")"));
    for (const PaddedDimension& p : b.padded_dims) {
      out.push_back(absl::StrCat(
          "      dim ", p.dim, " (", p.extent, ") padded to ", p.padded_extent,
          " by tile ", p.tile, ": +", p.padded_extent - p.extent, " (",
          FormatFactor(static_cast<double>(p.padded_extent) /
                       static_cast<double>(p.extent)),
          "), ", WithCommas(p.padding_bytes), " bytes"));
    }
    for (const OomRemedy& m : b.remedies) {
      out.push_back(
          absl::StrCat("      fix: ", EscapeAndTruncate(m.text, 600)));
    }
  }
  for (const std::string& n : r.notes) {
    out.push_back(absl::StrCat("  ", EscapeAndTruncate(n, 600)));
  }
  return out;
}

namespace {

nlohmann::ordered_json SizeJson(const std::optional<PrintedSize>& s) {
  if (!s) return nullptr;
  nlohmann::ordered_json j;
  j["text"] = s->text;
  j["min_bytes"] = s->min_bytes;
  j["max_bytes"] = s->max_bytes;
  return j;
}

template <typename T>
nlohmann::ordered_json Opt(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json Str(const std::string& s) {
  // Input text may be any bytes: invalid UTF-8 becomes U+FFFD in the dump.
  return s.empty() ? nlohmann::ordered_json(nullptr)
                   : nlohmann::ordered_json(s);
}

}  // namespace

nlohmann::ordered_json OomReportToJson(const OomReport& r) {
  nlohmann::ordered_json j;
  j["kind"] = std::string(OomKindName(r.kind));
  j["memory_space"] = Str(r.memory_space);
  j["error_code"] = Str(r.error_code);
  j["error_name"] = Str(r.error_name);
  j["used"] = SizeJson(r.used);
  j["capacity"] = SizeJson(r.capacity);
  j["exceeded"] = SizeJson(r.exceeded);
  j["allocation_bytes"] = Opt(r.allocation_bytes);
  j["memory_bytes"] = Opt(r.memory_bytes);
  j["used_check"] = std::string(SizeCheckName(r.used_check));
  j["tensor_shape"] = Str(r.tensor_shape);
  j["tensor_logical_bytes"] = Opt(r.tensor_logical_bytes);
  j["op"] = Str(r.op);
  nlohmann::ordered_json buffers = nlohmann::ordered_json::array();
  for (const OomBuffer& b : r.buffers) {
    nlohmann::ordered_json o;
    o["number"] = b.number;
    o["shape_printed"] = Str(b.shape_text);
    o["shape"] = Str(b.shape);
    o["tile_inferred"] = b.tile_inferred;
    nlohmann::ordered_json inferred = nlohmann::ordered_json::array();
    for (const InferredLayout& l : b.inferred_layouts) {
      inferred.push_back({{"shape", l.shape}, {"rule", l.rule}});
    }
    o["inferred_layouts"] = std::move(inferred);
    o["size"] = SizeJson(b.size);
    o["unpadded_size"] = SizeJson(b.unpadded_size);
    o["padding"] = SizeJson(b.padding);
    o["expansion"] = Str(b.expansion);
    o["device_bytes"] = Opt(b.device_bytes);
    o["logical_bytes"] = Opt(b.logical_bytes);
    o["padding_bytes"] = Opt(b.padding_bytes);
    o["size_check"] = std::string(SizeCheckName(b.size_check));
    o["unpadded_check"] = std::string(SizeCheckName(b.unpadded_check));
    o["padding_check"] = std::string(SizeCheckName(b.padding_check));
    nlohmann::ordered_json dims = nlohmann::ordered_json::array();
    for (const PaddedDimension& p : b.padded_dims) {
      nlohmann::ordered_json d;
      d["dim"] = p.dim;
      d["extent"] = p.extent;
      d["padded_extent"] = p.padded_extent;
      d["tile"] = p.tile;
      d["padding_bytes"] = p.padding_bytes;
      dims.push_back(std::move(d));
    }
    o["padded_dims"] = std::move(dims);
    nlohmann::ordered_json remedies = nlohmann::ordered_json::array();
    for (const OomRemedy& m : b.remedies) {
      nlohmann::ordered_json d;
      d["kind"] = m.kind;
      d["shape"] = m.shape;
      d["device_bytes"] = m.device_bytes;
      d["saved_bytes"] = m.saved_bytes;
      d["text"] = m.text;
      remedies.push_back(std::move(d));
    }
    o["remedies"] = std::move(remedies);
    o["allocation_type"] = Str(b.allocation_type);
    o["operator"] = Str(b.operator_text);
    o["xla_label"] = Str(b.xla_label);
    o["error"] = Str(b.error);
    buffers.push_back(std::move(o));
  }
  j["buffers"] = std::move(buffers);
  nlohmann::ordered_json totals;
  totals["buffers_sized"] = r.buffers_sized;
  totals["device_bytes"] = r.device_bytes_total;
  totals["logical_bytes"] = r.logical_bytes_total;
  totals["padding_bytes"] = r.padding_bytes_total;
  totals["savable_bytes"] = r.savable_bytes_total;
  j["totals"] = std::move(totals);
  j["notes"] = r.notes;
  j["source"] = Str(r.source);
  j["line"] = r.line;
  j["count"] = r.count;
  return j;
}

namespace {

// The first bytes of binary data, at most `max_chars` characters: printable
// ASCII as is, a backslash doubled (so it never reads like an escape), any
// other byte as \xNN.
std::string BinaryExcerpt(absl::string_view data, size_t max_chars) {
  std::string out;
  size_t i = 0;
  for (; i < data.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    std::string unit;
    if (c == '\\') {
      unit = "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      unit.push_back(static_cast<char>(c));
    } else {
      unit = absl::StrFormat("\\x%02x", c);
    }
    if (out.size() + unit.size() > max_chars) break;
    out += unit;
  }
  if (i < data.size()) {
    absl::StrAppend(&out, "… (",
                    WithCommas(static_cast<int64_t>(data.size() - i)),
                    " more bytes)");
  }
  return out;
}

// INVALID_ARGUMENT when the first bytes of a log show it is not text
// (SniffLogHead): compressed data, UTF-16, or binary data such as an
// executable.
absl::Status CheckLooksLikeALog(const std::string& path,
                                absl::string_view head) {
  const LogHeadKind kind = SniffLogHead(head);
  if (kind == LogHeadKind::kText) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": not a text log (",
      kind == LogHeadKind::kUtf16
          ? "UTF-16 text; convert it with iconv -f UTF-16 -t UTF-8"
      : kind == LogHeadKind::kGzip
          ? "gzip data; decompress it, e.g. zcat FILE | xlayout explain -"
          : absl::StrCat("binary data: ",
                         BinaryExcerpt(head.substr(0, 64), 48)),
      ")"));
}

}  // namespace

absl::Status ScanFile(const std::string& path, LogScanner& scanner,
                      OomReportScanner& oom,
                      const std::function<void(int64_t)>& on_progress,
                      int64_t* leading_nul_bytes) {
  XLAYOUT_ASSIGN_OR_RETURN(
      io::InputFile file,
      io::InputFile::Open(path, {.allow_stdin = true, .allow_streams = true}));
  io::BlockReader reader(file);
  bool sniffed = false;
  int64_t nuls = 0;
  if (leading_nul_bytes != nullptr) *leading_nul_bytes = 0;
  while (true) {
    XLAYOUT_ASSIGN_OR_RETURN(absl::string_view block, reader.Next());
    if (block.empty()) break;
    if (!sniffed) {
      // A run of NULs at the start is what logrotate's copytruncate leaves
      // when the writer keeps its file offset: skipped (still fed, so
      // offsets stay true; NULs hold no message) and not judged.
      const size_t text = block.find_first_not_of('\0');
      if (text == absl::string_view::npos) {
        nuls += static_cast<int64_t>(block.size());
      } else {
        nuls += static_cast<int64_t>(text);
        // Binary input is refused from its first bytes: scanned, it can
        // only give bogus findings.
        sniffed = true;
        constexpr size_t kSniffBytes = 4096;
        const absl::string_view head = block.substr(text, kSniffBytes);
        if (absl::Status s = CheckLooksLikeALog(file.path(), head); !s.ok()) {
          return s;
        }
      }
      if (leading_nul_bytes != nullptr) *leading_nul_bytes = nuls;
    }
    scanner.Feed(block);
    oom.Feed(block);
    if (on_progress) on_progress(reader.bytes_read());
  }
  return absl::OkStatus();
}

}  // namespace xlayout
