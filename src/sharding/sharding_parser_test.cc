// Parsing and printing of XLA's sharding text: every form XLA prints
// round-trips byte for byte, parsed fields are checked against the text, and
// malformed input is rejected with where and why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "xlayout/sharding.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

HloSharding ParseOk(const std::string& text) {
  absl::StatusOr<HloSharding> s = ParseHloSharding(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : HloSharding();
}

// Every form, as XLA's HloSharding::Print / NamedSharding::ToString prints
// it. Each must parse and print back to exactly the same text, and the
// printed text must parse to an equal sharding.
TEST(ShardingParserTest, RoundTripsEveryPrintedForm) {
  const std::vector<std::string> forms = {
      "{replicated}",
      "{manual}",
      "{unknown}",
      "{unreduced}",
      "{maximal device=0}",
      "{maximal device=42}",
      "{devices=[2,1]0,1}",
      "{devices=[4,2]0,1,2,3,4,5,6,7}",
      "{devices=[2,2]3,1,2,0}",
      "{devices=[4]<=[4]}",
      "{devices=[2,1]<=[2]}",
      "{devices=[2,4]<=[4,2]T(1,0)}",
      "{devices=[4,3]<=[3,2,2]T(2,0,1)}",
      "{devices=[2,2]0,1,2,3 last_tile_dim_replicate}",
      "{devices=[2,2]<=[4] last_tile_dim_replicate}",
      "{devices=[2,2]<=[2,2]T(1,0) last_tile_dim_replicate}",
      "{devices=[2,2,2,2]0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 "
      "last_tile_dims={manual, replicated}}",
      "{devices=[2,2,2,2]<=[16] last_tile_dims={manual, replicated}}",
      "{devices=[2,2,2,2]<=[2,2,4]T(2,1,0) last_tile_dims={manual, "
      "replicated}}",
      "{devices=[2,1,4]<=[8] last_tile_dims={unreduced}}",
      "{manual shard_as 1}",
      "{devices=[2,2,2,2]<=[16] last_tile_dims={manual, replicated} "
      "shard_like 1}",
      "{replicated metadata={op_name=\"a\"}}",
      "{devices=[2,1]<=[2] metadata={op_name=\"jit(f)/sharding_constraint\" "
      "source_file=\"/tmp/a.py\" source_line=12}}",
      "{maximal device=1 metadata={{op_name=\"a\"}, {op_name=\"b\"}}}",
      "{}",
      "{{replicated}, {devices=[2,1]<=[2]}}",
      "{{replicated}, {manual}, {maximal device=0}, {devices=[2]0,1}, "
      "{unknown}, /*index=5*/{devices=[2]<=[2]}, {replicated}}",
      "{{replicated}, {replicated}, {replicated}, {replicated}, {replicated}, "
      "/*index=5*/{replicated}, {replicated}, {replicated}, {replicated}, "
      "{replicated}, /*index=10*/{replicated}}",
      // Named (mesh) form, quoted names (current XLA) and bare (2025).
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'a'}, {'b'}]}",
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'a'}, {'c', 'b'}]}",
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'b', 'a'}, {'c', 'd', ?}]}",
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'a'}, {'b':(2)2}]}",
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'b':(2)2}, {'d':(4)2, 'c', ?}]}",
      "{mesh['a'=2,'b'=4,'c'=4,'d'=2], device_ids=([4,16]T(1,0)), [{'a'}]}",
      "{mesh['x'=2,'y'=2], device_ids=(0,2,1,3), [{'x'}]}",
      "{mesh[], replicated}",
      "{mesh['a'=2,'b'=4], replicated}",
      "{mesh['a'=2,'b'=4], [{'a'}], replicated={'b'}}",
      "{maximal_mesh[device_id=5]}",
      "{mesh['a.b'=2,'<axis> def'=4,'z/w'=2], [{'a.b'}, {'<axis> def':(2)2, "
      "'z/w'}]}",
      "{mesh['a'=2,'b'=4], unreduced}",
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{}, {'b'}], unreduced={'d':(4)2}}",
      "{mesh['a'=2,'b'=4], manual}",
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'a'}], manual={'d':(4)2}}",
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'a'}], replicated={'c'}, "
      "unreduced={'d':(4)2}, manual={'b':(2)2}, metadata={{op_name=\"foo\"}, "
      "{op_name=\"bar\"}}}",
      "{mesh['a'=2,'b'=4], replicated, metadata={{op_name=\"foo\"}}}",
      "{{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'d', 'c'}, {'a', 'b'}]}, "
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], replicated}}",
      "{{replicated}, {mesh['a'=2,'b'=4], replicated}, {maximal device=5}, "
      "{maximal_mesh[device_id=5]}}",
      "{mesh[a=2,b=4,c=3,d=8], [{c}, {a, b:(2)2, ?}]}",
      "{mesh[a=2,b=4,c=3,d=8], [], replicated={c}}",
      "{mesh[a=2,b=4,c=4,d=2], device_ids=([4,16]T(1,0)), [{a}]}",
      "{mesh[a=2,b=4,c=3,d=8], [{?}, {a}]}",
  };
  for (const std::string& text : forms) {
    absl::StatusOr<HloSharding> s = ParseHloSharding(text);
    if (!s.ok()) {
      ADD_FAILURE() << text << ": " << s.status();
      continue;
    }
    const std::string printed = s->ToString();
    EXPECT_EQ(printed, text);
    absl::StatusOr<HloSharding> again = ParseHloSharding(printed);
    if (!again.ok()) {
      ADD_FAILURE() << printed << ": " << again.status();
      continue;
    }
    EXPECT_TRUE(*again == *s) << text;
  }
}

