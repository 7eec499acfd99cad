#include "xlayout/format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace xlayout {
namespace {

TEST(FormatTest, WithCommas) {
  EXPECT_EQ(WithCommas(0), "0");
  EXPECT_EQ(WithCommas(999), "999");
  EXPECT_EQ(WithCommas(1000), "1,000");
  EXPECT_EQ(WithCommas(5242880), "5,242,880");
  EXPECT_EQ(WithCommas(-1024), "-1,024");
  EXPECT_EQ(WithCommas(std::numeric_limits<int64_t>::min()),
            "-9,223,372,036,854,775,808");
}

TEST(FormatTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(123), "123 B");
  // Regression (user trial): 1,000 B beside a 1,000 column, not 1000 B.
  EXPECT_EQ(HumanBytes(1000), "1,000 B");
  EXPECT_EQ(HumanBytes(-1023), "-1,023 B");
  EXPECT_EQ(HumanBytes(5242880), "5.00 MiB");
  EXPECT_EQ(HumanBytes(1638400), "1.56 MiB");
}

// Figures of public TPU OOM reports and TensorFlow BFC allocator warnings.
TEST(FormatTest, CompactBytesAsLogsPrintThem) {
  EXPECT_EQ(CompactBytes(0), "0B");
  EXPECT_EQ(CompactBytes(1023), "1023B");
  EXPECT_EQ(CompactBytes(4096), "4.0K");
  EXPECT_EQ(CompactBytes(430080), "420.0K");
  EXPECT_EQ(CompactBytes(2883584), "2.75M");       // 1024·245·64·4 padding.
  EXPECT_EQ(CompactBytes(64225280), "61.25M");     // f32[1024,245,64].
  EXPECT_EQ(CompactBytes(33285996544), "31.00G");  // s32[8388608,8,4] pad.
  EXPECT_EQ(CompactBytes(1048575), "1024.0K");     // Below 1024·1024: K.
  EXPECT_EQ(CompactBytes(1073741824, true), "1.00GiB");
  EXPECT_EQ(CompactBytes(32768, true), "32.0KiB");
  EXPECT_EQ(CompactBytes(-2048), "-2.0K");
  // Truncated to whole K before the last division: 1 MiB + 1023 B is 1.00M.
  EXPECT_EQ(CompactBytes(1049599), "1.00M");
}

// One ratio format everywhere (explain printed "3.2×", size "3.20×").
TEST(FormatTest, FactorHasOneForm) {
  EXPECT_EQ(FormatFactor(3.2), "3.2×");
  EXPECT_EQ(FormatFactor(1.0), "1×");
  EXPECT_EQ(FormatFactor(1.0666), "1.07×");
  EXPECT_EQ(FormatFactor(0.5), "0.5×");
  EXPECT_EQ(FormatFactor(10.0), "10×");
}

TEST(FormatTest, EscapeKeepsPrintableUtf8) {
  EXPECT_EQ(EscapeForTerminal("jit_step f32[8]{0} — ✓ é"),
            "jit_step f32[8]{0} — ✓ é");
}

