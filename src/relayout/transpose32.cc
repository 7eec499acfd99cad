#include "relayout/transpose32.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "relayout/kernel_util.h"
#include "relayout/simd.h"

namespace xlayout::relayout_internal {
namespace {

// Unit (a, k) of a 16x16 block goes to rows[k] + off + 4 * a.
using Rows16 = uint8_t* const*;

#if !defined(XLAYOUT_X86)
// Portable: no vector intrinsics.
void Block16Scalar(const uint8_t* s, int64_t ssa, Rows16 rows, int64_t off,
                   bool /*nt*/) {
  for (int k = 0; k < 16; ++k) {
    uint32_t col[16];
    for (int a = 0; a < 16; ++a) std::memcpy(&col[a], s + a * ssa + 4 * k, 4);
    std::memcpy(rows[k] + off, col, sizeof(col));
  }
}
#else
template <bool kNt>
inline void Store128(uint8_t* p, __m128i v) {
  if constexpr (kNt) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(p), v);
  } else {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
  }
}

// 4x4 micro-transposes in SSE registers. The quads of one group of four
// destination rows are stored back to back, completing their lines.
template <bool kNt>
void Block16Sse2T(const uint8_t* s, int64_t ssa, Rows16 rows, int64_t off) {
  for (int bq = 0; bq < 16; bq += 4) {
    for (int aq = 0; aq < 16; aq += 4) {
      const uint8_t* p = s + aq * ssa + 4 * bq;
      __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + ssa));
      __m128i r2 =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * ssa));
      __m128i r3 =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 3 * ssa));
      __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpacklo_epi32(r2, r3);
      __m128i t2 = _mm_unpackhi_epi32(r0, r1), t3 = _mm_unpackhi_epi32(r2, r3);
      const int64_t o = off + 4 * aq;
      Store128<kNt>(rows[bq] + o, _mm_unpacklo_epi64(t0, t1));
      Store128<kNt>(rows[bq + 1] + o, _mm_unpackhi_epi64(t0, t1));
      Store128<kNt>(rows[bq + 2] + o, _mm_unpacklo_epi64(t2, t3));
      Store128<kNt>(rows[bq + 3] + o, _mm_unpackhi_epi64(t2, t3));
    }
  }
}

void Block16Sse2(const uint8_t* s, int64_t ssa, Rows16 rows, int64_t off,
                 bool nt) {
  if (nt) {
    Block16Sse2T<true>(s, ssa, rows, off);
  } else {
    Block16Sse2T<false>(s, ssa, rows, off);
  }
}

// One source line per zmm register and one whole destination line per
// store: 16 loads, 64 shuffles, 16 stores for 1 KiB.
__attribute__((target("avx512f"))) inline void Block16Avx512(
    const uint8_t* s, int64_t ssa, Rows16 rows, int64_t off, bool nt) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_loadu_ps(reinterpret_cast<const float*>(s + i * ssa));
  // Pairs of rows interleaved by unit within each 128-bit lane.
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // r[4 i + k], lane L: unit 4 L + k of rows 4 i .. 4 i + 3.
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]),
                  b = _mm512_castps_pd(t[4 * i + 1]),
                  c = _mm512_castps_pd(t[4 * i + 2]),
                  d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // Gather lane L of the four row quads: destination row 4 L + k.
  for (int k = 0; k < 4; ++k) {
    const __m512 q0 = r[k], q1 = r[4 + k], q2 = r[8 + k], q3 = r[12 + k];
    const __m512 lo01 = _mm512_shuffle_f32x4(q0, q1, 0x44),
                 hi01 = _mm512_shuffle_f32x4(q0, q1, 0xEE),
                 lo23 = _mm512_shuffle_f32x4(q2, q3, 0x44),
                 hi23 = _mm512_shuffle_f32x4(q2, q3, 0xEE);
    const __m512 out[4] = {_mm512_shuffle_f32x4(lo01, lo23, 0x88),
                           _mm512_shuffle_f32x4(lo01, lo23, 0xDD),
                           _mm512_shuffle_f32x4(hi01, hi23, 0x88),
                           _mm512_shuffle_f32x4(hi01, hi23, 0xDD)};
    for (int l = 0; l < 4; ++l) {
      float* to = reinterpret_cast<float*>(rows[4 * l + k] + off);
      if (nt) {
        _mm512_stream_ps(to, out[l]);
      } else {
        _mm512_storeu_ps(to, out[l]);
      }
    }
  }
}

#endif

using Block16Fn = void (*)(const uint8_t*, int64_t, Rows16, int64_t, bool);

// Tiles are 256 bytes (4 lines) of each of 48 source rows: 12 KiB. The
// first tile of a plane has no lead, so planes of fewer than 8 such tiles
// get 16-row tiles. Measured with bench/relayout_bench (f32 transpose,
// x memcpy, 1 thread, 1 GiB, a 2-core EPYC VM, 32 KiB L1 and 1 MiB L2 per
// core), with the lead in L2: 48 x 256 B 0.90-0.91, 64 x 256 B 0.90,
// 96 x 256 B 0.90, 64 x 512 B 0.90, 32 x 256 B 0.81, 48 x 512 B 0.83,
// 32 x 1 KiB 0.70. (With the lead in L1, 48 x 256 B was best at 0.71-0.86;
// without a lead, 0.45-0.6.)
constexpr int64_t kTileBytesPerRow = 256;
constexpr int64_t kTileRows = 48;

