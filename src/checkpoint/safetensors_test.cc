#include "xlayout/safetensors.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

// An independent safetensors writer: the header is built by string
// concatenation (no JSON library, not our writer), then the 8-byte
// little-endian length, the header and `data_bytes` bytes of data.
std::string LengthPrefix(uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
  return out;
}

std::string File(const std::string& header_json, int64_t data_bytes) {
  return LengthPrefix(header_json.size()) + header_json +
         std::string(data_bytes, '\x5a');
}

std::string Entry(const std::string& name, const std::string& dtype,
                  const std::vector<int64_t>& shape, int64_t begin,
                  int64_t end) {
  return absl::StrCat("\"", name, "\":{\"dtype\":\"", dtype, "\",\"shape\":[",
                      absl::StrJoin(shape, ","), "],\"data_offsets\":[", begin,
                      ",", end, "]}");
}

absl::StatusOr<SafetensorsHeader> Parse(const std::string& file) {
  return ParseSafetensorsPrefix(file, static_cast<int64_t>(file.size()));
}

std::string ErrorOf(const std::string& file) {
  absl::StatusOr<SafetensorsHeader> h = Parse(file);
  EXPECT_FALSE(h.ok());
  return h.ok() ? "" : std::string(h.status().message());
}

struct DtypeCase {
  const char* name;
  PrimitiveType type;
  int64_t bytes_for_8;  // Bytes of a [2,4] tensor.
};

// The safetensors dtype list (safetensors/src/tensor.rs, Dtype) with the XLA
// type each holds; written out here, independently of the table in
// safetensors.cc.
const DtypeCase kDtypes[] = {
    {"BOOL", PrimitiveType::kPred, 8},
    {"F4", PrimitiveType::kF4E2M1FN, 4},
    {"F6_E2M3", PrimitiveType::kF6E2M3FN, 6},
    {"F6_E3M2", PrimitiveType::kF6E3M2FN, 6},
    {"U8", PrimitiveType::kU8, 8},
    {"I8", PrimitiveType::kS8, 8},
    {"F8_E5M2", PrimitiveType::kF8E5M2, 8},
    {"F8_E4M3", PrimitiveType::kF8E4M3FN, 8},
    {"F8_E8M0", PrimitiveType::kF8E8M0FNU, 8},
    {"F8_E4M3FNUZ", PrimitiveType::kF8E4M3FNUZ, 8},
    {"F8_E5M2FNUZ", PrimitiveType::kF8E5M2FNUZ, 8},
    {"I16", PrimitiveType::kS16, 16},
    {"U16", PrimitiveType::kU16, 16},
    {"F16", PrimitiveType::kF16, 16},
    {"BF16", PrimitiveType::kBF16, 16},
    {"I32", PrimitiveType::kS32, 32},
    {"U32", PrimitiveType::kU32, 32},
    {"F32", PrimitiveType::kF32, 32},
    {"C64", PrimitiveType::kC64, 64},
    {"F64", PrimitiveType::kF64, 64},
    {"I64", PrimitiveType::kS64, 64},
    {"U64", PrimitiveType::kU64, 64},
};

TEST(Safetensors, EveryDtype) {
  EXPECT_EQ(AllSafetensorsDtypes().size(), std::size(kDtypes));
  for (const DtypeCase& c : kDtypes) {
    std::string file = File(
        std::string("{") + Entry("t", c.name, {2, 4}, 0, c.bytes_for_8) + "}",
        c.bytes_for_8);
    absl::StatusOr<SafetensorsHeader> h = Parse(file);
    ASSERT_TRUE(h.ok()) << c.name << ": " << h.status();
    ASSERT_EQ(h->tensors.size(), 1u);
    EXPECT_EQ(h->tensors[0].dtype.type, c.type) << c.name;
    EXPECT_EQ(h->tensors[0].dtype.name, c.name);
    EXPECT_EQ(h->tensors[0].byte_size(), c.bytes_for_8) << c.name;
    ASSERT_TRUE(SafetensorsDtypeOf(c.type).has_value());
    EXPECT_EQ(SafetensorsDtypeOf(c.type)->name, c.name);
  }
  EXPECT_FALSE(SafetensorsDtypeOf(PrimitiveType::kS4).has_value());
  EXPECT_FALSE(SafetensorsDtypeOf(PrimitiveType::kF8E4M3).has_value());
  EXPECT_FALSE(SafetensorsDtypeByName("F8_E4M3FN").has_value());
}

