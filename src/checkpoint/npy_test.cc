#include "xlayout/npy.h"

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

// Files written by numpy itself (testdata/checkpoint/make_npy.py).
std::string ReadTestFile(const std::string& name) {
  std::string path =
      absl::StrCat(XLAYOUT_TESTDATA_DIR, "/checkpoint/npy/", name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<NpyHeader> ParseFile(const std::string& name,
                                    NpyReadOptions options = {}) {
  std::string bytes = ReadTestFile(name);
  return ParseNpyHeader(bytes, options, static_cast<int64_t>(bytes.size()));
}

struct Case {
  const char* file;
  PrimitiveType type;
  int item_bytes;
  bool big_endian;
  int swap_bytes;
};

TEST(NpyHeader, EveryNumericDtypeFromNumpy) {
  const Case kCases[] = {
      {"na_b1_2x3.npy", PrimitiveType::kPred, 1, false, 1},
      {"na_i1_2x3.npy", PrimitiveType::kS8, 1, false, 1},
      {"na_u1_2x3.npy", PrimitiveType::kU8, 1, false, 1},
      {"le_i2_2x3.npy", PrimitiveType::kS16, 2, false, 1},
      {"le_u2_2x3.npy", PrimitiveType::kU16, 2, false, 1},
      {"le_i4_2x3.npy", PrimitiveType::kS32, 4, false, 1},
      {"le_u4_2x3.npy", PrimitiveType::kU32, 4, false, 1},
      {"le_i8_2x3.npy", PrimitiveType::kS64, 8, false, 1},
      {"le_u8_2x3.npy", PrimitiveType::kU64, 8, false, 1},
      {"le_f2_2x3.npy", PrimitiveType::kF16, 2, false, 1},
      {"le_f4_2x3.npy", PrimitiveType::kF32, 4, false, 1},
      {"le_f8_2x3.npy", PrimitiveType::kF64, 8, false, 1},
      {"le_c8_2x3.npy", PrimitiveType::kC64, 8, false, 1},
      {"le_c16_2x3.npy", PrimitiveType::kC128, 16, false, 1},
      {"be_i2_2x3.npy", PrimitiveType::kS16, 2, true, 2},
      {"be_f4_2x3.npy", PrimitiveType::kF32, 4, true, 4},
      {"be_f8_2x3.npy", PrimitiveType::kF64, 8, true, 8},
      {"be_u8_2x3.npy", PrimitiveType::kU64, 8, true, 8},
      {"be_c8_2x3.npy", PrimitiveType::kC64, 8, true, 4},
  };
  for (const Case& c : kCases) {
    std::string bytes = ReadTestFile(c.file);
    absl::StatusOr<NpyHeader> h =
        ParseNpyHeader(bytes, {}, static_cast<int64_t>(bytes.size()));
    ASSERT_TRUE(h.ok()) << c.file << ": " << h.status();
    EXPECT_EQ(h->major_version, 1) << c.file;
    EXPECT_EQ(h->dtype.type, c.type) << c.file;
    EXPECT_EQ(h->dtype.item_bytes, c.item_bytes) << c.file;
    EXPECT_EQ(h->dtype.big_endian, c.big_endian) << c.file;
    EXPECT_EQ(h->dtype.swap_bytes, c.swap_bytes) << c.file;
    EXPECT_FALSE(h->fortran_order);
    EXPECT_EQ(h->shape, (std::vector<int64_t>{2, 3})) << c.file;
    EXPECT_EQ(h->data_bytes, 6 * c.item_bytes) << c.file;
    EXPECT_EQ(h->data_offset % 64, 0) << c.file;
    EXPECT_EQ(h->data_offset + h->data_bytes,
              static_cast<int64_t>(bytes.size()));
    EXPECT_EQ(h->StoredShape().ToString(true),
              absl::StrCat(PrimitiveTypeName(c.type), "[2,3]{1,0}"));
  }
}

TEST(NpyHeader, DataIsWhereTheHeaderSays) {
  // np.arange(6) as <f4 and >f4: element 1 is 1.0f.
  std::string le = ReadTestFile("le_f4_2x3.npy");
  absl::StatusOr<NpyHeader> h = ParseNpyHeader(le);
  ASSERT_TRUE(h.ok()) << h.status();
  float one;
  std::memcpy(&one, le.data() + h->data_offset + 4, 4);
  EXPECT_EQ(one, 1.0f);
  std::string be = ReadTestFile("be_f4_2x3.npy");
  h = ParseNpyHeader(be);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(be.substr(h->data_offset + 4, 4), std::string("\x3f\x80\0\0", 4));
}

TEST(NpyHeader, BigEndianSwapsToNumpysLittleEndianBytes) {
  // numpy wrote the same values both ways; swapping the big-endian data
  // must give numpy's little-endian bytes.
  for (const char* suffix :
       {"i2_2x3", "f4_2x3", "f8_2x3", "c8_2x3", "u8_2x3"}) {
    std::string be = ReadTestFile(absl::StrCat("be_", suffix, ".npy"));
    std::string le_name = absl::StrCat("le_", suffix, ".npy");
    std::string le = ReadTestFile(le_name);
    absl::StatusOr<NpyHeader> hb = ParseNpyHeader(be);
    absl::StatusOr<NpyHeader> hl = ParseNpyHeader(le);
    ASSERT_TRUE(hb.ok() && hl.ok()) << suffix;
    std::string data = be.substr(hb->data_offset);
    ASSERT_TRUE(SwapToLittleEndian(hb->dtype, data.data(), data.size()).ok());
    EXPECT_EQ(data, le.substr(hl->data_offset)) << suffix;
    // Little-endian data is left alone.
    std::string same = le.substr(hl->data_offset);
    ASSERT_TRUE(SwapToLittleEndian(hl->dtype, same.data(), same.size()).ok());
    EXPECT_EQ(same, le.substr(hl->data_offset));
  }
  NpyDtype be4 = *ParseNpyDescr(">f4");
  char odd[6] = {};
  EXPECT_THAT(SwapToLittleEndian(be4, odd, 6).message(),
              HasSubstr("6 bytes of >f4 data are not a whole number of 4-byte "
                        "units"));
}

TEST(NpyHeader, FortranOrderIsATransposedLayout) {
  absl::StatusOr<NpyHeader> h = ParseFile("fortran_f4_3x4.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->fortran_order);
  EXPECT_EQ(h->StoredShape().ToString(true), "f32[3,4]{0,1}");
  h = ParseFile("fortran_i2_2x3x4.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->StoredShape().ToString(true), "s16[2,3,4]{0,1,2}");
  // Element (0,1) of arange(12).reshape(3,4) is 1, stored at index 3 in
  // column-major order.
  std::string bytes = ReadTestFile("fortran_f4_3x4.npy");
  h = ParseNpyHeader(bytes);
  float value;
  std::memcpy(&value, bytes.data() + h->data_offset + 3 * 4, 4);
  EXPECT_EQ(value, 1.0f);
}

TEST(NpyHeader, RanksAndVersions) {
  absl::StatusOr<NpyHeader> h = ParseFile("scalar_f8.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->shape.empty());
  EXPECT_EQ(h->data_bytes, 8);
  EXPECT_EQ(h->StoredShape().ToString(true), "f64[]");
  h = ParseFile("vector_i4_5.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->shape, std::vector<int64_t>{5});
  h = ParseFile("empty_f4_0x3.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->data_bytes, 0);
  h = ParseFile("v2_f4_2x3.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->major_version, 2);
  EXPECT_EQ(h->data_offset % 64, 0);
  h = ParseFile("v3_f4_2x3.npy");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->major_version, 3);
  EXPECT_EQ(h->dtype.type, PrimitiveType::kF32);
}

TEST(NpyHeader, RawVoidNeedsAType) {
  absl::StatusOr<NpyHeader> h = ParseFile("void_v2_2x3.npy");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(),
            "npy: dtype \"|V2\" is raw 2-byte void data (how numpy saves "
            "ml_dtypes types such as bfloat16); name its element type, e.g. "
            "--dtype NAME=bf16");
  NpyReadOptions bf16;
  bf16.void_type = PrimitiveType::kBF16;
  h = ParseFile("void_v2_2x3.npy", bf16);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->dtype.type, PrimitiveType::kBF16);
  EXPECT_TRUE(h->dtype.is_void);
  EXPECT_EQ(h->StoredShape().ToString(true), "bf16[2,3]{1,0}");
  // bf16 1.0 is 0x3f80, little-endian.
  std::string bytes = ReadTestFile("void_v2_2x3.npy");
  EXPECT_EQ(bytes.substr(h->data_offset + 2, 2), "\x80\x3f");
  NpyReadOptions f32;
  f32.void_type = PrimitiveType::kF32;
  EXPECT_THAT(ParseFile("void_v2_2x3.npy", f32).status().message(),
              HasSubstr("holds 2-byte raw elements; the requested type f32 is "
                        "4 bytes"));
  // Regression (user trial): sub-byte types and pred said "u4 is 1 bytes".
  NpyReadOptions u4;
  u4.void_type = PrimitiveType::kU4;
  EXPECT_THAT(ParseFile("void_v1_2x3.npy", u4).status().message(),
              HasSubstr("holds 1-byte raw elements; the requested type u4 is "
                        "a 4-bit type, which .npy has no form for"));
  NpyReadOptions pred;
  pred.void_type = PrimitiveType::kPred;
  EXPECT_THAT(ParseFile("void_v1_2x3.npy", pred).status().message(),
              HasSubstr("the requested type pred is numpy's bool, '|b1'"));
  NpyReadOptions f8;
  f8.void_type = PrimitiveType::kF8E4M3FN;
  EXPECT_TRUE(ParseFile("void_v1_2x3.npy", f8).ok());
  EXPECT_THAT(ParseFile("le_f4_2x3.npy", bf16).status().message(),
              HasSubstr("is already typed (f32)"));
  EXPECT_TRUE(ParseFile("le_f4_2x3.npy",
                        [] {
                          NpyReadOptions o;
                          o.void_type = PrimitiveType::kF32;
                          return o;
                        }())
                  .ok());
  NpyReadOptions lenient;
  lenient.require_resolved_void = false;
  h = ParseFile("void_v2_2x3.npy", lenient);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->dtype.type, PrimitiveType::kInvalid);
  EXPECT_EQ(h->data_bytes, 12);
}

TEST(NpyHeader, RefusedKindsFromNumpy) {
  EXPECT_THAT(ParseFile("object.npy").status().message(),
              HasSubstr("object array: its data is pickled Python objects, "
                        "which are never loaded"));
  EXPECT_THAT(ParseFile("structured.npy").status().message(),
              HasSubstr("structured (record) dtype"));
  EXPECT_THAT(ParseFile("unicode.npy").status().message(),
              HasSubstr("is not numeric"));
  EXPECT_THAT(ParseFile("datetime.npy").status().message(),
              HasSubstr("is not numeric"));
  EXPECT_THAT(ParseFile("longdouble.npy").status().message(),
              HasSubstr("long double"));
}

// Hand-made files for the cases numpy will not write.
std::string V1(const std::string& dict) {
  std::string out(kNpyMagic);
  out += std::string("\x01\x00", 2);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  return out + dict;
}

std::string ErrorOf(const std::string& file, std::optional<int64_t> size = {}) {
  absl::StatusOr<NpyHeader> h = ParseNpyHeader(file, {}, size);
  EXPECT_FALSE(h.ok()) << file;
  return h.ok() ? "" : std::string(h.status().message());
}

TEST(NpyHeader, Malformed) {
  EXPECT_THAT(ErrorOf("PK\x03\x04 not npy"), HasSubstr("not an .npy file"));
  EXPECT_THAT(ErrorOf(std::string("\x93NUMPY\x04\x00\x00\x00", 10)),
              HasSubstr("format version 4.0 is not 1.0, 2.0 or 3.0"));
  EXPECT_THAT(ErrorOf(std::string("\x93NUMPY\x01\x01\x00\x00", 10)),
              HasSubstr("format version 1.1"));
  EXPECT_THAT(ErrorOf(std::string("\x93NUMPY\x01\x00\x05", 9)),
              HasSubstr("ends inside the header length"));
  EXPECT_THAT(
      ErrorOf(V1("{'descr': '<f4'").substr(0, 14) + std::string(2, 'x')),
      HasSubstr("runs past"));
  const std::string good =
      "{'descr': '<f4', 'fortran_order': False, "
      "'shape': (2,), }\n";
  absl::StatusOr<NpyHeader> h = ParseNpyHeader(V1(good));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->shape, std::vector<int64_t>{2});
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'shape': (2,)}")),
              HasSubstr("numpy requires exactly 'descr', 'fortran_order' and "
                        "'shape'"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2,), 'x': 1}")),
              HasSubstr("header keys are [\"descr\", \"fortran_order\", "
                        "\"shape\", \"x\"]"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'descr': '<f4', "
                         "'fortran_order': False, 'shape': (2,)}")),
              HasSubstr("repeats the key \"descr\""));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': 0, "
                         "'shape': (2,)}")),
              HasSubstr("'fortran_order' must be True or False, got 0"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2)}")),
              HasSubstr("'shape' must be a tuple of ints, got 2"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (-2,)}")),
              HasSubstr("negative dimension -2"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2.5,)}")),
              HasSubstr("expected an integer"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (99999999999999999999,)}")),
              HasSubstr("does not fit in int64"));
  // The whole shape, no "..." after its last dimension.
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (4611686018427387904, 4)}")),
              HasSubstr("npy: shape (4611686018427387904, 4) has more "
                        "elements than fit in int64"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (4611686018427387904, 4, 5)}")),
              HasSubstr("npy: shape (4611686018427387904, 4, 5) has more "
                        "elements than fit in int64"));
  absl::StatusOr<NpyHeader> big =
      ParseNpyHeader(V1("{'descr': '<f8', 'fortran_order': False, "
                        "'shape': (4611686018427387904, 4)}"));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(ErrorOf(V1("{'descr': __import__('os'), 'fortran_order': False, "
                         "'shape': ()}")),
              HasSubstr("unexpected character \"_\""));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': ()} junk")),
              HasSubstr("unexpected text after the header dict"));
  EXPECT_THAT(ErrorOf(V1("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': " +
                         std::string(40, '(') + "))}")),
              HasSubstr("nests too deeply"));
  // Python 2 era 'L' suffixes are accepted in 1.0/2.0 headers, as numpy does.
  h =
      ParseNpyHeader(V1("{'descr': '<f4', 'fortran_order': False, "
                        "'shape': (3L, 2L), }"));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->shape, (std::vector<int64_t>{3, 2}));
}

