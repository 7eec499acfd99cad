#include "relayout/bit_kernels.h"

#include <cstring>

#include "relayout/kernel_util.h"
#include "xlayout/physical_index.h"

namespace xlayout::relayout_internal {

uint8_t ReadBits(const uint8_t* buf, int64_t e, int bits) {
  if (bits >= 8) return buf[e];
  return ReadPackedElement(buf, e, bits);
}

// Element e of a buffer of SB-bit elements (8: one per byte), XLA's order.
template <int SB>
inline uint8_t ReadBitsT(const uint8_t* buf, int64_t e) {
  if constexpr (SB == 8) {
    return buf[e];
  } else {
    constexpr int kPer = 8 / SB, kShift = SB == 1 ? 3 : SB == 2 ? 2 : 1;
    const int shift = 8 - SB * (static_cast<int>(e & (kPer - 1)) + 1);
    return static_cast<uint8_t>((buf[e >> kShift] >> shift) & ((1u << SB) - 1));
  }
}

// Two innermost loops (outer o, inner i) of a sub-byte box. The output was
// zeroed first; packed elements are OR-ed into place.
template <int SB, int DB>
void BitPlaneT(const uint8_t* __restrict s, uint8_t* __restrict d, int64_t so,
               int64_t dof, const Loop& o, const Loop& i, uint8_t mask) {
  for (int64_t y = 0; y < o.n; ++y) {
    const int64_t sy = so + y * o.ss, dy = dof + y * o.ds;
    for (int64_t x = 0; x < i.n; ++x) {
      const uint8_t v = ReadBitsT<SB>(s, sy + x * i.ss) & mask;
      const int64_t e = dy + x * i.ds;
      if constexpr (DB == 8) {
        d[e] = v;
      } else {
        constexpr int kPer = 8 / DB, kShift = DB == 1 ? 3 : DB == 2 ? 2 : 1;
        d[e >> kShift] |= static_cast<uint8_t>(
            v << (8 - DB * (static_cast<int>(e & (kPer - 1)) + 1)));
      }
    }
  }
}

template <int SB>
void BitPlaneS(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
               const Loop& o, const Loop& i, int db, uint8_t mask) {
  switch (db) {
    case 1:
      return BitPlaneT<SB, 1>(s, d, so, dof, o, i, mask);
    case 2:
      return BitPlaneT<SB, 2>(s, d, so, dof, o, i, mask);
    case 4:
      return BitPlaneT<SB, 4>(s, d, so, dof, o, i, mask);
    default:
      return BitPlaneT<SB, 8>(s, d, so, dof, o, i, mask);
  }
}

// Packed 4-bit to packed 4-bit where the inner loop gathers 8 rows into one
// 32-bit dst word (the (8,1) E(4) tile) and the outer loop walks columns of
// a row-major source: two columns share each source byte, so 8 source bytes
// give two dst words. Needs byte-aligned groups.
#if defined(__x86_64__) || defined(__i386__)
// Nibble8Rows' vector loop on 64 columns at a time (AVX2, chosen at run time:
// the build stays portable). Returns the columns done (a multiple of 64).
// Repeated `reps` times, rows and output advancing by rss and rds bytes.
__attribute__((target("avx2"))) int64_t Nibble8RowsAvx2(
    const uint8_t* const* row_ptrs, uint8_t* out_base, int64_t n, int64_t reps,
    int64_t rss, int64_t rds) {
  const __m256i hi_mask = _mm256_set1_epi8(static_cast<char>(0xF0));
  const __m256i lo_mask = _mm256_set1_epi8(0x0F);
  const int64_t n64 = n / 64 * 64;
  for (int64_t rep = 0; rep < reps; ++rep) {
    // A local copy: the stores below could alias the caller's array.
    const uint8_t* rows[8];
    for (int k = 0; k < 8; ++k) rows[k] = row_ptrs[k] + rep * rss;
    uint8_t* out = out_base + rep * rds;
    for (int64_t y = 0; y < n64; y += 64) {
      __m256i x[4][2];
      for (int j = 0; j < 4; ++j) {
        const __m256i ra = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(rows[2 * j] + y / 2));
        const __m256i rb = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(rows[2 * j + 1] + y / 2));
        const __m256i even = _mm256_or_si256(
            _mm256_and_si256(ra, hi_mask),
            _mm256_and_si256(_mm256_srli_epi16(rb, 4), lo_mask));
        const __m256i odd =
            _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi16(ra, 4), hi_mask),
                            _mm256_and_si256(rb, lo_mask));
        // Per 128-bit lane (lane 1 = columns 32-63): columns 0-15, 16-31.
        x[j][0] = _mm256_unpacklo_epi8(even, odd);
        x[j][1] = _mm256_unpackhi_epi8(even, odd);
      }
      for (int h = 0; h < 2; ++h) {
        const __m256i p0 = _mm256_unpacklo_epi8(x[0][h], x[1][h]);
        const __m256i p1 = _mm256_unpackhi_epi8(x[0][h], x[1][h]);
        const __m256i q0 = _mm256_unpacklo_epi8(x[2][h], x[3][h]);
        const __m256i q1 = _mm256_unpackhi_epi8(x[2][h], x[3][h]);
        const __m256i w0 = _mm256_unpacklo_epi16(p0, q0);  // Columns 0-3.
        const __m256i w1 = _mm256_unpackhi_epi16(p0, q0);  // 4-7.
        const __m256i w2 = _mm256_unpacklo_epi16(p1, q1);  // 8-11.
        const __m256i w3 = _mm256_unpackhi_epi16(p1, q1);  // 12-15.
        uint8_t* lo = out + (y + 16 * h) * 4;
        uint8_t* hi = out + (y + 32 + 16 * h) * 4;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo),
                            _mm256_permute2x128_si256(w0, w1, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + 32),
                            _mm256_permute2x128_si256(w2, w3, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi),
                            _mm256_permute2x128_si256(w0, w1, 0x31));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + 32),
                            _mm256_permute2x128_si256(w2, w3, 0x31));
      }
    }
  }
  return n64;
}

