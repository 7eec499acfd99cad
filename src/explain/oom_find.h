// The out-of-memory recogniser's search for candidate lines (module
// internal; oom_report.cc, tested by oom_report_test.cc).
#ifndef XLAYOUT_EXPLAIN_OOM_FIND_H_
#define XLAYOUT_EXPLAIN_OOM_FIND_H_

#include <cstddef>
#include <cstdint>

namespace xlayout::oom_internal {

// Position of the first "m....y" ("memory"), "O.m" ("Oom") or "O.M" ("OOM")
// in p[0, n), or n; adds the newlines before it to *newlines. SSE2 (16 bytes
// a round) where the build has it, scalar otherwise.
size_t FindCandidate(const char* p, size_t n, int64_t* newlines);

// The same, 32 bytes a round with AVX2 when the CPU has it (checked once).
size_t FindCandidateFast(const char* p, size_t n, int64_t* newlines);

}  // namespace xlayout::oom_internal

#endif  // XLAYOUT_EXPLAIN_OOM_FIND_H_
