#include "relayout/chunking.h"

#include <algorithm>

namespace xlayout::relayout_internal {

int64_t BoxSpan::IterStart(int64_t i) const {
  return static_cast<int64_t>((start + step * i) / 8);
}

int64_t BoxSpan::IterEnd(int64_t i) const {
  return static_cast<int64_t>((start + step * i + extent + 7) / 8);
}

int64_t BoxSpan::FirstIterAtOrAfter(int64_t x) const {
  if (n == 1) return IterStart(0) >= x ? 0 : 1;
  const __int128 need = static_cast<__int128>(x) * 8 - start;
  if (need <= 0) return 0;
  const __int128 i = (need + step - 1) / step;
  return i >= n ? n : static_cast<int64_t>(i);
}

BoxSpan SpanOf(const Box& b, int dst_bits) {
  const bool elements = b.kernel == Kernel::kBits;
  const int scale = elements ? dst_bits : 8;  // Bits per offset unit.
  const size_t n = b.loops.size();
  // Reach of each loop beyond its first iteration, and of one innermost step.
  std::vector<__int128> reach(n);
  __int128 base = elements ? 1 : b.unit;
  for (size_t k = 0; k < n; ++k)
    reach[k] = static_cast<__int128>(b.loops[k].n - 1) * b.loops[k].ds;
  if (b.pads_rows) {
    // Loops n-3..n-1 are C, B, A, and each B row runs on (zeros) up to the
    // next one.
    reach[n - 3] = 0;
    reach[n - 1] = 0;
    base = b.loops[n - 2].ds;
  }
  __int128 all = base;
  for (const __int128 r : reach) all += r;
  auto allowed = [&](size_t k) {
    switch (b.kernel) {
      case Kernel::kTranspose:
        return k + 1 < n && !(b.pads_rows && (k + 3 == n || k + 1 == n));
      case Kernel::kBits:
        return n >= 3 ? k + 2 < n : k == 0;
      default:
        return true;
    }
  };
  int best = -1;
  for (size_t k = 0; k < n; ++k) {
    const Loop& l = b.loops[k];
    if (!allowed(k) || l.n <= 1 || l.ds < all - reach[k]) continue;
    if (elements && ((b.dst * scale) % 8 != 0 || (l.ds * scale) % 8 != 0))
      continue;
    if (best < 0 || l.ds > b.loops[best].ds) best = static_cast<int>(k);
  }
  BoxSpan span;
  span.start = static_cast<__int128>(b.dst) * scale;
  if (best >= 0) {
    span.depth = best;
    span.n = b.loops[best].n;
    span.step = static_cast<__int128>(b.loops[best].ds) * scale;
    span.extent = (all - reach[best]) * scale;
  } else {
    span.extent = all * scale;
  }
  span.lo = span.IterStart(0);
  span.hi = span.IterEnd(span.n - 1);
  return span;
}

int64_t ValidCut(const std::vector<BoxSpan>& spans, int64_t x, bool forward) {
  bool moved = true;
  while (moved) {
    moved = false;
    for (const BoxSpan& s : spans) {
      if (!(s.lo < x && x < s.hi)) continue;
      int64_t to = x;
      if (s.depth < 0) {
        to = forward ? s.hi : s.lo;
      } else {
        const int64_t i = s.FirstIterAtOrAfter(x);
        if (i >= s.n) {
          to = forward ? s.hi : s.IterStart(s.n - 1);  // Inside the last.
        } else if (s.IterEnd(i - 1) > x) {
          to = forward ? s.IterStart(i) : s.IterStart(i - 1);
        }
      }
      if (to != x) {
        x = to;
        moved = true;
      }
    }
  }
  return x;
}

ChunkPlan PlanChunks(const std::vector<Box>& boxes, const ChunkingInput& in) {
  ChunkPlan plan;
  const int64_t total = in.output_bytes;
  if (total == 0) return plan;
  const int dst_bits = in.dst_bits;
  std::vector<BoxSpan> spans;
  if (!in.elementwise) {
    spans.reserve(boxes.size());
    for (const Box& b : boxes) spans.push_back(SpanOf(b, dst_bits));
  }
  // Element-wise plans cut between whole elements.
  const int64_t grain = in.elementwise ? std::max(1, dst_bits / 8) : 1;
  constexpr int64_t kMaxChunks = 4096;
  constexpr int64_t kAutoMinChunkBytes = 1 << 20;
  // Planning costs boxes x chunks: keep it below ~2^24 steps.
  constexpr int64_t kMaxSteps = int64_t{1} << 24;
  const ChunkingInput& o = in;
  int64_t target = std::max<int64_t>(
      o.min_chunk_bytes > 0 ? o.min_chunk_bytes : kAutoMinChunkBytes,
      (total + kMaxChunks - 1) / kMaxChunks);
  if (o.min_chunk_bytes == 0) {
    // A chunk cuts a box along one loop, and the kernels read on along the
    // source where that loop's source stride is small (a transpose's B
    // loop): keep such strips of the source at least kMinSourceRun bytes
    // wide, or every chunk rereads the lines at its edges and the
    // prefetchers lose the stream.
    constexpr int64_t kMinSourceRun = 4096;
    for (size_t k = 0; k < spans.size(); ++k) {
      const BoxSpan& s = spans[k];
      if (s.depth < 0) continue;
      const Loop& l = boxes[k].loops[s.depth];
      const int64_t ss =
          boxes[k].kernel == Kernel::kBits ? l.ss * in.src_bits / 8 : l.ss;
      if (ss <= 0 || ss >= kMinSourceRun) continue;
      const int64_t iterations =
          std::min<int64_t>(s.n, (kMinSourceRun + ss - 1) / ss);
      target = std::max<int64_t>(target,
                                 static_cast<int64_t>(s.step * iterations / 8));
    }
  }
  if (!spans.empty()) {
    const int64_t most =
        std::max<int64_t>(1, kMaxSteps / static_cast<int64_t>(spans.size()));
    target = std::max<int64_t>(target, total / most);
  }
  if (o.max_chunk_bytes > 0) target = std::min(target, o.max_chunk_bytes);
  target = std::max<int64_t>(target, 1);
  std::vector<int64_t> cuts{0};
  int64_t pos = 0;
  while (total - pos > target) {
    int64_t x = pos + target;
    x = (x + grain - 1) / grain * grain;
    int64_t cut = -1;
    if (o.max_chunk_bytes > 0) {
      // Stay under the cap when the plan allows.
      const int64_t back = ValidCut(spans, x, /*forward=*/false);
      if (back > pos) cut = back;
    }
    if (cut < 0) cut = ValidCut(spans, x, /*forward=*/true);
    if (cut >= total) break;
    cuts.push_back(cut);
    pos = cut;
  }
  cuts.push_back(total);
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    Chunk chunk;
    chunk.begin = cuts[c];
    chunk.end = cuts[c + 1];
    chunk.first_item = plan.items.size();
    for (size_t k = 0; k < spans.size(); ++k) {
      const BoxSpan& s = spans[k];
      if (s.hi <= chunk.begin || s.lo >= chunk.end || s.lo >= s.hi) continue;
      if (s.depth < 0) {
        plan.items.push_back(ChunkItem{static_cast<int>(k), -1, 0, 0});
        continue;
      }
      const int64_t lo = s.FirstIterAtOrAfter(chunk.begin);
      const int64_t hi = s.FirstIterAtOrAfter(chunk.end);
      if (hi > lo) {
        plan.items.push_back(ChunkItem{static_cast<int>(k), s.depth, lo, hi});
      }
    }
    chunk.end_item = plan.items.size();
    plan.chunks.push_back(chunk);
  }
  return plan;
}

}  // namespace xlayout::relayout_internal
