// Internal: the x86 intrinsics headers for the relayout kernels.
#ifndef XLAYOUT_SRC_RELAYOUT_SIMD_H_
#define XLAYOUT_SRC_RELAYOUT_SIMD_H_

#if defined(__x86_64__) || defined(__i386__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h passes deliberately undefined registers
// (_mm512_undefined_*) and warns about them once inlined into our kernels.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#define XLAYOUT_X86 1
#endif

#endif  // XLAYOUT_SRC_RELAYOUT_SIMD_H_
