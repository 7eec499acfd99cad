#include "xlayout/checkpoint_manifest.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// bf16[16,1280,40]{2,1,0:T(8,128)(2,1)} is 5,242,880 bytes (the E0102
// sample); f32[40,40]{1,0:T(8,128)} is 40x128x4 = 20,480.
constexpr char kGood[] = R"({
  "format": "xlayout.checkpoint.v1",
  "environment": {
    "format": "xlayout.environment.v1",
    "xla_version": "0.6.1",
    "device_kind": "TPU v4",
    "topology": "2x2x1",
    "device_count": 4,
    "xla_flags": {"xla_tpu_foo": "true"}
  },
  "provenance": {
    "source_files": ["model.safetensors"],
    "source_checkpoint": "../old",
    "source_environment": {"format": "xlayout.environment.v1",
                           "device_kind": "TPU v5 lite"},
    "conversions": [
      {"tensor": "emb", "from": "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"}
    ]
  },
  "tensors": [
    {
      "name": "emb",
      "binding": {"parameter": 2},
      "dtype": "bf16",
      "dims": [16, 1280, 40],
      "device_shape": "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}",
      "memory_kind": "device",
      "file": "data/tensors.bin",
      "offset": 0,
      "length": 5242880,
      "xxh3_physical": "0123456789abcdef",
      "xxh3_logical": "FEDCBA9876543210"
    },
    {
      "name": "w",
      "binding": {"parameter": 3, "tuple_index": [1, 0]},
      "dtype": "f32",
      "dims": [40, 40],
      "device_shape": "f32[40,40]{1,0:T(8,128)}",
      "memory_kind": "pinned_host",
      "file": "data/tensors.bin",
      "offset": 5242880,
      "length": 20480,
      "xxh3_physical": "0000000000000001",
      "xxh3_logical": "0000000000000002"
    },
    {
      "name": "empty",
      "dtype": "s8",
      "dims": [0, 7],
      "device_shape": "s8[0,7]{0,1}",
      "memory_kind": "device",
      "file": "data/tensors.bin",
      "offset": 5242880,
      "length": 0,
      "xxh3_physical": "2d06800538d394c2",
      "xxh3_logical": "2d06800538d394c2"
    }
  ]
})";

TEST(ParseManifest, Good) {
  absl::StatusOr<CheckpointManifest> m = ParseManifest(kGood);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->tensors.size(), 3u);
  const TensorRecord& emb = m->tensors[0];
  EXPECT_EQ(emb.name, "emb");
  ASSERT_TRUE(emb.binding.has_value());
  EXPECT_EQ(emb.binding->parameter, 2);
  EXPECT_TRUE(emb.binding->tuple_index.empty());
  EXPECT_EQ(emb.dtype, PrimitiveType::kBF16);
  EXPECT_EQ(emb.device_shape.ToString(true),
            "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  EXPECT_EQ(emb.length, 5242880);
  EXPECT_EQ(emb.xxh3_physical, 0x0123456789abcdefULL);
  EXPECT_EQ(emb.xxh3_logical, 0xfedcba9876543210ULL);
  EXPECT_THAT(m->tensors[1].binding->tuple_index, ElementsAre(1, 0));
  EXPECT_EQ(m->tensors[1].memory_kind, "pinned_host");
  EXPECT_FALSE(m->tensors[2].binding.has_value());
  EXPECT_EQ(m->environment->device_kind, "TPU v4");
  EXPECT_EQ(m->provenance.source_environment->device_kind, "TPU v5 lite");
  ASSERT_EQ(m->provenance.conversions.size(), 1u);
  EXPECT_EQ(m->provenance.conversions[0].from.ToString(true),
            "bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}");
  EXPECT_THAT(m->DataFiles(), ElementsAre("data/tensors.bin"));
  EXPECT_EQ(m->Find("w"), &m->tensors[1]);
  EXPECT_EQ(m->Find("nope"), nullptr);
}