// The same on 128 columns at a time with AVX-512BW: one 64-byte load per
// row, selects in one ternary-logic op, and whole output lines (streamed
// when `nt`, which needs a 64-byte aligned output). Returns the columns
// done (a multiple of 128).
__attribute__((target("avx512f,avx512bw"))) int64_t Nibble8RowsAvx512(
    const uint8_t* const* row_ptrs, uint8_t* out_base, int64_t n, int64_t reps,
    int64_t rss, int64_t rds, bool nt) {
  const __m512i hi_mask = _mm512_set1_epi8(static_cast<char>(0xF0));
  const int64_t n128 = n / 128 * 128;
  for (int64_t rep = 0; rep < reps; ++rep) {
    const uint8_t* rows[8];
    for (int k = 0; k < 8; ++k) rows[k] = row_ptrs[k] + rep * rss;
    uint8_t* out = out_base + rep * rds;
    for (int64_t y = 0; y < n128; y += 128) {
      __m512i x[4][2];
      for (int j = 0; j < 4; ++j) {
        const __m512i ra = _mm512_loadu_si512(rows[2 * j] + y / 2);
        const __m512i rb = _mm512_loadu_si512(rows[2 * j + 1] + y / 2);
        // mask ? a : b, bitwise (0xE4).
        const __m512i even = _mm512_ternarylogic_epi32(
            ra, _mm512_srli_epi16(rb, 4), hi_mask, 0xE4);
        const __m512i odd = _mm512_ternarylogic_epi32(_mm512_slli_epi16(ra, 4),
                                                      rb, hi_mask, 0xE4);
        // Lane L holds columns 32 L + 0..15 (h = 0) and + 16..31 (h = 1).
        x[j][0] = _mm512_unpacklo_epi8(even, odd);
        x[j][1] = _mm512_unpackhi_epi8(even, odd);
      }
      for (int h = 0; h < 2; ++h) {
        const __m512i p0 = _mm512_unpacklo_epi8(x[0][h], x[1][h]);
        const __m512i p1 = _mm512_unpackhi_epi8(x[0][h], x[1][h]);
        const __m512i q0 = _mm512_unpacklo_epi8(x[2][h], x[3][h]);
        const __m512i q1 = _mm512_unpackhi_epi8(x[2][h], x[3][h]);
        // w_k lane L: the words of columns 32 L + 16 h + 4 k .. + 3.
        const __m512i w0 = _mm512_unpacklo_epi16(p0, q0);
        const __m512i w1 = _mm512_unpackhi_epi16(p0, q0);
        const __m512i w2 = _mm512_unpacklo_epi16(p1, q1);
        const __m512i w3 = _mm512_unpackhi_epi16(p1, q1);
        // Output line L = lane L of w0..w3: a 4x4 transpose of lanes.
        const __m512i a = _mm512_shuffle_i64x2(w0, w1, 0x44),
                      b = _mm512_shuffle_i64x2(w0, w1, 0xEE),
                      c = _mm512_shuffle_i64x2(w2, w3, 0x44),
                      d = _mm512_shuffle_i64x2(w2, w3, 0xEE);
        const __m512i line[4] = {
            _mm512_shuffle_i64x2(a, c, 0x88), _mm512_shuffle_i64x2(a, c, 0xDD),
            _mm512_shuffle_i64x2(b, d, 0x88), _mm512_shuffle_i64x2(b, d, 0xDD)};
        for (int l = 0; l < 4; ++l) {
          void* at = out + (y + 32 * l + 16 * h) * 4;
          if (nt) {
            _mm512_stream_si512(reinterpret_cast<__m512i*>(at), line[l]);
          } else {
            _mm512_storeu_si512(at, line[l]);
          }
        }
      }
    }
  }
  return n128;
}

