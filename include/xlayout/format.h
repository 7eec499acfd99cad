// Text formatting shared by the library and the CLI: one way to print a
// count, a byte size, a ratio, and input bytes that may hold terminal
// control sequences.
#ifndef XLAYOUT_FORMAT_H_
#define XLAYOUT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace xlayout {

// "5,242,880", "-1,024", "0".
std::string WithCommas(int64_t n);

// "5.00 MiB" (binary units); below 1 KiB as "123 B".
std::string HumanBytes(int64_t n);

// A byte count as XLA's and TensorFlow's logs print it (e.g. in TPU
// out-of-memory reports): below 1 KiB "123B"; otherwise whole units of the
// next smaller power of 1024 (the count is divided by 1024, truncating,
// until fewer than 1024·1024 remain) divided by 1024, with one decimal in K
// and two above: "4.0K", "2.75M", "1.00G", "0B". `iec_units` prints "KiB",
// "MiB", "GiB" as TensorFlow's BFC allocator does: "1.00GiB".
std::string CompactBytes(int64_t n, bool iec_units = false);

// A ratio such as a padding factor: two decimals with trailing zeros
// dropped, and "×": "3.2×", "1×", "1.07×".
std::string FormatFactor(double factor);

// Input bytes made safe to print on a terminal: control characters (C0
// including TAB/CR/LF, DEL, C1 code points U+0080..U+009F), the bidi
// controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) and
// bytes that are not valid UTF-8 become visible escapes ("\x1b", "\t",
// "\n", "\u009b", "\u202e", "\xff"), so an escape sequence in a log or
// file name cannot recolour, retitle or rewrite the user's terminal, nor a
// name display reordered as another. Backslashes are kept as they are.
// Valid printable UTF-8 passes through unchanged.
std::string EscapeForTerminal(absl::string_view text);

// EscapeForTerminal(text), cut to at most `max_chars` code points of output
// with "… (N more bytes)" appended when anything was cut. Never splits an
// escape or a UTF-8 sequence.
std::string EscapeAndTruncate(absl::string_view text, size_t max_chars);

// True when `s` is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// True unless `head` (the first bytes of a file) holds a NUL byte or is not
// UTF-8; a sequence cut at the end of `head` is allowed. Tells text from
// binary input before it is read whole.
bool LooksLikeText(absl::string_view head);

// What the first bytes of a log file say it is. Logs are judged leniently:
// a stray Latin-1 byte, terminal escapes or a few NULs from a crash are
// still text. kBinary is data with control bytes in it: at least one byte
// in ten, or one in a hundred when a quarter of the bytes are not UTF-8
// (compressed, encrypted or random data). NULs at the end are ignored.
enum class LogHeadKind { kText, kUtf16, kGzip, kBinary };
LogHeadKind SniffLogHead(absl::string_view head);

// `s` with every byte that does not start a valid UTF-8 sequence replaced by
// U+FFFD. Text read from arbitrary files goes through this before it is kept
// in a value that is written to JSON, so the JSON round-trips exactly.
std::string ToValidUtf8(absl::string_view s);

}  // namespace xlayout

#endif  // XLAYOUT_FORMAT_H_
