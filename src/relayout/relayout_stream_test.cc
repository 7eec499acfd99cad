#include "xlayout/relayout_stream.h"

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "testing/parse.h"
#include "xlayout/relayout.h"
#include "xlayout/size.h"

namespace xlayout {
namespace {

constexpr auto Parse = test_util::ParseOrFail;

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + 7);
  return v;
}

// The streamed pieces concatenate to a plain Relayout, for windows smaller
// than one chunk (the window grows to the largest chunk), on a pool, and
// across plans of different sizes through one streamer.
TEST(RelayoutStreamerTest, PiecesConcatenateToTheRelayout) {
  const Shape from = Parse("bf16[40,300]{1,0}");
  const Shape to = Parse("bf16[40,300]{0,1:T(8,128)(2,1)}");
  const std::vector<uint8_t> input = Pattern(40 * 300 * 2);
  std::vector<uint8_t> want(static_cast<size_t>(*ExactBytes(to)));
  ASSERT_TRUE(Relayout(from, to, input, absl::MakeSpan(want)).ok());
  for (int threads : {1, 2, 3}) {
    for (int64_t window : {int64_t{100}, int64_t{4096}, int64_t{1} << 20}) {
      RelayoutStreamer streamer(threads, window);
      auto plan = RelayoutPlan::Create(from, to, streamer.PlanOptions());
      ASSERT_TRUE(plan.ok()) << plan.status();
      std::vector<uint8_t> got;
      int pieces = 0;
      int64_t last_progress = 0;
      ASSERT_TRUE(streamer
                      .Run(
                          **plan, input.data(),
                          [&](absl::Span<const uint8_t> piece) {
                            got.insert(got.end(), piece.begin(), piece.end());
                            ++pieces;
                            return absl::OkStatus();
                          },
                          [&](int64_t done, int64_t total) {
                            EXPECT_GT(done, last_progress);
                            EXPECT_EQ(total, static_cast<int64_t>(want.size()));
                            last_progress = done;
                          })
                      .ok());
      EXPECT_EQ(got, want) << threads << " threads, window " << window;
      EXPECT_EQ(last_progress, static_cast<int64_t>(want.size()));
      if (window <= 4096) {
        EXPECT_GT(pieces, 1) << threads << " threads, window " << window;
      }
    }
  }
}

int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// Workers start with work for them, no more than a window runs at once:
// --threads 1024 on small tensors started 1023 idle threads (export of 14
// tiny tensors: 1.6 s against 0.15 s with one thread).
TEST(RelayoutStreamerTest, StartsNoMoreWorkersThanAWindowHasChunks) {
  const int before = ThreadCount();
  RelayoutStreamer streamer(1024);
  EXPECT_EQ(ThreadCount(), before);
  const Shape small_from = Parse("f32[4,4]{1,0}");
  const Shape small_to = Parse("f32[4,4]{0,1}");
  auto small =
      RelayoutPlan::Create(small_from, small_to, streamer.PlanOptions());
  ASSERT_TRUE(small.ok()) << small.status();
  ASSERT_EQ((*small)->ChunkCount(), 1);
  const std::vector<uint8_t> small_input = Pattern(64);
  auto ignore = [](absl::Span<const uint8_t>) { return absl::OkStatus(); };
  ASSERT_TRUE(streamer.Run(**small, small_input.data(), ignore).ok());
  EXPECT_EQ(ThreadCount(), before);
  // 1 MiB in 4 KiB chunks (4 MiB window / 1024 threads): one window of
  // 256 chunks, run by the caller and 255 workers.
  const Shape from = Parse("f32[512,512]{1,0}");
  const Shape to = Parse("f32[512,512]{0,1}");
  auto plan = RelayoutPlan::Create(from, to, streamer.PlanOptions());
  ASSERT_TRUE(plan.ok()) << plan.status();
  const int64_t chunks = (*plan)->ChunkCount();
  ASSERT_GT(chunks, 2);
  const std::vector<uint8_t> input = Pattern(512 * 512 * 4);
  std::vector<uint8_t> want(512 * 512 * 4);
  ASSERT_TRUE(Relayout(from, to, input, absl::MakeSpan(want)).ok());
  std::vector<uint8_t> got;
  ASSERT_TRUE(streamer
                  .Run(**plan, input.data(),
                       [&](absl::Span<const uint8_t> piece) {
                         got.insert(got.end(), piece.begin(), piece.end());
                         return absl::OkStatus();
                       })
                  .ok());
  EXPECT_EQ(got, want);
  EXPECT_GT(ThreadCount(), before);
  EXPECT_LE(ThreadCount() - before, chunks - 1);
}

TEST(RelayoutStreamerTest, SinkErrorStopsTheStream) {
  const Shape from = Parse("f32[512,512]{1,0}");
  const Shape to = Parse("f32[512,512]{0,1}");
  const std::vector<uint8_t> input = Pattern(512 * 512 * 4);
  RelayoutStreamer streamer(2, 64 << 10);
  auto plan = RelayoutPlan::Create(from, to, streamer.PlanOptions());
  ASSERT_TRUE(plan.ok()) << plan.status();
  int calls = 0;
  absl::Status s =
      streamer.Run(**plan, input.data(), [&](absl::Span<const uint8_t>) {
        ++calls;
        return absl::ResourceExhaustedError("full");
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 1);
}

TEST(RelayoutStreamerTest, PlanOptionsCapChunksAndTurnOffStreamingStores) {
  RelayoutOptions base;
  base.min_chunk_bytes = 1 << 20;
  RelayoutOptions o = RelayoutStreamer::PlanOptionsFor(base, 4, 8 << 20);
  EXPECT_EQ(o.max_chunk_bytes, 2 << 20);
  EXPECT_EQ(o.min_chunk_bytes, 1 << 20);
  EXPECT_EQ(o.streaming_store_threshold_bytes, INT64_MAX);
  EXPECT_EQ(o.threads, 4);
}

}  // namespace
}  // namespace xlayout