TEST(ParseManifest, RoundTripIsStable) {
  absl::StatusOr<CheckpointManifest> m = ParseManifest(kGood);
  ASSERT_TRUE(m.ok()) << m.status();
  absl::StatusOr<std::string> text = SerializeManifest(*m);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<CheckpointManifest> again = ParseManifest(*text);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << *text;
  EXPECT_EQ(*again, *m);
  EXPECT_EQ(*SerializeManifest(*again), *text);
  // Stable key order and lower-case hashes.
  EXPECT_LT(text->find("\"format\""), text->find("\"environment\""));
  EXPECT_LT(text->find("\"environment\""), text->find("\"provenance\""));
  EXPECT_LT(text->find("\"provenance\""), text->find("\"tensors\""));
  EXPECT_LT(text->find("\"name\": \"emb\""), text->find("\"binding\""));
  EXPECT_NE(text->find("\"xxh3_logical\": \"fedcba9876543210\""),
            std::string::npos);
}

TEST(ParseManifest, MinimalEmpty) {
  absl::StatusOr<CheckpointManifest> m =
      ParseManifest(R"({"format": "xlayout.checkpoint.v1", "tensors": []})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->tensors.empty());
  EXPECT_FALSE(m->environment.has_value());
  EXPECT_EQ(
      *SerializeManifest(*m),
      "{\n  \"format\": \"xlayout.checkpoint.v1\",\n  \"tensors\": []\n}\n");
}

// kGood with one substring replaced.
std::string Mutate(const std::string& from, const std::string& to) {
  std::string text = kGood;
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  text.replace(pos, from.size(), to);
  return text;
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<CheckpointManifest> m = ParseManifest(text);
  EXPECT_FALSE(m.ok());
  return m.ok() ? "" : std::string(m.status().message());
}

TEST(ParseManifest, FileNamesStayInside) {
  for (const char* bad :
       {"/etc/passwd", "../x.bin", "data/../../x", "data//x", "data/", "./x",
        "a\\\\b", "", "manifest.json", "a\\u0000b", "a\\u001fb"}) {
    std::string error = ErrorOf(
        Mutate("\"file\": \"data/tensors.bin\",\n      \"offset\": 0,",
               absl::StrCat("\"file\": \"", bad, "\",\n      \"offset\": 0,")));
    EXPECT_THAT(error, HasSubstr("manifest: tensor \"emb\": field 'file': "
                                 "data file name"))
        << bad;
    EXPECT_THAT(error, HasSubstr("must stay inside the checkpoint directory"))
        << bad;
  }
  EXPECT_TRUE(ValidateDataFileName("a/b.c/d..e/.hidden").ok());
  EXPECT_THAT(ValidateDataFileName(std::string(2000, 'a')).message(),
              HasSubstr("longer than 1024"));
  EXPECT_THAT(ValidateDataFileName("x\xff").message(), HasSubstr("UTF-8"));
  // The same rules in words, for messages about other names (export's).
  EXPECT_EQ(DataFileNameProblem("a/b.c/d..e/.hidden"), std::nullopt);
  EXPECT_EQ(DataFileNameProblem("a\tb.npy"), "contains a control character");
  EXPECT_EQ(DataFileNameProblem("../a.npy"), "has a '..' component");
  EXPECT_EQ(DataFileNameProblem("a//b.npy"), "has an empty path component");
  EXPECT_EQ(DataFileNameProblem("/a.npy"), "is absolute");
  EXPECT_EQ(DataFileNameProblem("manifest.json"), "is the manifest itself");
}

TEST(ParseManifest, OffsetsAndLengths) {
  EXPECT_EQ(ErrorOf(Mutate("\"offset\": 0,", "\"offset\": -4096,")),
            "manifest: tensor \"emb\": field 'offset': -4096 is negative");
  EXPECT_EQ(ErrorOf(Mutate("\"offset\": 0,", "\"offset\": 4100,")),
            "manifest: tensor \"emb\": field 'offset': 4100 is not a multiple "
            "of 4096");
  EXPECT_EQ(ErrorOf(Mutate("\"length\": 5242880", "\"length\": 1638400")),
            "manifest: tensor \"emb\": field 'length': 1638400 differs from "
            "the device shape's 5242880 bytes "
            "(bf16[16,1280,40]{2,1,0:T(8,128)(2,1)})");
  EXPECT_EQ(ErrorOf(Mutate("\"offset\": 5242880,\n      \"length\": 20480",
                           "\"offset\": 4096,\n      \"length\": 20480")),
            "manifest: tensor \"w\": field 'offset': bytes [4096, 24576) of "
            "file \"data/tensors.bin\" overlap tensor \"emb\" at [0, "
            "5242880)");
  EXPECT_THAT(ErrorOf(Mutate("\"offset\": 0,", "\"offset\": \"0\",")),
              HasSubstr("field 'offset': expected an integer, got \"0\""));
  EXPECT_THAT(
      ErrorOf(Mutate("\"offset\": 0,", "\"offset\": 18446744073709551615,")),
      HasSubstr("does not fit in int64"));
  EXPECT_THAT(
      ErrorOf(Mutate("\"offset\": 0,", "\"offset\": 9223372036854771712,")),
      HasSubstr("overflows int64"));
}

TEST(ParseManifest, OverlapInOtherFileIsFine) {
  std::string text = Mutate(
      "\"file\": \"data/tensors.bin\",\n      \"offset\": 5242880,\n"
      "      \"length\": 20480",
      "\"file\": \"data/other.bin\",\n      \"offset\": 0,\n"
      "      \"length\": 20480");
  absl::StatusOr<CheckpointManifest> m = ParseManifest(text);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(m->DataFiles(),
              ElementsAre("data/other.bin", "data/tensors.bin"));
}

TEST(ParseManifest, ShapesAndDims) {
  EXPECT_THAT(
      ErrorOf(Mutate("\"dims\": [16, 1280, 40]", "\"dims\": [16, 1280, 41]")),
      HasSubstr("tensor \"emb\": field 'device_shape': dims "
                "[16,1280,40] differ from the tensor's dims "
                "[16,1280,41]"));
  EXPECT_THAT(ErrorOf(Mutate("\"dtype\": \"bf16\"", "\"dtype\": \"f16\"")),
              HasSubstr("field 'device_shape': element type bf16 differs "
                        "from the tensor's dtype f16"));
  EXPECT_THAT(ErrorOf(Mutate("\"dtype\": \"bf16\"", "\"dtype\": \"tuple\"")),
              HasSubstr("field 'dtype': expected an XLA element type"));
  EXPECT_THAT(
      ErrorOf(Mutate("\"dims\": [16, 1280, 40]", "\"dims\": [16, -1280, 40]")),
      HasSubstr("field 'dims': dim 1 is -1280; dims must be >= 0"));
  EXPECT_THAT(
      ErrorOf(
          Mutate("\"dims\": [16, 1280, 40]",
                 "\"dims\": [4611686018427387904, 4611686018427387904, 4]")),
      HasSubstr("field 'dims': [4611686018427387904,4611686018427387904,4] is "
                "too large"));
  // Without a printed layout, XLA's parser (and ours) gives the default
  // row-major layout, whose size differs here.
  EXPECT_THAT(ErrorOf(Mutate("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}\",\n      "
                             "\"memory_kind\"",
                             "bf16[16,1280,40]\",\n      \"memory_kind\"")),
              HasSubstr("field 'length': 5242880 differs from the device "
                        "shape's 1638400 bytes (bf16[16,1280,40]{2,1,0})"));
  EXPECT_THAT(ErrorOf(Mutate("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}\",\n      "
                             "\"memory_kind\"",
                             "(bf16[16,1280,40]{2,1,0})\",\n      "
                             "\"memory_kind\"")),
              HasSubstr("expected an array shape, got (bf16[16,1280,40]"));
  EXPECT_THAT(ErrorOf(Mutate("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}\",\n      "
                             "\"memory_kind\"",
                             "bf16[16,1280,<=40]{2,1,0}\",\n      "
                             "\"memory_kind\"")),
              HasSubstr("dynamic dimensions"));
  EXPECT_THAT(ErrorOf(Mutate("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}\",\n      "
                             "\"memory_kind\"",
                             "bf16[16,1280,40]{2,1,1}\",\n      "
                             "\"memory_kind\"")),
              HasSubstr("tensor \"emb\": field 'device_shape': "
                        "bf16[16,1280,40]{2,1,1}"));
  EXPECT_THAT(ErrorOf(Mutate("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}\",\n      "
                             "\"memory_kind\"",
                             "bf16[16,1280,40\",\n      \"memory_kind\"")),
              HasSubstr("tensor \"emb\": field 'device_shape': "
                        "\"bf16[16,1280,40\": col"));
}

TEST(ParseManifest, NamesAndFields) {
  EXPECT_EQ(ErrorOf(Mutate("\"name\": \"w\"", "\"name\": \"emb\"")),
            "manifest: tensor \"emb\": field 'name': duplicate tensor name "
            "(#1)");
  EXPECT_EQ(ErrorOf(Mutate("\"name\": \"w\"", "\"name\": \"\"")),
            "manifest: tensor #1: field 'name': is empty");
  EXPECT_EQ(ErrorOf(Mutate("\"name\": \"w\"", "\"name\": \"a\\u0000b\"")),
            "manifest: tensor \"a\\u0000b\": field 'name': contains a NUL "
            "character");
  EXPECT_EQ(ErrorOf(Mutate("\"memory_kind\": \"pinned_host\"",
                           "\"memory_kind\": \"pinned host\"")),
            "manifest: tensor \"w\": field 'memory_kind': \"pinned host\" is "
            "not a memory kind ([A-Za-z_][A-Za-z0-9_]* or S(n))");
  EXPECT_TRUE(ParseManifest(Mutate("\"memory_kind\": \"pinned_host\"",
                                   "\"memory_kind\": \"S(5)\""))
                  .ok());
  EXPECT_EQ(ErrorOf(Mutate("\"xxh3_physical\": \"0123456789abcdef\"",
                           "\"xxh3_physical\": \"0123\"")),
            "manifest: tensor \"emb\": field 'xxh3_physical': expected 16 hex "
            "digits (XXH3-64), got \"0123\"");
  EXPECT_EQ(ErrorOf(Mutate("\"binding\": {\"parameter\": 2}",
                           "\"binding\": {\"parameter\": -2}")),
            "manifest: tensor \"emb\": field 'binding.parameter': -2 is "
            "negative");
  EXPECT_EQ(ErrorOf(Mutate("\"binding\": {\"parameter\": 2}",
                           "\"binding\": {\"param\": 2}")),
            "manifest: tensor \"emb\": binding: unknown field \"param\" "
            "(schema xlayout.checkpoint.v1; see docs/checkpoint.md)");
  EXPECT_EQ(ErrorOf(Mutate("\"length\": 5242880,", "")),
            "manifest: tensor \"emb\": field 'length' is missing");
  EXPECT_EQ(ErrorOf(Mutate("\"memory_kind\": \"device\",\n      \"file\": "
                           "\"data/tensors.bin\",\n      \"offset\": 0,",
                           "\"memory_kind\": \"device\",\n      \"file\": "
                           "\"data/tensors.bin\",\n      \"offset\": 0, "
                           "\"offset\": 0,")),
            "manifest: duplicate key \"offset\" in .tensors[0]");
  EXPECT_THAT(
      ErrorOf(Mutate("\"dims\": [0, 7],", "\"dims\": [0, 7], \"extra\": 1,")),
      HasSubstr("tensor \"empty\": unknown field \"extra\""));
  EXPECT_THAT(ErrorOf(Mutate("\"format\": \"xlayout.checkpoint.v1\"",
                             "\"format\": \"xlayout.checkpoint.v0\"")),
              HasSubstr("field 'format': expected \"xlayout.checkpoint.v1\""));
}

TEST(ParseManifest, EnvironmentAndProvenanceErrors) {
  EXPECT_EQ(ErrorOf(Mutate("\"device_count\": 4", "\"device_count\": \"x\"")),
            "manifest: environment: field 'device_count': expected a "
            "non-negative integer, got \"x\"");
  EXPECT_THAT(ErrorOf(Mutate("{\"tensor\": \"emb\"", "{\"tensor\": \"nope\"")),
              HasSubstr("provenance: conversion of \"nope\": no tensor"));
  EXPECT_THAT(ErrorOf(Mutate("\"from\": \"bf16[16,1280,40]",
                             "\"from\": \"bf16[16,1280,41]")),
              HasSubstr("field 'from': dims [16,1280,41] differ"));
  EXPECT_THAT(
      ErrorOf(Mutate("\"device_kind\": \"TPU v5 lite\"", "\"device_kind\": 5")),
      HasSubstr("manifest: provenance: source_environment: field "
                "'device_kind': expected a string, got 5"));
}

TEST(ValidateDataFileSizes, MissingAndTruncated) {
  absl::StatusOr<CheckpointManifest> m = ParseManifest(kGood);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(
      ValidateDataFileSizes(*m, {{"data/tensors.bin", 5242880 + 20480}}).ok());
  EXPECT_TRUE(
      ValidateDataFileSizes(*m, {{"data/tensors.bin", 5242880 + 40960}}).ok());
  absl::Status s = ValidateDataFileSizes(*m, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(),
            "manifest: tensor \"emb\": data file \"data/tensors.bin\" is "
            "missing");
  s = ValidateDataFileSizes(*m, {{"data/tensors.bin", 5242880 + 20479}});
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(),
            "manifest: tensor \"w\": bytes [5242880, 5263360) lie past the end "
            "of data file \"data/tensors.bin\" (5263359 bytes): the file is "
            "truncated");
}

