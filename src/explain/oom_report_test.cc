// Out-of-memory reports: printed sizes read as intervals, every buffer
// recomputed from its shape, and the corpus in testdata/explain/oom/ (written
// by hand after the formats of XLA's TPU compiler and TensorFlow's BFC
// allocator, sizes worked out by hand) fed whole, split at every byte and
// one byte at a time.
#include "xlayout/oom_report.h"

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "explain/oom_find.h"
#include "gtest/gtest.h"
#include "xlayout/format.h"

namespace xlayout {
namespace {

std::string ReadCorpus(const std::string& name) {
  std::ifstream in(absl::StrCat(XLAYOUT_TESTDATA_DIR, "/explain/oom/", name),
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Fingerprint(const std::vector<OomReport>& reports) {
  std::string out;
  for (const OomReport& r : reports) {
    absl::StrAppend(&out, OomReportToJson(r).dump(), "@", r.offset, "\n");
  }
  return out;
}

// The vectorised searches (SSE2, AVX2 when the CPU has it) against the
// definition, byte by byte: the same first candidate and newline count,
// whatever the length and alignment.
TEST(FindCandidateTest, MatchesTheDefinition) {
  std::mt19937 rng(13);
  const char alphabet[] = "mMyOo\n fdinab";
  auto reference = [](const std::string& t, size_t from, int64_t* nl) {
    // "m....y" counts only where it can be the "memory" of "ut of memory",
    // "exceed memory" or "memory in memory space", or where the searched
    // range cuts that context off.
    auto context = [&](size_t i) {
      if (i < from + 2 || i + 8 >= t.size()) return true;
      return (t[i - 1] == ' ' && (t[i - 2] == 'f' || t[i - 2] == 'd')) ||
             (t[i + 6] == ' ' && t[i + 7] == 'i' && t[i + 8] == 'n');
    };
    for (size_t i = from; i < t.size(); ++i) {
      const char c = t[i];
      if ((c == 'm' && i + 5 < t.size() && t[i + 5] == 'y' && context(i)) ||
          (c == 'O' && i + 2 < t.size() &&
           (t[i + 2] == 'm' || t[i + 2] == 'M'))) {
        return i;
      }
      *nl += c == '\n';
    }
    return t.size();
  };
  for (int round = 0; round < 3000; ++round) {
    const size_t n = rng() % 700;
    // Sparse candidates: mostly filler, so runs of many rounds are searched.
    const int density = 1 + static_cast<int>(rng() % 400);
    std::string t(n, 'x');
    for (char& c : t) {
      if (static_cast<int>(rng() % density) == 0) {
        c = alphabet[rng() % (sizeof(alphabet) - 1)];
      }
      if (rng() % 40 == 0) c = '\n';
    }
    const size_t from = n == 0 ? 0 : rng() % (n + 1);
    int64_t want_nl = 0;
    const size_t want = reference(t, from, &want_nl);
    int64_t nl = 0;
    EXPECT_EQ(
        from + oom_internal::FindCandidate(t.data() + from, n - from, &nl),
        want);
    EXPECT_EQ(nl, want_nl);
    nl = 0;
    EXPECT_EQ(
        from + oom_internal::FindCandidateFast(t.data() + from, n - from, &nl),
        want);
    EXPECT_EQ(nl, want_nl);
  }
  // More than 255 rounds of newlines per byte lane (the counters' flush).
  std::string lines(size_t{1} << 16, '\n');
  lines += "memory";
  int64_t nl = 0;
  EXPECT_EQ(oom_internal::FindCandidate(lines.data(), lines.size(), &nl),
            size_t{1} << 16);
  EXPECT_EQ(nl, int64_t{1} << 16);
  nl = 0;
  EXPECT_EQ(oom_internal::FindCandidateFast(lines.data(), lines.size(), &nl),
            size_t{1} << 16);
  EXPECT_EQ(nl, int64_t{1} << 16);
}

TEST(PrintedSizeTest, IntervalsFollowXlasRounding) {
  // 2.75M: whole KiB q with q/1024 within 0.005 of 2.75: q in [2811, 2821].
  std::optional<PrintedSize> s = ParsePrintedSize("2.75M");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->min_bytes, 2811 * 1024);
  EXPECT_EQ(s->max_bytes, 2822 * 1024 - 1);
  EXPECT_EQ(s->rule,
            "2.75M = 2.75 × 2^20 to 2 decimals (after truncation to whole "
            "KiB): 2,878,464–2,889,727 bytes");
  // 4.0K: bytes b with b/1024 within 0.05 of 4.0: [4045, 4147].
  s = ParsePrintedSize("4.0K");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->min_bytes, 4045);
  EXPECT_EQ(s->max_bytes, 4147);
  s = ParsePrintedSize("1.00GiB");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->min_bytes, int64_t{1019} << 20);
  EXPECT_EQ(s->max_bytes, (int64_t{1030} << 20) - 1);
  s = ParsePrintedSize("0B");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->min_bytes, 0);
  EXPECT_EQ(s->max_bytes, 0);
  s = ParsePrintedSize("1234 bytes");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->min_bytes, 1234);
  EXPECT_EQ(s->max_bytes, 1234);
  for (const char* bad : {"", "M", "2.M", "1.2.3M", "12X", "abc", "1.5B",
                          "99999999999999999E", "-1M", "2.75 MB extra"}) {
    EXPECT_FALSE(ParsePrintedSize(bad).has_value()) << bad;
  }
}

