// Internal: unaligned loads, stores and prefetches shared by the kernels.
#ifndef XLAYOUT_SRC_RELAYOUT_KERNEL_UTIL_H_
#define XLAYOUT_SRC_RELAYOUT_KERNEL_UTIL_H_

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "relayout/simd.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

namespace xlayout::relayout_internal {

struct alignas(16) U128 {
  uint64_t lo, hi;
};

// The unsigned integer (or 16-byte struct) that moves one U-byte unit.
template <int U>
using UnitT = std::conditional_t<
    U == 1, uint8_t,
    std::conditional_t<
        U == 2, uint16_t,
        std::conditional_t<U == 4, uint32_t,
                           std::conditional_t<U == 8, uint64_t, U128>>>>;

template <typename T>
inline T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void Store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Every kernel prefetches into L2 (prefetcht1 on x86), not L1: the lines
// fetched ahead (a tile of lead is 12 KiB) evicted lines still in use from
// the 32 KiB L1. bench/relayout_bench, 1 GiB, 1 thread, x memcpy: the f32
// transpose 0.71 -> 0.90-0.94, the s8 (4,1) tiles 0.79 -> 0.98, the rank-5
// permutation 0.83 -> 0.90; prefetcht2 gave 0.86 and prefetchnta 0.75 on the
// transpose. Prefetches never fault, even past the buffer.
inline void PrefetchToL2(const void* p) { __builtin_prefetch(p, 0, 2); }

#if defined(__SSE2__)
template <bool kStream>
inline void StoreRow(uint8_t* p, __m128i v) {
  if constexpr (kStream) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(p), v);
  } else {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
  }
}
inline __m128i LoadRow(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
#endif

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_KERNEL_UTIL_H_