TEST(SerializeManifest, RefusesInvalid) {
  CheckpointManifest m;
  TensorRecord t;
  t.name = "x";
  t.dtype = PrimitiveType::kF32;
  t.dims = {2};
  t.device_shape = *ParseShape("f32[2]{0}");
  t.file = "d.bin";
  t.offset = 0;
  t.length = 8;
  m.tensors.push_back(t);
  ASSERT_TRUE(SerializeManifest(m).ok());
  m.tensors[0].length = 7;
  EXPECT_THAT(SerializeManifest(m).status().message(),
              HasSubstr("field 'length': 7 differs"));
  m.tensors[0].length = 8;
  m.tensors[0].device_shape.clear_layout();
  EXPECT_THAT(SerializeManifest(m).status().message(),
              HasSubstr("field 'device_shape': f32[2] has no layout"));
}

TEST(Checksum, Format) {
  EXPECT_EQ(FormatChecksum(0), "0000000000000000");
  EXPECT_EQ(FormatChecksum(0xfedcba9876543210ULL), "fedcba9876543210");
  EXPECT_EQ(ParseChecksum("FEDCBA9876543210"), 0xfedcba9876543210ULL);
  EXPECT_FALSE(ParseChecksum("fedcba987654321").has_value());
  EXPECT_FALSE(ParseChecksum("fedcba987654321g").has_value());
  EXPECT_FALSE(ParseChecksum("0x00000000000000").has_value());
}

