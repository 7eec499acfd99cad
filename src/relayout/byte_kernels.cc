#include "relayout/byte_kernels.h"

#include <algorithm>
#include <cstring>

#include "relayout/kernel_util.h"

namespace xlayout::relayout_internal {

// Innermost strided copy of n units.
template <int U>
void CopyLoopT(const uint8_t* __restrict s, uint8_t* __restrict d, int64_t n,
               int64_t ss, int64_t ds) {
  using T = UnitT<U>;
  if (ss == U && ds == U) {
    std::memcpy(d, s, n * U);
    return;
  }
  for (int64_t i = 0; i < n; ++i) Store<T>(d + i * ds, Load<T>(s + i * ss));
}

// Runs of whole cache lines into a huge output: streaming stores skip the
// read-for-ownership of every destination line (as memcpy does for large
// copies). `d` and `ds` are 16-byte aligned.
void StreamRuns(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds,
                int64_t unit) {
#if defined(__SSE2__)
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* from = s + i * ss;
    uint8_t* to = d + i * ds;
    for (int64_t k = 0; k < unit; k += 64) {
      // Runs often continue along the source row after other rows' runs
      // (row-major into tiles): fetch that continuation early. Prefetches
      // never fault, even past the buffer.
      PrefetchToL2(from + unit + k);
      __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + k)),
              v1 = _mm_loadu_si128(
                  reinterpret_cast<const __m128i*>(from + k + 16));
      __m128i v2 = _mm_loadu_si128(
                  reinterpret_cast<const __m128i*>(from + k + 32)),
              v3 = _mm_loadu_si128(
                  reinterpret_cast<const __m128i*>(from + k + 48));
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k), v0);
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k + 16), v1);
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k + 32), v2);
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k + 48), v3);
    }
  }
#else
  for (int64_t i = 0; i < n; ++i) std::memcpy(d + i * ds, s + i * ss, unit);
#endif
}

void CopyLoop(const uint8_t* s, uint8_t* d, int64_t n, int64_t ss, int64_t ds,
              int64_t unit) {
  switch (unit) {
    case 1:
      return CopyLoopT<1>(s, d, n, ss, ds);
    case 2:
      return CopyLoopT<2>(s, d, n, ss, ds);
    case 4:
      return CopyLoopT<4>(s, d, n, ss, ds);
    case 8:
      return CopyLoopT<8>(s, d, n, ss, ds);
    case 16:
      return CopyLoopT<16>(s, d, n, ss, ds);
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(d + i * ds, s + i * ss, unit);
  }
}

// A full LA x LB block: src rows (stride ssa) of LB contiguous units become
// dst rows (stride dsb) of LA contiguous units. Fixed sizes let the compiler
// build each dst row in registers (no staging buffer: storing scalars and
// reloading them as vectors stalls store forwarding).
template <int U, int LA, int LB>
inline void TransposeBlock(const uint8_t* __restrict s, int64_t ssa,
                           uint8_t* __restrict d, int64_t dsb) {
  using T = UnitT<U>;
  for (int b = 0; b < LB; ++b) {
    T row[LA];
    for (int a = 0; a < LA; ++a) row[a] = Load<T>(s + a * ssa + b * U);
    std::memcpy(d + b * dsb, row, sizeof(row));
  }
}

#if defined(__SSE2__)
// m x m micro-transposes, m = 16 / U: one SSE register per row.
template <int U, bool kStream>
inline void Micro(const uint8_t* s, int64_t ssa, uint8_t* d, int64_t dsb) {
  if constexpr (U == 4) {
    __m128i r0 = LoadRow(s), r1 = LoadRow(s + ssa), r2 = LoadRow(s + 2 * ssa),
            r3 = LoadRow(s + 3 * ssa);
    __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpacklo_epi32(r2, r3);
    __m128i t2 = _mm_unpackhi_epi32(r0, r1), t3 = _mm_unpackhi_epi32(r2, r3);
    StoreRow<kStream>(d, _mm_unpacklo_epi64(t0, t1));
    StoreRow<kStream>(d + dsb, _mm_unpackhi_epi64(t0, t1));
    StoreRow<kStream>(d + 2 * dsb, _mm_unpacklo_epi64(t2, t3));
    StoreRow<kStream>(d + 3 * dsb, _mm_unpackhi_epi64(t2, t3));
  } else if constexpr (U == 2) {
    __m128i r[8];
    for (int i = 0; i < 8; ++i) r[i] = LoadRow(s + i * ssa);
    __m128i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);
    }
    // t[0], t[2], t[4], t[6]: columns 0-3 of row pairs; odd t: columns 4-7.
    for (int h = 0; h < 2; ++h) {
      u[4 * h + 0] = _mm_unpacklo_epi32(t[h], t[h + 2]);
      u[4 * h + 1] = _mm_unpackhi_epi32(t[h], t[h + 2]);
      u[4 * h + 2] = _mm_unpacklo_epi32(t[h + 4], t[h + 6]);
      u[4 * h + 3] = _mm_unpackhi_epi32(t[h + 4], t[h + 6]);
    }
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 2; ++j) {
        __m128i lo = u[4 * h + j], hi = u[4 * h + 2 + j];
        const int col = 4 * h + 2 * j;
        StoreRow<kStream>(d + col * dsb, _mm_unpacklo_epi64(lo, hi));
        StoreRow<kStream>(d + (col + 1) * dsb, _mm_unpackhi_epi64(lo, hi));
      }
    }
  } else if constexpr (U == 8) {
    __m128i r0 = LoadRow(s), r1 = LoadRow(s + ssa);
    StoreRow<kStream>(d, _mm_unpacklo_epi64(r0, r1));
    StoreRow<kStream>(d + dsb, _mm_unpackhi_epi64(r0, r1));
  } else if constexpr (U == 16) {
    StoreRow<kStream>(d, LoadRow(s));
  }
}

