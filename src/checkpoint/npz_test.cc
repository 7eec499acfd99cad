#include "xlayout/npz.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

// Archives written by numpy (np.savez / np.savez_compressed) and Python's
// zipfile: testdata/checkpoint/make_npy.py. Both hold
// a = arange(6, '<f4').reshape(2, 3) and b = arange(4, '<i8').
std::string TestPath(const std::string& name) {
  return absl::StrCat(XLAYOUT_TESTDATA_DIR, "/checkpoint/npy/", name);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string TempFile(const std::string& name, const std::string& bytes) {
  std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string DataOf(const NpzReader& r, size_t i, int64_t* chunks = nullptr) {
  std::string data;
  absl::Status s = r.ReadData(i, {}, [&](absl::string_view chunk) {
    data.append(chunk.data(), chunk.size());
    if (chunks != nullptr) ++*chunks;
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return data;
}

void ExpectArange(const NpzReader& r) {
  ASSERT_EQ(r.members().size(), 2u);
  EXPECT_EQ(r.members()[0].name, "a");
  EXPECT_EQ(r.members()[0].zip_name, "a.npy");
  EXPECT_EQ(r.members()[1].name, "b");
  absl::StatusOr<NpyHeader> a = r.ReadHeader(0);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype.type, PrimitiveType::kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  std::string data = DataOf(r, 0);
  ASSERT_EQ(data.size(), 24u);
  for (int k = 0; k < 6; ++k) {
    float v;
    std::memcpy(&v, data.data() + 4 * k, 4);
    EXPECT_EQ(v, static_cast<float>(k));
  }
  absl::StatusOr<NpyHeader> b = r.ReadHeader(1);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype.type, PrimitiveType::kS64);
  data = DataOf(r, 1);
  ASSERT_EQ(data.size(), 32u);
  int64_t last;
  std::memcpy(&last, data.data() + 24, 8);
  EXPECT_EQ(last, 3);
}

TEST(NpzReader, Stored) {
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TestPath("stored.npz"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE((*r)->members()[0].deflated);
  ExpectArange(**r);
}

TEST(NpzReader, Deflated) {
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TestPath("deflated.npz"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->members()[0].deflated);
  ExpectArange(**r);
}

TEST(NpzReader, ChunksAreBounded) {
  NpzLimits limits;
  limits.chunk_bytes = 5;
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TestPath("deflated.npz"), limits);
  ASSERT_TRUE(r.ok()) << r.status();
  int64_t chunks = 0;
  EXPECT_EQ(DataOf(**r, 0, &chunks).size(), 24u);
  EXPECT_EQ(chunks, 5);  // 24 bytes in chunks of at most 5.
}

TEST(NpzReader, SinkErrorStops) {
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TestPath("stored.npz"));
  ASSERT_TRUE(r.ok());
  absl::Status s = (*r)->ReadData(0, {}, [](absl::string_view) {
    return absl::ResourceExhaustedError("disk full");
  });
  EXPECT_EQ(s, absl::ResourceExhaustedError("disk full"));
}

TEST(NpzReader, MemberSizeLimit) {
  NpzLimits limits;
  limits.max_member_bytes = 100;
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TestPath("deflated.npz"), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("member \"a.npy\" is 152 bytes uncompressed, over the "
                        "limit of 100"));
}

TEST(NpzReader, Refusals) {
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TestPath("extra_member.npz"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("member \"readme.txt\" is not an .npy array"));
  r = NpzReader::Open(TestPath("bzip2.npz"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("only stored and deflate (np.savez, "
                        "np.savez_compressed) are read"));
  r = NpzReader::Open(TestPath("le_f4_2x3.npy"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not a valid zip archive"));
  r = NpzReader::Open(TestPath("does_not_exist.npz"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("does_not_exist.npz"));
}

TEST(NpzReader, NotARegularFileIsNamedAsSuch) {
  // libzip's own words for these were "not a valid zip archive: Operation
  // not supported".
  const std::string dir = absl::StrCat(::testing::TempDir(), "/dir.npz");
  mkdir(dir.c_str(), 0755);
  absl::StatusOr<std::unique_ptr<NpzReader>> r = NpzReader::Open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      r.status().message(),
      absl::StrCat("npz: ", dir, ": it is a directory, not a regular file"));
  const std::string fifo = absl::StrCat(::testing::TempDir(), "/fifo.npz");
  unlink(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  r = NpzReader::Open(fifo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            absl::StrCat("npz: ", fifo, ": it is a FIFO, not a regular file"));
  unlink(fifo.c_str());
}

TEST(NpzReader, CorruptDataIsCaughtByCrc) {
  std::string bytes = ReadAll(TestPath("stored.npz"));
  // Flip one byte of a's data (the float 5.0's last byte): the header stays
  // valid, the CRC-32 does not.
  std::string needle("\0\0\xa0\x40", 4);
  size_t pos = bytes.find(needle);
  ASSERT_NE(pos, std::string::npos);
  bytes[pos + 3] ^= 0x01;
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TempFile("crc.npz", bytes));
  ASSERT_TRUE(r.ok()) << r.status();
  absl::Status s =
      (*r)->ReadData(0, {}, [](absl::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("member \"a.npy\""));
  EXPECT_THAT(s.message(), HasSubstr("CRC"));
}

TEST(NpzReader, CorruptHeaderIsCaughtByCrc) {
  std::string bytes = ReadAll(TestPath("stored.npz"));
  // Damage a's .npy header (the quote closing '<f4'): it no longer parses,
  // and the CRC-32 says why. The error is the corruption, not the format.
  const std::string needle = "'descr': '<f4'";
  size_t pos = bytes.find(needle);
  ASSERT_NE(pos, std::string::npos);
  bytes[pos + needle.size() - 1] = 'x';
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TempFile("crc_header.npz", bytes));
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<NpyHeader> h = (*r)->ReadHeader(0, {});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss) << h.status();
  EXPECT_THAT(h.status().message(),
              HasSubstr("member \"a.npy\": CRC error: the member is corrupt "
                        "(its .npy header did not parse: npy: "));
  EXPECT_THAT(h.status().message(), HasSubstr("crc_header.npz"));
  // Member b is intact and still reads.
  EXPECT_TRUE((*r)->ReadHeader(1, {}).ok());
}

TEST(NpzReader, TruncatedArchive) {
  std::string bytes = ReadAll(TestPath("deflated.npz"));
  absl::StatusOr<std::unique_ptr<NpzReader>> r =
      NpzReader::Open(TempFile("cut.npz", bytes.substr(0, bytes.size() - 30)));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not a valid zip archive"));
}

}  // namespace
}  // namespace xlayout