// Whatever CompactBytes (the formatter, XLA's rule) prints for n, the
// interval read back holds n, and it is tight: one unit of the last printed
// digit wide at most.
TEST(PrintedSizeTest, RoundTripsTheFormatter) {
  std::vector<int64_t> values = {
      0, 1, 1023, 1024, 1025, 4096, 430080, 1048575, 1048576, 1049599, 2883584};
  for (int64_t v = 7; v < (int64_t{1} << 50); v = v * 3 + 11) {
    values.push_back(v);
  }
  for (int64_t n : values) {
    for (bool iec : {false, true}) {
      const std::string text = CompactBytes(n, iec);
      std::optional<PrintedSize> s = ParsePrintedSize(text);
      ASSERT_TRUE(s.has_value()) << text;
      EXPECT_LE(s->min_bytes, n) << text;
      EXPECT_GE(s->max_bytes, n) << text;
      if (n >= 1024 * 1024) {
        EXPECT_LT(s->max_bytes - s->min_bytes, n / 50) << text;
      }
    }
  }
}

const OomBuffer& Buffer(const OomReport& r, size_t i) {
  EXPECT_LT(i, r.buffers.size());
  return r.buffers[i];
}

const OomRemedy* FindRemedy(const OomBuffer& b, absl::string_view kind) {
  for (const OomRemedy& m : b.remedies) {
    if (m.kind == kind) return &m;
  }
  return nullptr;
}

