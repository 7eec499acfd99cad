// RelayoutPlan::Create: the planning passes in order (model.h,
// box_planning.h, chunking.h), the plan's accessors and DebugString, the
// options, and the element-by-element reference.
#include "xlayout/relayout.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "relayout/bit_kernels.h"
#include "relayout/box.h"
#include "relayout/box_planning.h"
#include "relayout/byte_kernels.h"
#include "relayout/chunking.h"
#include "relayout/model.h"
#include "relayout/plan.h"
#include "relayout/transpose32.h"
#include "xlayout/physical_index.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"

namespace xlayout {

using relayout_internal::Box;
using relayout_internal::Kernel;
using relayout_internal::Loop;
using relayout_internal::Model;

namespace relayout_internal {

std::string LoopsToString(const std::vector<Loop>& loops) {
  std::vector<std::string> parts;
  for (const Loop& l : loops)
    parts.push_back(absl::StrCat(l.n, ":", l.ss, "/", l.ds));
  return absl::StrJoin(parts, " ");
}

}  // namespace relayout_internal

namespace {

absl::Status CheckOptions(const RelayoutOptions& o) {
  if (o.threads < 1 || o.threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be in 1..1024, not ", o.threads));
  }
  if (o.min_chunk_bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "min_chunk_bytes must be 0 (the plan picks) or positive, not ",
        o.min_chunk_bytes));
  }
  if (o.max_chunk_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_chunk_bytes must be 0 (no cap) or positive, not ",
                     o.max_chunk_bytes));
  }
  if (o.streaming_store_threshold_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("streaming_store_threshold_bytes must be >= 0, not ",
                     o.streaming_store_threshold_bytes));
  }
  switch (o.isa) {
    case RelayoutIsa::kAuto:
    case RelayoutIsa::kSse2:
    case RelayoutIsa::kAvx2:
    case RelayoutIsa::kAvx512:
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown relayout isa ", static_cast<int>(o.isa)));
}

