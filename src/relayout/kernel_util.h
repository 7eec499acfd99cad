// Internal: unaligned loads and stores shared by the byte and bit kernels.
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
