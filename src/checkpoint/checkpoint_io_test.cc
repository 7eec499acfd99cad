#include "xlayout/checkpoint_io.h"

#include <unistd.h>
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/test_util.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/relayout.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"

namespace xlayout {
namespace {

using io::testing::ReadText;
using io::testing::ScratchDir;
using io::testing::WriteText;
using ::testing::HasSubstr;

Shape Parse(const std::string& text) {
  absl::StatusOr<Shape> s = ParseShape(text);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

std::vector<uint8_t> Pattern(size_t n, int seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed);
  return v;
}

TensorRecord Record(const std::string& name, const std::string& device) {
  TensorRecord r;
  r.name = name;
  r.device_shape = Parse(device);
  r.dtype = r.device_shape.element_type();
  r.dims.assign(r.device_shape.dimensions().begin(),
                r.device_shape.dimensions().end());
  return r;
}

// Writes tensors "a" (f32[3,5] row-major: 60 bytes) and "b" (u8[100]).
void WriteSmall(const std::string& dir) {
  auto w = CheckpointWriter::Create(dir);
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<uint8_t> a = Pattern(60, 1), b = Pattern(100, 2);
  ASSERT_TRUE((*w)->BeginTensor(Record("a", "f32[3,5]{1,0}")).ok());
  ASSERT_TRUE((*w)->Write(absl::MakeConstSpan(a).subspan(0, 7)).ok());
  ASSERT_TRUE((*w)->Write(absl::MakeConstSpan(a).subspan(7)).ok());
  ASSERT_TRUE((*w)->EndTensor(XXH3_64bits(a.data(), a.size())).ok());
  ASSERT_TRUE((*w)->BeginTensor(Record("b", "u8[100]{0}")).ok());
  ASSERT_TRUE((*w)->Write(b).ok());
  ASSERT_TRUE((*w)->EndTensor(XXH3_64bits(b.data(), b.size())).ok());
  absl::Status s = (*w)->Commit(std::nullopt, Provenance());
  ASSERT_TRUE(s.ok()) << s;
}

TEST(CheckpointIoTest, WriteThenReadBack) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  auto r = CheckpointReader::Open(dir);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& t = (*r)->manifest().tensors;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].offset, 0);
  EXPECT_EQ(t[0].length, 60);
  EXPECT_EQ(t[1].offset, 4096);  // The next 4 KiB boundary.
  EXPECT_EQ(t[1].file, "data/tensors.bin");
  std::vector<uint8_t> got(100);
  ASSERT_TRUE((*r)->ReadTensor(t[1], absl::MakeSpan(got)).ok());
  EXPECT_EQ(got, Pattern(100, 2));
  io::PageBuffer buffer;
  uint64_t physical = 0;
  auto loaded = (*r)->Load(t[0], &buffer, /*verify=*/true, &physical);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(std::vector<uint8_t>(loaded->bytes.begin(), loaded->bytes.end()),
            Pattern(60, 1));
  EXPECT_EQ(physical, t[0].xxh3_physical);
  EXPECT_EQ(*(*r)->HashPhysical(t[0]), t[0].xxh3_physical);
  // The alignment gap is zeros.
  std::string data = ReadText(dir + "/data/tensors.bin");
  ASSERT_EQ(data.size(), 4196u);
  EXPECT_EQ(data.substr(60, 4096 - 60), std::string(4096 - 60, '\0'));
}

