#include "xlayout/shape_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/test_data.h"
#include "xlayout/validate.h"

namespace xlayout {
namespace {

using ::testing::HasSubstr;

TEST(ShapeParserTest, PrintParseVectors) {
  // Every row is checked and every failing row reported (no ASSERT in the
  // loop); ReadTsv reports rows with the wrong field count.
  auto rows = test_util::ReadTsv("print_parse.tsv", 2);
  ASSERT_GE(rows.size(), 60u);
  for (const auto& row : rows) {
    if (row.fields.size() != 2u) continue;
    const std::string& input = row.fields[0];
    std::string expected = row.fields[1] == "=" ? input : row.fields[1];
    absl::StatusOr<Shape> shape = ParseShape(input);
    if (!shape.ok()) {
      ADD_FAILURE() << "line " << row.line << ": " << input << " -> "
                    << shape.status();
      continue;
    }
    EXPECT_EQ(shape->ToString(true), expected) << "line " << row.line;
    // The canonical form is a fixed point.
    absl::StatusOr<Shape> again = ParseShape(expected);
    if (!again.ok()) {
      ADD_FAILURE() << "line " << row.line << ": " << again.status();
      continue;
    }
    EXPECT_EQ(*again, *shape) << "line " << row.line;
    EXPECT_EQ(again->ToString(true), expected);
  }
}

TEST(ShapeParserTest, RejectVectors) {
  auto rows = test_util::ReadTsv("reject.tsv", 2);
  ASSERT_GE(rows.size(), 40u);
  for (const auto& row : rows) {
    if (row.fields.size() != 2u) continue;
    absl::StatusOr<Shape> shape = ParseShape(row.fields[0]);
    if (shape.ok()) {
      ADD_FAILURE() << "line " << row.line << ": '" << row.fields[0]
                    << "' parsed as " << shape->ToString();
      continue;
    }
    EXPECT_EQ(shape.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(shape.status().message()), HasSubstr(row.fields[1]))
        << "line " << row.line;
  }
}

TEST(ShapeParserTest, ValidateRejectVectors) {
  auto rows = test_util::ReadTsv("validate_reject.tsv", 2);
  ASSERT_GE(rows.size(), 8u);
  for (const auto& row : rows) {
    if (row.fields.size() != 2u) continue;
    absl::StatusOr<Shape> shape = ParseShape(row.fields[0]);
    if (!shape.ok()) {
      ADD_FAILURE() << "line " << row.line
                    << ": parse is separate from validation: "
                    << shape.status();
      continue;
    }
    absl::Status status = ValidateShape(*shape);
    EXPECT_FALSE(status.ok()) << "line " << row.line;
    EXPECT_THAT(std::string(status.message()), HasSubstr(row.fields[1]))
        << "line " << row.line;
  }
}

TEST(ShapeParserTest, ParsedFields) {
  absl::StatusOr<Shape> s = ParseShape("f32[?,<=784,3]");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->dimensions(0), Shape::kUnboundedSize);
  EXPECT_TRUE(s->is_dynamic_dimension(0));
  EXPECT_EQ(s->dimensions(1), 784);
  EXPECT_TRUE(s->is_dynamic_dimension(1));
  EXPECT_FALSE(s->is_dynamic_dimension(2));

  s = ParseShape("f32[123,456,789]{0,1,2:T(2, * , 128)}");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->layout().tiles().size(), 1u);
  EXPECT_EQ(s->layout().tiles()[0].dims()[1], Tile::kCombineDimension);

  s = ParseShape("pred[123,456]{1,0:S(3)SC(0:10)(1:4,5)}");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->layout().split_configs().size(), 2u);
  EXPECT_EQ(s->layout().split_configs()[1].dimension, 1);
  EXPECT_EQ(s->layout().split_configs()[1].split_indices,
            (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(s->layout().memory_space(), 3);

  s = ParseShape("s4[123,456]{1,0:T(2,128)E(4)}");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->layout().element_size_in_bits(), 4);
}