// Bytes that are no header (as a damaged copy gives) are told from a
// well-formed header refused for what it says: npz checks the CRC-32 of the
// first kind only.
TEST(NpyHeader, MalformedIsToldFromRefused) {
  auto malformed = [](const std::string& file) {
    absl::StatusOr<NpyHeader> h = ParseNpyHeader(file);
    EXPECT_FALSE(h.ok()) << file;
    return !h.ok() && IsMalformedNpyHeader(h.status());
  };
  EXPECT_TRUE(malformed("PK\x03\x04 not npy"));
  EXPECT_TRUE(malformed(std::string("\x93NUMPY\x04\x00\x00\x00", 10)));
  EXPECT_TRUE(malformed(std::string("\x93NUMPY\x01\x00\x05", 9)));
  EXPECT_TRUE(
      malformed(V1("{'descr': '<f4x, 'fortran_order': False, "
                   "'shape': (2,)}")));
  EXPECT_TRUE(
      malformed(V1("{'descr': '<f4', 'fortran_order': False, "
                   "'shape': ()} junk")));
  EXPECT_FALSE(
      malformed(V1("{'descr': '|O', 'fortran_order': False, "
                   "'shape': (2,)}")));
  EXPECT_FALSE(
      malformed(V1("{'descr': '|V2', 'fortran_order': False, "
                   "'shape': (2,)}")));
  EXPECT_FALSE(
      malformed(V1("{'descr': '<f4', 'fortran_order': False, "
                   "'shape': (-2,)}")));
  EXPECT_FALSE(IsMalformedNpyHeader(absl::OkStatus()));
  EXPECT_TRUE(IsMalformedNpyHeader(
      ParseNpyDataOffset(std::string("\x93NUMPY\x07\x00", 8)).status()));
}

