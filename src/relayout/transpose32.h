// Internal: the blocked transpose of 32-bit units that carries the large
// relayouts (f32 transposes, s8 (4,1) tiles, rank-5 f32 permutations).
#ifndef XLAYOUT_SRC_RELAYOUT_TRANSPOSE32_H_
#define XLAYOUT_SRC_RELAYOUT_TRANSPOSE32_H_

#include <cstdint>

#include "xlayout/relayout.h"

namespace xlayout::relayout_internal {

// A plane of 4-byte units. Source row a (a in [0, rows)) starts at
// src + a * src_row_stride and holds `cols` contiguous units. Unit (a, b)
// goes to dst + DstRow(b) + 4 * a, where b splits into (b / inner, b % inner)
// and DstRow(b) = (b / inner) * outer_stride + (b % inner) * inner_stride:
// each destination row is contiguous along a.
struct Plane32 {
  const uint8_t* src = nullptr;
  int64_t src_row_stride = 0;
  int64_t rows = 0;  // A: a multiple of 16.
  int64_t cols = 0;  // B: a multiple of 16.
  uint8_t* dst = nullptr;
  int64_t inner = 1;  // Any positive split.
  int64_t inner_stride = 0;
  int64_t outer_stride = 0;
};

// The vector extensions the relayout kernels may use (ordered).
enum class Isa { kSse2, kAvx2, kAvx512 };

// The best this CPU runs (AVX-512 means F and BW).
Isa CpuIsa();
// CpuIsa() capped by the option (RelayoutOptions::isa).
Isa ResolveIsa(RelayoutIsa cap);

// Moves the plane in 16x16 blocks of units, tiled 16-48 rows x 256 B and
// prefetching the next tile while it transposes this one: rows at large
// power-of-two strides defeat the hardware prefetcher, and a tile of lead
// keeps enough lines in flight to run near memory bandwidth. `stream` asks
// for non-temporal stores (used when every destination row is aligned).
void TransposePlane32(const Plane32& p, bool stream, Isa isa);

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_TRANSPOSE32_H_