TEST(ShardingParserTest, WhitespaceAndCommentsBetweenTokens) {
  // XLA's lexer skips whitespace and comments between any two tokens.
  HloSharding s = ParseOk(
      " { devices= [ 2 , 2 ] <= [ 2 , 2 ] T ( 1 , 0 ) "
      "/* note */ last_tile_dim_replicate } ");
  EXPECT_EQ(s.ToString(),
            "{devices=[2,2]<=[2,2]T(1,0) last_tile_dim_replicate}");
  // Attribute order is free, as in XLA's ParseSingleSharding loop; the
  // printer uses XLA's order.
  EXPECT_EQ(
      ParseOk("{last_tile_dim_replicate devices=[2,2]0,1,2,3}").ToString(),
      "{devices=[2,2]0,1,2,3 last_tile_dim_replicate}");
  EXPECT_EQ(ParseOk("{device=3 maximal}").ToString(), "{maximal device=3}");
}

TEST(ShardingParserTest, FieldsOfTileForms) {
  HloSharding s = ParseOk("{devices=[2,4]<=[4,2]T(1,0)}");
  ASSERT_EQ(s.type(), HloSharding::Type::kTiled);
  EXPECT_TRUE(s.tile_assignment().is_iota());
  EXPECT_THAT(s.tile_assignment().dims(), ElementsAre(2, 4));
  EXPECT_THAT(s.tile_assignment().iota_reshape_dims(), ElementsAre(4, 2));
  EXPECT_THAT(s.tile_assignment().iota_transpose_perm(), ElementsAre(1, 0));
  EXPECT_EQ(s.TiledDataRank(), 2);
  EXPECT_THAT(s.TileCounts(), ElementsAre(2, 4));
  EXPECT_EQ(s.NumDevices(), 8);

  s = ParseOk("{devices=[2,1,2,2]<=[8] last_tile_dims={manual, replicated}}");
  EXPECT_EQ(s.TiledDataRank(), 2);
  EXPECT_THAT(s.TileCounts(), ElementsAre(2, 1));
  EXPECT_THAT(s.subgroup_types(),
              ElementsAre(SubgroupType::kManual, SubgroupType::kReplicated));

  s = ParseOk("{devices=[2,2]0,1,2,3 last_tile_dim_replicate}");
  EXPECT_TRUE(s.replicate_on_last_tile_dim());
  EXPECT_EQ(s.TiledDataRank(), 1);

  s = ParseOk("{maximal device=7}");
  EXPECT_EQ(s.type(), HloSharding::Type::kMaximal);
  EXPECT_EQ(s.maximal_device(), 7);
  EXPECT_EQ(s.TiledDataRank(), -1);
  EXPECT_EQ(s.NumDevices(), 1);

  s = ParseOk("{replicated}");
  EXPECT_EQ(s.NumDevices(), std::nullopt);
  EXPECT_TRUE(s.TileCounts().empty());

  s = ParseOk("{manual shard_as 3}");
  EXPECT_EQ(s.shard_group(), HloSharding::ShardGroup::kAs);
  EXPECT_EQ(s.shard_group_id(), 3);

  s = ParseOk("{replicated metadata={op_name=\"x}\" source_file=\"a\\\"b\"}}");
  EXPECT_EQ(s.metadata(), "op_name=\"x}\" source_file=\"a\\\"b\"");
  EXPECT_EQ(s.ToString(false), "{replicated}");
}