// An L x L block (L = 64 / U units: one cache line per row on both sides)
// from micro-transposes; dst lines are completed by consecutive stores.
template <int U, bool kStream>
inline void SquareBlock(const uint8_t* s, int64_t ssa, uint8_t* d,
                        int64_t dsb) {
  constexpr int m = 16 / U, L = 64 / U;
  // The next blocks read on along the same source rows: prefetch a few lines
  // ahead (rows at large strides defeat the hardware prefetcher).
  constexpr int kAhead = 4 * 64;
  for (int a = 0; a < L; ++a) {
    PrefetchToL2(s + a * ssa + kAhead);
  }
  for (int bi = 0; bi < L; bi += m) {
    for (int ai = 0; ai < L; ai += m) {
      Micro<U, kStream>(s + ai * ssa + bi * U, ssa, d + bi * dsb + ai * U, dsb);
    }
  }
}

// 2 source units per row, 32-bit: groups of 4 rows become 16-byte rows of
// both dst rows.
template <bool kStream>
inline void Thin4x2(const uint8_t* s, int64_t ssa, uint8_t* d, int64_t dsb,
                    int rows) {
  for (int a = 0; a + 4 <= rows; a += 4) {
    __m128i q0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + a * ssa));
    __m128i q1 =
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + (a + 1) * ssa));
    __m128i q2 =
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + (a + 2) * ssa));
    __m128i q3 =
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + (a + 3) * ssa));
    __m128i t0 = _mm_unpacklo_epi32(q0, q1), t1 = _mm_unpacklo_epi32(q2, q3);
    StoreRow<kStream>(d + a * 4, _mm_unpacklo_epi64(t0, t1));
    StoreRow<kStream>(d + dsb + a * 4, _mm_unpackhi_epi64(t0, t1));
  }
}
#endif

template <int U>
void TransposeEdge(const uint8_t* s, int64_t ssa, uint8_t* d, int64_t dsb,
                   int64_t la, int64_t lb) {
  using T = UnitT<U>;
  for (int64_t b = 0; b < lb; ++b) {
    for (int64_t a = 0; a < la; ++a)
      Store<T>(d + b * dsb + a * U, Load<T>(s + a * ssa + b * U));
  }
}

// The B x A plane for b in [b_lo, b_hi), in LA x LB blocks.
template <int U, int LA, int LB>
inline void BlocksOne(const uint8_t* s, uint8_t* d, const Loop& lb,
                      const Loop& la, int64_t b_lo, int64_t b_hi, bool stream) {
  // A-blocks outside, B inside: the LA source rows are read sequentially
  // (prefetch-friendly), and each block completes its dst lines.
  const int64_t b_full = b_lo + (b_hi - b_lo) / LB * LB;
  const int64_t a_full = la.n / LA * LA;
#if defined(__SSE2__)
  if constexpr (LB == 2 && U <= 4) {
    // One contiguous run of pairs split into two rows (e.g. untiling bf16
    // (8,128)(2,1)): 32 source bytes become 16 bytes of each row.
    if (b_hi - b_lo == 2 && la.ss == 2 * U && lb.ss == U) {
      const uint8_t* src = s + b_lo * U;
      uint8_t* d0 = d + b_lo * lb.ds;
      uint8_t* d1 = d0 + lb.ds;
      constexpr int kPer = 16 / U;
      int64_t a = 0;
      for (; a + kPer <= la.n; a += kPer) {
        const __m128i x =
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + a * 2 * U));
        const __m128i y = _mm_loadu_si128(
            reinterpret_cast<const __m128i*>(src + a * 2 * U + 16));
        __m128i even, odd;
        if constexpr (U == 1) {
          const __m128i low = _mm_set1_epi16(0x00FF);
          even = _mm_packus_epi16(_mm_and_si128(x, low), _mm_and_si128(y, low));
          odd = _mm_packus_epi16(_mm_srli_epi16(x, 8), _mm_srli_epi16(y, 8));
        } else if constexpr (U == 2) {
          // Sign-extended 16-bit values pack back exactly.
          even = _mm_packs_epi32(_mm_srai_epi32(_mm_slli_epi32(x, 16), 16),
                                 _mm_srai_epi32(_mm_slli_epi32(y, 16), 16));
          odd = _mm_packs_epi32(_mm_srai_epi32(x, 16), _mm_srai_epi32(y, 16));
        } else {
          // Float shuffles move bits unchanged (NaN payloads included).
          const __m128 fx = _mm_castsi128_ps(x), fy = _mm_castsi128_ps(y);
          even =
              _mm_castps_si128(_mm_shuffle_ps(fx, fy, _MM_SHUFFLE(2, 0, 2, 0)));
          odd =
              _mm_castps_si128(_mm_shuffle_ps(fx, fy, _MM_SHUFFLE(3, 1, 3, 1)));
        }
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d0 + a * U), even);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d1 + a * U), odd);
      }
      if (a < la.n) {
        TransposeEdge<U>(src + a * 2 * U, la.ss, d0 + a * U, lb.ds, la.n - a,
                         2);
      }
      return;
    }
  }
  if constexpr (LA == 2 && U <= 8 && LB * U >= 16) {
    // Two source rows interleaved into one contiguous run (e.g. bf16
    // (8,128)(2,1) packing): SSE unpacks, 16 bytes of each row at a time.
    if (lb.ds == 2 * U && la.n == 2) {
      // Strides in locals: the stores below could alias the Loop structs.
      const int64_t bss = lb.ss, bds = lb.ds, ass = la.ss;
      constexpr int kPer = 16 / U;
      int64_t b0 = b_lo;
      // Every step moves the output by 32 bytes: alignment is invariant.
      const bool nt =
          stream && reinterpret_cast<uintptr_t>(d + b0 * bds) % 16 == 0;
      for (; b0 + kPer <= b_hi; b0 += kPer) {
        if (b0 % (64 / U) == 0) {
          // Both rows run on through the next planes (C): fetch ahead.
          PrefetchToL2(s + b0 * bss + 512);
          PrefetchToL2(s + ass + b0 * bss + 512);
        }
        __m128i r0 = LoadRow(s + b0 * bss), r1 = LoadRow(s + ass + b0 * bss);
        __m128i lo, hi;
        if constexpr (U == 1) {
          lo = _mm_unpacklo_epi8(r0, r1);
          hi = _mm_unpackhi_epi8(r0, r1);
        } else if constexpr (U == 2) {
          lo = _mm_unpacklo_epi16(r0, r1);
          hi = _mm_unpackhi_epi16(r0, r1);
        } else if constexpr (U == 4) {
          lo = _mm_unpacklo_epi32(r0, r1);
          hi = _mm_unpackhi_epi32(r0, r1);
        } else {
          lo = _mm_unpacklo_epi64(r0, r1);
          hi = _mm_unpackhi_epi64(r0, r1);
        }
        uint8_t* out = d + b0 * bds;
        if (nt) {
          StoreRow<true>(out, lo);
          StoreRow<true>(out + 16, hi);
        } else {
          StoreRow<false>(out, lo);
          StoreRow<false>(out + 16, hi);
        }
      }
      if (b0 < b_hi)
        TransposeEdge<U>(s + b0 * lb.ss, la.ss, d + b0 * lb.ds, lb.ds, 2,
                         b_hi - b0);
      return;
    }
  }