TEST(Safetensors, LayoutAndMetadata) {
  std::string header = "{\"__metadata__\":{\"format\":\"pt\",\"x\":\"y\"}," +
                       Entry("b", "F32", {3}, 8, 20) + "," +
                       Entry("a", "BF16", {2, 2}, 0, 8) + "," +
                       Entry("empty", "F64", {0, 5}, 20, 20) + "}   ";
  std::string file = File(header, 20);
  absl::StatusOr<SafetensorsHeader> h = Parse(file);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->header_bytes, static_cast<int64_t>(header.size()));
  EXPECT_EQ(h->data_start, 8 + static_cast<int64_t>(header.size()));
  EXPECT_EQ(h->data_bytes, 20);
  ASSERT_EQ(h->tensors.size(), 3u);
  EXPECT_EQ(h->tensors[0].name, "a");  // Offset order, not file order.
  EXPECT_EQ(h->tensors[1].name, "b");
  EXPECT_EQ(h->tensors[2].name, "empty");
  EXPECT_EQ(h->tensors[1].shape, std::vector<int64_t>{3});
  ASSERT_TRUE(h->metadata.has_value());
  EXPECT_EQ(h->metadata->at("format"), "pt");
}

TEST(Safetensors, EmptyFile) {
  absl::StatusOr<SafetensorsHeader> h = Parse(File("{}      ", 0));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->tensors.empty());
  EXPECT_FALSE(h->metadata.has_value());
}

TEST(Safetensors, HeaderLengthLimits) {
  EXPECT_THAT(ErrorOf("1234567"), HasSubstr("shorter than the 8-byte"));
  EXPECT_THAT(ErrorOf(LengthPrefix(100'000'001) + "{}"),
              HasSubstr("header length 100000001 exceeds the limit of "
                        "100000000 bytes"));
  EXPECT_THAT(ErrorOf(LengthPrefix(~uint64_t{0})),
              HasSubstr("exceeds the limit"));
  EXPECT_THAT(ErrorOf(LengthPrefix(50) + "{}"),
              HasSubstr("header length 50 runs past the end of the 10-byte"));
}

TEST(Safetensors, HeaderMustBeUtf8Json) {
  EXPECT_EQ(ErrorOf(File("{\"\xff\":1}", 0)),
            "safetensors: header is not valid UTF-8");
  EXPECT_THAT(ErrorOf(File("{\"a\":", 0)), HasSubstr("invalid JSON"));
  EXPECT_THAT(ErrorOf(File("[]", 0)), HasSubstr("not a JSON object"));
  EXPECT_THAT(ErrorOf(File(std::string("{}\0", 3), 0)),
              HasSubstr("invalid JSON"));
}

TEST(Safetensors, DuplicateNamesRefused) {
  std::string header = std::string("{") + Entry("w", "U8", {4}, 0, 4) + "," +
                       Entry("w", "U8", {4}, 4, 8) + "}";
  EXPECT_EQ(ErrorOf(File(header, 8)),
            "safetensors: header: duplicate key \"w\" in top level");
}

TEST(Safetensors, NulInANameIsRefusedAtParseTime) {
  // Was accepted here and refused later by the manifest ("field 'name'"),
  // with the source file no longer named.
  std::string header =
      std::string("{") + Entry("a\\u0000b", "U8", {4}, 0, 4) + "}";
  EXPECT_EQ(ErrorOf(File(header, 4)),
            "safetensors: tensor \"a\\u0000b\": the name contains a NUL "
            "character (\\u0000); tensor names cannot hold one");
}

