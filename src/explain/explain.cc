// Diagnosis of program-input mismatches: recompute sizes, infer omitted TPU
// tilings, classify, name causes and print the fix.
#include "xlayout/explain.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "xlayout/format.h"
#include "xlayout/jax_layout.h"
#include "xlayout/layout.h"
#include "xlayout/memory_kind.h"
#include "xlayout/primitive_type.h"
#include "xlayout/shape_parser.h"
#include "xlayout/shape_proto_text.h"
#include "xlayout/sharding.h"
#include "xlayout/size.h"
#include "xlayout/validate.h"

namespace xlayout {

absl::string_view ClassificationName(Classification c) {
  switch (c) {
    case Classification::kLayout:
      return "layout";
    case Classification::kElementType:
      return "element_type";
    case Classification::kDims:
      return "dims";
    case Classification::kRank:
      return "rank";
    case Classification::kMemorySpace:
      return "memory_space";
    case Classification::kUnknown:
      return "unknown";
    case Classification::kInvalidBuffer:
      return "invalid_buffer";
    case Classification::kMalformedLayout:
      return "malformed_layout";
  }
  return "unknown";
}

namespace {

// --- Text helpers -----------------------------------------------------------

// Numbers, ratios and tilings are printed by the shared formatters
// (xlayout/format.h: WithCommas, FormatFactor; layout.h: TilesToString) and
// memory kinds by MemoryKindMap, so the CLI and the library agree.

// "5/16": a/b reduced.
std::string Fraction(int64_t a, int64_t b) {
  if (b == 0) return absl::StrCat(a, "/0");
  int64_t g = std::gcd(a, b);
  if (g == 0) g = 1;
  return absl::StrCat(a / g, "/", b / g);
}

std::string Ordinal(size_t j) {
  static const char* const kNames[] = {"minor-most", "second-minor",
                                       "third-minor", "fourth-minor",
                                       "fifth-minor"};
  if (j < 5) return kNames[j];
  return absl::StrCat(j + 1, "th-minor");
}

std::string TilesText(const Layout& layout) {
  return layout.tiles().empty() ? "no tiling" : TilesToString(layout);
}

std::string M2mText(const Layout& layout) {
  return absl::StrCat("{", absl::StrJoin(layout.minor_to_major(), ","), "}");
}

// XLA's default kinds (0 device, 1 alternate, 5 pinned_host), "S(n)"
// otherwise: the one memory-kind namer.
std::string MemoryKindName(int64_t space) {
  return MemoryKindMap().KindOf(space);
}

// --- Causes and steps, in the terms of XLA's E0102 doc ----------------------

constexpr absl::string_view kCauseConfig =
    "Checkpoint and XLA configuration mismatch: the buffer was produced (a "
    "restored checkpoint or an exported model) under another XLA version or "
    "configuration (XLA flags, defaults, model code) than the program that "
    "runs now, which expects a different physical layout";
constexpr absl::string_view kCauseTopology =
    "Hardware/topology-specific layouts: XLA chooses layouts per TPU "
    "generation and slice topology (e.g. v4 vs v5, 4x4x4 vs 4x8); the program "
    "was compiled for one topology and runs on another, or the compiler's "
    "layout logic has a bug for this hardware";
constexpr absl::string_view kCauseLayoutBug =
    "A compiler or runtime layout bug: the printed size cannot be derived "
    "from the printed shape by any documented tiling";
constexpr absl::string_view kStepFlags =
    "Compare XLA_FLAGS, LIBTPU_INIT_ARGS and the jax, jaxlib and libtpu "
    "versions of the run that produced the buffer with this run";
constexpr absl::string_view kStepTopology =
    "Compare the TPU type and topology of both runs (jax.devices(), slice "
    "shape)";
constexpr absl::string_view kStepReexport =
    "Re-export the model (or re-save the checkpoint) with the same code and "
    "configuration that runs it now";

// --- Shapes -----------------------------------------------------------------

struct Side {
  SideReport report;
  std::optional<Shape> printed;    // As parsed, layout only if printed.
  std::optional<Shape> effective;  // Printed, or the best inferred layout.
  bool inferred = false;
  std::string inferred_rule;
  // The side was printed without a tiling and untiled storage reproduces its
  // printed size, but so do tilings, and the other side is tiled (a TPU
  // buffer): its layout was taken from the other side's tiling
  // (same_tiling), or it is unknown (tiling_unknown).
  bool omitted_tiling = false;
  bool same_tiling = false;
  bool tiling_unknown = false;
  // Bytes of dynamic-shape metadata (4 per dim) the printed size includes, as
  // XLA's CPU and GPU runtimes add for a dynamic shape; 0 if none.
  int64_t dynamic_metadata = 0;
};

bool Is16Bit(PrimitiveType t) { return BitWidth(t) == 16; }
bool Is8BitStorage(PrimitiveType t) {
  return BitWidth(t) == 8 || t == PrimitiveType::kPred;
}

std::vector<std::pair<Shape, std::string>> Candidates(const Shape& shape) {
  std::vector<std::pair<Shape, std::string>> out;
  Layout base =
      shape.has_layout() ? shape.layout() : DefaultLayout(shape.rank());
  const bool had_tiles = !base.tiles().empty();
  base.mutable_tiles()->clear();
  auto make = [&](std::vector<Tile> tiles, std::string rule) {
    Shape s = shape;
    Layout l = base;
    *l.mutable_tiles() = std::move(tiles);
    s.set_layout(std::move(l));
    out.emplace_back(std::move(s), std::move(rule));
  };
  const PrimitiveType type = shape.element_type();
  const int rank = shape.rank();
  if (rank >= 2) {
    const int64_t second_minor = shape.dimensions(base.minor_to_major(1));
    auto first = [&](Tile tile, std::string rule) {
      std::vector<Tile> tiles = {tile};
      if (Is16Bit(type)) {
        tiles.push_back(Tile({2, 1}));
        absl::StrAppend(&rule,
                        "; 16-bit types add the (2,1) sub-tile (two rows "
                        "packed into one 32-bit word)");
      } else if (Is8BitStorage(type)) {
        tiles.push_back(Tile({4, 1}));
        absl::StrAppend(&rule, "; 8-bit types add the (4,1) sub-tile");
      }
      make(std::move(tiles), std::move(rule));
    };
    const std::string sm = absl::StrCat(second_minor);
    if (second_minor <= 2) {
      first(Tile({2, 128}), absl::StrCat("small tile: the second-minor dim is ",
                                         sm, " (1–2), so TPU uses T(2,128)"));
    } else if (second_minor <= 4) {
      first(Tile({4, 128}), absl::StrCat("small tile: the second-minor dim is ",
                                         sm, " (3–4), so TPU uses T(4,128)"));
    }
    first(Tile({8, 128}), "TPU's default tile T(8,128)");
    if (second_minor > 2) {
      first(Tile({2, 128}),
            "small tile T(2,128) (documented for a second-minor dim of 1–2)");
    }
    if (second_minor > 4) {
      first(Tile({4, 128}),
            "small tile T(4,128) (documented for a second-minor dim of 3–4)");
    }
    first(Tile({1, 128}), "T(1,128), seen in real TPU dumps");
    if (Is16Bit(type)) {
      make({Tile({16, 128}), Tile({2, 1})},
           "T(16,128)(2,1), seen for 16-bit types");
    }
    if (Is8BitStorage(type)) {
      make({Tile({32, 128}), Tile({4, 1})},
           "T(32,128)(4,1), seen for 8-bit types");
    }
  } else {
    for (int64_t t : {1024, 512, 256, 128}) {
      make({Tile({t})},
           rank == 1 ? absl::StrCat("rank-1 arrays use a 1-D tile: T(", t, ")")
                     : absl::StrCat("a scalar occupies a whole 1-D tile: T(", t,
                                    ")"));
    }
  }
  if (had_tiles) make({}, "untiled (the logical size, as on CPU/GPU)");
  return out;
}

// A device buffer of a layout has XLA's size, ShapeUtil::ArraySize: the
// first tile level only ("We assume the sub-tiles won't cause additional
// padding", xla/shape_util.cc). It is what the runtime allocates and what
// E0102 compares and prints. A layout whose later tile levels pad needs
// more bytes (exact_bytes) than such a buffer has, so it cannot be the
// layout of a buffer of the printed size.
bool FitsDeviceBuffer(const Shape& shape) {
  absl::StatusOr<int64_t> xla = XlaBytes(shape);
  absl::StatusOr<int64_t> exact = ExactBytes(shape);
  return xla.ok() && exact.ok() && *xla == *exact;
}

// Candidates whose xla_bytes lie in [min_bytes, max_bytes] (one printed
// size: both equal; a rounded one, as OOM reports print: its interval).
std::vector<std::pair<Shape, std::string>> InferShapes(const Shape& shape,
                                                       int64_t min_bytes,
                                                       int64_t max_bytes) {
  std::vector<std::pair<Shape, std::string>> out;
  if (!shape.IsArray()) return out;
  for (auto& candidate : Candidates(shape)) {
    Shape& cand = candidate.first;
    std::string& rule = candidate.second;
    absl::StatusOr<int64_t> bytes = XlaBytes(cand);
    if (!bytes.ok() || *bytes < min_bytes || *bytes > max_bytes) continue;
    if (!FitsDeviceBuffer(cand)) {
      if (cand.layout().tiles().size() < 2) continue;
      // E.g. bf16 T(1,128)(2,1): the (2,1) sub-tile pads each 1-row tile to
      // 2 rows, twice the printed size. The first level alone is the layout
      // whose bytes are the printed ones.
      const Layout& l = cand.layout();
      std::string dropped;
      for (size_t i = 1; i < l.tiles().size(); ++i) {
        absl::StrAppend(&dropped, l.tiles()[i].ToString());
      }
      Layout first = l;
      first.mutable_tiles()->resize(1);
      cand.set_layout(std::move(first));
      if (!FitsDeviceBuffer(cand)) continue;
      rule = absl::StrCat(
          rule, "; without the sub-tile ", dropped,
          ", which would pad the first-level tile beyond the ", *bytes,
          " bytes a device buffer of this layout has (XLA sizes buffers by "
          "the first tile level)");
    }
    bool dup = std::any_of(out.begin(), out.end(),
                           [&](const auto& o) { return o.first == cand; });
    if (!dup) out.emplace_back(std::move(cand), std::move(rule));
  }
  return out;
}

Side BuildSide(const MismatchSide& in) {
  Side side;
  side.report.shape = in.shape_text;
  side.report.printed_bytes = in.bytes;
  side.report.memory_kind = in.memory_kind;
  side.report.buffer_count = in.buffer_count;
  if (in.shape.has_value() && in.shape->IsArray()) {
    side.report.element_type =
        std::string(PrimitiveTypeName(in.shape->element_type()));
  } else if (in.element_type.has_value()) {
    side.report.element_type = std::string(PrimitiveTypeName(*in.element_type));
  }
  if (!in.shape.has_value()) {
    side.report.error = in.shape_error;
    return side;
  }
  const std::optional<int64_t> printed = in.bytes;
  side.printed = *in.shape;
  // Show XLA's own print (identical for anything XLA printed, e.g. ", "
  // between tuple elements, which the scanner's whitespace removal drops).
  side.report.shape = in.shape->ToString(true);
  Shape full = *in.shape;
  if (full.IsArray() && !full.has_layout()) {
    full.set_layout(DefaultLayout(full.rank()));
  }
  // Text from a log may be any bytes: reject what XLA would reject (e.g. a
  // minor_to_major that is no permutation) before reasoning about it.
  if (absl::Status valid = ValidateShape(full); !valid.ok()) {
    side.report.error = absl::StrCat("invalid shape: ", valid.message());
    return side;
  }
  if (full.IsArray()) {
    side.report.layout_printed = in.layout_printed;
    absl::StatusOr<int64_t> bytes = XlaBytes(full);
    if (bytes.ok()) {
      side.report.recomputed_bytes = *bytes;
      // CPU/GPU runtimes size a dynamic (non-tuple) shape's buffer with one
      // int32 of metadata per dim after the data (GetByteSizeRequirement,
      // CpuExecutable::ShapeSizeBytes).
      const int64_t metadata = 4 * static_cast<int64_t>(full.rank());
      const std::vector<bool>& dynamic = full.dynamic_dimensions();
      if (printed.has_value() && *printed != *bytes &&
          std::find(dynamic.begin(), dynamic.end(), true) != dynamic.end() &&
          *printed == *bytes + metadata) {
        side.dynamic_metadata = metadata;
        side.report.recomputed_bytes = *bytes + metadata;
      }
    } else {
      side.report.error = std::string(bytes.status().message());
    }
  }
  side.effective = full;
  if (printed.has_value() && side.report.recomputed_bytes.has_value() &&
      *printed != *side.report.recomputed_bytes) {
    auto inferred = InferShapes(full, *printed, *printed);
    for (const auto& [s, rule] : inferred) {
      side.report.inferred_layouts.push_back({s.ToString(true), rule});
    }
    if (!inferred.empty()) {
      side.effective = inferred.front().first;
      side.inferred = true;
      side.inferred_rule = inferred.front().second;
    }
  }
  return side;
}

// A side printed without a tiling whose printed size untiled storage
// reproduces, while the other side is tiled (printed or inferred): on a TPU
// the buffer has a tiling the message left out, and other tilings may
// reproduce the same size. The other side's tiling is taken when it
// reproduces the size (inferred, like a tiling inferred from a size that
// untiled storage does not fit); when only other tilings do, the side's
// layout is unknown and no command may guess it.
void ResolveOmittedTiling(Side& s, const Side& other,
                          absl::string_view other_name) {
  if (!s.effective || !other.effective || !s.effective->IsArray() ||
      !other.effective->IsArray() || s.inferred || s.dynamic_metadata > 0) {
    return;
  }
  if (!s.report.printed_bytes ||
      s.report.recomputed_bytes != s.report.printed_bytes) {
    return;
  }
  const Layout& own = s.effective->layout();
  const Layout& theirs = other.effective->layout();
  if (!own.tiles().empty() || theirs.tiles().empty()) return;
  const int64_t bytes = *s.report.printed_bytes;
  std::vector<std::pair<Shape, std::string>> fits;
  Shape same = *s.effective;
  Layout same_layout = own;
  same_layout.mutable_tiles()->assign(theirs.tiles().begin(),
                                      theirs.tiles().end());
  same.set_layout(std::move(same_layout));
  absl::StatusOr<int64_t> same_bytes = XlaBytes(same);
  const bool same_fits =
      same_bytes.ok() && *same_bytes == bytes && FitsDeviceBuffer(same);
  if (same_fits) {
    fits.emplace_back(
        same, absl::StrCat("the ", other_name, " side's tiling ",
                           TilesToString(theirs),
                           ": a TPU buffer has a tiling the message leaves "
                           "out, and this one reproduces the printed size"));
  }
  for (auto& candidate : InferShapes(*s.effective, bytes, bytes)) {
    if (same_fits && candidate.first == same) continue;
    fits.push_back(std::move(candidate));
  }
  if (fits.empty()) return;  // Only untiled storage fits: as printed.
  fits.emplace_back(*s.effective,
                    "untiled, as printed (the logical size, as on CPU/GPU)");
  for (const auto& [shape, rule] : fits) {
    s.report.inferred_layouts.push_back({shape.ToString(true), rule});
  }
  s.omitted_tiling = true;
  if (same_fits) {
    s.effective = std::move(same);
    s.inferred = true;
    s.same_tiling = true;
    s.inferred_rule = fits.front().second;
  } else {
    s.tiling_unknown = true;
  }
}

// --- Classification ---------------------------------------------------------

bool IsX64Pair(PrimitiveType a, PrimitiveType b) {
  auto pair = [&](PrimitiveType x, PrimitiveType y) {
    return (a == x && b == y) || (a == y && b == x);
  };
  using P = PrimitiveType;
  return pair(P::kF64, P::kF32) || pair(P::kS64, P::kS32) ||
         pair(P::kU64, P::kU32) || pair(P::kC128, P::kC64);
}

void ElementTypeFacts(PrimitiveType expected, PrimitiveType actual,
                      Diagnosis* d) {
  d->details.push_back(absl::StrCat("element type: expected ",
                                    PrimitiveTypeName(expected), ", got ",
                                    PrimitiveTypeName(actual)));
  if (IsX64Pair(expected, actual)) {
    d->causes.push_back(absl::StrCat(
        "JAX's x64 mode differs: ", PrimitiveTypeName(expected), " vs ",
        PrimitiveTypeName(actual),
        " is the 64-bit/32-bit pair that jax_enable_x64 (JAX_ENABLE_X64) "
        "switches"));
    d->next_steps.push_back(
        "Compare jax_enable_x64 / JAX_ENABLE_X64 between the run that made "
        "the buffer (or exported the model) and this one");
  } else {
    d->causes.push_back(absl::StrCat(
        "dtype substitution: the buffer is ", PrimitiveTypeName(actual),
        " where the program expects ", PrimitiveTypeName(expected),
        " (a PJRT plugin or backend substituted the type, or a cast or "
        "mixed-precision policy changed)"));
    d->next_steps.push_back(absl::StrCat(
        "Cast the input to ", PrimitiveTypeName(expected),
        " before the call, or align the dtype/mixed-precision policy and "
        "plugin versions of both runs"));
  }
  d->causes.push_back(std::string(kCauseConfig));
}

void DimsFacts(const Shape& e, const Shape& a, Diagnosis* d) {
  bool halved = false;
  auto dim = [](const Shape& s, int i) {
    return absl::StrCat(s.is_dynamic_dimension(i) ? "<=" : "", s.dimensions(i));
  };
  for (int i = 0; i < e.rank(); ++i) {
    int64_t x = e.dimensions(i), y = a.dimensions(i);
    const bool dynamic = e.is_dynamic_dimension(i) || a.is_dynamic_dimension(i);
    if (x == y) {
      if (e.is_dynamic_dimension(i) != a.is_dynamic_dimension(i)) {
        d->details.push_back(absl::StrCat(
            "dim ", i, ": expected ", dim(e, i), ", got ", dim(a, i), " (",
            e.is_dynamic_dimension(i) ? "dynamic vs static"
                                      : "static vs dynamic",
            "): the program was compiled for a ",
            e.is_dynamic_dimension(i) ? "dynamic" : "static", " dim"));
      }
      continue;
    }
    std::string line =
        absl::StrCat("dim ", i, ": expected ", dim(e, i), ", got ", dim(a, i),
                     " (", Fraction(y, x), ")");
    if (dynamic) {
      absl::StrAppend(&line,
                      ": the bound of a dynamic dim differs (the program was "
                      "compiled for another bound)");
    } else if (x % 2 == 0 && y == x / 2) {  // Not y * 2: dims reach 2^62.
      absl::StrAppend(&line,
                      ": halved, as when the dim is sharded over twice as "
                      "many devices");
      halved = true;
    } else if (y % 2 == 0 && x == y / 2) {
      absl::StrAppend(&line,
                      ": doubled, as when the dim is sharded over half as "
                      "many devices");
      halved = true;
    } else if (i == 0 && y < x) {
      absl::StrAppend(&line, ": a smaller batch, e.g. a partial last batch");
    }
    d->details.push_back(std::move(line));
  }
  // Partition counts that explain the dims (sharding module, issue 14).
  ShardingChangeQuery q;
  q.expected_dims.assign(e.dimensions().begin(), e.dimensions().end());
  q.actual_dims.assign(a.dimensions().begin(), a.dimensions().end());
  if (std::optional<PartitionCountChange> c = InferPartitionCountChange(q)) {
    d->details.push_back(absl::StrCat("sharding: ", c->message));
    halved = true;
  }
  bool bound = false;
  for (int i = 0; i < e.rank(); ++i) {
    bound = bound || e.is_dynamic_dimension(i) || a.is_dynamic_dimension(i);
  }
  if (bound) {
    d->causes.push_back(
        "A dynamic dim's bound (or whether the dim is dynamic) differs from "
        "the one the program was compiled for: another padding bucket or "
        "maximum length, or a program compiled for static shapes");
  }
  d->causes.push_back(
      "The input's dims differ from those the program was compiled for: a "
      "different batch size or a partial last batch");
  if (halved) {
    d->causes.push_back(
        "A sharding change: the mesh, device count or partition spec differs, "
        "so each device holds a differently sized shard");
  }
  d->causes.push_back(std::string(kCauseConfig));
  d->next_steps.push_back(
      "Pad the last batch to the compiled size (or drop it), or recompile for "
      "the new dims");
  d->next_steps.push_back(
      "Compare the mesh, in_shardings/PartitionSpecs and device count of both "
      "runs");
}

void RankFacts(const Shape& e, const Shape& a, Diagnosis* d) {
  d->details.push_back(absl::StrCat("rank: expected ", e.rank(), " (",
                                    e.ToString(false), "), got ", a.rank(),
                                    " (", a.ToString(false), ")"));
  auto tail_equal = [](const Shape& longer, const Shape& shorter) {
    return longer.rank() == shorter.rank() + 1 &&
           std::equal(longer.dimensions().begin() + 1,
                      longer.dimensions().end(), shorter.dimensions().begin());
  };
  if (tail_equal(e, a)) {
    d->details.push_back(
        absl::StrCat("the buffer lacks the leading dim of ", e.dimensions(0),
                     ": a vmap/pmap or stacking axis was dropped"));
  } else if (tail_equal(a, e)) {
    d->details.push_back(absl::StrCat("the buffer has an extra leading dim of ",
                                      a.dimensions(0),
                                      ": a stacking or per-device axis"));
  } else {
    int64_t ne = 1, na = 1;
    for (int64_t x : e.dimensions()) ne *= x;
    for (int64_t x : a.dimensions()) na *= x;
    if (ne == na) {
      d->details.push_back(
          "same number of elements: a reshape, squeeze or flatten");
    }
  }
  d->causes.push_back(
      "The input was reshaped (an added, dropped or merged dim) relative to "
      "the program's parameter");
  d->causes.push_back(std::string(kCauseConfig));
  d->next_steps.push_back(
      "Reshape the input to the expected dims, or recompile for the new rank");
}

// Padding facts of one side: "dim 2 (40) is minor-most on the expected side
// and padded to 128 (3.2×)".
void PaddingFacts(const Shape& s, absl::string_view side, Diagnosis* d) {
  absl::StatusOr<ArraySizes> sizes = ComputeArraySizes(s);
  if (!sizes.ok()) return;
  const Layout& l = s.layout();
  bool any = false;
  for (const DimSizeInfo& info : sizes->dims) {
    if (info.xla_padded_extent <= info.extent || info.extent == 0) continue;
    size_t j = 0;
    while (j < l.minor_to_major().size() && l.minor_to_major(j) != info.dim) {
      ++j;
    }
    d->details.push_back(absl::StrCat(
        "dim ", info.dim, " (", info.extent, ") is ", Ordinal(j), " on the ",
        side, " side and padded to ", info.xla_padded_extent, " (",
        FormatFactor(static_cast<double>(info.xla_padded_extent) / info.extent),
        ")"));
    any = true;
  }
  // ArraySize treats dims the tile has beyond the rank as size 1 and pads
  // each to its tile dim: a scalar takes a whole tile.
  int64_t extra = 1;
  if (!l.tiles().empty() && l.tiles()[0].rank() > s.rank()) {
    const Tile& t = l.tiles()[0];
    for (int i = 0; i < t.rank() - s.rank(); ++i) {
      if (t.dimension(i) > 0) extra *= t.dimension(i);
    }
  }
  if (extra > 1) {
    d->details.push_back(absl::StrCat(
        "the ", side, " tile T", l.tiles()[0].ToString(), " covers ",
        l.tiles()[0].rank(), " dim(s) but the shape has rank ", s.rank(),
        ": the missing major dims count as 1 and are padded to the tile (",
        FormatFactor(static_cast<double>(extra)), ")"));
    any = true;
  }
  if (!any) {
    d->details.push_back(
        absl::StrCat("no dim is padded on the ", side, " side"));
  }
}

void LayoutFacts(const Side& e, const Side& a, Diagnosis* d) {
  const Shape& es = *e.effective;
  const Shape& as = *a.effective;
  const Layout& el = es.layout();
  const Layout& al = as.layout();
  if (el.minor_to_major() != al.minor_to_major()) {
    std::vector<std::string> moved;
    for (int i = 0; i < es.rank(); ++i) {
      auto pos = [&](const Layout& l) {
        return std::find(l.minor_to_major().begin(), l.minor_to_major().end(),
                         i) -
               l.minor_to_major().begin();
      };
      if (pos(el) != pos(al)) {
        moved.push_back(absl::StrCat(i, " (", es.dimensions(i), ")"));
      }
    }
    d->details.push_back(absl::StrCat(
        "minor_to_major ", M2mText(el), " expected, ", M2mText(al),
        " got: dims ", absl::StrJoin(moved, ", "),
        " moved; the minor-most dim is ", el.minor_to_major(0), " (",
        es.dimensions(el.minor_to_major(0)), ") on the expected side and ",
        al.minor_to_major(0), " (", as.dimensions(al.minor_to_major(0)),
        ") on the actual side"));
  } else {
    d->details.push_back(
        absl::StrCat("minor_to_major ", M2mText(el), " on both sides"));
  }
  const bool unknown = e.tiling_unknown || a.tiling_unknown;
  // Which sides' tilings come from the printed sizes alone.
  std::string inferred_note;
  if (e.same_tiling || a.same_tiling) {
    inferred_note =
        absl::StrCat(" (the ", e.same_tiling ? "expected" : "actual",
                     " side's inferred from its printed size)");
  }
  if (unknown) {
    const Side& u = e.tiling_unknown ? e : a;
    const char* un = e.tiling_unknown ? "expected" : "actual";
    const char* kn = e.tiling_unknown ? "actual" : "expected";
    const Layout& kl = e.tiling_unknown ? al : el;
    d->details.push_back(absl::StrCat(
        "tiling: ", TilesText(kl), " on the ", kn, " side; the ", un,
        " side's tiling is unknown: the message leaves it out and its printed "
        "size fits ",
        u.report.inferred_layouts.size(),
        " layouts (untiled storage and other tilings), not the ", kn,
        " side's"));
  } else if (el.tiles() != al.tiles()) {
    d->details.push_back(absl::StrCat("tiling changed: ", TilesText(el),
                                      " expected, ", TilesText(al), " got"));
  } else if (el.tiles().empty()) {
    d->details.push_back("no tiling on either side");
  } else {
    d->details.push_back(absl::StrCat("tiling ", TilesText(el),
                                      " on both sides", inferred_note));
  }
  if (!e.tiling_unknown) PaddingFacts(es, "expected", d);
  if (!a.tiling_unknown) PaddingFacts(as, "actual", d);
  absl::StatusOr<int64_t> eb = XlaBytes(es), ab = XlaBytes(as),
                          lb = LogicalBytes(es);
  if (!unknown && eb.ok() && ab.ok() && lb.ok() && *lb > 0) {
    d->details.push_back(
        absl::StrCat("padding factor: expected ",
                     FormatFactor(static_cast<double>(*eb) / *lb), ", actual ",
                     FormatFactor(static_cast<double>(*ab) / *lb),
                     " (logical size ", WithCommas(*lb), " bytes)"));
  }
  if (!unknown && eb.ok() && ab.ok() && *eb == *ab) {
    switch (d->kind) {
      case MessageKind::kHostShape:
      case MessageKind::kStrictLayout:
      case MessageKind::kJaxLayout:
      case MessageKind::kIncompatibleShape:
      case MessageKind::kTpuExecute:
      case MessageKind::kMosaicLayout:
      case MessageKind::kLayout:
        // These messages come from a check that compares the layouts
        // themselves, not XLA's size check.
        d->details.push_back(
            "both layouts need the same number of bytes: a size check alone "
            "would not catch this (this message's check compares the "
            "layouts); read in the other layout, the bytes would be in the "
            "wrong order");
        break;
      default:
        d->details.push_back(
            "both layouts need the same number of bytes: XLA's size check "
            "passes and the program would read the bytes in the wrong order");
    }
  }
  d->causes.push_back(std::string(kCauseConfig));
  d->causes.push_back(std::string(kCauseTopology));
  d->next_steps.push_back(std::string(kStepFlags));
  d->next_steps.push_back(std::string(kStepTopology));
  d->next_steps.push_back(std::string(kStepReexport));
  if (unknown) {
    // A guessed --shape would make relayout read the bytes in the wrong
    // order and silently permute the data.
    const char* un = e.tiling_unknown ? "expected" : "actual";
    const std::string unknown_tiling = ":<TILING>}";
    const std::string shape =
        a.tiling_unknown
            ? absl::StrCat(as.ToString(false),
                           M2mText(al).substr(0, M2mText(al).size() - 1),
                           unknown_tiling)
            : as.ToString(true);
    const std::string to =
        e.tiling_unknown
            ? absl::StrCat(M2mText(el).substr(0, M2mText(el).size() - 1),
                           unknown_tiling)
            : el.ToString();
    d->next_steps.push_back(absl::StrCat(
        "No relayout command: the ", un,
        " side's tiling is unknown (its printed size fits every layout "
        "listed for it above); confirm it first from the HLO dump "
        "(--xla_dump_to) or, in JAX, the array's format (x.format), then "
        "run xlayout relayout --shape '",
        shape, "' --to '", to,
        "' IN OUT with <TILING> replaced by the confirmed tiling; a wrong "
        "tiling permutes the data without an error"));
    if (e.inferred) {
      d->next_steps.push_back(
          "The expected layout was inferred (the message omits it); confirm "
          "it against the HLO dump (--xla_dump_to) too");
    }
    if (!e.tiling_unknown) {
      d->next_steps.push_back(
          "Or, for an array still on the device, let JAX convert it (it "
          "knows the array's layout) with the statement below");
      d->jax_fix = JaxDevicePutCode(el, "x", MemoryKindName(el.memory_space()));
    }
    return;
  }
  if (e.dynamic_metadata > 0 || a.dynamic_metadata > 0) {
    d->next_steps.push_back(
        "No relayout command: the printed sizes include dynamic-shape "
        "metadata, which xlayout relayout does not convert; relayout the "
        "data at the shapes' bounds and keep the metadata");
    return;
  }
  // The command must work on a buffer of the printed size: both layouts
  // must reproduce the printed sizes and fit a device buffer of them.
  auto fits = [](const Side& s, const Shape& shape) {
    absl::StatusOr<int64_t> xla = XlaBytes(shape);
    return FitsDeviceBuffer(shape) &&
           (!s.report.printed_bytes ||
            (xla.ok() && *xla == *s.report.printed_bytes));
  };
  if (!fits(e, es) || !fits(a, as)) {
    d->next_steps.push_back(absl::StrCat(
        "No relayout command: the ", fits(e, es) ? "actual" : "expected",
        " side's printed size does not match any layout xlayout can convert "
        "(see the sizes above); take the layout from the HLO dump "
        "(--xla_dump_to)"));
    return;
  }
  // Offered only once the command is known to exist.
  d->next_steps.push_back(
      "Or convert the buffer's bytes to the expected layout with the command "
      "below");
  if (e.inferred || a.inferred) {
    d->next_steps.push_back(
        "The layout in the command was inferred (the message omits it); "
        "confirm it against the HLO dump (--xla_dump_to) before converting");
  }
  d->fix_commands.push_back(absl::StrCat("xlayout relayout --shape '",
                                         as.ToString(true), "' --to '",
                                         el.ToString(), "' IN OUT"));
  d->jax_fix = JaxDevicePutCode(el, "x", MemoryKindName(el.memory_space()));
}

void SizesOnlyFacts(int64_t e, int64_t a, Diagnosis* d) {
  d->summary = "sizes only, no shapes";
  d->details.push_back(absl::StrCat(
      "this runtime prints sizes only: expected ", WithCommas(e),
      " bytes, got ", WithCommas(a),
      " bytes; actual/expected = ", Fraction(a, e),
      e > 0 ? absl::StrCat(" (", FormatFactor(static_cast<double>(a) / e), ")")
            : ""));
  for (int w : {8, 4, 2, 1}) {
    if (e % w == 0 && a % w == 0) {
      d->details.push_back(
          absl::StrCat("as ", w, "-byte elements: ", WithCommas(e / w),
                       " expected vs ", WithCommas(a / w), " given"));
    }
  }
  // CPU/GPU runtimes add 4 bytes per dim to a dynamic shape's buffer.
  const int64_t diff = e > a ? e - a : a - e;
  if (diff % 4 == 0 && diff / 4 >= 1 && diff / 4 <= 8) {
    d->details.push_back(absl::StrCat(
        "the sizes differ by ", diff, " bytes = 4 × ", diff / 4,
        ": the dynamic-shape metadata of a rank-", diff / 4,
        " array (one int32 per dim, which XLA's CPU and GPU runtimes add to a "
        "dynamic shape's buffer); the ",
        e > a ? "expected" : "actual",
        " side may be a dynamic (bounded) "
        "shape with the same data as a static shape on the other"));
    d->causes.push_back(absl::StrCat(
        "A dynamic shape against a static one: ",
        e > a ? "the program was compiled for a dynamic (bounded) shape and "
                "got a static array"
              : "the program was compiled for a static shape and got a "
                "dynamic (bounded) array",
        " whose data has the same size; the ", diff,
        " bytes are the dynamic-shape metadata"));
  }
  int64_t g = std::gcd(e, a);
  int64_t p = g ? a / g : a, q = g ? e / g : e;
  if ((p == 1 && q == 2) || (p == 2 && q == 1)) {
    d->details.push_back(
        "a factor of 2: the element width changed (f32 vs bf16/f16, or a "
        "64-bit vs 32-bit type under jax_enable_x64), or one dim was halved "
        "or doubled (a sharding change)");
  } else if ((p == 1 && q == 4) || (p == 4 && q == 1)) {
    d->details.push_back(
        "a factor of 4: the element width changed 4× (f32 vs an 8-bit type, "
        "f64 vs bf16/f16), or dims changed by 4× (sharding)");
  } else if (p > 0 && q > 0 && (p + 1 == q || q + 1 == p)) {
    d->details.push_back(absl::StrCat("ratio ", p, "/", q,
                                      ": one dim changed from ", q, "·k to ", p,
                                      "·k, e.g. a partial last batch of ", p,
                                      " where ", q, " were compiled for"));
  } else {
    d->details.push_back(
        "the ratio is no element-width change: the dims differ (batch size, "
        "sequence length or sharding)");
  }
  d->details.push_back(
      "CPU/GPU runtimes compare logical sizes (no tiling; a dynamic shape "
      "adds 4 bytes per dim), so a layout change alone cannot cause this "
      "message there");
  d->causes.push_back(
      "The input's dims or element type differ from the compiled parameter");
  d->causes.push_back(std::string(kCauseConfig));
  d->next_steps.push_back(
      "Print the argument's shape and dtype (x.shape, x.dtype) and compare "
      "with the compiled program's parameters (compiled.as_text() or "
      "`xlayout signature`)");
  d->next_steps.push_back(std::string(kStepFlags));
}

// A side whose printed size cannot be checked: its shape has no size XLA
// can compute (a tile whose size overflows, say).
bool Uncomputable(const Side& s) {
  return s.report.printed_bytes && !s.report.recomputed_bytes &&
         !s.report.error.empty();
}

void Consistency(const Side& s, absl::string_view name, Diagnosis* d) {
  const SideReport& r = s.report;
  if (Uncomputable(s)) {
    // Nothing confirms the printed size.
    d->consistent = false;
    d->details.push_back(absl::StrCat(
        "the ", name, " size ", WithCommas(*r.printed_bytes),
        " cannot be checked: no size can be computed for the printed shape ",
        r.shape, " (", r.error, ")"));
    return;
  }
  if (!r.printed_bytes || !r.recomputed_bytes) return;
  if (s.dynamic_metadata > 0) {
    d->details.push_back(absl::StrCat(
        "the ", name, " size ", WithCommas(*r.printed_bytes), " is ",
        WithCommas(*r.recomputed_bytes - s.dynamic_metadata),
        " bytes of data plus ", s.dynamic_metadata,
        " bytes of dynamic-shape metadata (4 bytes per dim, as XLA's CPU and "
        "GPU runtimes add to a dynamic shape's buffer)"));
  }
  if (s.omitted_tiling) {
    const std::string untiled = absl::StrCat(
        "the ", name, " shape ", r.shape,
        " is printed without a tiling; its printed ",
        WithCommas(*r.printed_bytes), " bytes fit untiled storage, ");
    if (s.same_tiling) {
      d->details.push_back(absl::StrCat(
          untiled, "and also ", r.inferred_layouts.front().shape,
          " with the other side's tiling, which a TPU buffer has: taken as "
          "that (inferred)",
          r.inferred_layouts.size() > 2
              ? absl::StrCat("; ", r.inferred_layouts.size() - 2,
                             " other tiling(s) fit too")
              : ""));
    } else {
      d->details.push_back(absl::StrCat(
          untiled, "and ", r.inferred_layouts.size() - 1, " tiling(s) (best ",
          r.inferred_layouts.front().shape,
          "), but not the other side's tiling: this side's tiling is "
          "unknown"));
    }
    return;
  }
  if (*r.printed_bytes == *r.recomputed_bytes) return;
  d->consistent = false;
  if (!r.inferred_layouts.empty()) {
    d->details.push_back(absl::StrCat(
        "the ", name, " shape ", r.shape, " is printed without the tiling the ",
        "device applied: it needs ", WithCommas(*r.recomputed_bytes),
        " bytes as printed, and the printed ", WithCommas(*r.printed_bytes),
        " bytes fit ", r.inferred_layouts.front().shape, " (",
        r.inferred_layouts.front().rule, ")",
        r.inferred_layouts.size() > 1
            ? absl::StrCat("; ", r.inferred_layouts.size() - 1,
                           " other candidate(s) fit too")
            : ""));
  } else {
    d->details.push_back(absl::StrCat(
        "the ", name, " size ", WithCommas(*r.printed_bytes),
        " cannot be derived from the printed shape ", r.shape, " (",
        WithCommas(*r.recomputed_bytes),
        " bytes) under any documented TPU tiling (T(8,128), T(4,128), "
        "T(2,128), T(1,128), 1-D tiles)"));
    d->causes.push_back(std::string(kCauseLayoutBug));
  }
}

void IdenticalShapesFacts(Diagnosis* d) {
  d->classification = Classification::kUnknown;
  d->summary = "identical shapes, different sizes";
  d->details.push_back(
      "both sides print the same shape and layout, yet the sizes differ");
  d->causes.push_back(std::string(kCauseLayoutBug));
  d->causes.push_back(std::string(kCauseConfig));
  d->next_steps.push_back(std::string(kStepFlags));
}

void ShapeFacts(const Side& e, const Side& a, Diagnosis* d) {
  if (Uncomputable(e) || Uncomputable(a)) {
    d->classification = Classification::kUnknown;
    d->summary = "a printed shape has no computable size";
    d->causes.push_back(std::string(kCauseLayoutBug));
    d->next_steps.push_back(std::string(kStepFlags));
    return;
  }
  const Shape& es = *e.effective;
  const Shape& as = *a.effective;
  if (es.IsTuple() || as.IsTuple() || !es.IsArray() || !as.IsArray()) {
    if (es == as) {
      // E.g. token[] against token[]: nothing printed differs.
      IdenticalShapesFacts(d);
      return;
    }
    if (SameLogicalShape(es, as)) {
      d->classification = Classification::kLayout;
      d->summary = "same logical shape, different physical layout";
      d->details.push_back("the tuples agree except in their layouts");
      d->causes.push_back(std::string(kCauseConfig));
      d->next_steps.push_back(std::string(kStepFlags));
    } else {
      d->classification = Classification::kUnknown;
      d->summary = "different tuple structure";
      d->details.push_back(absl::StrCat("expected ", es.ToString(false),
                                        ", got ", as.ToString(false)));
      d->causes.push_back(std::string(kCauseConfig));
    }
    return;
  }
  if (es.element_type() != as.element_type()) {
    d->classification = Classification::kElementType;
    d->summary = "different element type";
    ElementTypeFacts(es.element_type(), as.element_type(), d);
    if (es.dimensions() != as.dimensions()) {
      d->details.push_back(
          absl::StrCat("the dims differ too: ", es.ToString(false), " vs ",
                       as.ToString(false)));
    }
    return;
  }
  if (es.rank() != as.rank()) {
    d->classification = Classification::kRank;
    d->summary = "rank change";
    RankFacts(es, as, d);
    return;
  }
  if (!SameLogicalShape(es, as)) {
    d->classification = Classification::kDims;
    d->summary = "different dims";
    DimsFacts(es, as, d);
    return;
  }
  const Layout& el = es.layout();
  const Layout& al = as.layout();
  if (el.memory_space() != al.memory_space()) {
    const std::string want = MemoryKindName(el.memory_space());
    const std::string got = MemoryKindName(al.memory_space());
    // The kinds the S(n) numbers name (a message prints no kind of its own
    // here).
    if (d->expected.memory_kind.empty()) d->expected.memory_kind = want;
    if (d->actual.memory_kind.empty()) d->actual.memory_kind = got;
    const std::string memory_detail =
        absl::StrCat("memory space S(", el.memory_space(), ") '", want,
                     "' expected, S(", al.memory_space(), ") '", got, "' got");
    const std::string memory_cause =
        absl::StrCat("The array was placed in memory kind '", got,
                     "', the program was "
                     "compiled for '",
                     want,
                     "' (host offloading, device_put with a "
                     "memory_kind, or a sharding with another memory_kind)");
    const std::string memory_step = absl::StrCat(
        "Move the array to the memory kind the program expects: "
        "jax.device_put(x, x.sharding.with_memory_kind('",
        want, "')), or compile with matching memory kinds");
    Layout al_in_el_space = al;
    al_in_el_space.set_memory_space(el.memory_space());
    if (al_in_el_space == el) {
      // The layouts differ only in S(n).
      d->classification = Classification::kMemorySpace;
      d->summary = "memory space";
      d->details.push_back(memory_detail);
      d->causes.push_back(memory_cause);
      d->next_steps.push_back(memory_step);
      return;
    }
    // The physical layout differs too: every difference is reported, and
    // the conversion (whose JAX statement names the expected kind) comes
    // with the move.
    d->classification = Classification::kLayout;
    d->summary =
        "same logical shape, different physical layout and memory space";
    d->details.push_back(memory_detail);
    d->causes.push_back(memory_cause);
    d->next_steps.push_back(memory_step);
    LayoutFacts(e, a, d);
    return;
  }
  if (el == al) {
    IdenticalShapesFacts(d);
    return;
  }
  d->classification = Classification::kLayout;
  d->summary = "same logical shape, different physical layout";
  LayoutFacts(e, a, d);
}

std::optional<PrimitiveType> TypeFromEnumName(const std::string& name) {
  return PrimitiveTypeFromName(absl::AsciiStrToLower(name));
}

// One side of a JAX message: the aval (`float32[8,128]`) and, for the layout
// check, the layout repr, combined into one XLA shape. `AUTO` or `None`
// leave the layout unknown.
void JaxSide(const std::string& aval, const std::string& repr,
             MismatchSide* out) {
  out->shape_text = aval;
  absl::string_view a = aval;
  absl::ConsumePrefix(&a, "~");
  const size_t bracket = a.find('[');
  if (bracket == absl::string_view::npos || a.back() != ']') {
    out->shape_error = absl::StrCat("not a JAX shape: ", aval);
    return;
  }
  std::optional<PrimitiveType> type =
      PrimitiveTypeFromJaxDtype(a.substr(0, bracket));
  if (!type.has_value()) {
    out->shape_error =
        absl::StrCat("unknown JAX dtype '", a.substr(0, bracket), "'");
    return;
  }
  std::vector<int64_t> dims;
  absl::string_view inner = a.substr(bracket + 1, a.size() - bracket - 2);
  if (!inner.empty()) {
    for (absl::string_view d : absl::StrSplit(inner, ',')) {
      // Explicit-sharding avals print `8@x`: the axis is not part of the
      // shape.
      d = d.substr(0, d.find('@'));
      int64_t n = 0;
      if (!absl::SimpleAtoi(d, &n) || n < 0) {
        out->shape_error = absl::StrCat("bad dimension '", d, "' in ", aval);
        return;
      }
      dims.push_back(n);
    }
  }
  Shape shape(*type, std::move(dims));
  if (!repr.empty() && repr != "AUTO" && !absl::EndsWith(repr, ".AUTO") &&
      repr != "None") {
    absl::StatusOr<Layout> layout = ParseJaxLayout(repr);
    if (!layout.ok()) {
      out->shape_error =
          absl::StrCat("layout ", repr, ": ", layout.status().message());
      return;
    }
    shape.set_layout(*std::move(layout));
    out->layout_printed = true;
  }
  out->shape_text = shape.ToString(true);
  out->shape = std::move(shape);
}

// A Pallas TPU kernel's operand: XLA gave it another layout than the kernel
// was compiled for. It fails at compile time, so there is no buffer to
// convert; the fix is the layout XLA assigns to the operand.
void MosaicFacts(Diagnosis* d) {
  d->fix_commands.clear();
  d->jax_fix.clear();
  d->next_steps.clear();
  d->causes.clear();
  d->details.push_back(
      "expected is the layout the Mosaic kernel was compiled for, actual the "
      "layout XLA assigned to the operand");
  d->causes.push_back(
      "The operand reaches the Pallas TPU kernel (Mosaic custom call) in "
      "another layout than the kernel expects: XLA's layout assignment chose "
      "a different tiling (e.g. a 1-D tile T(128) against (8,128)) or dim "
      "order, often for small or rank-1 operands or in a framework that sets "
      "custom-call operand layouts itself (torch_xla)");
  d->next_steps.push_back(
      "Make the operand's layout the kernel's: reshape it to a shape whose "
      "default TPU tiling matches (e.g. 2-D with the last dim a multiple of "
      "128), or set the custom call's operand layout to the expected one");
  d->next_steps.push_back(
      "Report it to the framework that lowers the kernel (JAX Pallas, "
      "torch_xla) with the shapes above: the lowering should request the "
      "layout the kernel was compiled for");
}

// A deleted or donated buffer: not a layout problem.
void InvalidBufferFacts(const MismatchFact& m, Diagnosis* d) {
  d->classification = Classification::kInvalidBuffer;
  d->summary = "deleted or donated buffer";
  if (m.actual.shape.has_value()) {
    d->details.push_back(absl::StrCat(
        "the array ", m.actual.shape->ToString(false),
        " was deleted (explicitly, or by donating it to an earlier call) and "
        "then passed to a computation"));
  } else {
    d->details.push_back(absl::StrCat(
        "the buffer passed as argument ",
        m.parameter ? absl::StrCat(*m.parameter) : std::string("?"),
        m.replica ? absl::StrCat(" on replica ", *m.replica) : std::string(),
        m.actual.value.empty() ? std::string(" could not be used")
                               : absl::StrCat(" has been ", m.actual.value),
        "; its shape and layout are not the problem"));
  }
  d->causes.push_back(
      "Reuse after donation: the array was donated to an earlier call "
      "(jax.jit(..., donate_argnums=...) or donate_argnames, TF's buffer "
      "reuse) and its buffer now belongs to that call's output");
  d->causes.push_back(
      "The array was deleted explicitly (x.delete(), jax.clear_caches() or "
      "a framework that frees inputs) while still referenced");
  d->next_steps.push_back(
      "Use the output of the donating call in place of its donated input "
      "(state = step(state), never step(state) twice on the same state)");
  d->next_steps.push_back(
      "If the input is needed again, do not donate it (drop it from "
      "donate_argnums) or pass a copy (jnp.copy(x))");
}

// XLA's layout validation: a minor_to_major that does not fit the shape.
void MalformedLayoutFacts(const MismatchFact& m, Diagnosis* d) {
  d->classification = Classification::kMalformedLayout;
  d->summary = "malformed layout";
  const std::string& m2m = m.actual.value;
  int64_t entries = 0;
  if (m2m.size() > 2) {
    entries = 1 + std::count(m2m.begin(), m2m.end(), ',');
  }
  std::string rank = m.expected.value;
  if (m.actual.shape.has_value() && m.actual.shape->IsArray()) {
    const Shape& shape = *m.actual.shape;
    rank = absl::StrCat(shape.rank());
    std::string dims;
    for (int i = 0; i < shape.rank(); ++i) {
      absl::StrAppend(&dims, i == 0 ? "" : ", ", "dim ", i, " (",
                      shape.dimensions(i), ")");
    }
    d->details.push_back(absl::StrCat(
        "the shape ", shape.ToString(false), " has rank ", shape.rank(),
        shape.rank() > 0 ? absl::StrCat(": ", dims) : std::string()));
  }
  int64_t r = 0;
  const bool has_rank = absl::SimpleAtoi(rank, &r) && r >= 0;
  d->details.push_back(absl::StrCat(
      "its layout lists ", entries, entries == 1 ? " dim" : " dims",
      " in minor_to_major ", m2m.empty() ? "{}" : m2m, ", not ", rank,
      ": a layout needs one entry per dim, ",
      has_rank && r > 0 ? absl::StrCat("a permutation of 0..", r - 1)
                        : std::string("none for a scalar")));
  if (has_rank && r > 0 && r <= 64) {
    std::vector<int64_t> def;
    for (int64_t i = r - 1; i >= 0; --i) def.push_back(i);
    d->details.push_back(absl::StrCat("the default (row-major) layout is {",
                                      absl::StrJoin(def, ","), "}"));
  }
  if (entries == 0) {
    d->details.push_back(
        "an empty minor_to_major usually means the layout was never set: a "
        "ShapeProto written with `layout { }` (or only tiles) by a tool or an "
        "older serialiser, or a layout built for a scalar");
  }
  d->causes.push_back(
      "The shape's layout was built for another rank: a reshape that kept "
      "the old layout, or a hand-written or converted ShapeProto / layout "
      "string");
  d->causes.push_back(
      "A serialized program or checkpoint written by another XLA or "
      "framework version whose layout fields are missing or differ");
  d->next_steps.push_back(
      "Fix the layout at its source (the tool or code that wrote this "
      "shape), or drop the layout so XLA chooses the default one");
}

}  // namespace

std::vector<InferredLayout> InferLayouts(const Shape& shape,
                                         int64_t printed_bytes) {
  std::vector<InferredLayout> out;
  for (auto& [s, rule] : InferShapes(shape, printed_bytes, printed_bytes)) {
    out.push_back({s.ToString(true), rule});
  }
  return out;
}

std::vector<InferredLayout> InferLayouts(const Shape& shape, int64_t min_bytes,
                                         int64_t max_bytes) {
  std::vector<InferredLayout> out;
  for (auto& [s, rule] : InferShapes(shape, min_bytes, max_bytes)) {
    out.push_back({s.ToString(true), rule});
  }
  return out;
}

MismatchFact FactFromMessage(const ScannedMessage& m,
                             absl::string_view source_file) {
  MismatchFact f;
  f.kind = m.kind;
  f.program = m.program;
  f.parameter = m.parameter;
  f.parameter_name = m.parameter_name;
  f.dimension = m.dimension;
  f.replica = m.replica;
  f.partition = m.partition;
  f.error_code = m.error_code;
  f.source_file = std::string(source_file);
  f.source_line = m.line;
  f.source_offset = m.offset;
  f.message = m.text;
  auto side = [&](const std::string& text, std::optional<int64_t> bytes,
                  const std::string& value, MismatchSide* out) {
    out->shape_text = text;
    out->bytes = bytes;
    out->value = value;
    if (m.kind == MessageKind::kJaxLayout ||
        (m.kind == MessageKind::kInvalidBuffer && !text.empty())) {
      JaxSide(text, m.kind == MessageKind::kJaxLayout ? value : "", out);
      return;
    }
    if (m.kind == MessageKind::kMosaicLayout && !text.empty()) {
      // The shape is printed without a layout and the layout on its own.
      ShapeParseOptions options;
      options.fill_missing_layouts = false;
      absl::StatusOr<Shape> parsed = ParseShape(text, options);
      absl::StatusOr<Layout> layout = ParseLayout(value);
      if (!parsed.ok()) {
        out->shape_error = std::string(parsed.status().message());
      } else if (!layout.ok()) {
        out->shape_error =
            absl::StrCat("layout ", value, ": ", layout.status().message());
      } else {
        parsed->set_layout(*layout);
        out->layout = *std::move(layout);
        out->layout_printed = true;
        out->shape_text = parsed->ToString(true);
        out->shape = *std::move(parsed);
      }
      return;
    }
    if (absl::StartsWith(text, "element_type")) {
      // TPUExecute and XLA's layout validation print ShapeProto text.
      absl::StatusOr<Shape> parsed = ParseShapeProtoText(text);
      if (parsed.ok()) {
        out->layout_printed = parsed->has_layout();
        out->shape = *std::move(parsed);
        out->shape_text = out->shape->ToString(true);
      } else {
        out->shape_error = std::string(parsed.status().message());
      }
      return;
    }
    if (!text.empty()) {
      ShapeParseOptions options;
      options.fill_missing_layouts = false;
      absl::StatusOr<Shape> parsed = ParseShape(text, options);
      if (parsed.ok()) {
        out->shape = *std::move(parsed);
        size_t bracket = text.rfind(']');
        out->layout_printed = bracket != std::string::npos &&
                              text.find('{', bracket) != std::string::npos;
      } else {
        out->shape_error = std::string(parsed.status().message());
      }
    }
    if (value.empty()) return;
    int64_t n = 0;
    switch (m.kind) {
      case MessageKind::kElementType:
        out->element_type = TypeFromEnumName(value);
        break;
      case MessageKind::kRank:
        if (absl::SimpleAtoi(value, &n)) out->rank = n;
        break;
      case MessageKind::kLayout:
        if (absl::StatusOr<Layout> l = ParseLayout(value); l.ok()) {
          out->layout = *std::move(l);
        }
        break;
      case MessageKind::kDynamicDimension:
        if (absl::SimpleAtoi(value, &n)) out->dimension_size = n;
        break;
      case MessageKind::kBufferCount:
        if (absl::SimpleAtoi(value, &n)) out->buffer_count = n;
        break;
      case MessageKind::kMemorySpace:
        out->memory_kind = value;
        break;
      default:
        break;
    }
  };
  side(m.expected_shape, m.expected_bytes, m.expected_value, &f.expected);
  side(m.actual_shape, m.actual_bytes, m.actual_value, &f.actual);
  return f;
}

Diagnosis Diagnose(const ScannedMessage& m) {
  return Diagnose(FactFromMessage(m));
}

namespace {

Diagnosis DiagnoseOnce(const MismatchFact& m);

// Drops repeated lines (e.g. the same cause found for both sides), keeping
// the first of each.
void DropRepeats(std::vector<std::string>* lines) {
  std::vector<std::string> out;
  for (std::string& l : *lines) {
    if (std::find(out.begin(), out.end(), l) == out.end()) {
      out.push_back(std::move(l));
    }
  }
  *lines = std::move(out);
}

}  // namespace

Diagnosis Diagnose(const MismatchFact& m) {
  Diagnosis d = DiagnoseOnce(m);
  DropRepeats(&d.details);
  DropRepeats(&d.causes);
  DropRepeats(&d.next_steps);
  return d;
}

namespace {

Diagnosis DiagnoseOnce(const MismatchFact& m) {
  Diagnosis d;
  d.kind = m.kind;
  d.program = m.program;
  d.parameter = m.parameter;
  d.parameter_name = m.parameter_name;
  d.replica = m.replica;
  d.partition = m.partition;
  d.expected_value = m.expected.value;
  d.actual_value = m.actual.value;
  d.dimension = m.dimension;
  d.error_code = m.error_code;
  d.message = m.message;
  Side e = BuildSide(m.expected);
  Side a = BuildSide(m.actual);
  if (!m.layouts_complete) {
    ResolveOmittedTiling(e, a, "actual");
    ResolveOmittedTiling(a, e, "expected");
  }
  d.expected = e.report;
  d.actual = a.report;

  switch (m.kind) {
    case MessageKind::kMemorySpace:
      d.classification = Classification::kMemorySpace;
      d.summary = "memory space";
      d.details.push_back(
          absl::StrCat("the buffer for parameter ", m.parameter.value_or(-1),
                       " is in memory space '", m.actual.memory_kind,
                       "', not the one the program was compiled for"));
      if (!m.expected.memory_kind.empty()) {
        d.details.push_back(absl::StrCat("memory kind: expected '",
                                         m.expected.memory_kind, "', got '",
                                         m.actual.memory_kind, "'"));
      }
      d.causes.push_back(absl::StrCat(
          "The array was placed in memory kind '", m.actual.memory_kind,
          "', not the one the program was compiled for (host offloading, "
          "device_put with a memory_kind, or a sharding with another "
          "memory_kind)"));
      d.next_steps.push_back(
          "Move the array first: jax.device_put(x, "
          "x.sharding.with_memory_kind('device')), or compile with "
          "in_shardings "
          "whose memory kinds match the arguments");
      return d;
    case MessageKind::kElementType: {
      d.classification = Classification::kElementType;
      d.summary = "different element type";
      const std::optional<PrimitiveType>& et = m.expected.element_type;
      const std::optional<PrimitiveType>& at = m.actual.element_type;
      if (et && at) {
        ElementTypeFacts(*et, *at, &d);
      } else {
        d.details.push_back(absl::StrCat("element type: expected ",
                                         m.expected.value, ", got ",
                                         m.actual.value));
        d.causes.push_back(std::string(kCauseConfig));
      }
      return d;
    }
    case MessageKind::kRank:
      d.classification = Classification::kRank;
      d.summary = "rank change";
      d.details.push_back(absl::StrCat("rank: expected ", m.expected.value,
                                       ", got ", m.actual.value));
      d.causes.push_back(
          "The input was reshaped (an added, dropped or merged dim) relative "
          "to the program's parameter");
      d.causes.push_back(std::string(kCauseConfig));
      return d;
    case MessageKind::kLayout:
      d.classification = Classification::kLayout;
      d.summary = "same logical shape, different physical layout";
      d.details.push_back(absl::StrCat("layout: expected ", m.expected.value,
                                       ", got ", m.actual.value));
      d.causes.push_back(std::string(kCauseConfig));
      d.causes.push_back(std::string(kCauseTopology));
      d.next_steps.push_back(std::string(kStepFlags));
      d.next_steps.push_back(std::string(kStepReexport));
      d.next_steps.push_back(
          "Convert with `xlayout relayout --shape '<shape with the got "
          "layout>' --to '" +
          m.expected.value + "' IN OUT` (this message omits the dims)");
      return d;
    case MessageKind::kDynamicDimension:
      d.classification = Classification::kDims;
      d.summary = "different dims";
      d.details.push_back(absl::StrCat(
          "dim ", m.dimension.value_or(-1), ": runtime size ", m.actual.value,
          " exceeds the compiled bound <= ", m.expected.value));
      d.causes.push_back(
          "The input is larger than the dynamic-dimension bound the program "
          "was compiled with (batch or sequence length grew)");
      d.next_steps.push_back(
          "Recompile with a larger bound, or split/pad the input to the bound");
      return d;
    case MessageKind::kBufferCount:
      d.classification = Classification::kUnknown;
      d.summary = "wrong number of buffers";
      d.details.push_back(absl::StrCat("the program expects ", m.expected.value,
                                       " buffers per device, the call gave ",
                                       m.actual.value));
      d.causes.push_back(
          "The call passes a different number of arrays than the program "
          "takes: a pytree with extra or missing leaves, pruned unused "
          "arguments, or a program from another version of the code");
      d.next_steps.push_back(
          "Compare the flattened arguments (jax.tree_util.tree_leaves) with "
          "the compiled program's parameters");
      return d;
    case MessageKind::kSizeNoShapes:
      d.classification = Classification::kUnknown;
      if (m.expected.bytes && m.actual.bytes) {
        SizesOnlyFacts(*m.expected.bytes, *m.actual.bytes, &d);
      }
      return d;
    case MessageKind::kInvalidBuffer:
      InvalidBufferFacts(m, &d);
      return d;
    case MessageKind::kMalformedLayout:
      MalformedLayoutFacts(m, &d);
      return d;
    case MessageKind::kTpuExecute:
      if (!m.actual.value.empty()) {
        d.classification = Classification::kDims;
        d.summary = "empty tensor";
        d.details.push_back(absl::StrCat(
            "argument ", m.parameter.value_or(-1),
            " is an empty tensor (no elements); the program expects ",
            e.report.shape.empty() ? std::string("a non-empty array")
                                   : e.report.shape));
        d.causes.push_back(
            "A partial last batch: the input pipeline produced a batch with "
            "no elements (or fewer than the compiled static shape)");
        d.next_steps.push_back(
            "With TF2 on TPU, batch with drop_remainder=False so that the "
            "program handles a dynamic batch size (TensorFlow's advice), or "
            "drop or pad the last partial batch so every batch has the "
            "compiled shape");
        return d;
      }
      break;
    case MessageKind::kJaxLayout:
      if (!m.expected.layout_printed || !m.actual.layout_printed) {
        d.classification = Classification::kUnknown;
        d.summary = "layout not concrete";
        d.details.push_back(absl::StrCat(
            "required layout ", m.expected.value, ", passed layout ",
            m.actual.value,
            ": AUTO (or None) is not a concrete layout, so the two cannot be "
            "compared"));
        d.next_steps.push_back(
            "Compile with the concrete layouts of the arguments "
            "(compiled.input_formats), or pass arrays placed with "
            "jax.device_put(x, compiled.input_formats[0][i])");
        return d;
      }
      break;
    case MessageKind::kMosaicLayout:
    case MessageKind::kSize:
    case MessageKind::kIncompatibleShape:
    case MessageKind::kHostShape:
    case MessageKind::kStrictLayout:
      break;
  }
  Consistency(e, "expected", &d);
  Consistency(a, "actual", &d);
  if (!e.effective || !a.effective) {
    d.classification = Classification::kUnknown;
    d.summary = "shapes could not be read";
    if (!e.report.error.empty()) {
      d.details.push_back(absl::StrCat("expected shape '", e.report.shape,
                                       "': ", e.report.error));
    }
    if (!a.report.error.empty()) {
      d.details.push_back(absl::StrCat("actual shape '", a.report.shape,
                                       "': ", a.report.error));
    }
    // The scanner marks a size message that the input ends inside: what was
    // read is shown, nothing is inferred from the missing side.
    if (absl::StrContains(m.message, " [truncated: ")) {
      d.summary = "message truncated: the log ends inside it";
      d.details.push_back(
          "the input ends inside this message; only the fields before the "
          "cut were read");
      return d;
    }
    if (m.expected.bytes && m.actual.bytes) {
      SizesOnlyFacts(*m.expected.bytes, *m.actual.bytes, &d);
      d.summary = "shapes could not be read; sizes only";
    }
    return d;
  }
  ShapeFacts(e, a, &d);
  if (m.kind == MessageKind::kMosaicLayout) MosaicFacts(&d);
  return d;
}

}  // namespace

Diagnosis Explain(const MismatchRecord& record) {
  return Diagnose(FactFromRecord(record));
}

// --- Grouping and JSON
// --------------------------------------------------------

namespace {

void InsertSorted(std::vector<int64_t>* v, int64_t x) {
  auto it = std::lower_bound(v->begin(), v->end(), x);
  if (it == v->end() || *it != x) v->insert(it, x);
}

std::string GroupKey(const Diagnosis& d) {
  auto opt = [](const std::optional<int64_t>& x) {
    return x ? absl::StrCat(*x) : std::string("-");
  };
  return absl::StrJoin(
      {std::string(MessageKindName(d.kind)), d.program, opt(d.parameter),
       d.parameter_name, d.expected.shape, d.actual.shape,
       opt(d.expected.printed_bytes), opt(d.actual.printed_bytes),
       d.expected_value, d.actual_value, opt(d.dimension)},
      "\x1f");
}

}  // namespace

void FindingGrouper::Count(Finding& f, const std::optional<int64_t>& replica,
                           const std::optional<int64_t>& partition) {
  if (replica) InsertSorted(&f.replicas, *replica);
  if (partition) InsertSorted(&f.partitions, *partition);
  ++f.count;
}

size_t FindingGrouper::AddAndIndex(Diagnosis d, absl::string_view source,
                                   int64_t line) {
  ++messages_;
  const std::optional<int64_t> replica = d.replica, partition = d.partition;
  auto [it, inserted] = index_.try_emplace(GroupKey(d), findings_.size());
  if (inserted) {
    Finding f;
    f.source = std::string(source);
    f.line = line;
    f.diagnosis = std::move(d);
    findings_.push_back(std::move(f));
  }
  Count(findings_[it->second], replica, partition);
  return it->second;
}

void FindingGrouper::Add(Diagnosis d, absl::string_view source, int64_t line) {
  AddAndIndex(std::move(d), source, line);
}

void FindingGrouper::Add(const ScannedMessage& m, absl::string_view source) {
  auto opt = [](const std::optional<int64_t>& x) {
    return x ? absl::StrCat(*x) : std::string("-");
  };
  std::string key =
      absl::StrJoin({std::string(MessageKindName(m.kind)), m.program,
                     opt(m.parameter), m.parameter_name, m.expected_shape,
                     m.actual_shape, opt(m.expected_bytes), opt(m.actual_bytes),
                     m.expected_value, m.actual_value, opt(m.dimension)},
                    "\x1f");
  auto it = message_index_.find(key);
  if (it != message_index_.end()) {
    ++messages_;
    Count(findings_[it->second], m.replica, m.partition);
    return;
  }
  message_index_.emplace(std::move(key),
                         AddAndIndex(Diagnose(m), source, m.line));
}

std::string FormatRanges(absl::Span<const int64_t> v) {
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    if (j == i) {
      absl::StrAppend(&out, v[i]);
    } else {
      absl::StrAppend(&out, v[i], "–", v[j]);
    }
    i = j + 1;
  }
  return out;
}