#endif
  // Tiles of 8 x 8 blocks keep both sides' pages (TLB) and lines in cache
  // when both extents are large; thin planes are one tile.
  // Full-line square blocks: tall tiles (256 source rows) that are 4 lines
  // wide, so the source rows' next lines (prefetched by SquareBlock) stay
  // few while each destination row gets long runs; measured best for
  // 8192 x 8192 f32 (0.66x memcpy vs 0.54x for 128 x 128 tiles).
  constexpr bool kSquare = LA == 64 / U && LB == 64 / U;
  constexpr int64_t kTileA = kSquare ? std::max(256, LA) : 8 * LA,
                    kTileB = kSquare ? 4 * LB : 8 * LB;
  for (int64_t at = 0; at < a_full; at += kTileA) {
    const int64_t a_end = std::min(a_full, at + kTileA);
    for (int64_t bt = b_lo; bt < b_full; bt += kTileB) {
      const int64_t b_end = std::min(b_full, bt + kTileB);
      for (int64_t a0 = at; a0 < a_end; a0 += LA) {
        const uint8_t* sa = s + a0 * la.ss;
        uint8_t* da = d + a0 * U;
        int64_t b0 = bt;
#if defined(__SSE2__)
        if constexpr (LA == 64 / U && LB == 64 / U && U >= 2) {
          // Streaming stores skip the read-for-ownership of huge outputs;
          // they need 16-byte aligned rows.
          if (stream &&
              (reinterpret_cast<uintptr_t>(da + b0 * lb.ds) % 16 == 0) &&
              lb.ds % 16 == 0) {
            for (; b0 < b_end; b0 += LB) {
              SquareBlock<U, true>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds,
                                   lb.ds);
            }
          } else {
            for (; b0 < b_end; b0 += LB) {
              SquareBlock<U, false>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds,
                                    lb.ds);
            }
          }
        }
#endif
#if defined(__SSE2__)
        if constexpr (U == 4 && LB == 2 && LA % 4 == 0) {
          // Rows of whole lines (LA = 16) stream when aligned.
          if (LA % 16 == 0 && stream && lb.ds % 64 == 0 &&
              reinterpret_cast<uintptr_t>(da + b0 * lb.ds) % 64 == 0) {
            for (; b0 < b_end; b0 += LB)
              Thin4x2<true>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds, lb.ds, LA);
          } else {
            for (; b0 < b_end; b0 += LB)
              Thin4x2<false>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds, lb.ds,
                             LA);
          }
        }
#endif
        for (; b0 < b_end; b0 += LB) {
          TransposeBlock<U, LA, LB>(sa + b0 * lb.ss, la.ss, da + b0 * lb.ds,
                                    lb.ds);
        }
      }
    }
    if (b_full < b_hi) {
      TransposeEdge<U>(s + at * la.ss + b_full * lb.ss, la.ss,
                       d + at * U + b_full * lb.ds, lb.ds, a_end - at,
                       b_hi - b_full);
    }
  }
  if (a_full < la.n) {
    TransposeEdge<U>(s + a_full * la.ss + b_lo * lb.ss, la.ss,
                     d + a_full * U + b_lo * lb.ds, lb.ds, la.n - a_full,
                     b_hi - b_lo);
  }
}

// The plane repeated along lc, the loop just outside the kernel (one call
// per box row instead of one per plane: thin planes are only ~100 bytes).
template <int U, int LA, int LB>
void Blocks(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
            int64_t b_lo, int64_t b_hi, bool stream, const Loop& lc) {
  for (int64_t c = 0; c < lc.n; ++c) {
    BlocksOne<U, LA, LB>(s + c * lc.ss, d + c * lc.ds, lb, la, b_lo, b_hi,
                         stream);
  }
}

// Block side: the whole line (64 / U units) when the extent allows, else
// the largest of 8, 4, 2, 1 that fits (thin planes such as 2 x 128).
inline int BlockSide(int64_t n, int line) {
  if (n >= line) return line;
  for (int side : {8, 4, 2}) {
    if (side < line && n >= side) return side;
  }
  return 1;
}

template <int U, int LA>
void DispatchB(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
               const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream) {
  constexpr int L = 64 / U;
  const int side = BlockSide(b_hi - b_lo, L);
  if (side == L) return Blocks<U, LA, L>(s, d, lb, la, b_lo, b_hi, stream, lc);
  if constexpr (8 < L) {
    if (side == 8)
      return Blocks<U, LA, 8>(s, d, lb, la, b_lo, b_hi, stream, lc);
  }
  if constexpr (4 < L) {
    if (side == 4)
      return Blocks<U, LA, 4>(s, d, lb, la, b_lo, b_hi, stream, lc);
  }
  if constexpr (2 < L) {
    if (side == 2)
      return Blocks<U, LA, 2>(s, d, lb, la, b_lo, b_hi, stream, lc);
  }
  return Blocks<U, LA, 1>(s, d, lb, la, b_lo, b_hi, stream, lc);
}