TEST(Safetensors, OffsetsContiguousFromZero) {
  EXPECT_EQ(
      ErrorOf(File(std::string("{") + Entry("w", "U8", {4}, 4, 8) + "}", 8)),
      "safetensors: tensor \"w\": data_offsets [4, 8] leave a gap: in "
      "offset order, the data of each tensor must begin where the "
      "previous one ends (at 0)");
  EXPECT_THAT(ErrorOf(File(std::string("{") + Entry("a", "U8", {4}, 0, 4) +
                               "," + Entry("b", "U8", {4}, 2, 6) + "}",
                           6)),
              HasSubstr("tensor \"b\": data_offsets [2, 6] overlap"));
  EXPECT_THAT(ErrorOf(File(std::string("{") + Entry("a", "U8", {4}, 0, 4) +
                               "," + Entry("b", "U8", {4}, 6, 10) + "}",
                           10)),
              HasSubstr("tensor \"b\": data_offsets [6, 10] leave a gap"));
  EXPECT_THAT(
      ErrorOf(File(std::string("{") + Entry("a", "U8", {0}, 4, 0) + "}", 0)),
      HasSubstr("end before begin"));
}

TEST(Safetensors, ByteLengthMatchesShape) {
  EXPECT_EQ(
      ErrorOf(
          File(std::string("{") + Entry("w", "BF16", {2, 3}, 0, 10) + "}", 10)),
      "safetensors: tensor \"w\": data_offsets [0, 10] hold 10 bytes "
      "but BF16[2,3] needs 12");
  EXPECT_THAT(
      ErrorOf(File(std::string("{") + Entry("w", "F4", {3}, 0, 2) + "}", 2)),
      HasSubstr("F4[3] is 12 bits, not a whole number of bytes"));
  absl::StatusOr<SafetensorsHeader> h =
      Parse(File(std::string("{") +
                     Entry("w", "F32", {4611686018427387904LL, 4}, 0, 0) + "}",
                 0));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(h.status().message(), HasSubstr("more elements than fit"));
  h = Parse(File(
      std::string("{") + Entry("w", "F64", {2305843009213693952LL}, 0, 0) + "}",
      0));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), HasSubstr("more bytes than fit"));
}

TEST(Safetensors, DataCoversFileExactly) {
  std::string header = std::string("{") + Entry("w", "U8", {4}, 0, 4) + "}";
  EXPECT_THAT(ErrorOf(File(header, 5)),
              HasSubstr("cover " + std::to_string(8 + header.size() + 4) +
                        " bytes (8 + " + std::to_string(header.size()) +
                        " header + 4 data) but the file is " +
                        std::to_string(8 + header.size() + 5) + " bytes"));
  EXPECT_THAT(ErrorOf(File(header, 3)), HasSubstr("cover the file exactly"));
  // Without a file size only the header is checked.
  std::string file = File(header, 3);
  EXPECT_TRUE(ParseSafetensorsPrefix(file, std::nullopt).ok());
}