TEST(FormatTest, EscapeControlSequences) {
  // CSI colour, OSC title (BEL- and ST-terminated), DEL, C1 CSI, bad UTF-8.
  EXPECT_EQ(EscapeForTerminal("a\x1b[31mred\x1b[0m"), "a\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(EscapeForTerminal("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");
  EXPECT_EQ(EscapeForTerminal("\x1b]8;;http://x\x1b\\"),
            "\\x1b]8;;http://x\\x1b\\");
  EXPECT_EQ(EscapeForTerminal("x\x7fy"), "x\\x7fy");
  EXPECT_EQ(EscapeForTerminal("\xc2\x9b"
                              "31m"),
            "\\u009b31m");
  EXPECT_EQ(EscapeForTerminal("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(EscapeForTerminal("\xe2\x80"), "\\xe2\\x80");  // Truncated.
  EXPECT_EQ(EscapeForTerminal("\xc0\xaf"), "\\xc0\\xaf");  // Overlong.
  EXPECT_EQ(EscapeForTerminal("a\tb\r\nc"), "a\\tb\\r\\nc");
  EXPECT_EQ(EscapeForTerminal(std::string("n\0ul", 4)), "n\\x00ul");
}

TEST(FormatTest, EscapeBidiControls) {
  // U+202E RIGHT-TO-LEFT OVERRIDE would display the rest reversed.
  EXPECT_EQ(EscapeForTerminal("w_g\u202ejpj.exe"), "w_g\\u202ejpj.exe");
  EXPECT_EQ(EscapeForTerminal("\u202a\u202b\u202c\u202d"),
            "\\u202a\\u202b\\u202c\\u202d");
  EXPECT_EQ(EscapeForTerminal("\u2066\u2067\u2068\u2069"),
            "\\u2066\\u2067\\u2068\\u2069");
  EXPECT_EQ(EscapeForTerminal("\u200e\u200f\u061c"), "\\u200e\\u200f\\u061c");
  // Their neighbours are printable.
  EXPECT_EQ(EscapeForTerminal("\u2029\u2070\u200d"), "\u2029\u2070\u200d");
}

TEST(FormatTest, EscapeAndTruncate) {
  EXPECT_EQ(EscapeAndTruncate("short", 10), "short");
  EXPECT_EQ(EscapeAndTruncate("abcdefghij", 4), "abcd… (6 more bytes)");
  // Never splits a UTF-8 character or an escape.
  EXPECT_EQ(EscapeAndTruncate("ééé", 2), "éé… (2 more bytes)");
  EXPECT_EQ(EscapeAndTruncate("a\x1b[31m", 3), "a… (5 more bytes)");
}

TEST(FormatTest, Utf8ValidityAndReplacement) {
  EXPECT_TRUE(IsValidUtf8("plain é € 😀"));
  EXPECT_TRUE(IsValidUtf8(std::string("n\0ul", 4)));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // Above U+10FFFF.
  EXPECT_FALSE(IsValidUtf8("\xe2\x80"));          // Truncated.
  EXPECT_EQ(ToValidUtf8("é ok"), "é ok");
  // One U+FFFD per byte that does not start a valid sequence.
  EXPECT_EQ(ToValidUtf8("a\xff"
                        "b\xe2\x80"),
            "a\uFFFDb\uFFFD\uFFFD");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xc0\xaf\xed\xa0\x80\xf5")));
}

TEST(FormatTest, LooksLikeTextTellsTextFromBinary) {
  EXPECT_TRUE(LooksLikeText("HloModule m\n"));
  EXPECT_TRUE(LooksLikeText("caf\xc3\xa9"));
  EXPECT_TRUE(LooksLikeText("cut \xe2\x82"));  // A character cut at the end.
  EXPECT_FALSE(LooksLikeText(std::string("a\0b", 3)));
  EXPECT_FALSE(
      LooksLikeText("\x7f"
                    "ELF\x02\x01\x01\xff"));
  EXPECT_FALSE(
      LooksLikeText("\xff\xfe"
                    "E\0"));
}

TEST(FormatTest, SniffLogHeadKeepsOddTextAsText) {
  EXPECT_EQ(SniffLogHead("I0125 12:00:00 a.cc:1] ok\n"), LogHeadKind::kText);
  // A stray Latin-1 byte, colour escapes, NULs a crash left at the end.
  EXPECT_EQ(SniffLogHead("user=Jos\xe9\n\x1b[31mE0102\x1b[0m\n"),
            LogHeadKind::kText);
  EXPECT_EQ(SniffLogHead(std::string("line\n\0\0\0\0\0\0\0\0", 13)),
            LogHeadKind::kText);
  // A whole log in a legacy 8-bit encoding (KOI8-R): no byte is UTF-8, none
  // is a control.
  std::string koi8;
  for (int i = 0; i < 200; ++i) koi8 += (i % 7 == 6) ? ' ' : '\xd0' + i % 5;
  EXPECT_EQ(SniffLogHead(koi8), LogHeadKind::kText);
  EXPECT_EQ(SniffLogHead("caf\xc3\xa9 cut \xe2\x82"), LogHeadKind::kText);
}

TEST(FormatTest, SniffLogHeadTellsEncodingsAndBinary) {
  EXPECT_EQ(SniffLogHead("\xff\xfe"
                         "E\0"),
            LogHeadKind::kUtf16);
  // UTF-16LE "E0102 log: xyz" without a byte order mark.
  constexpr char kUtf16[] =
      "E\0"
      "0\0"
      "1\0"
      "0\0"
      "2\0"
      " \0"
      "l\0"
      "o\0"
      "g\0"
      ":\0"
      " \0"
      "x\0"
      "y\0"
      "z\0";
  EXPECT_EQ(SniffLogHead(absl::string_view(kUtf16, sizeof(kUtf16) - 1)),
            LogHeadKind::kUtf16);
  EXPECT_EQ(SniffLogHead("\x1f\x8b\x08\x00"), LogHeadKind::kGzip);
  EXPECT_EQ(SniffLogHead("\x7f"
                         "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x03"),
            LogHeadKind::kBinary);
}

// Regression (CI): random bytes are about 10% control bytes, so a
// control-byte count alone let some random heads through as text. Every
// seed, every length from 64 bytes, with and without NULs, is binary.
TEST(FormatTest, SniffLogHeadRefusesRandomData) {
  for (uint32_t seed = 0; seed < 2000; ++seed) {
    std::mt19937 rng(seed);
    const size_t n = 64 + rng() % 4033;
    std::string head;
    while (head.size() < n) {
      const char c = static_cast<char>(rng() & 0xff);
      if (c != '\0' || seed % 2 == 0) head.push_back(c);
    }
    if (head.front() == '\0') head.front() = '\x01';
    EXPECT_EQ(SniffLogHead(head), LogHeadKind::kBinary)
        << "seed " << seed << ": " << EscapeAndTruncate(head, 80);
  }
}

}  // namespace
}  // namespace xlayout