template <int U>
PlaneFn SelectPlaneT(int64_t na) {
  constexpr int L = 64 / U;
  const int side = BlockSide(na, L);
  if (side == L) return &DispatchB<U, L>;
  if constexpr (8 < L) {
    if (side == 8) return &DispatchB<U, 8>;
  }
  if constexpr (4 < L) {
    if (side == 4) return &DispatchB<U, 4>;
  }
  if constexpr (2 < L) {
    if (side == 2) return &DispatchB<U, 2>;
  }
  return &DispatchB<U, 1>;
}

#if defined(XLAYOUT_X86)
// bf16 (2,1) pairs with AVX2 / AVX-512BW (chosen per plan at run time: the
// build stays portable). Split: a run of n pairs of 16-bit values (src)
// becomes the first values (d0) and the second ones (d1); join is the
// inverse, rows r0 and r1 into one run of pairs. Each returns the units
// done; the caller finishes the rest.
__attribute__((target("avx2"))) int64_t SplitPairs16Avx2(const uint8_t* src,
                                                         uint8_t* d0,
                                                         uint8_t* d1,
                                                         int64_t n) {
  // In each 128-bit lane: the four first values, then the four second ones.
  const __m256i group =
      _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0,
                       1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  int64_t a = 0;
  for (; a + 16 <= n; a += 16) {
    __m256i x = _mm256_shuffle_epi8(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + a * 4)),
        group);
    __m256i y = _mm256_shuffle_epi8(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + a * 4 + 32)),
        group);
    // 64-bit quarters [x0 x1 | x2 x3] -> [x0 x2 | x1 x3]: firsts | seconds.
    x = _mm256_permute4x64_epi64(x, _MM_SHUFFLE(3, 1, 2, 0));
    y = _mm256_permute4x64_epi64(y, _MM_SHUFFLE(3, 1, 2, 0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d0 + a * 2),
                        _mm256_permute2x128_si256(x, y, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d1 + a * 2),
                        _mm256_permute2x128_si256(x, y, 0x31));
  }
  return a;
}

// Word indexes for vpermt2w: the first values of 32 pairs (x then y), the
// second values, and the interleave of r0 and r1's first and last halves.
alignas(64) constexpr uint16_t kFirsts[32] = {
    0,  2,  4,  6,  8,  10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
    32, 34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62};
alignas(64) constexpr uint16_t kSeconds[32] = {
    1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
    33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
alignas(64) constexpr uint16_t kJoinLo[32] = {
    0, 32, 1, 33, 2,  34, 3,  35, 4,  36, 5,  37, 6,  38, 7,  39,
    8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
alignas(64) constexpr uint16_t kJoinHi[32] = {
    16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55,
    24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63};

__attribute__((target("avx512f,avx512bw"))) int64_t SplitPairs16Avx512(
    const uint8_t* src, uint8_t* d0, uint8_t* d1, int64_t n) {
  const __m512i firsts = _mm512_load_si512(kFirsts);
  const __m512i seconds = _mm512_load_si512(kSeconds);
  int64_t a = 0;
  for (; a + 32 <= n; a += 32) {
    const __m512i x = _mm512_loadu_si512(src + a * 4);
    const __m512i y = _mm512_loadu_si512(src + a * 4 + 64);
    _mm512_storeu_si512(d0 + a * 2, _mm512_permutex2var_epi16(x, firsts, y));
    _mm512_storeu_si512(d1 + a * 2, _mm512_permutex2var_epi16(x, seconds, y));
  }
  return a;
}

// Join: kStream streams (`out` aligned to the vector). Both rows run on
// through the next planes (C): fetch ahead once per line, as the SSE2
// kernel does.
template <bool kStream>
__attribute__((target("avx2"))) int64_t JoinPairs16Avx2(const uint8_t* r0p,
                                                        const uint8_t* r1p,
                                                        uint8_t* out,
                                                        int64_t n) {
  int64_t b = 0;
  for (; b + 16 <= n; b += 16) {
    if (b % 32 == 0) {
      PrefetchToL2(r0p + b * 2 + 512);
      PrefetchToL2(r1p + b * 2 + 512);
    }
    const __m256i r0 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0p + b * 2));
    const __m256i r1 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1p + b * 2));
    // Per 128-bit lane: units 0-3 | 8-11 (lo) and 4-7 | 12-15 (hi).
    const __m256i lo = _mm256_unpacklo_epi16(r0, r1);
    const __m256i hi = _mm256_unpackhi_epi16(r0, r1);
    const __m256i o0 = _mm256_permute2x128_si256(lo, hi, 0x20);
    const __m256i o1 = _mm256_permute2x128_si256(lo, hi, 0x31);
    __m256i* o = reinterpret_cast<__m256i*>(out + b * 4);
    if constexpr (kStream) {
      _mm256_stream_si256(o, o0);
      _mm256_stream_si256(o + 1, o1);
    } else {
      _mm256_storeu_si256(o, o0);
      _mm256_storeu_si256(o + 1, o1);
    }
  }
  return b;
}

template <bool kStream>
__attribute__((target("avx512f,avx512bw"))) int64_t JoinPairs16Avx512(
    const uint8_t* r0p, const uint8_t* r1p, uint8_t* out, int64_t n) {
  const __m512i join_lo = _mm512_load_si512(kJoinLo);
  const __m512i join_hi = _mm512_load_si512(kJoinHi);
  int64_t b = 0;
  for (; b + 32 <= n; b += 32) {
    PrefetchToL2(r0p + b * 2 + 512);
    PrefetchToL2(r1p + b * 2 + 512);
    const __m512i r0 = _mm512_loadu_si512(r0p + b * 2);
    const __m512i r1 = _mm512_loadu_si512(r1p + b * 2);
    const __m512i o0 = _mm512_permutex2var_epi16(r0, join_lo, r1);
    const __m512i o1 = _mm512_permutex2var_epi16(r0, join_hi, r1);
    uint8_t* o = out + b * 4;
    if constexpr (kStream) {
      _mm512_stream_si512(reinterpret_cast<__m512i*>(o), o0);
      _mm512_stream_si512(reinterpret_cast<__m512i*>(o + 64), o1);
    } else {
      _mm512_storeu_si512(o, o0);
      _mm512_storeu_si512(o + 64, o1);
    }
  }
  return b;
}