TEST(OomReportTest, TpuHbmReportWithCodeAndAShapeWithoutItsTile) {
  std::vector<OomReport> reports =
      ScanOomReports(ReadCorpus("tpu_hbm_e1000.log"));
  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_EQ(r.kind, OomKind::kTpuMemorySpace);
  EXPECT_EQ(r.memory_space, "hbm");
  EXPECT_EQ(r.error_code, "E1000");
  EXPECT_EQ(r.error_name, "CompileTimeHbmOom");
  EXPECT_EQ(r.line, 2);
  ASSERT_TRUE(r.used && r.capacity && r.exceeded);
  EXPECT_EQ(r.used->text, "17.25G");
  EXPECT_EQ(r.capacity->text, "15.48G");
  EXPECT_EQ(r.exceeded->text, "1.77G");
  ASSERT_EQ(r.buffers.size(), 3u);

  // f32[1024,245,64]{1,2,0:T(8,128)}: dim 1 (245) is minor-most and padded
  // to 256: 1024·64·256·4 = 67,108,864 device bytes, 1024·245·64·4 =
  // 64,225,280 logical.
  const OomBuffer& b1 = Buffer(r, 0);
  EXPECT_EQ(b1.number, 1);
  EXPECT_EQ(b1.line, 17);
  EXPECT_FALSE(b1.tile_inferred);
  EXPECT_EQ(b1.device_bytes, 67108864);
  EXPECT_EQ(b1.logical_bytes, 64225280);
  EXPECT_EQ(b1.padding_bytes, 2883584);
  EXPECT_EQ(b1.size_check, SizeCheck::kMatch);
  EXPECT_EQ(b1.unpadded_check, SizeCheck::kMatch);
  EXPECT_EQ(b1.padding_check, SizeCheck::kMatch);
  EXPECT_EQ(b1.expansion, "1.0x");
  EXPECT_EQ(b1.allocation_type, "HLO temp");
  ASSERT_EQ(b1.padded_dims.size(), 1u);
  EXPECT_EQ(b1.padded_dims[0].dim, 1);
  EXPECT_EQ(b1.padded_dims[0].extent, 245);
  EXPECT_EQ(b1.padded_dims[0].padded_extent, 256);
  EXPECT_EQ(b1.padded_dims[0].tile, 128);
  EXPECT_EQ(b1.padded_dims[0].padding_bytes, 2883584);
  // Dim 0 (1024, a multiple of 128) minor-most and dim 2 (64, a multiple of
  // 8) second-minor: no padding, 64,225,280 bytes.
  const OomRemedy* reorder = FindRemedy(b1, "reorder");
  ASSERT_NE(reorder, nullptr);
  EXPECT_EQ(reorder->shape, "f32[1024,245,64]{0,2,1:T(8,128)}");
  EXPECT_EQ(reorder->device_bytes, 64225280);
  EXPECT_EQ(reorder->saved_bytes, 2883584);
  // Dim 1 rounded down to 128: 1024·64·128·4 = 33,554,432 bytes.
  const OomRemedy* trim = FindRemedy(b1, "trim_dim");
  ASSERT_NE(trim, nullptr);
  EXPECT_EQ(trim->device_bytes, 33554432);
  EXPECT_EQ(trim->saved_bytes, 33554432);
  const OomRemedy* pad = FindRemedy(b1, "pad_dim");
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(pad->shape, "f32[1024,256,64]{1,2,0:T(8,128)}");
  EXPECT_EQ(pad->saved_bytes, 0);

  // bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}: 40 padded to 128, 3.2×.
  const OomBuffer& b2 = Buffer(r, 1);
  EXPECT_EQ(b2.device_bytes, 5242880);
  EXPECT_EQ(b2.logical_bytes, 1638400);
  EXPECT_EQ(b2.size_check, SizeCheck::kMatch);
  EXPECT_EQ(b2.padding_check, SizeCheck::kMatch);
  reorder = FindRemedy(b2, "reorder");
  ASSERT_NE(reorder, nullptr);
  EXPECT_EQ(reorder->shape, "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  EXPECT_EQ(reorder->saved_bytes, 3604480);

  // bf16[1024,8,40]{2,1,0} printed without its tile: 655,360 bytes untiled,
  // but 2.00M only fits T(8,128)(2,1): 1024·8·128·2 = 2,097,152.
  const OomBuffer& b3 = Buffer(r, 2);
  EXPECT_TRUE(b3.tile_inferred);
  EXPECT_EQ(b3.shape, "bf16[1024,8,40]{2,1,0:T(8,128)(2,1)}");
  ASSERT_FALSE(b3.inferred_layouts.empty());
  EXPECT_EQ(b3.device_bytes, 2097152);
  EXPECT_EQ(b3.logical_bytes, 655360);
  EXPECT_EQ(b3.padding_bytes, 1441792);
  EXPECT_EQ(b3.size_check, SizeCheck::kMatch);
  EXPECT_EQ(b3.unpadded_check, SizeCheck::kMatch);
  EXPECT_EQ(b3.padding_check, SizeCheck::kMatch);
  reorder = FindRemedy(b3, "reorder");
  ASSERT_NE(reorder, nullptr);
  EXPECT_EQ(reorder->shape, "bf16[1024,8,40]{0,1,2:T(8,128)(2,1)}");
  EXPECT_EQ(reorder->saved_bytes, 1441792);

  EXPECT_EQ(r.buffers_sized, 3);
  EXPECT_EQ(r.device_bytes_total, 67108864 + 5242880 + 2097152);
  EXPECT_EQ(r.logical_bytes_total, 64225280 + 1638400 + 655360);
  EXPECT_EQ(r.padding_bytes_total, 7929856);
  EXPECT_EQ(r.savable_bytes_total, 7929856);
}

TEST(OomReportTest, ScopedVmemE1001) {
  std::vector<OomReport> reports =
      ScanOomReports(ReadCorpus("tpu_vmem_e1001.log"));
  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_EQ(r.kind, OomKind::kTpuScopedVmem);
  EXPECT_EQ(r.memory_space, "vmem");
  EXPECT_EQ(r.error_code, "E1001");
  EXPECT_EQ(r.error_name, "CompileTimeScopedVmemOom");
  ASSERT_TRUE(r.used && r.capacity && r.exceeded);
  EXPECT_EQ(r.used->text, "37.22M");
  EXPECT_EQ(r.capacity->text, "32.00M");
  EXPECT_EQ(r.exceeded->text, "5.22M");
  ASSERT_EQ(r.buffers.size(), 2u);
  // bf16[2,1000,136]: 136 padded to 256: 2·1000·256·2 = 1,024,000
  // ("1000.0K"), logical 544,000 ("531.2K").
  const OomBuffer& b1 = Buffer(r, 0);
  EXPECT_EQ(b1.device_bytes, 1024000);
  EXPECT_EQ(b1.logical_bytes, 544000);
  EXPECT_EQ(b1.padding_bytes, 480000);
  EXPECT_EQ(b1.size_check, SizeCheck::kMatch);
  EXPECT_EQ(b1.unpadded_check, SizeCheck::kMatch);
  EXPECT_EQ(b1.padding_check, SizeCheck::kMatch);
  EXPECT_EQ(b1.allocation_type, "scoped");
  // {1,2,0}: dim 1 (1000) minor-most pads to 1024 only: 2·136·1024·2.
  const OomRemedy* reorder = FindRemedy(b1, "reorder");
  ASSERT_NE(reorder, nullptr);
  EXPECT_EQ(reorder->device_bytes, 557056);
  EXPECT_EQ(reorder->saved_bytes, 466944);
  // f32[8,2000]{1,0:T(8,128)}: 2000 padded to 2048; no dim order is better,
  // rounding 2000 down to 1920 saves 8·128·4 = 4,096.
  const OomBuffer& b2 = Buffer(r, 1);
  EXPECT_EQ(b2.device_bytes, 65536);
  EXPECT_EQ(b2.logical_bytes, 64000);
  EXPECT_EQ(b2.padding_check, SizeCheck::kMatch);
  EXPECT_EQ(FindRemedy(b2, "reorder"), nullptr);
  const OomRemedy* trim = FindRemedy(b2, "trim_dim");
  ASSERT_NE(trim, nullptr);
  EXPECT_EQ(trim->saved_bytes, 4096);
  EXPECT_EQ(r.padding_bytes_total, 481536);
  EXPECT_EQ(r.savable_bytes_total, 466944);
}

// Regression (trial C): a logger that colours every line (ESC[31m ...
// ESC[0m) hid the glog prefixes and the trailing sizes: the report had no
// "exceeded" and no buffers. Colour codes are now skipped, also inside a
// size or shape.
TEST(OomReportTest, ColourCodesAreSkipped) {
  const std::string plain = ReadCorpus("tpu_hbm_e1000.log");
  std::string coloured;
  for (absl::string_view line : absl::StrSplit(plain, '\n')) {
    if (line.empty()) {
      coloured += "\n";
      continue;
    }
    std::string l(line);
    absl::StrReplaceAll({{"64.00M", "\x1b[1m64.00M\x1b[22m"},
                         {"f32[1024,", "f32[\x1b[33m1024,"}},
                        &l);
    absl::StrAppend(&coloured, "\x1b[31m", l, "\x1b[0m\n");
  }
  coloured.pop_back();  // As many lines as the plain log.
  const std::vector<OomReport> want = ScanOomReports(plain);
  const std::vector<OomReport> got = ScanOomReports(coloured);
  ASSERT_EQ(want.size(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].buffers.size(), 3u);
  EXPECT_EQ(OomReportToJson(got[0]).dump(), OomReportToJson(want[0]).dump());
}

// Regression (trial C): a report quoted in a JSON log record kept the
// record's escapes in its text: the Operator read
// `op_name=\"jit(train_step)/...\"`. Quoted once or twice (a JSON record
// inside a JSON string), it now reads as the plain report.
TEST(OomReportTest, QuotedReportReadsLikeThePlainOne) {
  const std::string plain = ReadCorpus("tpu_hbm_e1000.log");
  auto quote = [](absl::string_view s) {
    return absl::StrCat(
        "{\"message\": \"",
        absl::StrReplaceAll(
            s, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}, {"\t", "\\t"}}),
        "\"}");
  };
  const std::vector<OomReport> want = ScanOomReports(plain);
  ASSERT_EQ(want.size(), 1u);
  ASSERT_EQ(want[0].buffers.size(), 3u);
  ASSERT_NE(want[0].buffers[0].operator_text.find("op_name=\"jit(train_step)"),
            std::string::npos);
  for (const std::string& quoted : {quote(plain), quote(quote(plain))}) {
    const std::vector<OomReport> got = ScanOomReports(quoted);
    ASSERT_EQ(got.size(), 1u) << quoted;
    ASSERT_EQ(got[0].buffers.size(), 3u);
    const nlohmann::ordered_json g = OomReportToJson(got[0]);
    const nlohmann::ordered_json w = OomReportToJson(want[0]);
    EXPECT_EQ(g["buffers"].dump(), w["buffers"].dump());
    EXPECT_EQ(g["totals"].dump(), w["totals"].dump());
  }
}

