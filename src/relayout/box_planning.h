// Internal: box planning, the passes between the digit model (model.h) and
// the chunks (chunking.h). RelayoutPlan::Create runs them in this order:
//
//   DataBoxes: the product of the dims' pieces, each a box whose loops go
//     through RemoveTrivialLoops, SortLoopsByDstStride and CoalesceLoops,
//     then MakeByteBox (kernel choice: copy, blocked transpose, 2x2 16-bit
//     shuffle; SelectPlaneKernel) or MakeBitBox (sub-byte elements);
//   PaddingBoxes: zero boxes for the output's tile padding;
//   FuseRowPadding: rows of shuffled transposes that run on into padding
//     write it themselves, and those zero boxes go;
//   WholeByteNibbles: packed outputs the nibble kernel writes whole need no
//     zeroing first.
//
// Loops are listed inner to outer by the loop passes, outer to inner in a
// finished Box.
#ifndef XLAYOUT_SRC_RELAYOUT_BOX_PLANNING_H_
#define XLAYOUT_SRC_RELAYOUT_BOX_PLANNING_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "relayout/box.h"
#include "relayout/loop.h"
#include "relayout/model.h"
#include "relayout/transpose32.h"
#include "xlayout/physical_index.h"

namespace xlayout::relayout_internal {

// At most this many boxes of data, or of padding, per plan; beyond that the
// plan copies element by element (data) or zeroes the output first
// (padding).
inline constexpr int64_t kMaxBoxes = 1 << 16;

// Drops loops of one iteration (order kept).
std::vector<Loop> RemoveTrivialLoops(std::vector<Loop> loops);
// Sorts by destination stride, ascending (ties: source stride).
std::vector<Loop> SortLoopsByDstStride(std::vector<Loop> loops);
// Merges each loop into the previous one (inner to outer) when both are one
// loop: the inner one's n * stride is the outer one's stride on both sides.
std::vector<Loop> CoalesceLoops(const std::vector<Loop>& loops);
// The three above, in order: inner to outer.
std::vector<Loop> Coalesce(std::vector<Loop> loops);

// The pieces of every dim (DimPieces), or nullopt when a layout has no
// digit model or the product of pieces exceeds kMaxBoxes.
std::optional<std::vector<std::vector<Piece>>> AllDimPieces(
    const Model& src, const Model& dst, absl::Span<const int64_t> dims);

// A box before its kernel is chosen: base offsets and loops, in elements.
struct BoxLoops {
  int64_t src = 0;
  int64_t dst = 0;
  std::vector<Loop> loops;
};
// One BoxLoops per combination of the dims' pieces (dim 0's outermost).
std::vector<BoxLoops> PieceProduct(
    const std::vector<std::vector<Piece>>& pieces);

// Turns loops (any order, byte strides) into a box of a byte kernel: a zero
// fill (`zero`), a strided copy, or a transpose (B = the loop contiguous in
// the source, A = contiguous in the destination; 16-bit pairs of (2,1)
// tiles on swapped dims become 8-byte units with a 2x2 shuffle). The plane
// kernel is not set yet (SelectPlaneKernel).
Box MakeByteBox(int64_t src, int64_t dst, int64_t unit, std::vector<Loop> loops,
                bool zero);
// Sets a transpose box's plane kernel for the ISA.
void SelectPlaneKernel(Box* box, Isa isa);
// A box of the bit kernel: loops (element strides) coalesced, outer to
// inner, with a loop that continues the kernel's outer loop along the
// source moved right outside the kernel.
Box MakeBitBox(int64_t src, int64_t dst, std::vector<Loop> loops, int dst_bits);

// Every data box of a plan: PieceProduct, then MakeByteBox and
// SelectPlaneKernel (whole-byte elements of one width on both sides) or
// MakeBitBox.
std::vector<Box> DataBoxes(const std::vector<std::vector<Piece>>& pieces,
                           const PhysicalLayout& src, const PhysicalLayout& dst,
                           Isa isa);

// Zero boxes covering exactly the tile padding of `dst` (element slots
// inside the tiled shape that hold no element), or nullopt when that needs
// more than kMaxBoxes boxes. `md` is dst's digit model.
std::optional<std::vector<Box>> PaddingBoxes(const Model& md,
                                             const PhysicalLayout& dst);

// Shuffled transposes whose every destination row is followed by padding up
// to the next row (E0102: 40 of 128 columns hold data) zero that padding in
// the same pass and the zero boxes go: one write of each line instead of a
// partial write plus a second pass. Applied only when the boxes are all
// such transposes and zero boxes, and the rows' tails are exactly the
// zero boxes' bytes. The row kernel keeps the ISA of the shuffle plane it
// replaces. Returns whether it applied.
bool FuseRowPadding(std::vector<Box>* boxes);

// Whether every box of a 4-bit to 4-bit plan (the caller checks the widths)
// takes the whole-byte nibble
// kernel for every iteration (so an output without padding needs no zeroing
// first). Boxes of fewer than three loops do not count: a chunk may cut
// their kernel's outer loop at an odd place.
bool WholeByteNibbles(const std::vector<Box>& boxes);

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_BOX_PLANNING_H_