// The 16-bit plane kernel with the AVX2 / AVX-512BW pair kernels: a B of two
// values with A along the pairs (untiling bf16 (8,128)(2,1)) splits them, an
// A of two rows with B along them (tiling) joins them; anything else goes to
// the SSE2 kernel of the same block shape.
template <Isa kIsa, int LA>
void Pairs16Plane(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                  const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream) {
  // Loop fields in locals: the stores below could alias them.
  const int64_t cn = lc.n, css = lc.ss, cds = lc.ds;
  const int64_t an = la.n, ass = la.ss, bss = lb.ss, bds = lb.ds;
  if (b_hi - b_lo == 2 && ass == 4 && bss == 2) {
    for (int64_t c = 0; c < cn; ++c) {
      const uint8_t* src = s + c * css + b_lo * 2;
      uint8_t* d0 = d + c * cds + b_lo * bds;
      uint8_t* d1 = d0 + bds;
      if (c + 2 < cn) {
        for (int64_t k = 0; k < an * 4; k += 64) {
          PrefetchToL2(src + 2 * css + k);
        }
      }
      const int64_t a = kIsa == Isa::kAvx512
                            ? SplitPairs16Avx512(src, d0, d1, an)
                            : SplitPairs16Avx2(src, d0, d1, an);
      if (a < an) TransposeEdge<2>(src + a * 4, 4, d0 + a * 2, bds, an - a, 2);
    }
    return;
  }
  // Streaming stores need every row's output aligned to the vector, not
  // just the first (rows of 20-pair tiles are 80 bytes apart).
  constexpr int64_t kVec = kIsa == Isa::kAvx512 ? 64 : 32;
  if (an == 2 && bds == 4 && bss == 2 &&
      (!stream || (reinterpret_cast<uintptr_t>(d + b_lo * 4) % kVec == 0 &&
                   (cn == 1 || cds % kVec == 0)))) {
    const int64_t n = b_hi - b_lo;
    for (int64_t c = 0; c < cn; ++c) {
      const uint8_t* r0 = s + c * css + b_lo * 2;
      uint8_t* out = d + c * cds + b_lo * 4;
      int64_t b;
      if (kIsa == Isa::kAvx512) {
        b = stream ? JoinPairs16Avx512<true>(r0, r0 + ass, out, n)
                   : JoinPairs16Avx512<false>(r0, r0 + ass, out, n);
      } else {
        b = stream ? JoinPairs16Avx2<true>(r0, r0 + ass, out, n)
                   : JoinPairs16Avx2<false>(r0, r0 + ass, out, n);
      }
      if (b < n) TransposeEdge<2>(r0 + b * 2, ass, out + b * 4, 4, 2, n - b);
    }
    return;
  }
  DispatchB<2, LA>(s, d, lb, la, lc, b_lo, b_hi, stream);
}

template <Isa kIsa>
PlaneFn SelectPairs16(int64_t na) {
  switch (BlockSide(na, 32)) {
    case 32:
      return &Pairs16Plane<kIsa, 32>;
    case 8:
      return &Pairs16Plane<kIsa, 8>;
    case 4:
      return &Pairs16Plane<kIsa, 4>;
    case 2:
      return &Pairs16Plane<kIsa, 2>;
    default:
      return &Pairs16Plane<kIsa, 1>;
  }
}
#endif

// (a, b, c, d) -> (a, c, b, d) in 16-bit lanes: a 2x2 transpose.
inline uint64_t Swap2x2(uint64_t x) {
  return (x & 0xFFFF00000000FFFFull) | ((x >> 16) & 0x00000000FFFF0000ull) |
         ((x << 16) & 0x0000FFFF00000000ull);
}

// The plane of a shuffled box: 8-byte units, each a 2x2 of 16-bit values.
template <int kBlock>
void ShuffleBlocks(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                   int64_t b_lo, int64_t b_hi) {
  int64_t a0 = 0;
  for (; a0 + kBlock <= la.n; a0 += kBlock) {
    const uint8_t* sa = s + a0 * la.ss;
    uint8_t* da = d + a0 * 8;
    int64_t b = b_lo;
#if defined(__SSE2__)
    if constexpr (kBlock % 2 == 0) {
      // 2x2 blocks of units: unpack 64-bit halves, then swap the middle
      // 16-bit lanes of each half.
      auto swap = [](__m128i v) {
        v = _mm_shufflelo_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
        return _mm_shufflehi_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
      };
      for (; b + 2 <= b_hi; b += 2) {
        for (int a = 0; a < kBlock; a += 2) {
          __m128i r0 = LoadRow(sa + a * la.ss + b * 8);
          __m128i r1 = LoadRow(sa + (a + 1) * la.ss + b * 8);
          StoreRow<false>(da + b * lb.ds + a * 8,
                          swap(_mm_unpacklo_epi64(r0, r1)));
          StoreRow<false>(da + (b + 1) * lb.ds + a * 8,
                          swap(_mm_unpackhi_epi64(r0, r1)));
        }
      }
    }
#endif
    for (; b < b_hi; ++b) {
      uint64_t row[kBlock];
      for (int a = 0; a < kBlock; ++a)
        row[a] = Swap2x2(Load<uint64_t>(sa + a * la.ss + b * 8));
      std::memcpy(da + b * lb.ds, row, sizeof(row));
    }
  }
  for (int64_t b = b_lo; b < b_hi; ++b) {
    for (int64_t a = a0; a < la.n; ++a) {
      Store<uint64_t>(d + b * lb.ds + a * 8,
                      Swap2x2(Load<uint64_t>(s + a * la.ss + b * 8)));
    }
  }
}

#if defined(XLAYOUT_X86)
// Source lines are fetched this far ahead along each source row.
constexpr int64_t kShuffleAhead = 128;

