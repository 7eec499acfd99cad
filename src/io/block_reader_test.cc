#include "xlayout/io/block_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"

namespace xlayout::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::WriteText;

TEST(BlockReaderTest, ReturnsEveryByteInBlocks) {
  ScratchDir dir;
  std::string content(10000, 'q');
  content[9999] = 'e';
  WriteText(dir / "f", content);
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "f");
  ASSERT_TRUE(f.ok());
  BlockReader reader(*f, 4096);
  std::string got;
  std::vector<size_t> sizes;
  while (true) {
    absl::StatusOr<absl::string_view> block = reader.Next();
    ASSERT_TRUE(block.ok());
    if (block->empty()) break;
    sizes.push_back(block->size());
    got.append(block->data(), block->size());
  }
  EXPECT_EQ(got, content);
  EXPECT_THAT(sizes, ElementsAre(4096, 4096, 1808));
  EXPECT_EQ(reader.bytes_read(), 10000);
}

std::vector<std::string> Lines(const std::string& text, size_t max,
                               size_t block, absl::Status* status) {
  ScratchDir dir;
  WriteText(dir / "f", text);
  absl::StatusOr<InputFile> f = InputFile::Open(dir / "f");
  LineReader reader(*f, max, block);
  std::vector<std::string> lines;
  absl::string_view line;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&line);
    if (!more.ok()) {
      *status = more.status();
      break;
    }
    if (!*more) break;
    lines.push_back(std::string(line) + "@" +
                    std::to_string(reader.line_number()));
  }
  return lines;
}

TEST(LineReaderTest, SplitsLinesAcrossBlocks) {
  absl::Status s;
  EXPECT_THAT(Lines("ab\ncdefgh\n\nlast", 100, 3, &s),
              ElementsAre("ab@1", "cdefgh@2", "@3", "last@4"));
  EXPECT_TRUE(s.ok());
  EXPECT_THAT(Lines("one\n", 100, 1, &s), ElementsAre("one@1"));
  EXPECT_THAT(Lines("", 100, 4, &s), ElementsAre());
}

TEST(LineReaderTest, OverlongLineIsAnErrorNamingFileAndLine) {
  absl::Status s;
  EXPECT_THAT(Lines("ok\n0123456789abc\n", 8, 4, &s), ElementsAre("ok@1"));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr(":2: line longer than 8 bytes"));
}

}  // namespace
}  // namespace xlayout::io