namespace {

// Logs are not always UTF-8; JSON strings must be. Invalid bytes become
// U+FFFD so that any consumer can dump() the object.
std::string Utf8(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(in[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len > 1) {
      // Reject overlong forms and surrogates, as JSON parsers do.
      const unsigned char c1 = static_cast<unsigned char>(in[i + 1]);
      if ((len == 2 && c < 0xc2) || (len == 3 && c == 0xe0 && c1 < 0xa0) ||
          (len == 3 && c == 0xed && c1 >= 0xa0) ||
          (len == 4 && c == 0xf0 && c1 < 0x90) ||
          (len == 4 && (c > 0xf4 || (c == 0xf4 && c1 >= 0x90)))) {
        ok = false;
      }
    }
    if (!ok) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(in.data() + i, len);
    i += len;
  }
  return out;
}

nlohmann::ordered_json Str(absl::string_view s) {
  return nlohmann::ordered_json(Utf8(s));
}

nlohmann::ordered_json Strings(const std::vector<std::string>& v) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const std::string& s : v) out.push_back(Utf8(s));
  return out;
}

nlohmann::ordered_json SideJson(const SideReport& s) {
  nlohmann::ordered_json j;
  j["shape"] = s.shape.empty() ? nlohmann::ordered_json(nullptr) : Str(s.shape);
  j["printed_bytes"] = s.printed_bytes
                           ? nlohmann::ordered_json(*s.printed_bytes)
                           : nlohmann::ordered_json(nullptr);
  j["recomputed_bytes"] = s.recomputed_bytes
                              ? nlohmann::ordered_json(*s.recomputed_bytes)
                              : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json inferred = nlohmann::ordered_json::array();
  for (const InferredLayout& l : s.inferred_layouts) {
    nlohmann::ordered_json item;
    item["shape"] = Str(l.shape);
    item["rule"] = Str(l.rule);
    inferred.push_back(std::move(item));
  }
  j["inferred_layouts"] = std::move(inferred);
  j["element_type"] = s.element_type.empty() ? nlohmann::ordered_json(nullptr)
                                             : Str(s.element_type);
  j["memory_kind"] = s.memory_kind.empty() ? nlohmann::ordered_json(nullptr)
                                           : Str(s.memory_kind);
  j["buffer_count"] = s.buffer_count ? nlohmann::ordered_json(*s.buffer_count)
                                     : nlohmann::ordered_json(nullptr);
  return j;
}

}  // namespace