// Four destination rows b .. b + 3 of ShuffleRowsT with units adjacent
// along B: one 32-byte load per source row serves all four (AVX2, chosen at
// run time). `out0` is row b; `fetch` prefetches ahead along the rows.
template <bool kStream>
__attribute__((target("avx2"))) void Shuffle4RowsAvx2(
    const uint8_t* sb, uint8_t* out0, int64_t bds, int64_t ass, int64_t an,
    int64_t css, int64_t cds, int64_t cn, bool fetch) {
  uint8_t* const out[4] = {out0, out0 + bds, out0 + 2 * bds, out0 + 3 * bds};
  for (int64_t c = 0; c < cn; ++c) {
    const uint8_t* sc = sb + c * css;
    const int64_t o = c * cds;
    for (int64_t a = 0; a < an; a += 2) {
      if (fetch) {
        PrefetchToL2(sc + a * ass + kShuffleAhead);
        PrefetchToL2(sc + (a + 1) * ass + kShuffleAhead);
      }
      const __m256i r0 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sc + a * ass));
      const __m256i r1 = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(sc + (a + 1) * ass));
      // Units 0 and 2 of both rows (lo), 1 and 3 (hi), then each unit's
      // middle 16-bit lanes swapped.
      __m256i lo = _mm256_unpacklo_epi64(r0, r1);
      __m256i hi = _mm256_unpackhi_epi64(r0, r1);
      lo = _mm256_shufflehi_epi16(
          _mm256_shufflelo_epi16(lo, _MM_SHUFFLE(3, 1, 2, 0)),
          _MM_SHUFFLE(3, 1, 2, 0));
      hi = _mm256_shufflehi_epi16(
          _mm256_shufflelo_epi16(hi, _MM_SHUFFLE(3, 1, 2, 0)),
          _MM_SHUFFLE(3, 1, 2, 0));
      const __m128i v[4] = {
          _mm256_castsi256_si128(lo), _mm256_castsi256_si128(hi),
          _mm256_extracti128_si256(lo, 1), _mm256_extracti128_si256(hi, 1)};
      for (int k = 0; k < 4; ++k) {
        __m128i* p = reinterpret_cast<__m128i*>(out[k] + o + a * 8);
        if constexpr (kStream) {
          _mm_stream_si128(p, v[k]);
        } else {
          _mm_storeu_si128(p, v[k]);
        }
      }
    }
  }
}

// The same with AVX-512BW, four source rows at a time (`an` a multiple of
// 4): each destination row gets 32 bytes per step.
alignas(64) constexpr int64_t kUnits01[8] = {0, 4, 8, 12, 1, 5, 9, 13};
alignas(64) constexpr int64_t kUnits23[8] = {2, 6, 10, 14, 3, 7, 11, 15};

template <bool kStream>
__attribute__((target("avx512f,avx512bw"))) void Shuffle4RowsAvx512(
    const uint8_t* sb, uint8_t* out0, int64_t bds, int64_t ass, int64_t an,
    int64_t css, int64_t cds, int64_t cn, bool fetch) {
  uint8_t* const out[4] = {out0, out0 + bds, out0 + 2 * bds, out0 + 3 * bds};
  const __m512i units01 = _mm512_load_si512(kUnits01);
  const __m512i units23 = _mm512_load_si512(kUnits23);
  for (int64_t c = 0; c < cn; ++c) {
    const uint8_t* sc = sb + c * css;
    const int64_t o = c * cds;
    for (int64_t a = 0; a < an; a += 4) {
      const uint8_t* r = sc + a * ass;
      if (fetch) {
        for (int k = 0; k < 4; ++k) {
          PrefetchToL2(r + k * ass + kShuffleAhead);
        }
      }
      // Units 0-3 of rows a, a + 1 (x) and a + 2, a + 3 (y).
      const __m512i x = _mm512_inserti64x4(
          _mm512_castsi256_si512(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + ass)), 1);
      const __m512i y = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_loadu_si256(
              reinterpret_cast<const __m256i*>(r + 2 * ass))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + 3 * ass)), 1);
      // Unit 0 of the four rows, then unit 1 (u01); units 2, 3 (u23).
      __m512i u01 = _mm512_permutex2var_epi64(x, units01, y);
      __m512i u23 = _mm512_permutex2var_epi64(x, units23, y);
      u01 = _mm512_shufflehi_epi16(
          _mm512_shufflelo_epi16(u01, _MM_SHUFFLE(3, 1, 2, 0)),
          _MM_SHUFFLE(3, 1, 2, 0));
      u23 = _mm512_shufflehi_epi16(
          _mm512_shufflelo_epi16(u23, _MM_SHUFFLE(3, 1, 2, 0)),
          _MM_SHUFFLE(3, 1, 2, 0));
      const __m256i v[4] = {
          _mm512_castsi512_si256(u01), _mm512_extracti64x4_epi64(u01, 1),
          _mm512_castsi512_si256(u23), _mm512_extracti64x4_epi64(u23, 1)};
      for (int k = 0; k < 4; ++k) {
        __m256i* p = reinterpret_cast<__m256i*>(out[k] + o + a * 8);
        if constexpr (kStream) {
          // 16-byte aligned only: two 16-byte streaming stores.
          _mm_stream_si128(reinterpret_cast<__m128i*>(p),
                           _mm256_castsi256_si128(v[k]));
          _mm_stream_si128(reinterpret_cast<__m128i*>(p) + 1,
                           _mm256_extracti128_si256(v[k], 1));
        } else {
          _mm256_storeu_si256(p, v[k]);
        }
      }
    }
  }
}
#endif