TEST(NpyHeader, SizeLimitAndFileSize) {
  std::string dict =
      "{'descr': '<u1', 'fortran_order': False, 'shape': (3,), }";
  std::string at_limit =
      dict + std::string(10000 - dict.size() - 1, ' ') + "\n";
  std::string file = V1(at_limit) + "abc";
  EXPECT_TRUE(ParseNpyHeader(file, {}, file.size()).ok());
  std::string over = dict + std::string(10001 - dict.size() - 1, ' ') + "\n";
  EXPECT_THAT(ErrorOf(V1(over) + "abc", 10 + 10001 + 3),
              HasSubstr("header is 10001 characters, over numpy's limit of "
                        "10000"));
  EXPECT_THAT(ErrorOf(file, file.size() - 1),
              HasSubstr("file is truncated: the array needs 3 bytes"));
  EXPECT_THAT(ErrorOf(file + "x", file.size() + 1),
              HasSubstr("1 bytes after the array data"));
  // Version 3.0 counts characters, not bytes: pad with 2-byte UTF-8 'é'.
  auto v3_file = [&](int64_t chars) {
    std::string text = dict;
    while (static_cast<int64_t>(text.size()) < chars) text += ' ';
    std::string padded;
    for (char c : text)
      padded += c == ' ' ? std::string("\xc3\xa9") : std::string(1, c);
    std::string v3(kNpyMagic);
    v3 += std::string("\x03\x00", 2);
    uint32_t n = padded.size();
    for (int i = 0; i < 4; ++i) v3.push_back(static_cast<char>(n >> (8 * i)));
    return v3 + padded;
  };
  // 9,000 characters in more than 10,000 bytes: within the limit (and then
  // refused for the 'é' junk, as Python would refuse it too).
  std::string v3 = v3_file(9000);
  EXPECT_GT(v3.size(), 12u + 10000u);
  EXPECT_THAT(ErrorOf(v3), HasSubstr("unexpected"));
  EXPECT_THAT(ErrorOf(v3_file(10001)),
              HasSubstr("header is 10001 characters, over numpy's limit"));
  v3[12 + 3] = '\xff';
  EXPECT_THAT(ErrorOf(v3), HasSubstr("must be UTF-8"));
}