// Always inlined into a per-ISA wrapper, so the block kernel inlines too.
template <Block16Fn kBlock>
[[gnu::always_inline]] inline void Drive(const Plane32& p, bool nt) {
  const int64_t ssa = p.src_row_stride;
  const int64_t tb = std::min<int64_t>(p.cols, kTileBytesPerRow / 4);
  const bool few = (p.rows / kTileRows) * (p.cols / tb) < 8;
  const int64_t ta = std::min<int64_t>(p.rows, few ? 16 : kTileRows);
  uint8_t* rows[16];
  for (int64_t at = 0; at < p.rows; at += ta) {
    const int64_t ae = std::min(p.rows, at + ta);
    for (int64_t bt = 0; bt < p.cols; bt += tb) {
      const int64_t be = std::min(p.cols, bt + tb);
      // The next tile in this order: its lines are fetched across this
      // tile's blocks, a few per block.
      int64_t nat = at, nbt = be;
      if (nbt >= p.cols) {
        nbt = 0;
        nat = ae;
      }
      int64_t pf_total = 0, pf_row_lines = 1;
      const uint8_t* pf_base = p.src;
      if (nat < p.rows) {
        const int64_t nae = std::min(p.rows, nat + ta),
                      nbe = std::min(p.cols, nbt + tb);
        pf_base = p.src + nat * ssa + 4 * nbt;
        // One more line when the run starts mid-line.
        pf_row_lines = (4 * (nbe - nbt) + 63) / 64 +
                       (reinterpret_cast<uintptr_t>(pf_base) % 64 != 0);
        pf_total = (nae - nat) * pf_row_lines;
      }
      const int64_t blocks = (ae - at) / 16 * ((be - bt) / 16);
      const int64_t per = (pf_total + blocks - 1) / blocks;
      int64_t pf = 0, pf_row = 0, pf_line = 0;
      for (int64_t b = bt; b < be; b += 16) {
        // Destination rows of units b .. b + 15: one division per block.
        int64_t q = b / p.inner, r = b % p.inner;
        for (int k = 0; k < 16; ++k) {
          rows[k] = p.dst + q * p.outer_stride + r * p.inner_stride;
          if (++r == p.inner) {
            r = 0;
            ++q;
          }
        }
        for (int64_t a = at; a < ae; a += 16) {
          for (int64_t i = 0; i < per && pf < pf_total; ++i, ++pf) {
            PrefetchToL2(pf_base + pf_row * ssa + pf_line * 64);
            if (++pf_line == pf_row_lines) {
              pf_line = 0;
              ++pf_row;
            }
          }
          kBlock(p.src + a * ssa + 4 * b, ssa, rows, 4 * a, nt);
        }
      }
    }
  }
}

#if defined(XLAYOUT_X86)
__attribute__((target("avx512f"))) void DriveAvx512(const Plane32& p, bool nt) {
  Drive<&Block16Avx512>(p, nt);
}
void DriveSse2(const Plane32& p, bool nt) { Drive<&Block16Sse2>(p, nt); }
#endif

}  // namespace

Isa CpuIsa() {
  Isa best = Isa::kSse2;
#if defined(XLAYOUT_X86)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
    best = Isa::kAvx512;
  } else if (__builtin_cpu_supports("avx2")) {
    best = Isa::kAvx2;
  }
#endif
  return best;
}

Isa ResolveIsa(RelayoutIsa cap) {
  static const Isa cpu = CpuIsa();
  switch (cap) {
    case RelayoutIsa::kSse2:
      return Isa::kSse2;
    case RelayoutIsa::kAvx2:
      return std::min(cpu, Isa::kAvx2);
    case RelayoutIsa::kAuto:
    case RelayoutIsa::kAvx512:
      break;
  }
  return cpu;
}

void TransposePlane32(const Plane32& p, bool stream, Isa isa) {
  // Streaming stores need aligned destination vectors: whole lines for
  // AVX-512, 16 bytes for SSE.
  const int64_t align = isa == Isa::kAvx512 ? 64 : 16;
  const bool nt = stream && reinterpret_cast<uintptr_t>(p.dst) % align == 0 &&
                  p.inner_stride % align == 0 && p.outer_stride % align == 0;
#if defined(XLAYOUT_X86)
  // AVX2 has no 16-unit rows: SSE2 blocks serve it.
  if (isa == Isa::kAvx512) return DriveAvx512(p, nt);
  return DriveSse2(p, nt);
#else
  (void)isa;
  return Drive<&Block16Scalar>(p, nt);
#endif
}

}  // namespace xlayout::relayout_internal