TEST(ShardingParserTest, FieldsOfNamedForms) {
  HloSharding s = ParseOk(
      "{mesh['a'=2,'b'=4,'c'=3,'d'=8], [{'b':(2)2}, {'d':(4)2, 'c', "
      "?}], replicated={'a'}}");
  ASSERT_EQ(s.type(), HloSharding::Type::kNamed);
  const NamedSharding& n = s.named();
  ASSERT_EQ(n.mesh.size(), 4u);
  EXPECT_EQ(n.mesh[3].name, "d");
  EXPECT_EQ(n.mesh[3].size, 8);
  ASSERT_EQ(n.dims.size(), 2u);
  EXPECT_EQ(n.dims[0].axes[0], (AxisRef{1, 2, 2}));
  EXPECT_FALSE(n.dims[0].open);
  EXPECT_EQ(n.dims[1].axes[0], (AxisRef{3, 4, 2}));
  EXPECT_EQ(n.dims[1].axes[1], (AxisRef{2, 0, 0}));
  EXPECT_TRUE(n.dims[1].open);
  EXPECT_EQ(n.replicated_axes[0], (AxisRef{0, 0, 0}));
  // dim 0: b:(2)2 -> 2 tiles; dim 1: d:(4)2 * c -> 2 * 3 = 6 tiles.
  EXPECT_THAT(s.TileCounts(), ElementsAre(2, 6));
  EXPECT_EQ(s.NumDevices(), 2 * 4 * 3 * 8);

  s = ParseOk("{maximal_mesh[device_id=5]}");
  EXPECT_EQ(s.maximal_device(), 5);
  EXPECT_EQ(s.NumDevices(), 1);
  EXPECT_EQ(s.TiledDataRank(), -1);
}

TEST(ShardingParserTest, IotaAndExplicitListsAreEqual) {
  // XLA compares tile assignments by their device arrays.
  EXPECT_TRUE(ParseOk("{devices=[2,4]<=[4,2]T(1,0)}") ==
              ParseOk("{devices=[2,4]0,2,4,6,1,3,5,7}"));
  EXPECT_FALSE(ParseOk("{devices=[2,4]<=[8]}") ==
               ParseOk("{devices=[2,4]0,2,4,6,1,3,5,7}"));
  // Metadata does not take part in equality (XLA's operator==).
  EXPECT_TRUE(ParseOk("{replicated metadata={op_name=\"a\"}}") ==
              ParseOk("{replicated}"));
}

TEST(ShardingParserTest, PrefixStopsAfterTheSharding) {
  size_t consumed = 0;
  const std::string line = "  {devices=[2,1]<=[2]}, metadata={op_name=\"p\"}";
  absl::StatusOr<HloSharding> s = ParseHloShardingPrefix(line, &consumed);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(consumed, 22u);
  EXPECT_EQ(line.substr(consumed, 2), ", ");
}

struct Rejection {
  std::string text;
  std::string message;  // Expected substring, column included.
};