TEST(OomReportTest, QuotedReportWithTheNameWithoutItsCode) {
  std::vector<OomReport> reports =
      ScanOomReports(ReadCorpus("tpu_hbm_quoted.log"));
  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_EQ(r.error_code, "(E1000)");
  EXPECT_EQ(r.error_name, "CompileTimeHbmOom");
  ASSERT_EQ(r.buffers.size(), 1u);
  // s32[4194304,8,4]{2,1,0:T(8,128)}: 4 padded to 128, 32×.
  const OomBuffer& b = Buffer(r, 0);
  EXPECT_EQ(b.device_bytes, int64_t{17179869184});
  EXPECT_EQ(b.logical_bytes, 536870912);
  EXPECT_EQ(b.padding_bytes, int64_t{16642998272});
  EXPECT_EQ(b.size_check, SizeCheck::kMatch);
  EXPECT_EQ(b.padding_check, SizeCheck::kMatch);
  EXPECT_EQ(b.expansion, "32.0x");
  const OomRemedy* reorder = FindRemedy(b, "reorder");
  ASSERT_NE(reorder, nullptr);
  EXPECT_EQ(reorder->shape, "s32[4194304,8,4]{0,1,2:T(8,128)}");
  EXPECT_EQ(reorder->saved_bytes, int64_t{16642998272});
  // The padding alone is more than the capacity was exceeded by.
  ASSERT_EQ(r.notes.size(), 2u);
  EXPECT_NE(r.notes[1].find("more than the 4.52G"), std::string::npos)
      << r.notes[1];
}