TEST(ParseManifest, SubByteAndEmptyTensors) {
  // s4[8,128] packed two per byte (E(4)) fills its (8,128) tile exactly:
  // 1024 elements x 4 bits = 512 bytes.
  std::string text = R"({"format": "xlayout.checkpoint.v1", "tensors": [
    {"name": "nib", "dtype": "s4", "dims": [8, 128],
     "device_shape": "s4[8,128]{1,0:T(8,128)(2,1)E(4)}",
     "memory_kind": "device", "file": "b.bin", "offset": 0, "length": 512,
     "xxh3_physical": "0000000000000003", "xxh3_logical": "0000000000000004"},
    {"name": "e", "dtype": "f32", "dims": [0],
     "device_shape": "f32[0]{0}", "memory_kind": "device", "file": "b.bin",
     "offset": 0, "length": 0,
     "xxh3_physical": "2d06800538d394c2", "xxh3_logical": "2d06800538d394c2"}
  ]})";
  absl::StatusOr<CheckpointManifest> m = ParseManifest(text);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->tensors[0].length, 512);
  std::string unpacked = text;
  unpacked.replace(unpacked.find("E(4)"), 4, "");
  EXPECT_THAT(ErrorOf(unpacked),
              HasSubstr("field 'length': 512 differs from the device shape's "
                        "1024 bytes"));
}

TEST(AlignTensorOffset, RoundsUp) {
  EXPECT_EQ(*AlignTensorOffset(0), 0);
  EXPECT_EQ(*AlignTensorOffset(1), 4096);
  EXPECT_EQ(*AlignTensorOffset(4096), 4096);
  EXPECT_EQ(*AlignTensorOffset(4097), 8192);
  EXPECT_EQ(AlignTensorOffset(INT64_MAX).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(AlignTensorOffset(-1).ok());
}

}  // namespace
}  // namespace xlayout
