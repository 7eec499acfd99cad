#include "xlayout/relayout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "testing/parse.h"
#include "xlayout/layout_util.h"
#include "xlayout/physical_index.h"
#include "xlayout/relayout_stream.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr auto Parse = test_util::ParseOrFail;

Shape WithLayout(const Shape& shape, absl::string_view layout) {
  absl::StatusOr<Layout> l = ParseLayout(layout);
  EXPECT_TRUE(l.ok()) << l.status();
  Shape out = shape;
  out.set_layout(*l);
  return out;
}

// A valid buffer of `shape`: random elements (low bits only for sub-byte
// types), zero padding, made by the reference from random host data.
std::vector<uint8_t> RandomBuffer(const Shape& shape, uint32_t seed) {
  Shape host = HostShape(shape);
  PhysicalLayout hp = *PhysicalLayout::Create(host);
  PhysicalLayout p = *PhysicalLayout::Create(shape);
  std::vector<uint8_t> h(hp.byte_size());
  std::mt19937 rng(seed);
  const int bits = BitWidth(shape.element_type());
  for (uint8_t& b : h)
    b = static_cast<uint8_t>(rng() & (bits < 8 ? (1u << bits) - 1 : 0xff));
  std::vector<uint8_t> out(p.byte_size());
  absl::Status s = ReferenceRelayout(host, shape, h, absl::MakeSpan(out));
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

// Fast == reference, with every output byte written: one chunk per plan
// where the plan is small (the default chunk size), and many small chunks
// (min_chunk_bytes tiny, with cached and with streaming stores) run inline,
// on a pool of 3 threads, and one by one through a window of each chunk's
// size. Returns the DebugString of the many-chunk plan.
std::string ExpectMatchesReference(absl::string_view from_text,
                                   absl::string_view to_layout,
                                   RelayoutIsa isa = RelayoutIsa::kAuto) {
  std::string debug;
  SCOPED_TRACE(absl::StrCat(from_text, " -> ", to_layout));
  Shape from = Parse(from_text);
  Shape to = WithLayout(from, to_layout);
  std::vector<uint8_t> in = RandomBuffer(from, 7);
  PhysicalLayout dst = *PhysicalLayout::Create(to);
  std::vector<uint8_t> want(dst.byte_size());
  absl::Status ref = ReferenceRelayout(from, to, in, absl::MakeSpan(want));
  EXPECT_TRUE(ref.ok()) << ref;
  if (!ref.ok()) return debug;
  RelayoutThreadPool pool(3);
  struct Config {
    int64_t min_chunk;
    int64_t stream_from;
  };
  for (const Config& config : {Config{0, kDefaultStreamingStoreThresholdBytes},
                               Config{1, kDefaultStreamingStoreThresholdBytes},
                               Config{200, 0}, Config{1, 0}}) {
    SCOPED_TRACE(absl::StrCat("min_chunk_bytes ", config.min_chunk,
                              ", streaming from ", config.stream_from));
    absl::StatusOr<std::unique_ptr<RelayoutPlan>> plan = RelayoutPlan::Create(
        from, to,
        {.isa = isa,
         .streaming_store_threshold_bytes = config.stream_from,
         .min_chunk_bytes = config.min_chunk});
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return debug;
    const RelayoutPlan& p = **plan;
    if (config.min_chunk == 1) {
      debug = p.DebugString();
      if (want.size() >= 4096) {
        EXPECT_GT(p.ChunkCount(), 1) << debug;
      }
    }
    // The chunks partition the output in order.
    int64_t at = 0;
    for (int64_t i = 0; i < p.ChunkCount(); ++i) {
      auto [begin, end] = p.ChunkOutputRange(i);
      EXPECT_EQ(begin, at);
      EXPECT_GT(end, begin);
      at = end;
    }
    EXPECT_EQ(at, p.output_bytes());
    for (int mode = 0; mode < 3; ++mode) {
      std::vector<uint8_t> got(dst.byte_size(), 0xA5);
      if (mode == 0) {
        EXPECT_TRUE(p.Execute(in, absl::MakeSpan(got)).ok());
      } else if (mode == 1) {
        EXPECT_TRUE(p.Execute(in, absl::MakeSpan(got), pool.Scheduler()).ok());
      } else {
        // Back to front, each chunk through its own exact-size window.
        for (int64_t i = p.ChunkCount(); i-- > 0;) {
          auto [begin, end] = p.ChunkOutputRange(i);
          std::vector<uint8_t> window(end - begin, 0x5A);
          p.ExecuteChunkToWindow(i, in.data(), window.data());
          std::copy(window.begin(), window.end(), got.begin() + begin);
        }
      }
      EXPECT_TRUE(got == want) << "mode " << mode << "\n" << p.DebugString();
    }
  }
  return debug;
}

// Every kernel, in plans cut into many chunks (each chunk a part of a box):
// each case names the kernel its plan must take.
TEST(RelayoutTest, EveryKernelRunsInManyChunks) {
  struct KernelCase {
    const char* from;
    const char* to;
    const char* kernel;  // In the plan's DebugString.
  };
  for (RelayoutIsa isa : {RelayoutIsa::kAuto, RelayoutIsa::kSse2}) {
    SCOPED_TRACE(RelayoutIsaName(isa));
    for (const KernelCase& c : std::vector<KernelCase>{
             {"f32[40,300]{1,0}", "{1,0:T(8,128)}", "copy unit=512"},
             {"f32[40,300]{1,0}", "{1,0:T(8,128)}", "zero unit="},
             {"u8[100,130]{1,0}", "{0,1}", "transpose unit=1"},
             {"bf16[100,130]{1,0}", "{0,1}", "transpose unit=2"},
             {"f64[40,70]{1,0}", "{0,1}", "transpose unit=8"},
             {"c128[20,30]{1,0}", "{0,1}", "transpose unit=16"},
             {"u8[3,200]{1,0}", "{0,1}", "transpose unit=1"},
             {"f32[67,301]{1,0}", "{0,1}", "(blocked 32-bit units,"},
             {"s8[136,1000]{1,0}", "{0,1:T(8,128)(4,1)}",
              "(blocked 32-bit units,"},
             {"bf16[16,128,40]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}",
              "(2x2 16-bit lanes in each unit) unit=8"},
             {"bf16[4,1280,40]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}",
              "(rows zero-padded to the next row)"},
             {"s4[256,512]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}",
              "bits (whole-byte nibbles)"},
             {"s4[70,130]{1,0:E(4)}", "{0,1:T(64,128)(8,1)E(4)}", "bits unit"},
             {"pred[9,300]{1,0:E(1)}", "{0,1:T(8,128)(4,1)}", "bits unit"},
             {"u2[5,13]{1,0:T(2,4)E(2)}", "{0,1:L(5)E(2)}",
              "output zeroed first"},
             {"f32[2,7,8,11,10]{4,3,2,1,0}", "{4,3,2,1,0:T(*,*,2,*,3)}",
              "elementwise"},
             {"f32[3,5]{1,0}", "{1,0:T(2,2)L(7)}", "zero unit="},
         }) {
      const std::string debug = ExpectMatchesReference(c.from, c.to, isa);
      EXPECT_THAT(debug, HasSubstr(c.kernel)) << c.from << " -> " << c.to;
    }
  }
}

TEST(RelayoutTest, MatchesReference) {
  ExpectMatchesReference("bf16[16,128,40]{1,2,0:T(8,128)(2,1)}",
                         "{2,1,0:T(8,128)(2,1)}");
  ExpectMatchesReference("f32[64,96]{1,0}", "{0,1}");
  ExpectMatchesReference("f32[67,301]{1,0}", "{0,1}");
  ExpectMatchesReference("f32[40,300]{1,0}", "{1,0:T(8,128)}");
  ExpectMatchesReference("bf16[40,300]{1,0}", "{1,0:T(8,128)(2,1)}");
  ExpectMatchesReference("s8[40,300]{1,0}", "{0,1:T(8,128)(4,1)}");
  ExpectMatchesReference("s4[128,256]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}");
  ExpectMatchesReference("s4[70,130]{1,0:E(4)}", "{0,1:T(64,128)(8,1)E(4)}");
  ExpectMatchesReference("s4[70,130]{1,0}", "{1,0:T(64,128)(8,1)E(4)}");
  ExpectMatchesReference("pred[9,300]{1,0:E(1)}", "{0,1:T(8,128)(4,1)}");
  ExpectMatchesReference("u8[4,6,8,10,3]{4,3,2,1,0}", "{0,2,4,1,3}");
  ExpectMatchesReference("c128[5,7]{1,0}", "{0,1:T(2,2)}");
  ExpectMatchesReference("f32[8,8]{1,0}", "{1,0:T(2,4)(2,1,1,1)}");
  ExpectMatchesReference("f32[7,9]{0,1:T(2,4)(2,1,1,1)}", "{1,0:T(3,2)}");
  ExpectMatchesReference("f32[2,7,8,11,10]{4,3,2,1,0}",
                         "{4,3,2,1,0:T(*,*,2,*,3)}");
  ExpectMatchesReference("f16[3000]{0}", "{0:T(1024)(128)(2,1)}");
  ExpectMatchesReference("f32[]", "{:T(256)}");
  ExpectMatchesReference("f32[3,5]{1,0}", "{1,0:T(2,2)L(7)}");
  ExpectMatchesReference("s16[4,0,3]{2,1,0}", "{0,1,2:T(2,2)}");
  ExpectMatchesReference("u2[5,13]{1,0:T(2,4)E(2)}", "{0,1:L(5)E(2)}");
}

TEST(RelayoutTest, PaddingIsZeroAndElementsMove) {
  Shape from = Parse("f32[3,5]{1,0}");
  Shape to = WithLayout(from, "{1,0:T(2,2)}");
  std::vector<float> in(15);
  for (int i = 0; i < 15; ++i) in[i] = static_cast<float>(i + 1);
  std::vector<float> out(24, -1.0f);
  absl::Span<const uint8_t> in_bytes(
      reinterpret_cast<const uint8_t*>(in.data()), 60);
  absl::Span<uint8_t> out_bytes(reinterpret_cast<uint8_t*>(out.data()), 96);
  ASSERT_TRUE(Relayout(from, to, in_bytes, out_bytes).ok());
  EXPECT_EQ(out[17], 14.0f);  // Element (2,3) = 2*5+3+1.
  PhysicalLayout p = *PhysicalLayout::Create(to);
  for (int64_t pad : p.PaddingOffsets()) EXPECT_EQ(out[pad], 0.0f) << pad;
}

TEST(RelayoutTest, MismatchedShapesNameBoth) {
  absl::StatusOr<std::unique_ptr<RelayoutPlan>> plan =
      RelayoutPlan::Create(Parse("f32[4,8]"), Parse("bf16[4,8]{0,1}"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(),
              AllOf(HasSubstr("f32[4,8]{1,0}"), HasSubstr("bf16[4,8]{0,1}")));
  plan = RelayoutPlan::Create(Parse("f32[4,8]"), Parse("f32[8,4]"));
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RelayoutTest, WrongLengthsTouchNothing) {
  Shape from = Parse("f32[4,8]");
  Shape to = WithLayout(from, "{0,1:T(8,128)}");
  auto plan = RelayoutPlan::Create(from, to);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ((*plan)->input_bytes(), 128);
  EXPECT_EQ((*plan)->output_bytes(), 8 * 128 * 4);
  std::vector<uint8_t> in(127, 1), out((*plan)->output_bytes(), 0xCD);
  absl::Status s = (*plan)->Execute(in, absl::MakeSpan(out));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("input is 127 bytes"));
  in.resize(128);
  out.pop_back();
  s = (*plan)->Execute(in, absl::MakeSpan(out));
  EXPECT_THAT(s.message(), HasSubstr("output is 4095 bytes"));
  for (uint8_t b : out) ASSERT_EQ(b, 0xCD);
}

TEST(RelayoutTest, OverlappingBuffersRejected) {
  Shape from = Parse("u8[64]");
  std::vector<uint8_t> buf(64);
  auto plan = RelayoutPlan::Create(from, from);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE((*plan)->Execute(buf, absl::MakeSpan(buf)).ok());
}

TEST(RelayoutTest, HostRoundTrip) {
  Shape device = Parse("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  Shape host = HostShape(device);
  EXPECT_EQ(host.ToString(true), "bf16[16,1280,40]{2,1,0}");
  std::vector<uint8_t> x(16 * 1280 * 40 * 2);
  std::mt19937 rng(1);
  for (uint8_t& b : x) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> dev(1638400), back(x.size());
  ASSERT_TRUE(Relayout(host, device, x, absl::MakeSpan(dev),
                       {.threads = 2, .min_chunk_bytes = 4096})
                  .ok());
  ASSERT_TRUE(Relayout(device, host, dev, absl::MakeSpan(back),
                       {.threads = 2, .min_chunk_bytes = 4096})
                  .ok());
  EXPECT_TRUE(back == x);
}

TEST(RelayoutTest, PlanCacheKeysOnShapesAndPlanOptions) {
  Shape from = Parse("f32[16,16]");
  Shape to = WithLayout(from, "{0,1}");
  RelayoutPlanCache cache(3);
  auto a = cache.Get(from, to);
  auto b = cache.Get(from, to);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  // Shapes are compared by value.
  Shape from2 = Parse("f32[16,16]");
  auto v = cache.Get(from2, WithLayout(from2, "{0,1}"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(a->get(), v->get());
  // Threads do not change the plan; the other options do.
  auto t = cache.Get(from, to, {.threads = 2});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(a->get(), t->get());
  for (const RelayoutOptions& o :
       {RelayoutOptions{.isa = RelayoutIsa::kSse2},
        RelayoutOptions{.streaming_store_threshold_bytes = 1},
        RelayoutOptions{.min_chunk_bytes = 64},
        RelayoutOptions{.max_chunk_bytes = 64}}) {
    auto c = cache.Get(from, to, o);
    ASSERT_TRUE(c.ok());
    EXPECT_NE(a->get(), c->get());
  }
  EXPECT_EQ(cache.size(), 3);  // Capacity 3: the oldest went.
  // Another cache shares nothing.
  RelayoutPlanCache other;
  auto d = other.Get(from, to);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(a->get(), d->get());
  // The evicted plan is rebuilt.
  auto e = cache.Get(from, to);
  ASSERT_TRUE(e.ok());
  EXPECT_NE(a->get(), e->get());
}

TEST(RelayoutTest, OptionsAreChecked) {
  Shape from = Parse("f32[16,16]");
  Shape to = WithLayout(from, "{0,1}");
  for (const RelayoutOptions& o :
       {RelayoutOptions{.threads = 0}, RelayoutOptions{.threads = 1025},
        RelayoutOptions{.streaming_store_threshold_bytes = -1},
        RelayoutOptions{.min_chunk_bytes = -1},
        RelayoutOptions{.max_chunk_bytes = -1}}) {
    EXPECT_EQ(RelayoutPlan::Create(from, to, o).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ParseRelayoutIsa("avx2").value(), RelayoutIsa::kAvx2);
  EXPECT_EQ(ParseRelayoutIsa("neon").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RelayoutIsaName(RelayoutIsa::kAvx512), "avx512");
}

// max_chunk_bytes caps every chunk down to the plan's granularity (one
// output row of the transpose here, 1 KiB), and the streaming-store
// threshold decides the kernels' store kind.
TEST(RelayoutTest, ChunkCapAndStreamingThreshold) {
  Shape from = Parse("f32[256,256]{1,0}");
  Shape to = WithLayout(from, "{0,1}");
  auto capped = RelayoutPlan::Create(from, to, {.max_chunk_bytes = 4096});
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ((*capped)->ChunkCount(), 256 * 256 * 4 / 4096);
  for (int64_t i = 0; i < (*capped)->ChunkCount(); ++i) {
    auto [begin, end] = (*capped)->ChunkOutputRange(i);
    EXPECT_LE(end - begin, 4096);
  }
  auto rows = RelayoutPlan::Create(from, to, {.max_chunk_bytes = 1000});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)->ChunkCount(), 256);  // One 1 KiB row each.
  auto streamed =
      RelayoutPlan::Create(from, to, {.streaming_store_threshold_bytes = 1});
  auto cached = RelayoutPlan::Create(from, to, {});
  EXPECT_THAT((*streamed)->DebugString(), HasSubstr("streaming stores"));
  EXPECT_THAT((*cached)->DebugString(),
              testing::Not(HasSubstr("streaming stores")));
}

// Many threads sharing the cache and one plan (run under TSan).
TEST(RelayoutTest, ConcurrentUse) {
  Shape from = Parse("f32[256,300]{1,0}");
  Shape to = WithLayout(from, "{0,1:T(8,128)}");
  std::vector<uint8_t> in = RandomBuffer(from, 3);
  std::vector<uint8_t> want(PhysicalLayout::Create(to).value().byte_size());
  ASSERT_TRUE(ReferenceRelayout(from, to, in, absl::MakeSpan(want)).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  RelayoutPlanCache cache;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::vector<uint8_t> got(want.size());
        if (!Relayout(from, to, in, absl::MakeSpan(got),
                      {.threads = 1 + t % 2, .min_chunk_bytes = 4096}, &cache)
                 .ok() ||
            got != want) {
          failures++;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// Outputs of 16 MiB and more take the streaming-store kernels: check random
// elements against the reference addressing, the padding-free round trip,
// and that every byte was written.
TEST(RelayoutTest, LargeOutputsStreamingPaths) {
  for (const auto& [from_text, to_layout] :
       std::vector<std::pair<const char*, const char*>>{
           {"f32[4096,4096]{1,0}", "{1,0:T(8,128)}"},
           {"f32[4096,4096]{1,0}", "{0,1}"},
           {"bf16[8192,4096]{1,0}", "{1,0:T(8,128)(2,1)}"},
           // Benchmark cases 1 and 5 at full size: fused padding and the
           // blocked 32-bit-unit kernel with streaming stores.
           {"bf16[256,1280,40]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}"},
           {"s8[8192,8192]{1,0}", "{0,1:T(8,128)(4,1)}"},
           // Case 6 at half size: the AVX-512 nibble kernel, streamed.
           {"s4[8192,4096]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}"},
       }) {
    SCOPED_TRACE(absl::StrCat(from_text, " -> ", to_layout));
    Shape from = Parse(from_text);
    Shape to = WithLayout(from, to_layout);
    PhysicalLayout src = *PhysicalLayout::Create(from);
    PhysicalLayout dst = *PhysicalLayout::Create(to);
    const int bits = src.element_bits();
    std::vector<uint8_t> in(src.byte_size());
    for (size_t i = 0; i < in.size(); ++i) {
      in[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
    }
    std::vector<uint8_t> out(dst.byte_size(), 0xA5), back(in.size(), 0x5A);
    ASSERT_TRUE(Relayout(from, to, in, absl::MakeSpan(out)).ok());
    std::mt19937 rng(5);
    for (int k = 0; k < 4096; ++k) {
      std::vector<int64_t> index;
      for (int64_t d : from.dimensions()) index.push_back(rng() % d);
      const int64_t so = src.ElementOffset(index),
                    dof = dst.ElementOffset(index);
      if (bits < 8) {
        ASSERT_EQ(ReadPackedElement(in.data(), so, bits),
                  ReadPackedElement(out.data(), dof, bits));
      } else {
        const int width = bits / 8;
        ASSERT_EQ(0, std::memcmp(&in[so * width], &out[dof * width], width));
      }
    }
    ASSERT_TRUE(Relayout(to, from, out, absl::MakeSpan(back)).ok());
    EXPECT_TRUE(back == in);
  }
}

// Every ISA's kernels (as far as the CPU has them). The blocked 32-bit-unit
// transpose: row and column edges, B merged with C (s8 (4,1) tiles, rank-5
// permutations), C steps left over after the last 16 units, unaligned
// destination rows. The nibble kernels: 128-, 64- and 32-column steps and
// their scalar tails.
TEST(RelayoutTest, KernelsOfEveryIsaMatchReference) {
  for (RelayoutIsa isa : {RelayoutIsa::kAuto, RelayoutIsa::kAvx512,
                          RelayoutIsa::kAvx2, RelayoutIsa::kSse2}) {
    SCOPED_TRACE(RelayoutIsaName(isa));
    ExpectMatchesReference("f32[64,96]{1,0}", "{0,1}", isa);
    ExpectMatchesReference("f32[67,301]{1,0}", "{0,1}", isa);
    ExpectMatchesReference("s32[300,40]{0,1}", "{1,0}", isa);
    ExpectMatchesReference("s8[40,300]{1,0}", "{0,1:T(8,128)(4,1)}", isa);
    ExpectMatchesReference("s8[136,1000]{1,0}", "{0,1:T(8,128)(4,1)}", isa);
    ExpectMatchesReference("f32[4,8,64,16,32]{4,3,2,1,0}", "{2,4,0,3,1}", isa);
    ExpectMatchesReference("f32[5,3,48,7,16]{4,3,2,1,0}", "{2,4,0,3,1}", isa);
    ExpectMatchesReference("f32[33,20]{1,0}", "{0,1:T(8,128)}", isa);
    ExpectMatchesReference("f32[2,100,50]{2,1,0}", "{1,2,0:T(2,8)}", isa);
    ExpectMatchesReference("s4[1024,1024]{1,0:E(4)}",
                           "{1,0:T(64,128)(8,1)E(4)}", isa);
    ExpectMatchesReference("s4[64,1000]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}",
                           isa);
    ExpectMatchesReference("s4[72,230]{1,0:E(4)}", "{1,0:T(8,128)(8,1)E(4)}",
                           isa);
    // The cases above do reach the blocked transpose.
    for (const auto& [from_text, to_layout] :
         std::vector<std::pair<const char*, const char*>>{
             {"f32[67,301]{1,0}", "{0,1}"},
             {"s8[136,1000]{1,0}", "{0,1:T(8,128)(4,1)}"},
             {"f32[4,8,64,16,32]{4,3,2,1,0}", "{2,4,0,3,1}"}}) {
      Shape from = Parse(from_text);
      auto plan =
          RelayoutPlan::Create(from, WithLayout(from, to_layout), {.isa = isa});
      ASSERT_TRUE(plan.ok());
      EXPECT_THAT((*plan)->DebugString(),
                  testing::HasSubstr(isa == RelayoutIsa::kAuto ||
                                             isa == RelayoutIsa::kAvx512
                                         ? "(blocked 32-bit units,"
                                         : "(blocked 32-bit units, sse2)"));
    }
  }
}

// The 16-bit pair kernels of every ISA (as far as the CPU has them): bf16
// (2,1) untiling (split), tiling (join) and transposed pairs (2x2 shuffle:
// rows of 2 and 4 units, with and without fused row padding), on whole and
// partial tiles, odd extents, A extents below and between vector steps
// (tiles 20 and 48 wide), many chunks, windows and streaming stores
// (ExpectMatchesReference), unaligned buffers and the RelayoutStreamer.
TEST(RelayoutTest, PairKernelsOfEveryIsaMatchReference) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"bf16[64,1024]{1,0:T(8,128)(2,1)}", "{1,0}"},
      {"bf16[40,300]{1,0:T(8,128)(2,1)}", "{1,0}"},
      {"bf16[9,77]{1,0:T(8,128)(2,1)}", "{1,0}"},
      {"f16[3,10,200]{2,1,0:T(8,20)(2,1)}", "{2,1,0}"},
      {"bf16[16,200]{1,0:T(4,48)(2,1)}", "{1,0}"},
      {"bf16[64,1024]{1,0}", "{1,0:T(8,128)(2,1)}"},
      {"bf16[40,300]{1,0}", "{1,0:T(8,128)(2,1)}"},
      {"bf16[9,77]{1,0}", "{1,0:T(8,128)(2,1)}"},
      {"f16[3,10,200]{2,1,0}", "{2,1,0:T(8,20)(2,1)}"},
      {"bf16[70,77]{1,0}", "{1,0:T(8,20)(2,1)}"},
      {"bf16[64,1024]{1,0:T(8,128)(2,1)}", "{0,1:T(8,128)(2,1)}"},
      {"bf16[40,300]{1,0:T(8,128)(2,1)}", "{0,1:T(8,128)(2,1)}"},
      {"bf16[136,72]{0,1:T(8,128)(2,1)}", "{1,0:T(8,128)(2,1)}"},
      {"bf16[40,300]{1,0:T(4,128)(2,1)}", "{0,1:T(4,128)(2,1)}"},
      {"bf16[2,256,40]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}"},
      {"bf16[2,384,24]{1,2,0:T(8,128)(2,1)}", "{2,1,0:T(8,128)(2,1)}"},
  };
  for (RelayoutIsa isa : {RelayoutIsa::kAuto, RelayoutIsa::kAvx512,
                          RelayoutIsa::kAvx2, RelayoutIsa::kSse2}) {
    SCOPED_TRACE(RelayoutIsaName(isa));
    for (const auto& [from_text, to_layout] : cases) {
      ExpectMatchesReference(from_text, to_layout, isa);
      SCOPED_TRACE(absl::StrCat(from_text, " -> ", to_layout));
      const Shape from = Parse(from_text);
      const Shape to = WithLayout(from, to_layout);
      const std::vector<uint8_t> in = RandomBuffer(from, 11);
      std::vector<uint8_t> want(PhysicalLayout::Create(to)->byte_size());
      ASSERT_TRUE(ReferenceRelayout(from, to, in, absl::MakeSpan(want)).ok());
      // Cached and streaming stores, the source at an odd offset and the
      // destination at an odd one or on a 64-byte line (so that streaming
      // stores run; regression: a join streamed into rows of 80 bytes
      // after checking only the first row's alignment, and crashed).
      for (int64_t stream_from : {int64_t{0}, int64_t{1} << 30}) {
        auto plan = RelayoutPlan::Create(
            from, to,
            {.isa = isa, .streaming_store_threshold_bytes = stream_from});
        ASSERT_TRUE(plan.ok()) << plan.status();
        for (bool aligned : {false, true}) {
          std::vector<uint8_t> src(in.size() + 3), dst(want.size() + 64, 0xA5);
          std::copy(in.begin(), in.end(), src.begin() + 3);
          const size_t at =
              aligned ? (64 - reinterpret_cast<uintptr_t>(dst.data()) % 64) % 64
                      : 5;
          ASSERT_TRUE(
              (*plan)
                  ->Execute(absl::MakeConstSpan(src).subspan(3),
                            absl::MakeSpan(dst).subspan(at, want.size()))
                  .ok());
          EXPECT_TRUE(std::equal(want.begin(), want.end(), dst.begin() + at))
              << "streaming from " << stream_from << ", at " << at;
        }
      }
      // Through the streamer's window (small windows cut boxes anywhere).
      for (int64_t window : {int64_t{512}, int64_t{1} << 20}) {
        RelayoutStreamer streamer(2, window);
        RelayoutOptions base;
        base.isa = isa;
        auto plan = RelayoutPlan::Create(from, to, streamer.PlanOptions(base));
        ASSERT_TRUE(plan.ok()) << plan.status();
        std::vector<uint8_t> got;
        ASSERT_TRUE(streamer
                        .Run(**plan, in.data(),
                             [&](absl::Span<const uint8_t> piece) {
                               got.insert(got.end(), piece.begin(),
                                          piece.end());
                               return absl::OkStatus();
                             })
                        .ok());
        EXPECT_TRUE(got == want) << "window " << window;
      }
    }
  }
}

// Streaming stores of both transpose kernels on a 64 MiB transpose.
TEST(RelayoutTest, Blocked32BitTransposeStreams) {
  Shape from = Parse("f32[4096,4096]{1,0}");
  Shape to = WithLayout(from, "{0,1}");
  std::vector<uint8_t> in(from.dimensions(0) * from.dimensions(1) * 4);
  for (size_t i = 0; i < in.size(); ++i) {
    in[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  }
  for (RelayoutIsa isa : {RelayoutIsa::kAuto, RelayoutIsa::kSse2}) {
    SCOPED_TRACE(RelayoutIsaName(isa));
    auto plan = RelayoutPlan::Create(from, to, {.isa = isa});
    ASSERT_TRUE(plan.ok()) << plan.status();
    std::vector<uint8_t> out(in.size(), 0xA5);
    ASSERT_TRUE((*plan)->ExecuteWithThreads(in, absl::MakeSpan(out), 2).ok());
    for (int64_t r = 0; r < 4096; r += 17) {
      for (int64_t c = 0; c < 4096; c += 13) {
        ASSERT_EQ(0, std::memcmp(&in[(r * 4096 + c) * 4],
                                 &out[(c * 4096 + r) * 4], 4))
            << r << "," << c;
      }
    }
  }
}

// The benchmark's conversions at a size that still allows a full comparison
// with the reference: the kernels tuned for them (fused row padding, blocked
// transposes, the nibble kernel and its AVX2 variant) must stay bit-exact.
TEST(RelayoutTest, BenchmarkKernelsMatchReference) {
  ExpectMatchesReference("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}",
                         "{2,1,0:T(8,128)(2,1)}");
  ExpectMatchesReference("f32[1024,1024]{1,0}", "{0,1}");
  ExpectMatchesReference("s8[1024,1024]{1,0}", "{0,1:T(8,128)(4,1)}");
  ExpectMatchesReference("s4[1024,1024]{1,0:E(4)}", "{1,0:T(64,128)(8,1)E(4)}");
  ExpectMatchesReference("f32[8,16,32,4,64]{4,3,2,1,0}", "{1,3,0,4,2}");
}

TEST(RelayoutTest, ProgressReachesTotal) {
  Shape from = Parse("u8[2048,2048]");
  Shape to = WithLayout(from, "{0,1}");
  auto plan = RelayoutPlan::Create(from, to, {.min_chunk_bytes = 64 << 10});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ((*plan)->ChunkCount(), 64);
  std::vector<uint8_t> in(2048 * 2048), out(in.size());
  RelayoutThreadPool pool(2);
  int64_t last = -1, total = 0, calls = 0;
  const std::thread::id caller = std::this_thread::get_id();
  ASSERT_TRUE((*plan)
                  ->Execute(in, absl::MakeSpan(out), pool.Scheduler(),
                            [&](int64_t done, int64_t all) {
                              EXPECT_EQ(std::this_thread::get_id(), caller);
                              EXPECT_GE(done, last);
                              last = done;
                              total = all;
                              ++calls;
                            })
                  .ok());
  EXPECT_EQ(last, total);
  EXPECT_EQ(total, 2048 * 2048);
  EXPECT_GE(calls, 1);
}

}  // namespace
}  // namespace xlayout