const char* IsaName(relayout_internal::Isa isa) {
  switch (isa) {
    case relayout_internal::Isa::kSse2:
      return "sse2";
    case relayout_internal::Isa::kAvx2:
      return "avx2";
    case relayout_internal::Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

}  // namespace

RelayoutPlan::RelayoutPlan(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
RelayoutPlan::~RelayoutPlan() = default;
const Shape& RelayoutPlan::from() const { return impl_->src.shape(); }
const Shape& RelayoutPlan::to() const { return impl_->dst.shape(); }
int64_t RelayoutPlan::input_bytes() const { return impl_->src.byte_size(); }
int64_t RelayoutPlan::output_bytes() const { return impl_->dst.byte_size(); }
const RelayoutOptions& RelayoutPlan::options() const { return impl_->options; }

absl::StatusOr<std::unique_ptr<RelayoutPlan>> RelayoutPlan::Create(
    const Shape& from, const Shape& to, const RelayoutOptions& options) {
  namespace ri = relayout_internal;
  XLAYOUT_RETURN_IF_ERROR(CheckSameLogicalArray(from, to));
  XLAYOUT_RETURN_IF_ERROR(CheckOptions(options));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout src, PhysicalLayout::Create(from));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout dst, PhysicalLayout::Create(to));
  // The buffer sizes are the project's exact sizes.
  XLAYOUT_ASSIGN_OR_RETURN(int64_t src_bytes, ExactBytes(src.shape()));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t dst_bytes, ExactBytes(dst.shape()));
  if (src_bytes != src.byte_size() || dst_bytes != dst.byte_size()) {
    return absl::InternalError(absl::StrCat(
        "buffer size disagreement: ExactBytes says ", src_bytes, "/", dst_bytes,
        ", addressing says ", src.byte_size(), "/", dst.byte_size()));
  }
  auto impl = std::make_unique<Impl>();
  Impl& p = *impl;
  p.from = from;
  p.to = to;
  p.src = std::move(src);
  p.dst = std::move(dst);
  p.options = options;
  p.isa = ri::ResolveIsa(options.isa);
  p.stream = p.dst.byte_size() >= options.streaming_store_threshold_bytes;
  p.bits.src_bits = p.src.element_bits();
  p.bits.dst_bits = p.dst.element_bits();
  const int keep = std::min(p.bits.src_bits, p.bits.dst_bits);
  p.bits.mask = keep >= 8 ? 0xff : static_cast<uint8_t>((1u << keep) - 1);
  // Bytes of the tiled part; the rest (L(n) tail, partial last byte) is
  // zeroed.
  p.tail_from =
      static_cast<int64_t>((static_cast<__int128>(p.dst.num_tiled_elements()) *
                            p.dst.element_bits()) /
                           8);
  // Packed outputs are OR-ed into place: zeroed first (unless the nibble
  // kernel writes every byte whole, below).
  p.zero_all_first = p.dst.packed();

  // 1. The digit model of each layout.
  const Model ms = ri::BuildModel(p.src), md = ri::BuildModel(p.dst);
  // 2. The pieces of each dim on which both layouts' offsets are linear.
  std::optional<std::vector<std::vector<ri::Piece>>> pieces =
      ri::AllDimPieces(ms, md, p.src.shape().dimensions());
  if (!pieces.has_value()) {
    p.mode = Impl::Mode::kElementwise;
    p.zero_all_first = true;
  } else {
    // 3. One box per combination of pieces: loops coalesced, kernel chosen.
    p.boxes = ri::DataBoxes(*pieces, p.src, p.dst, p.isa);
    // 4. Zero boxes for the output's tile padding.
    if (!p.zero_all_first) {
      std::optional<std::vector<Box>> padding = ri::PaddingBoxes(md, p.dst);
      if (padding.has_value()) {
        for (Box& b : *padding) p.boxes.push_back(std::move(b));
        // 5. Rows that run on into padding zero it themselves.
        ri::FuseRowPadding(&p.boxes);
      } else {
        p.zero_all_first = true;
      }
    }
    // 6. A packed output without padding whose every box the whole-byte
    // nibble kernel writes needs no zeroing first.
    if (p.zero_all_first && p.bits.src_bits == 4 && p.bits.dst_bits == 4 &&
        p.dst.num_storage_elements() == p.dst.num_logical_elements() &&
        p.tail_from == p.dst.byte_size() && ri::WholeByteNibbles(p.boxes)) {
      p.zero_all_first = false;
    }
  }
  // 7. Chunks: the output cut into independent contiguous ranges.
  p.chunks = ri::PlanChunks(
      p.boxes, ri::ChunkingInput{
                   p.dst.byte_size(), p.src.element_bits(),
                   p.dst.element_bits(), p.mode == Impl::Mode::kElementwise,
                   options.min_chunk_bytes, options.max_chunk_bytes});
  return std::unique_ptr<RelayoutPlan>(new RelayoutPlan(std::move(impl)));
}

std::string RelayoutPlan::DebugString() const {
  const Impl& p = *impl_;
  std::string out = absl::StrCat(
      p.src.shape().ToString(true), " -> ", p.dst.shape().ToString(true),
      "\n  mode: ",
      p.mode == Impl::Mode::kBoxes ? "boxes" : "elementwise (slow path)",
      p.zero_all_first ? ", output zeroed first" : "",
      "\n  chunks: ", p.chunks.chunks.size(), ", isa: ", IsaName(p.isa),
      p.stream ? ", streaming stores" : "", "\n");
  int shown = 0;
  for (const Box& b : p.boxes) {
    if (++shown > 16) {
      absl::StrAppend(&out, "  ... ", p.boxes.size() - 16, " more boxes\n");
      break;
    }
    const char* kind = b.kernel == Kernel::kCopy        ? "copy"
                       : b.kernel == Kernel::kTranspose ? "transpose"
                       : b.kernel == Kernel::kZero      ? "zero"
                                                        : "bits";
    const size_t n = b.loops.size();
    const bool nibbles =
        b.kernel == Kernel::kBits && p.bits.src_bits == 4 &&
        p.bits.dst_bits == 4 && n >= 2 &&
        relayout_internal::Nibble8RowsApply(b.src, b.dst, b.loops[n - 2],
                                            b.loops[n - 1], Loop{1, 0, 0});
    absl::StrAppend(
        &out, "  ", kind, b.shuffle ? " (2x2 16-bit lanes in each unit)" : "",
        relayout_internal::PlaneName(b.plane),
        nibbles ? " (whole-byte nibbles)" : "", " unit=", b.unit,
        " src=", b.src, " dst=", b.dst, " loops[",
        relayout_internal::LoopsToString(b.loops), "] bytes=", b.bytes, "\n");
  }
  return out;
}