nlohmann::ordered_json FindingToJson(const Finding& f) {
  const Diagnosis& d = f.diagnosis;
  nlohmann::ordered_json j;
  j["kind"] = std::string(MessageKindName(d.kind));
  j["program"] =
      d.program.empty() ? nlohmann::ordered_json(nullptr) : Str(d.program);
  j["parameter"] = d.parameter ? nlohmann::ordered_json(*d.parameter)
                               : nlohmann::ordered_json(nullptr);
  j["parameter_name"] = d.parameter_name.empty()
                            ? nlohmann::ordered_json(nullptr)
                            : Str(d.parameter_name);
  j["replicas"] = f.replicas;
  j["partitions"] = f.partitions;
  j["expected"] = SideJson(d.expected);
  j["actual"] = SideJson(d.actual);
  j["classification"] = std::string(ClassificationName(d.classification));
  j["consistent"] = d.consistent;
  // The text output's "What differs" (as `check --json` names them).
  j["summary"] =
      d.summary.empty() ? nlohmann::ordered_json(nullptr) : Str(d.summary);
  j["details"] = Strings(d.details);
  j["causes"] = Strings(d.causes);
  j["fix_commands"] = Strings(d.fix_commands);
  j["jax_fix"] =
      d.jax_fix.empty() ? nlohmann::ordered_json(nullptr) : Str(d.jax_fix);
  j["next_steps"] = Strings(d.next_steps);
  j["count"] = f.count;
  j["source"] =
      f.source.empty() ? nlohmann::ordered_json(nullptr) : Str(f.source);
  j["line"] = f.line > 0 ? nlohmann::ordered_json(f.line)
                         : nlohmann::ordered_json(nullptr);
  return j;
}

}  // namespace xlayout