TEST(NpyDescr, Table) {
  EXPECT_EQ(ParseNpyDescr("<f4")->type, PrimitiveType::kF32);
  EXPECT_EQ(ParseNpyDescr("=i8")->type, PrimitiveType::kS64);
  EXPECT_FALSE(ParseNpyDescr("=i8")->big_endian);
  EXPECT_EQ(ParseNpyDescr("f2")->type, PrimitiveType::kF16);
  EXPECT_TRUE(ParseNpyDescr(">c16")->big_endian);
  EXPECT_EQ(ParseNpyDescr(">c16")->swap_bytes, 8);
  EXPECT_FALSE(ParseNpyDescr(">u1")->big_endian);
  EXPECT_FALSE(ParseNpyDescr("|b2").ok());
  EXPECT_FALSE(ParseNpyDescr("<f3").ok());
  EXPECT_FALSE(ParseNpyDescr("<").ok());
  EXPECT_FALSE(ParseNpyDescr("<i-4").ok());
  EXPECT_FALSE(ParseNpyDescr("<f99999999999").ok());
  EXPECT_TRUE(ParseNpyDescr("|V7")->is_void);
  NpyDtype be_void = *ParseNpyDescr(">V2", PrimitiveType::kBF16);
  EXPECT_TRUE(be_void.big_endian);
  EXPECT_EQ(be_void.swap_bytes, 2);
  EXPECT_THAT(ParseNpyDescr("|V1", PrimitiveType::kS4).status().message(),
              HasSubstr("requested type s4"));
  for (PrimitiveType t : AllArrayTypes()) {
    absl::StatusOr<std::string> d = NpyDescrOf(t);
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kNotFound);
      continue;
    }
    EXPECT_EQ(ParseNpyDescr(*d)->type, t) << *d;
  }
  EXPECT_EQ(*NpyDescrOf(PrimitiveType::kPred), "|b1");
  EXPECT_THAT(NpyDescrOf(PrimitiveType::kBF16).status().message(),
              HasSubstr("raw void '<V2'"));
}