#endif

// One plane of Nibble8Rows: n columns (even) of 8 rows `iss` elements apart.
void Nibble8RowsOne(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
                    int64_t n, int64_t iss, int64_t y) {
  constexpr uint64_t kLow = 0x0F0F0F0F0F0F0F0Full;
  // Nibbles in bytes 0..7 (element k in byte k) -> 4 bytes, element 0 high.
  auto pack = [](uint64_t v) {
    uint64_t t = ((v << 4) | (v >> 8)) & 0x00FF00FF00FF00FFull;
    t = (t | (t >> 8)) & 0x0000FFFF0000FFFFull;
    return static_cast<uint32_t>(t | (t >> 16));
  };
  const uint8_t* rows[8];
  for (int k = 0; k < 8; ++k) rows[k] = s + (so + k * iss) / 2;
  uint8_t* out = d + dof / 2;
#if defined(__SSE2__)
  // 32 columns at a time. Rows 2j and 2j+1 give dst byte j of every column:
  // (high nibbles of both) for even columns, (low nibbles) for odd ones;
  // interleaving those, then the four byte planes, gives each column's word.
  const __m128i hi_mask = _mm_set1_epi8(static_cast<char>(0xF0));
  const __m128i lo_mask = _mm_set1_epi8(0x0F);
  for (; y + 32 <= n; y += 32) {
    __m128i x[4][2];
    for (int j = 0; j < 4; ++j) {
      const __m128i ra = LoadRow(rows[2 * j] + y / 2);
      const __m128i rb = LoadRow(rows[2 * j + 1] + y / 2);
      const __m128i even =
          _mm_or_si128(_mm_and_si128(ra, hi_mask),
                       _mm_and_si128(_mm_srli_epi16(rb, 4), lo_mask));
      const __m128i odd =
          _mm_or_si128(_mm_and_si128(_mm_slli_epi16(ra, 4), hi_mask),
                       _mm_and_si128(rb, lo_mask));
      x[j][0] = _mm_unpacklo_epi8(even, odd);  // Columns 0-15.
      x[j][1] = _mm_unpackhi_epi8(even, odd);  // Columns 16-31.
    }
    for (int h = 0; h < 2; ++h) {
      const __m128i p0 = _mm_unpacklo_epi8(x[0][h], x[1][h]);
      const __m128i p1 = _mm_unpackhi_epi8(x[0][h], x[1][h]);
      const __m128i q0 = _mm_unpacklo_epi8(x[2][h], x[3][h]);
      const __m128i q1 = _mm_unpackhi_epi8(x[2][h], x[3][h]);
      uint8_t* at = out + (y + 16 * h) * 4;
      StoreRow<false>(at, _mm_unpacklo_epi16(p0, q0));
      StoreRow<false>(at + 16, _mm_unpackhi_epi16(p0, q0));
      StoreRow<false>(at + 32, _mm_unpacklo_epi16(p1, q1));
      StoreRow<false>(at + 48, _mm_unpackhi_epi16(p1, q1));
    }
  }
#endif
  for (; y < n; y += 2) {
    uint64_t x = 0;
    for (int k = 0; k < 8; ++k)
      x |= static_cast<uint64_t>(rows[k][y / 2]) << (8 * k);
    Store<uint32_t>(out + y * 4, pack((x >> 4) & kLow));
    Store<uint32_t>(out + y * 4 + 4, pack(x & kLow));
  }
}