TEST(ShapeParserTest, MissingLayoutsCanBeKeptMissing) {
  ShapeParseOptions options;
  options.fill_missing_layouts = false;
  absl::StatusOr<Shape> s = ParseShape("bf16[8,3,200]", options);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_layout());
  EXPECT_EQ(s->ToString(true), "bf16[8,3,200]");
  // Scalars always get one, as in XLA.
  s = ParseShape("f32[]", options);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->has_layout());
}

TEST(ShapeParserTest, PrefixStopsAfterTheShape) {
  size_t consumed = 0;
  absl::string_view text =
      "  bf16[2,3]{1,0} parameter(0), sharding={replicated}";
  absl::StatusOr<Shape> s = ParseShapePrefix(text, &consumed);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(text.substr(consumed), " parameter(0), sharding={replicated}");
  // Words that merely start like a JAX layout are left unread too.
  text = "f32[2] Layouts differ";
  s = ParseShapePrefix(text, &consumed);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(text.substr(consumed), " Layouts differ");
  text = "f32[2] Layout is";
  s = ParseShapePrefix(text, &consumed);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(text.substr(consumed), " Layout is");
  // A '{' that does not start a layout (computation body) is left unread.
  text = "f32[2] {\n ROOT x = ...";
  s = ParseShapePrefix(text, &consumed);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(text.substr(consumed), " {\n ROOT x = ...");
}

TEST(ShapeParserTest, ErrorsNameLineAndColumnOnMultiLineInput) {
  absl::StatusOr<Shape> s = ParseShape("(f32[2],\n  f32[3 4])");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("line 2 col 9: expected ',' or ']' after dimension"));
}

// The excerpt of trailing text is quoted with unprintable bytes escaped, and
// the hint fits what follows: a second layout is not "'{}' is not a layout".
TEST(ShapeParserTest, ExtraContentIsQuotedPrintably) {
  absl::StatusOr<Shape> s = ParseShape(std::string("f32[2]\x01\x00x", 9));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("col 7: extra content after shape: '\\x01\\x00x'"));
  s = ParseShape("f32[2]{0:T(2)} {0}");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("col 16: extra content after shape: '{0}' (a layout "
                        "follows an array's dimensions, at most once)"));
  s = ParseShape("f32[2]{}");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("'{}' is not a layout inside a shape"));
}

TEST(ShapeParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  absl::StatusOr<Shape> s = ParseShape(deep);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("maximum recursion depth"));
}

TEST(ParseLayoutTest, StandaloneLayouts) {
  for (absl::string_view text :
       {"{}", "{1,2,0}", "{0:D(C)}", "{0:D(C~)}", "{1,0:D(D,C)}",
        "{3,2,1,0:T(42,123)(4,5)}", "{3,2,1,0:T(*,*,42,123)}",
        "{3,2,1,0:L(100)}", "{3,2,1,0:#(u32)}", "{3,2,1,0:*(u16)}",
        "{3,2,1,0:E(42)}", "{3,2,1,0:S(3)}", "{0,1:SC(0:3)(1:0,4)}",
        "{0,1:P(s32[10,20]{1,0})}", "{0,1:M(123)}",
        "{3,2,1,0:T(42,123)(4,5)L(100)E(42)}", "{:T(256)}"}) {
    absl::StatusOr<Layout> layout = ParseLayout(text);
    ASSERT_TRUE(layout.ok()) << text << ": " << layout.status();
    EXPECT_EQ(layout->ToString(), text);
  }
  EXPECT_FALSE(ParseLayout("{1,0").ok());
  EXPECT_FALSE(ParseLayout("{1,0} x").ok());
}

// Older JAX (DeviceLocalLayout) printed its optional fields with a leading
// underscore: `_tiling=...`, `_sub_byte_element_size_in_bits=...`.
TEST(ParseJaxLayoutTest, DeviceLocalLayoutUnderscoreFields) {
  absl::StatusOr<Layout> layout = ParseJaxLayout(
      "DeviceLocalLayout(major_to_minor=(0, 2, 1), _tiling=((8, 128), (2, 1)), "
      "_sub_byte_element_size_in_bits=0)");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->ToString(), "{1,2,0:T(8,128)(2,1)}");
  layout = ParseJaxLayout(
      "DeviceLocalLayout(major_to_minor=(0,), _tiling=None, "
      "_sub_byte_element_size_in_bits=4)");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->ToString(), "{0:E(4)}");
  absl::StatusOr<Layout> twice = ParseJaxLayout(
      "DeviceLocalLayout(major_to_minor=(0,), tiling=None, _tiling=None)");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(std::string(twice.status().message()),
              HasSubstr("tiling given twice"));
}