TEST(Safetensors, MalformedEntries) {
  EXPECT_THAT(ErrorOf(File("{\"w\":{\"dtype\":\"Q8\",\"shape\":[1],"
                           "\"data_offsets\":[0,1]}}",
                           1)),
              HasSubstr("tensor \"w\": unknown dtype \"Q8\"; safetensors "
                        "defines BOOL, F4,"));
  EXPECT_THAT(ErrorOf(File("{\"w\":{\"dtype\":\"U8\",\"shape\":[-1],"
                           "\"data_offsets\":[0,1]}}",
                           1)),
              HasSubstr("'shape' expects non-negative integers"));
  EXPECT_THAT(ErrorOf(File("{\"w\":{\"dtype\":\"U8\",\"shape\":[1.5],"
                           "\"data_offsets\":[0,1]}}",
                           1)),
              HasSubstr("'shape' expects non-negative integers"));
  EXPECT_THAT(ErrorOf(File("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],"
                           "\"data_offsets\":[0,1,2]}}",
                           1)),
              HasSubstr("'data_offsets' expects [begin, end]"));
  EXPECT_THAT(ErrorOf(File("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1)),
              HasSubstr("tensor \"w\": field 'data_offsets' is missing"));
  EXPECT_EQ(ErrorOf(File("{\"\":{\"dtype\":\"U8\",\"shape\":[0],"
                         "\"data_offsets\":[0,0]}}",
                         0)),
            "safetensors: a tensor name is empty");
  EXPECT_THAT(ErrorOf(File("{\"w\":[]}", 0)),
              HasSubstr("tensor \"w\": expected an object"));
  EXPECT_THAT(ErrorOf(File("{\"__metadata__\":{\"a\":1}}", 0)),
              HasSubstr("\"__metadata__\" value for \"a\" must be a string"));
  EXPECT_THAT(ErrorOf(File("{\"__metadata__\":[]}", 0)),
              HasSubstr("\"__metadata__\" must be an object"));
}

TEST(SafetensorsWriter, KnownAnswer) {
  // The serialisation safetensors' own test expects for one F32 [1,2,3]
  // tensor "attn.0": a 64-byte header (space padded).
  absl::StatusOr<std::string> out =
      WriteSafetensorsHeader({{"attn.0", PrimitiveType::kF32, {1, 2, 3}}});
  ASSERT_TRUE(out.ok()) << out.status();
  std::string json =
      "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],"
      "\"data_offsets\":[0,24]}}";
  json.resize(64, ' ');
  EXPECT_EQ(*out, LengthPrefix(64) + json);
}

TEST(SafetensorsWriter, RoundTripsThroughParser) {
  std::vector<SafetensorsEntry> entries;
  int64_t data = 0;
  for (const DtypeCase& c : kDtypes) {
    entries.push_back({absl::StrCat("t_", c.name), c.type, {2, 4}});
    data += c.bytes_for_8;
  }
  entries.push_back({"scalar", PrimitiveType::kBF16, {}});
  data += 2;
  absl::StatusOr<std::string> prefix =
      WriteSafetensorsHeader(entries, {{"format", "np"}});
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  EXPECT_EQ((prefix->size() - 8) % 8, 0u);
  std::string file = *prefix + std::string(data, '\0');
  absl::StatusOr<SafetensorsHeader> h = Parse(file);
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->tensors.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(h->tensors[i].name, entries[i].name);
    EXPECT_EQ(h->tensors[i].dtype.type, entries[i].type);
    EXPECT_EQ(h->tensors[i].shape, entries[i].shape);
  }
  EXPECT_EQ(h->metadata->at("format"), "np");
  EXPECT_EQ(h->data_start, static_cast<int64_t>(prefix->size()));
}

TEST(SafetensorsWriter, Refusals) {
  EXPECT_THAT(WriteSafetensorsHeader({{"a", PrimitiveType::kU8, {1}},
                                      {"a", PrimitiveType::kU8, {1}}})
                  .status()
                  .message(),
              HasSubstr("duplicate tensor name"));
  EXPECT_THAT(WriteSafetensorsHeader({{"a", PrimitiveType::kS4, {2}}})
                  .status()
                  .message(),
              HasSubstr("element type s4 has no safetensors dtype"));
  EXPECT_THAT(
      WriteSafetensorsHeader({{"__metadata__", PrimitiveType::kU8, {1}}})
          .status()
          .message(),
      HasSubstr("reserved"));
  EXPECT_THAT(WriteSafetensorsHeader({{"", PrimitiveType::kU8, {1}}})
                  .status()
                  .message(),
              HasSubstr("empty"));
  EXPECT_THAT(WriteSafetensorsHeader({{"a", PrimitiveType::kF4E2M1FN, {3}}})
                  .status()
                  .message(),
              HasSubstr("not a whole number of bytes"));
  EXPECT_THAT(WriteSafetensorsHeader({{"a", PrimitiveType::kU8, {-1}}})
                  .status()
                  .message(),
              HasSubstr("negative dimension"));
}

// Files from testdata/checkpoint/make_safetensors.py, an independent Python
// writer (json + struct + numpy, no safetensors package).
std::string ReadTestFile(const std::string& name) {
  std::string path =
      absl::StrCat(XLAYOUT_TESTDATA_DIR, "/checkpoint/safetensors/", name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SafetensorsFiles, GoodFiles) {
  std::string file = ReadTestFile("good_every_dtype.safetensors");
  absl::StatusOr<SafetensorsHeader> h = Parse(file);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->tensors.size(), std::size(kDtypes));
  for (const SafetensorsTensor& t : h->tensors) {
    EXPECT_EQ(t.name, "t_" + absl::AsciiStrToLower(t.dtype.name));
  }
  EXPECT_EQ(h->metadata->at("format"), "np");
  for (const char* name :
       {"good_small_model.safetensors", "good_unpadded_header.safetensors",
        "good_reordered_entries.safetensors"}) {
    file = ReadTestFile(name);
    h = Parse(file);
    ASSERT_TRUE(h.ok()) << name << ": " << h.status();
    ASSERT_EQ(h->tensors.size(), 4u) << name;
    EXPECT_EQ(h->tensors[0].name, "emb");
    EXPECT_EQ(h->tensors[0].byte_size(), 16 * 40 * 2);
    EXPECT_EQ(h->tensors[1].name, "w");
    EXPECT_EQ(h->tensors[2].name, "scalar");
    EXPECT_TRUE(h->tensors[2].shape.empty());
    EXPECT_EQ(h->tensors[3].name, "empty");
    EXPECT_EQ(h->tensors[3].byte_size(), 0);
    EXPECT_EQ(h->data_bytes, 1280 + 1280 + 8);
  }
}

TEST(SafetensorsFiles, EachRefusedCase) {
  const std::pair<const char*, const char*> kCases[] = {
      {"bad_gap.safetensors",
       "tensor \"b\": data_offsets [20, 24] leave a gap"},
      {"bad_overlap.safetensors",
       "tensor \"b\": data_offsets [12, 16] overlap"},
      {"bad_not_from_zero.safetensors",
       "tensor \"a\": data_offsets [4, 20] leave a gap"},
      {"bad_length_mismatch.safetensors",
       "tensor \"a\": data_offsets [0, 16] hold 16 bytes but F32[2,3] needs "
       "24"},
      {"bad_trailing_bytes.safetensors",
       "the data must cover the file exactly"},
      {"bad_truncated.safetensors", "the data must cover the file exactly"},
      {"bad_unknown_dtype.safetensors", "tensor \"a\": unknown dtype \"F12\""},
      {"bad_overflow.safetensors", "has more elements than fit in int64"},
      {"bad_header_too_large.safetensors",
       "header length 100000001 exceeds the limit of 100000000 bytes"},
      {"bad_header_past_eof.safetensors",
       "header length 4096 runs past the end"},
      {"bad_duplicate_name.safetensors", "duplicate key \"a\""},
      {"bad_utf8.safetensors", "header is not valid UTF-8"},
      {"bad_json.safetensors", "invalid JSON"},
      {"bad_metadata_value.safetensors",
       "\"__metadata__\" value for \"n\" must be a string"},
      {"bad_short.safetensors", "file is 4 bytes, shorter than the 8-byte"},
  };
  for (const auto& [name, message] : kCases) {
    absl::StatusOr<SafetensorsHeader> h = Parse(ReadTestFile(name));
    ASSERT_FALSE(h.ok()) << name;
    EXPECT_THAT(h.status().message(), HasSubstr(message)) << name;
    EXPECT_THAT(std::string(h.status().message()),
                ::testing::StartsWith("safetensors: "))
        << name;
  }
}

}  // namespace
}  // namespace xlayout