bool Nibble8RowsApply(int64_t so, int64_t dof, const Loop& o, const Loop& i,
                      const Loop& r) {
  return i.n == 8 && i.ds == 1 && o.ss == 1 && o.ds == 8 && o.n % 2 == 0 &&
         so % 2 == 0 && dof % 2 == 0 && i.ss % 2 == 0 &&
         (r.n == 1 || (r.ss % 2 == 0 && r.ds % 2 == 0));
}

// Runs the plane `r.n` times along loop r (element strides), which must keep
// the byte alignment too.
bool Nibble8Rows(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
                 const Loop& o, const Loop& i, const Loop& r, bool stream,
                 Isa isa) {
  if (!Nibble8RowsApply(so, dof, o, i, r)) return false;
  int64_t done = 0;  // Columns of each plane done with AVX2.
#if defined(__x86_64__) || defined(__i386__)
  const uint8_t* rows[8];
  for (int k = 0; k < 8; ++k) rows[k] = s + (so + k * i.ss) / 2;
  if (o.n >= 128 && isa == Isa::kAvx512) {
    uint8_t* out = d + dof / 2;
    const bool nt = stream && reinterpret_cast<uintptr_t>(out) % 64 == 0 &&
                    (r.n == 1 || (r.ds / 2) % 64 == 0);
    done = Nibble8RowsAvx512(rows, out, o.n, r.n, r.ss / 2, r.ds / 2, nt);
  } else if (o.n >= 64 && isa >= Isa::kAvx2) {
    done = Nibble8RowsAvx2(rows, d + dof / 2, o.n, r.n, r.ss / 2, r.ds / 2);
  }
#endif
  if (done < o.n) {
    for (int64_t k = 0; k < r.n; ++k)
      Nibble8RowsOne(s, d, so + k * r.ss, dof + k * r.ds, o.n, i.ss, done);
  }
  return true;
}

void BitPlane(const uint8_t* s, uint8_t* d, int64_t so, int64_t dof,
              const Loop& o, const Loop& i, const BitSides& b, Isa isa) {
  if (b.src_bits == 4 && b.dst_bits == 4 &&
      Nibble8Rows(s, d, so, dof, o, i, Loop{1, 0, 0}, false, isa)) {
    return;
  }
  switch (b.src_bits) {
    case 1:
      return BitPlaneS<1>(s, d, so, dof, o, i, b.dst_bits, b.mask);
    case 2:
      return BitPlaneS<2>(s, d, so, dof, o, i, b.dst_bits, b.mask);
    case 4:
      return BitPlaneS<4>(s, d, so, dof, o, i, b.dst_bits, b.mask);
    default:
      return BitPlaneS<8>(s, d, so, dof, o, i, b.dst_bits, b.mask);
  }
}

// Runs one box with its loop `split` limited to iterations [lo, hi) (a

}  // namespace xlayout::relayout_internal