absl::StatusOr<RelayoutIsa> ParseRelayoutIsa(absl::string_view name) {
  if (name == "auto") return RelayoutIsa::kAuto;
  if (name == "sse2") return RelayoutIsa::kSse2;
  if (name == "avx2") return RelayoutIsa::kAvx2;
  if (name == "avx512") return RelayoutIsa::kAvx512;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown relayout ISA \"", name, "\": use auto, sse2, avx2 or avx512"));
}

absl::string_view RelayoutIsaName(RelayoutIsa isa) {
  switch (isa) {
    case RelayoutIsa::kAuto:
      return "auto";
    case RelayoutIsa::kSse2:
      return "sse2";
    case RelayoutIsa::kAvx2:
      return "avx2";
    case RelayoutIsa::kAvx512:
      return "avx512";
  }
  return "?";
}

RelayoutIsa DefaultRelayoutIsa() {
  static const RelayoutIsa isa = [] {
    const char* env = std::getenv("XLAYOUT_RELAYOUT_ISA");
    if (env == nullptr) return RelayoutIsa::kAuto;
    absl::StatusOr<RelayoutIsa> parsed = ParseRelayoutIsa(env);
    return parsed.ok() ? *parsed : RelayoutIsa::kAuto;
  }();
  return isa;
}

absl::Status CheckSameLogicalArray(const Shape& from, const Shape& to) {
  const Shape& a = from.IsBuffer() ? from.buffer_shape() : from;
  const Shape& b = to.IsBuffer() ? to.buffer_shape() : to;
  if (!a.IsArray() || !b.IsArray() || a.element_type() != b.element_type() ||
      a.dimensions() != b.dimensions()) {
    return absl::InvalidArgumentError(
        absl::StrCat("relayout needs the same logical array on both sides "
                     "(element type and dimensions); "
                     "from is ",
                     from.ToString(true), ", to is ", to.ToString(true)));
  }
  return absl::OkStatus();
}

absl::Status ReferenceRelayout(const Shape& from, const Shape& to,
                               absl::Span<const uint8_t> input,
                               absl::Span<uint8_t> output) {
  XLAYOUT_RETURN_IF_ERROR(CheckSameLogicalArray(from, to));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout src, PhysicalLayout::Create(from));
  XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout dst, PhysicalLayout::Create(to));
  if (static_cast<int64_t>(input.size()) != src.byte_size() ||
      static_cast<int64_t>(output.size()) != dst.byte_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("buffer lengths ", input.size(), " and ", output.size(),
                     " differ from the required ", src.byte_size(), " and ",
                     dst.byte_size()));
  }
  // Every slot starts as zero; only slots that hold an element change.
  if (!output.empty()) std::memset(output.data(), 0, output.size());
  const int sbits = src.element_bits(), dbits = dst.element_bits();
  const int keep = std::min(sbits, dbits);
  const uint8_t mask =
      keep >= 8 ? 0xff : static_cast<uint8_t>((1u << keep) - 1);
  const int rank = src.rank();
  std::vector<int64_t> index(rank, 0);
  for (int64_t e = 0; e < src.num_logical_elements(); ++e) {
    const int64_t so = src.ElementOffset(index), dof = dst.ElementOffset(index);
    if (sbits >= 8 && dbits >= 8) {
      std::memcpy(output.data() + dof * (dbits / 8),
                  input.data() + so * (sbits / 8), sbits / 8);
    } else {
      uint8_t v = (sbits >= 8 ? input[so]
                              : ReadPackedElement(input.data(), so, sbits)) &
                  mask;
      if (dbits >= 8) {
        output[dof] = v;
      } else {
        WritePackedElement(output.data(), dof, dbits, v);
      }
    }
    for (int d = rank - 1; d >= 0; --d) {
      if (++index[d] < src.shape().dimensions(d)) break;
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace xlayout