TEST(CheckpointIoTest, CopyReservedCopiesATensorVerbatim) {
  ScratchDir dir;
  WriteSmall(dir / "a");
  absl::StatusOr<std::unique_ptr<CheckpointReader>> source =
      CheckpointReader::Open(dir / "a");
  ASSERT_TRUE(source.ok()) << source.status();
  const TensorRecord& b = (*source)->manifest().tensors[1];
  auto w = CheckpointWriter::Create(dir / "c");
  ASSERT_TRUE(w.ok()) << w.status();
  absl::StatusOr<int64_t> first = (*w)->ReserveTensors(
      {Record("a", "f32[3,5]{1,0}"), Record("b", "u8[100]{0}")});
  ASSERT_TRUE(first.ok()) << first.status();
  // Not into a tensor of another length, nor twice.
  EXPECT_EQ((*w)->CopyReserved(*first, **source, b).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*w)->CopyReserved(*first + 1, **source, b).ok());
  EXPECT_EQ((*w)->CopyReserved(*first + 1, **source, b).code(),
            absl::StatusCode::kFailedPrecondition);
  // Unhashed: the checksum must be given.
  EXPECT_EQ((*w)->EndReserved(*first + 1, b.xxh3_logical).code(),
            absl::StatusCode::kInternal);
  ASSERT_TRUE(
      (*w)->EndReserved(*first + 1, b.xxh3_logical, b.xxh3_physical).ok());
  std::vector<uint8_t> a = Pattern(60, 1);
  ASSERT_TRUE((*w)->WriteReserved(*first, a).ok());
  ASSERT_TRUE((*w)->EndReserved(*first, XXH3_64bits(a.data(), a.size())).ok());
  ASSERT_TRUE((*w)->Commit(std::nullopt, Provenance()).ok());
  absl::StatusOr<std::unique_ptr<CheckpointReader>> copy =
      CheckpointReader::Open(dir / "c");
  ASSERT_TRUE(copy.ok()) << copy.status();
  const TensorRecord& copied = (*copy)->manifest().tensors[1];
  EXPECT_EQ(copied.xxh3_physical, b.xxh3_physical);
  std::vector<uint8_t> bytes(100);
  ASSERT_TRUE((*copy)->ReadTensor(copied, absl::MakeSpan(bytes)).ok());
  EXPECT_EQ(bytes, Pattern(100, 2));
}

TEST(CheckpointIoTest, UncommittedWriterLeavesNothing) {
  ScratchDir tmp;
  {
    auto w = CheckpointWriter::Create(tmp / "ck");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->BeginTensor(Record("a", "u8[4]{0}")).ok());
    ASSERT_TRUE((*w)->Write(Pattern(4, 0)).ok());
  }
  EXPECT_THAT(tmp.List(), ::testing::IsEmpty());
}

TEST(CheckpointIoTest, WriterChecksLengths) {
  ScratchDir tmp;
  auto w = CheckpointWriter::Create(tmp / "ck");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->BeginTensor(Record("a", "u8[4]{0}")).ok());
  ASSERT_TRUE((*w)->Write(Pattern(3, 0)).ok());
  absl::Status end = (*w)->EndTensor(0);
  EXPECT_THAT(end.message(), HasSubstr("3 bytes written, expected 4"));
  EXPECT_FALSE((*w)->Write(Pattern(2, 0)).ok());
}

TEST(CheckpointIoTest, ReaderRefusesSymlinkedDataFile) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  ASSERT_EQ(rename((dir + "/data/tensors.bin").c_str(),
                   (tmp / "outside.bin").c_str()),
            0);
  ASSERT_EQ(symlink("../../outside.bin", (dir + "/data/tensors.bin").c_str()),
            0);
  auto r = CheckpointReader::Open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("tensor \"a\" (file \"data/tensors.bin\")"));
  EXPECT_THAT(r.status().message(), HasSubstr("symbolic link"));
}

TEST(CheckpointIoTest, ReaderRefusesSymlinkedManifestNamingIt) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  ASSERT_EQ(rename((dir + "/manifest.json").c_str(), (tmp / "m.json").c_str()),
            0);
  ASSERT_EQ(symlink("../m.json", (dir + "/manifest.json").c_str()), 0);
  auto r = CheckpointReader::Open(dir);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("checkpoint '", dir, "': '", dir,
                         "/manifest.json': 'manifest.json' is a symbolic "
                         "link; the checkpoint reader follows no links (one "
                         "could lead out of the checkpoint directory)"));
}

TEST(CheckpointIoTest, ReaderRefusesAnOversizedManifest) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  // Sparse: no 256 MiB is written.
  ASSERT_EQ(truncate((dir + "/manifest.json").c_str(), kMaxManifestBytes + 1),
            0);
  auto r = CheckpointReader::Open(dir);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("checkpoint '", dir, "': manifest '", dir,
                         "/manifest.json' is 268435457 bytes; at most "
                         "268435456 are accepted"));
}