TEST(ShardingParserTest, RejectsMalformedInput) {
  const std::vector<Rejection> cases = {
      {"", "col 1: expected '{' to start a sharding, got end of input"},
      {"replicated", "col 1: expected '{'"},
      {"{replicated", "col 12: expected '}' to end the sharding"},
      {"{replicated} x", "col 14: extra content after the sharding"},
      {"{bogus}", "col 2: unknown word 'bogus' in sharding"},
      {"{devices =[2]0,1}", "col 9: expected '=' right after 'devices'"},
      {"{devices=[2]0,1 foo=3}", "col 17: unknown sharding attribute 'foo='"},
      {"{}x", "col 3: extra content"},
      // Tile assignment arithmetic.
      {"{devices=[2,2]0,1,2}",
       "col 10: tile assignment dimensions [2,2] hold 4 devices but 3 device "
       "ids are listed"},
      {"{devices=[2]0,1,2}", "hold 2 devices but 3 device ids"},
      {"{devices=[2]0,0}", "device id 0 appears more than once"},
      {"{devices=[2]-1,0}", "device id -1 in the tile assignment is negative"},
      {"{devices=[0,2]0,1}",
       "dimension 0 is 0; every dimension must be at "
       "least 1"},
      {"{devices=[2,2]<=[3]}", "hold 4 devices but the iota [3] has 3"},
      {"{devices=[4]<=[2,2]T(0,0)}", "T(0,0) is not a permutation of 0..1"},
      {"{devices=[4]<=[2,2]T(0,1,2)}",
       "has 3 entries but the iota is "
       "reshaped to 2 dimensions"},
      {"{devices=[4]<=[2,2]}", "col 20: expected 'T(' with the iota transpose"},
      {"{devices=[4]<=[4]T(0)}", "col 18: unknown word 'T' in sharding"},
      // Regression (fuzzer): a bare name then quoted ones printed back
      // bare, which did not parse.
      {"{mesh[m=3,'d-b'=5], [{}]}",
       "col 11: mesh axis names are all quoted or all bare, not a mix"},
      {"{devices=[99999999999999999999]<=[4]}",
       "col 11: number too large (limit 9223372036854775807)"},
      {"{devices=[1048576,2]<=[2097152]}", "names more than 1048576 devices"},
      {"{devices=[4294967296,4294967296]<=[2]}",
       "names more than 1048576 devices"},
      {"{devices=[1]0}", "must list more than one device"},
      {"{devices=[2]}", "col 13: expected an integer (device id)"},
      {"{devices=[]0}", "col 11: expected an integer"},
      // Kinds and attributes that do not go together.
      {"{replicated devices=[2]0,1}",
       "col 13: conflicting sharding kinds 'replicated' and 'devices='"},
      {"{replicated manual}", "conflicting sharding kinds"},
      {"{replicated replicated}", "'replicated' appears twice"},
      {"{maximal}", "col 2: a maximal sharding needs device=N"},
      {"{replicated device=1}", "device= belongs to maximal shardings"},
      {"{manual last_tile_dim_replicate}",
       "subgroup dimensions (last_tile_dim_replicate, last_tile_dims=) belong "
       "to devices=[...] shardings"},
      {"{devices=[2,2]<=[4] last_tile_dim_replicate last_tile_dims={manual}}",
       "cannot both be given"},
      {"{devices=[2]<=[2] last_tile_dims={manual, replicated}}",
       "has 1 dimensions but last_tile_dims names 2 trailing"},
      {"{devices=[2,2]<=[4] last_tile_dims={bogus}}",
       "expected a subgroup type (manual, replicated, unreduced or maximal)"},
      {"{devices=[2]0,1 devices=[2]0,1}", "devices= appears twice"},
      {"{replicated metadata={op_name=\"a\"", "unterminated metadata={...}"},
      {"{manual shard_as}", "expected an integer (shard group id)"},
      // Tuples.
      {"{{replicated}, replicated}",
       "col 16: expected '{' to start a tuple "
       "element's sharding"},
      {"{{replicated} {manual}}", "expected ',' or '}' between tuple"},
      // Named form.
      {"{mesh['a'=2], [{'b'}]}", "axis 'b' is not in the mesh [a]"},
      {"{mesh['a'=2,'a'=2], replicated}", "mesh axis 'a' appears twice"},
      {"{mesh['a'=4], [{'a':(3)2}]}",
       "sub-axis 'a':(3)2 does not split axis "
       "'a' of size 4"},
      {"{mesh['a'=4], [{'a':(1)4}]}", "does not split axis"},
      {"{mesh['a'=4], [{'a'}, {'a'}]}", "axis 'a' overlaps 'a'"},
      {"{mesh['a'=8], [{'a':(1)4}, {'a':(2)2}]}", "overlaps"},
      {"{mesh['x'=2,'y'=2], device_ids=(0,1,1,3), [{'x'}]}",
       "device id 1 appears more than once"},
      {"{mesh['x'=2,'y'=2], device_ids=(0,1,2), [{'x'}]}",
       "hold 4 devices but 3 device ids are listed"},
      {"{mesh['x'=2,'y'=2], device_ids=(0,1,2,4), [{'x'}]}",
       "mesh device_ids must be a permutation of 0..3"},
      {"{mesh['a'=2], bogus}", "expected '[' with the dimension shardings"},
      {"{mesh['a'=2], replicated, replicated={'a'}}",
       "replicated={...} follows the dimension shardings [...] only"},
      {"{mesh['a'=2], [{'a', ?, 'a'}]}", "expected '}' after '?'"},
      {"{mesh['a=2], replicated}", "unterminated quoted axis name"},
      {"{maximal_mesh[device=5]}", "expected device_id="},
  };
  for (const Rejection& c : cases) {
    absl::StatusOr<HloSharding> s = ParseHloSharding(c.text);
    if (s.ok()) {
      ADD_FAILURE() << c.text << " parsed as " << s->ToString();
      continue;
    }
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.message))
        << c.text;
  }
}

}  // namespace
}  // namespace xlayout