TEST(OomReportTest, WrappedShapeCodeLineAndExactAllocation) {
  std::vector<OomReport> reports =
      ScanOomReports(ReadCorpus("tpu_wrapped.log"));
  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_EQ(r.error_name, "CompileTimeHbmOom");
  EXPECT_EQ(r.line, 2);
  ASSERT_EQ(r.buffers.size(), 1u);
  const OomBuffer& b = Buffer(r, 0);
  EXPECT_EQ(b.shape_text, "f32[4,1000,200]{2,1,0:T(8,128)}");
  EXPECT_EQ(b.device_bytes, 4096000);
  EXPECT_EQ(b.logical_bytes, 3200000);
  EXPECT_EQ(b.size_check, SizeCheck::kMatch);
  EXPECT_EQ(b.unpadded_check, SizeCheck::kMatch);
  EXPECT_EQ(b.padding_check, SizeCheck::kMatch);
  const OomRemedy* reorder = FindRemedy(b, "reorder");
  ASSERT_NE(reorder, nullptr);
  EXPECT_EQ(reorder->device_bytes, 3276800);
  EXPECT_EQ(reorder->saved_bytes, 819200);
  EXPECT_EQ(r.allocation_bytes, 4096000);
  EXPECT_EQ(r.memory_bytes, int64_t{16621224263});
  bool allocation_note = false;
  for (const std::string& n : r.notes) {
    allocation_note |= n.find("device size of buffer #1") != std::string::npos;
  }
  EXPECT_TRUE(allocation_note);
}

