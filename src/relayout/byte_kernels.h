// Internal: the byte kernels (whole-byte elements): strided copies and
// zero fills, the blocked transposes of 1-16 byte units (SSE2, and the
// 32-bit-unit transpose of transpose32.h), and the 2x2 16-bit shuffles of
// bf16 (2,1) tiles. 16-bit pair splits and joins ((2,1) untiling and
// tiling) and the shuffles' rows also have AVX2 and AVX-512BW versions,
// chosen per plan by the Isa (SSE2 stays the fallback). Each takes loops in
// bytes.
#ifndef XLAYOUT_SRC_RELAYOUT_BYTE_KERNELS_H_
#define XLAYOUT_SRC_RELAYOUT_BYTE_KERNELS_H_

#include <cstdint>

#include "relayout/loop.h"
#include "relayout/transpose32.h"

namespace xlayout::relayout_internal {

// n runs of `unit` bytes, ss / ds apart.
void CopyLoop(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds,
              int64_t unit);
// The same with non-temporal stores: unit a multiple of 64, `d` and `ds`
// 16-byte aligned.
void StreamRuns(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds,
                int64_t unit);
// n runs of `unit` zero bytes, ds apart.
void ZeroLoop(uint8_t* d, int64_t n, int64_t ds, int64_t unit);

// A plane kernel: the B x A plane (src-contiguous B, dst-contiguous A) for
// b in [b_lo, b_hi), repeated along lc (the loop right outside it).
using PlaneFn = void (*)(const uint8_t* s, uint8_t* d, const Loop& lb,
                         const Loop& la, const Loop& lc, int64_t b_lo,
                         int64_t b_hi, bool stream);

// The blocked transpose for a unit size (1, 2, 4, 8, 16) and A extent; with
// AVX2 or AVX-512BW, 16-bit units split and join pairs with that ISA.
PlaneFn SelectPlane(int64_t unit, int64_t na, Isa isa = Isa::kSse2);
// Whether the 32-bit-unit blocked transpose (transpose32.h) takes a plane:
// at least 16 rows, and 16 units per row in B alone or in B continued by C.
bool Gather32Applies(int64_t unit, const Loop& lb, const Loop& la,
                     const Loop& lc);
PlaneFn SelectGather32Plane(Isa isa);
// 8-byte units that are 2x2 blocks of 16-bit values, transposed (rows of
// four destination rows at a time with AVX2 / AVX-512BW).
PlaneFn SelectShufflePlane(Isa isa);
// The shuffle plane applies its row kernel (C continues A in the
// destination).
bool ShuffleRowsApply(const Loop& la, const Loop& lc);
// The row kernel whose rows run on with zeros up to the next row (lb.ds);
// nullptr where it is not built (no SSE2).
PlaneFn PaddedRowsPlane(Isa isa = Isa::kSse2);
// The ISA a shuffle plane (SelectShufflePlane, PaddedRowsPlane) was chosen
// for; kSse2 for any other plane.
Isa ShufflePlaneIsa(PlaneFn plane);

// How DebugString names a plane kernel ("" for the plain ones).
const char* PlaneName(PlaneFn plane);

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_BYTE_KERNELS_H_