TEST(NpyWriter, MatchesNumpyByteForByte) {
  // numpy's own header for arange(6, dtype='<f4').reshape(2, 3).
  std::string numpy_file = ReadTestFile("le_f4_2x3.npy");
  absl::StatusOr<NpyHeader> h = ParseNpyHeader(numpy_file);
  ASSERT_TRUE(h.ok());
  absl::StatusOr<std::string> ours = WriteNpyHeader("<f4", {2, 3});
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_EQ(*ours, numpy_file.substr(0, h->data_offset));
  for (const char* name :
       {"fortran_f4_3x4.npy", "scalar_f8.npy", "vector_i4_5.npy",
        "na_b1_2x3.npy", "be_c8_2x3.npy", "void_v2_2x3.npy"}) {
    std::string file = ReadTestFile(name);
    NpyReadOptions o;
    o.require_resolved_void = false;
    absl::StatusOr<NpyHeader> x = ParseNpyHeader(file, o);
    ASSERT_TRUE(x.ok()) << name;
    absl::StatusOr<std::string> w =
        WriteNpyHeader(x->dtype.descr, x->shape, x->fortran_order);
    ASSERT_TRUE(w.ok()) << name;
    EXPECT_EQ(*w, file.substr(0, x->data_offset)) << name;
  }
}

TEST(NpyWriter, LargeHeaderUsesVersion2) {
  std::vector<int64_t> shape(25000, 1);
  absl::StatusOr<std::string> w = WriteNpyHeader("<f4", shape);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)[6], '\x02');
  EXPECT_EQ(w->size() % 64, 0u);
  NpyReadOptions o;
  o.max_header_chars = 1 << 20;
  absl::StatusOr<NpyHeader> h = ParseNpyHeader(*w, o);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->shape, shape);
  EXPECT_EQ(h->major_version, 2);
  EXPECT_FALSE(WriteNpyHeader("|O", {1}).ok());
  EXPECT_FALSE(WriteNpyHeader("<f4", {-1}).ok());
}

}  // namespace
}  // namespace xlayout