TEST(OomReportTest, HeaderWrappedInsideTheMemorySpace) {
  std::vector<OomReport> reports =
      ScanOomReports(ReadCorpus("tpu_header_wrapped.log"));
  ASSERT_EQ(reports.size(), 1u);
  const OomReport& r = reports[0];
  EXPECT_EQ(r.kind, OomKind::kTpuMemorySpace);
  EXPECT_EQ(r.memory_space, "hbm");
  EXPECT_EQ(r.error_code, "");
  ASSERT_TRUE(r.used && r.capacity && r.exceeded);
  EXPECT_EQ(r.used->text, "16.10G");
  EXPECT_EQ(r.capacity->text, "15.48G");
  EXPECT_EQ(r.exceeded->text, "636.00M");
  ASSERT_EQ(r.buffers.size(), 1u);
  EXPECT_EQ(r.buffers[0].device_bytes, 4096000);
  EXPECT_EQ(r.buffers[0].size_check, SizeCheck::kMatch);
  // No "Extra memory due to padding" line: nothing to check it against.
  EXPECT_EQ(r.buffers[0].padding_check, SizeCheck::kNotPrinted);
  EXPECT_EQ(r.buffers[0].padding_bytes, 896000);
}

TEST(OomReportTest, GpuBfcAllocator) {
  std::vector<OomReport> reports = ScanOomReports(ReadCorpus("gpu_bfc.log"));
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].kind, OomKind::kGpuAllocator);
  EXPECT_EQ(reports[0].memory_space, "GPU_0_bfc");
  ASSERT_TRUE(reports[0].used.has_value());
  EXPECT_EQ(reports[0].used->text, "45.53MiB");
  EXPECT_FALSE(reports[0].allocation_bytes.has_value());
  EXPECT_EQ(reports[0].used_check, SizeCheck::kNotPrinted);

  const OomReport& r = reports[1];
  EXPECT_EQ(r.used->text, "1.00GiB");
  EXPECT_EQ(r.allocation_bytes, 1073741824);
  EXPECT_EQ(r.used_check, SizeCheck::kMatch);
  EXPECT_EQ(r.op, "model/dense/MatMul");
  EXPECT_EQ(r.tensor_shape, "f32[1024,1024,256]");
  EXPECT_EQ(r.tensor_logical_bytes, 1073741824);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("= the allocator's 1,073,741,824"),
            std::string::npos)
      << r.notes[0];

  EXPECT_EQ(reports[2].memory_space, "GPU_1_bfc");
  EXPECT_EQ(reports[2].used->text, "32.0KiB");
  EXPECT_EQ(reports[2].allocation_bytes, 32768);
  EXPECT_EQ(reports[2].used_check, SizeCheck::kMatch);
}

TEST(OomReportTest, XlaGpuExactAllocation) {
  std::vector<OomReport> reports = ScanOomReports(ReadCorpus("gpu_xla.log"));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, OomKind::kGpuAllocator);
  EXPECT_EQ(reports[0].memory_space, "gpu");
  EXPECT_EQ(reports[0].allocation_bytes, int64_t{17179869184});
  EXPECT_EQ(reports[0].line, 4);
}

TEST(OomReportTest, MismatchedPrintedSizeIsReported) {
  OomBuffer b;
  b.shape_text = "f32[1024,245,64]{1,2,0:T(8,128)}";
  b.size = ParsePrintedSize("60.00M");
  b.unpadded_size = ParsePrintedSize("61.25M");
  AnalyzeOomBuffer(b);
  EXPECT_EQ(b.size_check, SizeCheck::kMismatch);
  EXPECT_EQ(b.unpadded_check, SizeCheck::kMatch);
  EXPECT_EQ(b.device_bytes, 67108864);
  b.shape_text = "f32[1024,245";
  AnalyzeOomBuffer(b);
  EXPECT_FALSE(b.error.empty());
  EXPECT_FALSE(b.device_bytes.has_value());
}

TEST(OomReportTest, NothingElseIsReported) {
  EXPECT_TRUE(ScanOomReports(ReadCorpus("negative.log")).empty());
  EXPECT_TRUE(ScanOomReports("").empty());
  EXPECT_TRUE(ScanOomReports("memory memory OOM Oom\n\n\n").empty());
}

