// Internal: the bit kernels, for packed sub-byte elements (E(1), E(2),
// E(4)) on either side. Offsets and strides are in elements; the output
// was zeroed first and packed elements are OR-ed into place (except by the
// whole-byte nibble kernel, which writes whole bytes). All of the bit
// kernels' ISA-specific code (SSE2, AVX2, AVX-512BW) is in bit_kernels.cc.
#ifndef XLAYOUT_SRC_RELAYOUT_BIT_KERNELS_H_
#define XLAYOUT_SRC_RELAYOUT_BIT_KERNELS_H_

#include <cstdint>

#include "relayout/loop.h"
#include "relayout/transpose32.h"

namespace xlayout::relayout_internal {

// Storage bits of one element on each side, and the bits an element keeps.
struct BitSides {
  int src_bits = 8;
  int dst_bits = 8;
  uint8_t mask = 0xff;
};

// Element e of a buffer of `bits`-bit elements (8 and up: byte e).
uint8_t ReadBits(const uint8_t* buf, int64_t e, int bits);

// The two innermost loops (outer o, inner i) of a sub-byte box at element
// offsets so / dof.
void BitPlane(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
              const Loop& o, const Loop& i, const BitSides& b, Isa isa);

// Whether the whole-byte nibble kernel takes planes (o, i) repeated along
// r: 4-bit to 4-bit where i gathers 8 rows into one 32-bit destination word
// (the (8,1) E(4) tile) and o walks an even number of source columns, every
// plane starting on a byte.
bool Nibble8RowsApply(int64_t so, int64_t dof, const Loop& o, const Loop& i,
                      const Loop& r);
// Runs that kernel (false, touching nothing, where it does not apply).
// `stream` allows non-temporal stores.
bool Nibble8Rows(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
                 const Loop& o, const Loop& i, const Loop& r, bool stream,
                 Isa isa);

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_BIT_KERNELS_H_
