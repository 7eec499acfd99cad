// Internal: the digit/dimension model of a layout, the first planning pass.
//
// Without merges of two real dims (`*`) and with tiles that divide what they
// split, every final tiled dim holds one "digit" of one logical index:
// (i / lo) % (hi / lo), hi == 0 meaning unbounded. The element offset is then
// a sum over logical dims of f_d(i_d), each linear in the digits, and each
// dim splits into a few pieces on which both layouts' offsets are linear.
#ifndef XLAYOUT_SRC_RELAYOUT_MODEL_H_
#define XLAYOUT_SRC_RELAYOUT_MODEL_H_

#include <cstdint>
#include <vector>

#include "relayout/loop.h"
#include "xlayout/physical_index.h"

namespace xlayout::relayout_internal {

struct Node {
  int dim = -1;        // Logical dim; -1 for a constant-0 dim (rank padding).
  int64_t lo = 1;      // Digit = (i / lo) % (hi / lo).
  int64_t hi = 0;      // 0: unbounded (the top digit).
  int64_t size = 1;    // Memory extent of the final dim.
  int64_t stride = 0;  // Elements, in the final row-major shape.

  friend bool operator==(const Node&, const Node&) = default;
};

struct Model {
  bool separable = false;
  std::vector<std::vector<Node>> dims;  // Nodes of each logical dim.
  std::vector<Node> constants;          // Constant-0 dims (padding only).
};

// The digit of index i that node n holds.
int64_t DigitOf(const Node& n, int64_t i);
// f_d(i): the element offset contributed by index i of a dim.
int64_t DimOffset(const std::vector<Node>& nodes, int64_t i);

// Pass 1: the digit model of a layout (separable == false when the layout
// has none; the plan then copies element by element).
Model BuildModel(const PhysicalLayout& p);

// Break points of a dim's digits below its extent n, ascending from 1.
std::vector<int64_t> Breaks(const std::vector<Node>& nodes, int64_t n);

// A piece of one logical dim: indices start + mixed-radix digits.
struct Piece {
  int64_t src = 0;  // Element offsets of index `start`.
  int64_t dst = 0;
  std::vector<Loop> loops;  // Strides in elements.
};

inline constexpr int64_t kMaxPiecesPerDim = 1 << 16;

// Pass 2: pieces covering [0, n) of one dim, linear in their digits on both
// sides (s: source nodes, d: destination nodes). Sets *ok to false (and
// returns nothing) when that needs more than kMaxPiecesPerDim pieces.
std::vector<Piece> DimPieces(const std::vector<Node>& s,
                             const std::vector<Node>& d, int64_t n, bool* ok);

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_MODEL_H_