TEST(CheckpointIoTest, ReadsOfAFileTruncatedAfterOpenFailNamingTheTensor) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  auto r = CheckpointReader::Open(dir);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(truncate((dir + "/data/tensors.bin").c_str(), 4100), 0);
  const TensorRecord& b = (*r)->manifest().tensors[1];
  std::vector<uint8_t> got(100);
  absl::Status read = (*r)->ReadTensor(b, absl::MakeSpan(got));
  EXPECT_EQ(read.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(read.message(),
              HasSubstr(absl::StrCat("checkpoint '", dir,
                                     "': tensor \"b\" (file "
                                     "\"data/tensors.bin\"): cannot read '",
                                     dir,
                                     "/data/tensors.bin': it ends at "
                                     "byte 4100")));
  absl::StatusOr<uint64_t> hash = (*r)->HashPhysical(b);
  EXPECT_EQ(hash.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(hash.status().message(), HasSubstr("tensor \"b\""));
  // Tensor "a" is still whole.
  EXPECT_EQ(*(*r)->HashPhysical((*r)->manifest().tensors[0]),
            XXH3_64bits(Pattern(60, 1).data(), 60));
}

TEST(CheckpointIoTest, ReadTensorBlocksPassesEveryByteInOrder) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  auto r = CheckpointReader::Open(dir);
  ASSERT_TRUE(r.ok()) << r.status();
  const TensorRecord& b = (*r)->manifest().tensors[1];
  std::vector<uint8_t> block(7);
  std::vector<uint8_t> got;
  std::vector<size_t> sizes;
  absl::Status s = (*r)->ReadTensorBlocks(
      b, absl::MakeSpan(block), [&](absl::Span<const uint8_t> piece) {
        EXPECT_EQ(piece.data(), block.data());
        got.insert(got.end(), piece.begin(), piece.end());
        sizes.push_back(piece.size());
        return absl::OkStatus();
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, Pattern(100, 2));
  ASSERT_EQ(sizes.size(), 15u);  // 14 of 7 bytes, then 2.
  EXPECT_EQ(sizes.back(), 2u);

  // The callback's error stops the reading and is returned as it is.
  int calls = 0;
  s = (*r)->ReadTensorBlocks(b, absl::MakeSpan(block),
                             [&](absl::Span<const uint8_t>) {
                               ++calls;
                               return absl::CancelledError("enough");
                             });
  EXPECT_EQ(s, absl::CancelledError("enough"));
  EXPECT_EQ(calls, 1);

  // No block to read into is a caller's error, not an endless loop.
  s = (*r)->ReadTensorBlocks(
      b, {}, [](absl::Span<const uint8_t>) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);

  // A read error names the checkpoint, the tensor and the file.
  ASSERT_EQ(truncate((dir + "/data/tensors.bin").c_str(), 4100), 0);
  s = (*r)->ReadTensorBlocks(
      b, absl::MakeSpan(block),
      [](absl::Span<const uint8_t>) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat("checkpoint '", dir,
                                     "': tensor \"b\" (file "
                                     "\"data/tensors.bin\"): cannot read")));
}

TEST(CheckpointIoTest, ReaderRefusesTruncatedAndMissingFiles) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  ASSERT_EQ(truncate((dir + "/data/tensors.bin").c_str(), 4100), 0);
  auto r = CheckpointReader::Open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(r.status().message(), HasSubstr("tensor \"b\""));
  EXPECT_THAT(r.status().message(), HasSubstr("data/tensors.bin"));
  ASSERT_EQ(unlink((dir + "/data/tensors.bin").c_str()), 0);
  r = CheckpointReader::Open(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("tensor \"a\""));
}

