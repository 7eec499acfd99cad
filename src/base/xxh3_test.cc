#include "xlayout/xxh3.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace xlayout {
namespace {

TEST(Xxh3Test, KnownValues) {
  // XXH3-64 of the empty input (xxHash's published test vector).
  EXPECT_EQ(Xxh3Of({}), 0x2D06800538D394C2ULL);
}

TEST(Xxh3Test, IncrementalEqualsOneShotForEverySplit) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 31 + 7);
  const uint64_t whole = Xxh3Of(data);
  for (size_t split : {0, 1, 63, 64, 240, 241, 999, 1000}) {
    Xxh3 h;
    h.Update(absl::MakeConstSpan(data).subspan(0, split));
    h.Update(absl::MakeConstSpan(data).subspan(split));
    EXPECT_EQ(h.Digest(), whole) << "split at " << split;
  }
  EXPECT_NE(Xxh3Of(absl::MakeConstSpan(data).subspan(1)), whole);
}

}  // namespace
}  // namespace xlayout