// What JAX prints for a compiled executable's input formats / layouts: the
// layout wrapped with its sharding. The sharding is skipped.
TEST(ParseJaxLayoutTest, FormatAndOldLayoutWrappers) {
  absl::StatusOr<Layout> layout = ParseJaxLayout(
      "Format(layout=Layout(major_to_minor=(0, 2, 1), tiling=((8, 128), (2, "
      "1)), sub_byte_element_size_in_bits=0), "
      "sharding=NamedSharding(mesh=Mesh('x': 2, 'y': 1, axis_types=(Auto, "
      "Auto)), spec=PartitionSpec('x', ('y',)), memory_kind=device))");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->ToString(), "{1,2,0:T(8,128)(2,1)}");
  layout = ParseJaxLayout(
      "Layout(device_local_layout=DeviceLocalLayout(major_to_minor=(1, 0), "
      "_tiling=((8, 128),), _sub_byte_element_size_in_bits=0), "
      "sharding=SingleDeviceSharding(device=CpuDevice(id=0), "
      "memory_kind=\"pinned_host\"))");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->ToString(), "{0,1:T(8,128)}");
  absl::StatusOr<Shape> shape = ParseShape(
      "f32[8,4] Format(layout=Layout(major_to_minor=(1, 0)), "
      "sharding=SingleDeviceSharding(device=CpuDevice(id=0)))");
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->ToString(), "f32[8,4]{0,1}");

  for (auto [text, error] : std::vector<std::pair<std::string, std::string>>{
           {"Format(layout=None, sharding=x)", "col 15: the layout is None"},
           {"Format(layout=Layout.AUTO, sharding=x)", "not a concrete layout"},
           {"Format(sharding=SingleDeviceSharding(device=CpuDevice(id=0)))",
            "Format(...) needs layout"},
           {"Format(layout=Layout(major_to_minor=(0,)), sharding=f(x]",
            "col 56: unbalanced ']' in the sharding value at col 53"},
           // A closer with nothing open (fuzzer find: UB on an empty stack).
           {"Format(layout=Layout(major_to_minor=(0,)), sharding=x})",
            "col 54: unbalanced '}' in the sharding value at col 53"},
           {"Format(layout=Layout(major_to_minor=(0,)), sharding=f('x)",
            "col 58: unterminated sharding value at col 53"},
           {"Layout(major_to_minor=(0,), layout=Layout(major_to_minor=(0,)))",
            "both a nested layout and layout fields"},
           {"Format(layout=Format(layout=Format(layout=Format(layout=Layout("
            "major_to_minor=(0,))))))",
            "nested too deep"}}) {
    absl::StatusOr<Layout> bad = ParseJaxLayout(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr(error)) << text;
  }
}

TEST(ParseJaxLayoutTest, DocsExample) {
  absl::StatusOr<Layout> layout = ParseJaxLayout(
      "Layout(major_to_minor=(0, 1, 2), tiling=((8, 128), (2, 1)), "
      "sub_byte_element_size_in_bits=0)");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->ToString(), "{2,1,0:T(8,128)(2,1)}");
  layout = ParseJaxLayout(
      "Layout(major_to_minor=(1,0),tiling=((8,128),),sub_byte_element_size_in_"
      "bits=4)");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->ToString(), "{0,1:T(8,128)E(4)}");
  // Combined dims come from JAX as INT64_MIN.
  layout = ParseJaxLayout(
      "Layout(major_to_minor=(0, 1, 2), tiling=((2, -9223372036854775808, "
      "128),), sub_byte_element_size_in_bits=0)");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->ToString(), "{2,1,0:T(2,*,128)}");
  EXPECT_FALSE(
      ParseJaxLayout("Layout(major_to_minor=(0,), tiling=((-2,),))").ok());
  absl::StatusOr<Layout> bad = ParseJaxLayout("AUTO");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("not a concrete layout"));
}

}  // namespace
}  // namespace xlayout
