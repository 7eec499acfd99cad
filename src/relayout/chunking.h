// Internal: the last planning pass. The output is cut into chunks:
// contiguous byte ranges, in order, that never cut one iteration of a box's
// split loop (nor a byte that two elements of a packed output share), so
// chunks run independently, in any order, into the whole output or into a
// window of their own.
#ifndef XLAYOUT_SRC_RELAYOUT_CHUNKING_H_
#define XLAYOUT_SRC_RELAYOUT_CHUNKING_H_

#include <cstdint>
#include <vector>

#include "relayout/box.h"
#include "xlayout/relayout.h"

namespace xlayout::relayout_internal {

// Where one box writes, in output bits: iteration i of its loop `depth`
// covers [start + i * step, start + i * step + extent), all other loops
// included. depth < 0: the box is one piece (no loop's iterations are
// disjoint in the output, or none the runner can limit).
struct BoxSpan {
  __int128 start = 0;
  __int128 step = 0;
  __int128 extent = 0;
  int depth = -1;
  int64_t n = 1;
  int64_t lo = 0, hi = 0;  // Bytes of the whole box.

  int64_t IterStart(int64_t i) const;
  int64_t IterEnd(int64_t i) const;
  // The first iteration that starts at or after byte x (n when none does).
  int64_t FirstIterAtOrAfter(int64_t x) const;
};

// The loop a chunk may cut a box along: the one with the largest output
// stride whose iterations are disjoint (stride >= the reach of all other
// loops), among those the runner can limit (a transpose's not A; a bit
// box's only outside its two kernel loops, on whole bytes, so the nibble
// kernel always sees whole rows).
BoxSpan SpanOf(const Box& box, int dst_bits);

// x moved forward (or backward) to the nearest byte offset that cuts no
// box iteration.
int64_t ValidCut(const std::vector<BoxSpan>& spans, int64_t x, bool forward);

// Part of one box that a chunk runs: iterations [lo, hi) of its loop
// `split` (-1: the whole box).
struct ChunkItem {
  int box = 0;
  int split = -1;
  int64_t lo = 0, hi = 0;

  friend bool operator==(const ChunkItem&, const ChunkItem&) = default;
};

// A contiguous range of output bytes and the box parts that write it.
struct Chunk {
  int64_t begin = 0, end = 0;
  size_t first_item = 0, end_item = 0;  // Into ChunkPlan::items.
};

struct ChunkPlan {
  std::vector<Chunk> chunks;
  std::vector<ChunkItem> items;
};

// What chunking needs to know about a plan besides its boxes.
struct ChunkingInput {
  int64_t output_bytes = 0;
  int src_bits = 8;  // Storage bits of one element on each side.
  int dst_bits = 8;
  bool elementwise = false;     // No boxes: chunks cut between whole elements.
  int64_t min_chunk_bytes = 0;  // RelayoutOptions' meaning.
  int64_t max_chunk_bytes = 0;
};

// Chunk size: options.min_chunk_bytes, or with 0 at least 1 MiB and wide
// enough that every split loop with a small source stride (a transpose's B
// loop) covers 4 KiB runs of the source; at most max_chunk_bytes when set;
// and never more than 4096 chunks or 2^24 box-chunk pairs to plan.
ChunkPlan PlanChunks(const std::vector<Box>& boxes, const ChunkingInput& in);

}  // namespace xlayout::relayout_internal

#endif  // XLAYOUT_SRC_RELAYOUT_CHUNKING_H_