#if defined(__SSE2__)
// A shuffled plane whose C loop continues A in the destination (lc.ds ==
// la.n units): each destination row (fixed b) is lc.n * la.n contiguous
// units, written in one go instead of in lc.n pieces by separate planes.
// The source rows (lc.n * la.n of them) stay in L1 while b walks along them.
// With `pad` > 0, each row continues with zeros up to `pad` bytes (the plan
// checked that those bytes are all padding of the output). Rows that then
// cover whole lines are streamed entirely: mixing cached and streaming
// stores in one region lets the prefetcher pull in lines that the streaming
// stores must then evict, which is far slower than either alone.
template <Isa kIsa, bool kStream>
void ShuffleRowsT(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                  const Loop& lc, int64_t b_lo, int64_t b_hi, int64_t pad) {
  // Loop fields in locals: the stores below could alias them.
  const int64_t bss = lb.ss, bds = lb.ds, ass = la.ss, an = la.n;
  const int64_t css = lc.ss, cds = lc.ds, cn = lc.n;
  const int64_t row_bytes = cn * cds;  // A multiple of 16.
  auto swap = [](__m128i v) {
    v = _mm_shufflelo_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm_shufflehi_epi16(v, _MM_SHUFFLE(3, 1, 2, 0));
  };
  auto pad_row = [&](uint8_t* out) {
    if (pad > row_bytes) {
      if constexpr (kStream) {
        const __m128i zero = _mm_setzero_si128();
        for (int64_t q = row_bytes; q < pad; q += 16)
          StoreRow<true>(out + q, zero);
      } else {
        std::memset(out + row_bytes, 0, pad - row_bytes);
      }
    }
  };
  int64_t b = b_lo;
  if (bss == 8) {
#if defined(XLAYOUT_X86)
    if constexpr (kIsa != Isa::kSse2) {
      // Four destination rows per 32-byte load of each source row.
      for (; b + 4 <= b_hi; b += 4) {
        uint8_t* out0 = d + b * bds;
        const bool fetch = (b * bss) % 64 < 4 * bss;
        if (kIsa == Isa::kAvx512 && an % 4 == 0) {
          Shuffle4RowsAvx512<kStream>(s + b * bss, out0, bds, ass, an, css, cds,
                                      cn, fetch);
        } else {
          Shuffle4RowsAvx2<kStream>(s + b * bss, out0, bds, ass, an, css, cds,
                                    cn, fetch);
        }
        for (int k = 0; k < 4; ++k) pad_row(out0 + k * bds);
      }
    }
#endif
    // Units adjacent along B: one 16-byte load per source row serves two
    // destination rows (b, b + 1).
    for (; b + 2 <= b_hi; b += 2) {
      const uint8_t* sb = s + b * bss;
      uint8_t* out0 = d + b * bds;
      uint8_t* out1 = out0 + bds;
      const bool fetch = (b * bss) % 64 < 2 * bss;
      for (int64_t c = 0; c < cn; ++c) {
        const uint8_t* sc = sb + c * css;
        uint8_t* oc0 = out0 + c * cds;
        uint8_t* oc1 = out1 + c * cds;
        for (int64_t a = 0; a < an; a += 2) {
          if (fetch) {
            PrefetchToL2(sc + a * ass + 128);
            PrefetchToL2(sc + (a + 1) * ass + 128);
          }
          __m128i r0 =
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(sc + a * ass));
          __m128i r1 = _mm_loadu_si128(
              reinterpret_cast<const __m128i*>(sc + (a + 1) * ass));
          StoreRow<kStream>(oc0 + a * 8, swap(_mm_unpacklo_epi64(r0, r1)));
          StoreRow<kStream>(oc1 + a * 8, swap(_mm_unpackhi_epi64(r0, r1)));
        }
      }
      pad_row(out0);
      pad_row(out1);
    }
  }
  for (; b < b_hi; ++b) {
    const uint8_t* sb = s + b * bss;
    uint8_t* out = d + b * bds;
    // The cn * an source rows are read 8 bytes per b: fetch two lines ahead
    // once per line.
    const bool fetch = (b * bss) % 64 == 0;
    for (int64_t c = 0; c < cn; ++c) {
      const uint8_t* sc = sb + c * css;
      uint8_t* oc = out + c * cds;
      for (int64_t a = 0; a < an; a += 2) {
        if (fetch) {
          PrefetchToL2(sc + a * ass + 128);
          PrefetchToL2(sc + (a + 1) * ass + 128);
        }
        __m128i r0 =
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + a * ass));
        __m128i r1 = _mm_loadl_epi64(
            reinterpret_cast<const __m128i*>(sc + (a + 1) * ass));
        StoreRow<kStream>(oc + a * 8, swap(_mm_unpacklo_epi64(r0, r1)));
      }
    }
    pad_row(out);
  }
}

template <Isa kIsa>
void ShuffleRows(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                 const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream,
                 int64_t pad) {
  if (stream && pad > 0 && pad % 64 == 0 && lb.ds % 64 == 0 &&
      reinterpret_cast<uintptr_t>(d + b_lo * lb.ds) % 64 == 0) {
    ShuffleRowsT<kIsa, true>(s, d, lb, la, lc, b_lo, b_hi, pad);
  } else {
    ShuffleRowsT<kIsa, false>(s, d, lb, la, lc, b_lo, b_hi, pad);
  }
}

// ShuffleRows whose rows are padded with zeros up to the next row (lb.ds).
template <Isa kIsa>
void ShufflePaddedRows(const uint8_t* s, uint8_t* d, const Loop& lb,
                       const Loop& la, const Loop& lc, int64_t b_lo,
                       int64_t b_hi, bool stream) {
  ShuffleRows<kIsa>(s, d, lb, la, lc, b_lo, b_hi, stream, lb.ds);
}

bool ShuffleRowsApply(const Loop& la, const Loop& lc) {
  return lc.n > 1 && la.n % 2 == 0 && lc.ds == la.n * 8;
}
#endif

template <Isa kIsa>
void ShufflePlane(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                  const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream) {
#if defined(__SSE2__)
  if (ShuffleRowsApply(la, lc)) {
    ShuffleRows<kIsa>(s, d, lb, la, lc, b_lo, b_hi, stream, 0);
    return;
  }
#endif
  for (int64_t c = 0; c < lc.n; ++c) {
    const uint8_t* sc = s + c * lc.ss;
    uint8_t* dc = d + c * lc.ds;
    // 8 units = one 64-byte dst line per b when A is long enough.
    if (la.n >= 8) {
      ShuffleBlocks<8>(sc, dc, lb, la, b_lo, b_hi);
    } else if (la.n >= 4) {
      ShuffleBlocks<4>(sc, dc, lb, la, b_lo, b_hi);
    } else {
      ShuffleBlocks<1>(sc, dc, lb, la, b_lo, b_hi);
    }
  }
}

