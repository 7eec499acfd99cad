// Overflow-checked int64 arithmetic for sizes: a size that does not fit is an
// error, never a wrapped number.
#ifndef XLAYOUT_SRC_BASE_CHECKED_MATH_H_
#define XLAYOUT_SRC_BASE_CHECKED_MATH_H_

#include <cstdint>
#include <optional>

namespace xlayout {

inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// ceil(a / b) for a >= 0, b > 0, without the overflow of (a + b - 1) / b.
inline int64_t CeilDiv(int64_t a, int64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

// ceil(a / b) * b for a >= 0, b > 0.
inline std::optional<int64_t> RoundUp(int64_t a, int64_t b) {
  return CheckedMul(CeilDiv(a, b), b);
}

}  // namespace xlayout

#endif  // XLAYOUT_SRC_BASE_CHECKED_MATH_H_
