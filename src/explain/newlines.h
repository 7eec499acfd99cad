// Newline counting for the log scanners (module internal; log_scanner.cc,
// tested by log_scanner_test.cc). Line numbers need the newlines of every
// byte scanned, so this runs over the whole log.
#ifndef XLAYOUT_EXPLAIN_NEWLINES_H_
#define XLAYOUT_EXPLAIN_NEWLINES_H_

#include <cstddef>
#include <cstdint>

namespace xlayout::explain_internal {

// Newlines in p[0, n), in portable code the compiler vectorises for the
// build's baseline ISA.
int64_t CountNewlines(const char* p, size_t n);

// The same, 64 bytes a round with AVX2 when the CPU has it (checked once).
int64_t CountNewlinesFast(const char* p, size_t n);

}  // namespace xlayout::explain_internal

#endif  // XLAYOUT_EXPLAIN_NEWLINES_H_
