// Property: print -> parse -> print is a fixed point, and parse(print(s)) == s.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "testing/shape_generators.h"
#include "xlayout/shape_parser.h"
#include "xlayout/validate.h"

namespace xlayout {
namespace {

RC_GTEST_PROP(ShapePropertyTest, PrintParsePrintIsAFixedPoint, ()) {
  test_util::ShapeGenOptions options;
  options.allow_splits = true;
  Shape shape = test_util::GenArrayShape(options);
  RC_ASSERT(ValidateShape(shape).ok());
  std::string text = shape.ToString(true);
  absl::StatusOr<Shape> parsed = ParseShape(text);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->ToString(true) == text);
  RC_ASSERT(*parsed == shape);
}

RC_GTEST_PROP(ShapePropertyTest, TuplesRoundTrip, ()) {
  int n = *rc::gen::inRange(0, 13);
  std::vector<Shape> elements;
  for (int i = 0; i < n; ++i) elements.push_back(test_util::GenArrayShape());
  if (n > 0 && *rc::gen::arbitrary<bool>())
    elements.push_back(Shape::MakeToken());
  Shape tuple = Shape::MakeTuple(elements);
  std::string text = tuple.ToString(true);
  absl::StatusOr<Shape> parsed = ParseShape(text);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->ToString(true) == text);
  RC_ASSERT(*parsed == tuple);
}

// Truncations and single-byte edits of valid text never crash and never
// parse partially: either a shape comes back or an error naming a column.
RC_GTEST_PROP(ShapePropertyTest, MutatedTextFailsCleanly, ()) {
  std::string text = test_util::GenArrayShape().ToString(true);
  size_t cut = *rc::gen::inRange<size_t>(0, text.size() + 1);
  std::string mutated = text.substr(0, cut);
  if (*rc::gen::arbitrary<bool>() && !mutated.empty()) {
    mutated[*rc::gen::inRange<size_t>(0, mutated.size())] =
        *rc::gen::elementOf(std::string("[]{}(),:*<=?#-0123456789TLESMP x"));
  }
  absl::StatusOr<Shape> parsed = ParseShape(mutated);
  if (!parsed.ok()) {
    RC_ASSERT(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    RC_ASSERT(std::string(parsed.status().message()).find("col ") !=
              std::string::npos);
  } else {
    // Whatever parsed prints back to something that parses to the same shape.
    absl::StatusOr<Shape> again = ParseShape(parsed->ToString(true));
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == *parsed);
  }
}

}  // namespace
}  // namespace xlayout