// B then divides 16 or is a multiple of it, so whole C steps fill the
// 16-unit blocks.
bool Gather32Applies(int64_t unit, const Loop& lb, const Loop& la,
                     const Loop& lc) {
  if (unit != 4 || la.ds != 4 || lb.ss != 4 || la.n < 16) return false;
  return lb.n >= 16 || (lc.ss == lb.n * 4 && lb.n * lc.n >= 16 &&
                        (16 % lb.n == 0 || lb.n % 16 == 0));
}

// Gather32Applies planes: the 16-row, 16-unit core goes to the blocked
// transpose, edges to the plain plane kernels.
template <Isa kIsa>
void Gather32Plane(const uint8_t* s, uint8_t* d, const Loop& lb, const Loop& la,
                   const Loop& lc, int64_t b_lo, int64_t b_hi, bool stream) {
  const int64_t rows = la.n / 16 * 16;
  if (rows > 0) {
    Plane32 p;
    p.src_row_stride = la.ss;
    p.rows = rows;
    p.inner_stride = lb.ds;
    const int64_t merged = lb.n * lc.n / 16 * 16;
    if (lc.n > 1 && lc.ss == lb.n * 4 && b_lo == 0 && b_hi == lb.n &&
        merged > 0 && merged % lb.n == 0) {
      // C continues B's source run: one plane of lb.n * lc.n units, and the
      // last whole C steps that don't fill 16 units.
      p.src = s;
      p.dst = d;
      p.cols = merged;
      p.inner = lb.n;
      p.outer_stride = lc.ds;
      TransposePlane32(p, stream, kIsa);
      const int64_t c0 = merged / lb.n;
      if (c0 < lc.n) {
        SelectPlane(4, rows)(s + c0 * lc.ss, d + c0 * lc.ds, lb,
                             Loop{rows, la.ss, la.ds},
                             Loop{lc.n - c0, lc.ss, lc.ds}, b_lo, b_hi, stream);
      }
    } else {
      const int64_t cols = (b_hi - b_lo) / 16 * 16;
      for (int64_t c = 0; c < lc.n && cols > 0; ++c) {
        p.src = s + c * lc.ss + b_lo * lb.ss;
        p.dst = d + c * lc.ds + b_lo * lb.ds;
        p.cols = cols;
        p.inner = cols;
        p.outer_stride = 0;
        TransposePlane32(p, stream, kIsa);
      }
      if (b_lo + cols < b_hi) {
        SelectPlane(4, rows)(s, d, lb, Loop{rows, la.ss, la.ds}, lc,
                             b_lo + cols, b_hi, stream);
      }
    }
  }
  if (rows < la.n) {
    SelectPlane(4, la.n - rows)(s + rows * la.ss, d + rows * la.ds, lb,
                                Loop{la.n - rows, la.ss, la.ds}, lc, b_lo, b_hi,
                                stream);
  }
}

PlaneFn SelectGather32Plane(Isa isa) {
  return isa == Isa::kAvx512 ? &Gather32Plane<Isa::kAvx512>
                             : &Gather32Plane<Isa::kSse2>;
}

// The plane kernel for a unit size and A extent, chosen once per box.
PlaneFn SelectPlane(int64_t unit, int64_t na, Isa isa) {
#if defined(XLAYOUT_X86)
  if (unit == 2 && isa == Isa::kAvx512) return SelectPairs16<Isa::kAvx512>(na);
  if (unit == 2 && isa == Isa::kAvx2) return SelectPairs16<Isa::kAvx2>(na);
#else
  (void)isa;
#endif
  switch (unit) {
    case 1:
      return SelectPlaneT<1>(na);
    case 2:
      return SelectPlaneT<2>(na);
    case 4:
      return SelectPlaneT<4>(na);
    case 8:
      return SelectPlaneT<8>(na);
    default:
      return SelectPlaneT<16>(na);
  }
}

void ZeroLoop(uint8_t* d, int64_t n, int64_t ds, int64_t unit) {
  if (ds == unit) {
    std::memset(d, 0, n * unit);
    return;
  }
  for (int64_t i = 0; i < n; ++i) std::memset(d + i * ds, 0, unit);
}

PlaneFn SelectShufflePlane(Isa isa) {
#if defined(XLAYOUT_X86)
  if (isa == Isa::kAvx512) return &ShufflePlane<Isa::kAvx512>;
  if (isa == Isa::kAvx2) return &ShufflePlane<Isa::kAvx2>;
#endif
  return &ShufflePlane<Isa::kSse2>;
}

PlaneFn PaddedRowsPlane(Isa isa) {
#if defined(__SSE2__)
#if defined(XLAYOUT_X86)
  if (isa == Isa::kAvx512) return &ShufflePaddedRows<Isa::kAvx512>;
  if (isa == Isa::kAvx2) return &ShufflePaddedRows<Isa::kAvx2>;
#endif
  return &ShufflePaddedRows<Isa::kSse2>;
#else
  (void)isa;
  return nullptr;
#endif
}

Isa ShufflePlaneIsa(PlaneFn plane) {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (plane == SelectShufflePlane(isa) ||
        (plane != nullptr && plane == PaddedRowsPlane(isa))) {
      return isa;
    }
  }
  return Isa::kSse2;
}

const char* PlaneName(PlaneFn plane) {
#if defined(__SSE2__)
  for (Isa isa : {Isa::kSse2, Isa::kAvx2, Isa::kAvx512}) {
    if (plane == PaddedRowsPlane(isa))
      return " (rows zero-padded to the next row)";
  }
#endif
  if (plane == &Gather32Plane<Isa::kAvx512>)
    return " (blocked 32-bit units, avx512)";
  if (plane == &Gather32Plane<Isa::kSse2>)
    return " (blocked 32-bit units, sse2)";
  return "";
}

}  // namespace xlayout::relayout_internal