TEST(CheckpointIoTest, ReadTensorVerifiesThePhysicalChecksum) {
  ScratchDir tmp;
  const std::string dir = tmp / "ck";
  WriteSmall(dir);
  std::string data = ReadText(dir + "/data/tensors.bin");
  data[4096 + 10] ^= 1;
  WriteText(dir + "/data/tensors.bin", data);
  auto r = CheckpointReader::Open(dir);
  ASSERT_TRUE(r.ok());
  const TensorRecord& b = (*r)->manifest().tensors[1];
  std::vector<uint8_t> got(100);
  absl::Status s = (*r)->ReadTensor(b, absl::MakeSpan(got));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(),
              HasSubstr("tensor \"b\" (file \"data/tensors.bin\"): physical "
                        "checksum mismatch"));
  io::PageBuffer buffer;
  EXPECT_EQ((*r)->Load(b, &buffer).status().code(),
            absl::StatusCode::kDataLoss);
  uint64_t physical = 0;
  auto unverified = (*r)->Load(b, &buffer, /*verify=*/false, &physical);
  ASSERT_TRUE(unverified.ok());
  EXPECT_EQ(unverified->bytes.size(), 100u);
  EXPECT_NE(physical, b.xxh3_physical);
  auto v = VerifyCheckpoint(**r);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE((*v)[0].physical_ok && (*v)[0].logical_ok);
  EXPECT_FALSE((*v)[1].physical_ok);
  EXPECT_FALSE((*v)[1].logical_ok);  // Row-major: the same bytes.
}

TEST(CheckpointTransferTest, LogicalShapePacksFourBitTypes) {
  EXPECT_EQ(LogicalShape(PrimitiveType::kS4, {3, 5}).ToString(true),
            "s4[3,5]{1,0:E(4)}");
  EXPECT_EQ(LogicalShape(PrimitiveType::kBF16, {3, 5}).ToString(true),
            "bf16[3,5]{1,0}");
}

// A safetensors file written here, independently of the library's writer.
std::string Safetensors(const std::string& name, const std::string& dtype,
                        const std::string& shape,
                        const std::vector<uint8_t>& data) {
  std::string header = absl::StrCat(
      "{\"", name, "\":{\"dtype\":\"", dtype, "\",\"shape\":", shape,
      ",\"data_offsets\":[0,", data.size(), "]}}");
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + std::string(data.begin(), data.end());
}

TEST(CheckpointTransferTest, ImportTiledExportBitIdentical) {
  ScratchDir tmp;
  const std::string src =
      Safetensors("w", "BF16", "[20,136]", Pattern(20 * 136 * 2, 5));
  WriteText(tmp / "m.safetensors", src);
  ImportOptions options;
  options.sources = {tmp / "m.safetensors"};
  options.target = ImportTarget::kLayouts;
  options.layouts = {{"w", "{0,1:T(8,128)(2,1)}"}};
  auto imported = ImportCheckpoint(tmp / "ck", options);
  ASSERT_TRUE(imported.ok()) << imported.status();
  const TensorRecord& t = imported->manifest.tensors[0];
  EXPECT_EQ(t.device_shape.ToString(true), "bf16[20,136]{0,1:T(8,128)(2,1)}");
  EXPECT_EQ(t.length, 136 * 128 * 2);
  EXPECT_EQ(t.xxh3_logical, XXH3_64bits(src.data() + src.size() - 5440, 5440));
  ASSERT_EQ(imported->manifest.provenance.conversions.size(), 1u);
  for (int threads : {1, 2}) {
    ExportOptions eo;
    eo.threads = threads;
    auto exported = ExportCheckpoint(tmp / "ck", tmp / "out.safetensors", eo);
    ASSERT_TRUE(exported.ok()) << exported.status();
    EXPECT_EQ(ReadText(tmp / "out.safetensors"), src);
  }
}

TEST(CheckpointTransferTest, MisfitTensorNamesTheDifference) {
  ScratchDir tmp;
  WriteText(tmp / "m.safetensors",
            Safetensors("w", "F32", "[2,3]", Pattern(24, 0)));
  WriteText(tmp / "sig.json",
            R"({"format": "xlayout.signature.v1", "name": "p",
                "parameters": [{"index": 0, "shape": "f32[2,4]{1,0}"}]})");
  ImportOptions options;
  options.sources = {tmp / "m.safetensors"};
  options.target = ImportTarget::kProgram;
  options.program = tmp / "sig.json";
  auto r = ImportCheckpoint(tmp / "ck", options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("tensor \"w\" (f32[2,3]) does not fit parameter 0 "
                        "(f32[2,4]{1,0}): dim 1 is 3, the parameter's is 4"));
  EXPECT_EQ(access((tmp / "ck").c_str(), F_OK), -1);
}

}  // namespace
}  // namespace xlayout