class StreamingTest : public testing::TestWithParam<std::string> {};

// Split at every byte: two Feed calls, then Finish; and one byte at a time.
TEST_P(StreamingTest, SameReportsWhereverTheInputIsSplit) {
  const std::string text = ReadCorpus(GetParam());
  const std::string whole = Fingerprint(ScanOomReports(text));
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    std::vector<OomReport> got;
    OomReportScanner scanner([&](OomReport r) { got.push_back(std::move(r)); });
    scanner.Feed(absl::string_view(text).substr(0, cut));
    scanner.Feed(absl::string_view(text).substr(cut));
    scanner.Finish();
    ASSERT_EQ(Fingerprint(got), whole) << GetParam() << " cut at " << cut;
  }
  std::vector<OomReport> got;
  OomReportScanner scanner([&](OomReport r) { got.push_back(std::move(r)); });
  for (char c : text) scanner.Feed(absl::string_view(&c, 1));
  scanner.Finish();
  EXPECT_EQ(Fingerprint(got), whole);
  EXPECT_EQ(scanner.bytes_scanned(), static_cast<int64_t>(text.size()));
}

// Behind 3 MiB of log lines fed in 1 MiB blocks: line numbers and offsets
// shift by the filler, nothing else changes.
TEST_P(StreamingTest, BehindFillerInBlocks) {
  const std::string text = ReadCorpus(GetParam());
  const std::vector<OomReport> alone = ScanOomReports(text);
  std::string filler;
  int64_t lines = 0;
  while (filler.size() < (size_t{3} << 20)) {
    absl::StrAppend(&filler, "I1127 10:00:00.000000 1 train.py:42] step ",
                    lines, " loss 0.125 lr 3e-4 throughput 1234.5 ex/s\n");
    ++lines;
  }
  const std::string input = filler + text + filler;
  std::vector<OomReport> got;
  OomReportScanner scanner([&](OomReport r) { got.push_back(std::move(r)); });
  for (size_t i = 0; i < input.size(); i += size_t{1} << 20) {
    scanner.Feed(absl::string_view(input).substr(i, size_t{1} << 20));
  }
  scanner.Finish();
  ASSERT_EQ(got.size(), alone.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].line, alone[i].line + lines);
    EXPECT_EQ(got[i].offset,
              alone[i].offset + static_cast<int64_t>(filler.size()));
    got[i].line = alone[i].line;
    got[i].offset = alone[i].offset;
    for (size_t k = 0; k < got[i].buffers.size(); ++k) {
      got[i].buffers[k].line -= lines;
    }
  }
  EXPECT_EQ(Fingerprint(got), Fingerprint(alone));
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, StreamingTest,
    testing::Values("tpu_hbm_e1000.log", "tpu_vmem_e1001.log", "gpu_bfc.log",
                    "tpu_hbm_quoted.log", "tpu_wrapped.log",
                    "tpu_header_wrapped.log", "gpu_xla.log", "negative.log"),
    [](const testing::TestParamInfo<std::string>& info) {
      std::string name = info.param;
      for (char& c : name) {
        if (c == '.') c = '_';
      }
      return name;
    });

TEST(OomReportTest, IdenticalReportsAreGrouped) {
  const std::string text = ReadCorpus("tpu_vmem_e1001.log");
  OomReportCollector collector;
  for (int replica = 0; replica < 4; ++replica) {
    for (OomReport& r : ScanOomReports(text)) {
      collector.Add(std::move(r), "log");
    }
  }
  ASSERT_EQ(collector.reports().size(), 1u);
  EXPECT_EQ(collector.reports()[0].count, 4);
  EXPECT_EQ(collector.messages(), 4);
  const nlohmann::ordered_json j = OomReportToJson(collector.reports()[0]);
  EXPECT_EQ(j["count"], 4);
  EXPECT_EQ(j["kind"], "tpu_scoped_vmem");
  EXPECT_EQ(j["totals"]["padding_bytes"], 481536);
  EXPECT_EQ(j["buffers"][0]["device_bytes"], 1024000);
}

}  // namespace
}  // namespace xlayout
