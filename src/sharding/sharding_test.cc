// Per-device shapes and device assignments of every sharding form, against
// values worked out by hand (the arithmetic is in the comments). XLA's rule
// (HloSharding::TileShape, TileOffsetForDevice, TileLimitForDevice): a dim of
// size n split into t tiles has padded extent p = ceil(n / t); tile i starts
// at min(i * p, n) and ends at min((i + 1) * p, n).
#include "xlayout/sharding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Shape S(const std::string& text) {
  absl::StatusOr<Shape> s = ParseShape(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : Shape();
}

HloSharding H(const std::string& text) {
  absl::StatusOr<HloSharding> s = ParseHloSharding(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : HloSharding();
}

std::string Sharded(const std::string& shape, const std::string& sharding) {
  absl::StatusOr<Shape> s = ShardShape(S(shape), H(sharding));
  if (!s.ok()) return std::string(s.status().message());
  return s->ToString();
}

std::map<int64_t, DeviceShard> ByDevice(const std::string& shape,
                                        const std::string& sharding,
                                        std::optional<int64_t> n = {}) {
  absl::StatusOr<std::vector<DeviceShard>> shards =
      DeviceShards(S(shape), H(sharding), n);
  EXPECT_TRUE(shards.ok()) << sharding << ": " << shards.status();
  std::map<int64_t, DeviceShard> out;
  if (!shards.ok()) return out;
  int64_t previous = -1;
  for (const DeviceShard& d : *shards) {
    EXPECT_GT(d.device, previous) << "not sorted by device / repeated";
    previous = d.device;
    out[d.device] = d;
  }
  return out;
}

DeviceShard Shard(int64_t device, std::vector<int64_t> tile,
                  std::vector<int64_t> offset, std::vector<int64_t> extent) {
  return DeviceShard{device, std::move(tile), std::move(offset),
                     std::move(extent)};
}

TEST(ShardShapeTest, UntiledFormsKeepTheGlobalShape) {
  for (const char* s : {"{replicated}", "{manual}", "{unknown}", "{unreduced}",
                        "{maximal device=3}", "{maximal_mesh[device_id=3]}",
                        "{mesh['x'=4], replicated}"}) {
    EXPECT_EQ(Sharded("f32[10,7]{0,1}", s), "f32[10,7]{0,1}") << s;
  }
}

TEST(ShardShapeTest, UnevenTwoDimensional) {
  // f32[10,7] over devices=[4,2]: dim 0 -> ceil(10/4) = 3, dim 1 ->
  // ceil(7/2) = 4. Layout {1,0} is kept.
  EXPECT_EQ(Sharded("f32[10,7]{1,0}", "{devices=[4,2]0,1,2,3,4,5,6,7}"),
            "f32[3,4]{1,0}");
  EXPECT_EQ(Sharded("f32[10,7]{0,1}", "{devices=[4,2]<=[8]}"), "f32[3,4]{0,1}");
}

TEST(ShardShapeTest, LayoutTilingAndDynamicDimsAreKept) {
  // The E0102 parameter over 8 devices on dim 1: 1280 / 8 = 160. XLA's
  // TileShape copies the shape, so the tiled layout stays.
  EXPECT_EQ(Sharded("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}",
                    "{devices=[1,8,1]<=[8]}"),
            "bf16[16,160,40]{2,1,0:T(8,128)(2,1)}");
  // Bounded dynamic dim: the bound is split (ceil(9/2) = 5), still dynamic.
  EXPECT_EQ(Sharded("f32[<=9,4]", "{devices=[2,1]<=[2]}"), "f32[<=5,4]{1,0}");
  EXPECT_THAT(Sharded("f32[?,4]", "{devices=[2,1]<=[2]}"),
              HasSubstr("dimension 0 of f32[?,4]{1,0} is unbounded"));
  // Buffers shard their array.
  EXPECT_EQ(Sharded("b(f32[8])", "{devices=[4]<=[4]}"), "b(f32[2]{0})");
  // Tokens are never sharded.
  EXPECT_EQ(Sharded("token[]", "{devices=[4]<=[4]}"), "token[]");
}

TEST(ShardShapeTest, PartialReplicationAndSubgroupsTileOnlyDataDims) {
  // [2,1,2] with last_tile_dim_replicate: data tiles [2,1]; f32[6,5] ->
  // [ceil(6/2), ceil(5/1)] = [3,5].
  EXPECT_EQ(Sharded("f32[6,5]",
                    "{devices=[2,1,2]0,1,2,3 "
                    "last_tile_dim_replicate}"),
            "f32[3,5]{1,0}");
  // [2,1,2,2] with {manual, replicated}: data tiles [2,1]; f32[10,3] ->
  // [5,3].
  EXPECT_EQ(Sharded("f32[10,3]",
                    "{devices=[2,1,2,2]<=[8] "
                    "last_tile_dims={manual, replicated}}"),
            "f32[5,3]{1,0}");
}

TEST(ShardShapeTest, TuplesShardLeafByLeaf) {
  EXPECT_EQ(Sharded("(f32[4,4], bf16[5,3]{0,1})",
                    "{{replicated}, {devices=[2,1]<=[2]}}"),
            "(f32[4,4]{1,0}, bf16[3,3]{0,1})");
  // A non-tuple sharding on a tuple applies to every leaf (XLA's
  // NormalizeTupleSharding). Nested: leaves f32[8], f32[6], s32[4].
  EXPECT_EQ(Sharded("((f32[8], f32[6]), s32[4])", "{devices=[4]<=[4]}"),
            "((f32[2]{0}, f32[2]{0}), s32[1]{0})");
  EXPECT_EQ(Sharded("()", "{}"), "()");
  EXPECT_EQ(Sharded("()", "{{replicated}}"), "()");
}

TEST(ShardShapeTest, Rejections) {
  EXPECT_EQ(Sharded("f32[10]", "{devices=[2,2]<=[4]}"),
            "sharding {devices=[2,2]<=[4]} tiles 2 data dimensions but shape "
            "f32[10]{0} has rank 1");
  EXPECT_EQ(Sharded("f32[10,3]",
                    "{devices=[2,2]<=[4] "
                    "last_tile_dim_replicate}"),
            "sharding {devices=[2,2]<=[4] last_tile_dim_replicate} tiles 1 "
            "data dimension but shape f32[10,3]{1,0} has rank 2");
  EXPECT_EQ(Sharded("(f32[4], f32[4])", "{{replicated}}"),
            "tuple sharding has 1 element but shape (f32[4]{0}, f32[4]{0}) "
            "has 2 leaves");
  EXPECT_EQ(Sharded("f32[4]", "{{replicated}}"),
            "tuple sharding {{replicated}} on non-tuple shape f32[4]{0}");
  EXPECT_THAT(Sharded("f32[4,4]", "{mesh['x'=2], [{'x'}]}"),
              HasSubstr("tiles 1 data dimension but shape f32[4,4]{1,0} has "
                        "rank 2"));
}

TEST(DeviceShardsTest, UnevenFourByTwoExplicitList) {
  // f32[10,7] over devices=[4,2]0..7: padded extents p0 = 3, p1 = 4. Device
  // d sits at tile (d / 2, d % 2).
  //   dim 0 tiles: [0,3) [3,6) [6,9) [9,10) -> real extents 3, 3, 3, 1
  //   dim 1 tiles: [0,4) [4,7)              -> real extents 4, 3
  auto m = ByDevice("f32[10,7]", "{devices=[4,2]0,1,2,3,4,5,6,7}");
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[0], Shard(0, {0, 0}, {0, 0}, {3, 4}));
  EXPECT_EQ(m[1], Shard(1, {0, 1}, {0, 4}, {3, 3}));
  EXPECT_EQ(m[2], Shard(2, {1, 0}, {3, 0}, {3, 4}));
  EXPECT_EQ(m[5], Shard(5, {2, 1}, {6, 4}, {3, 3}));
  EXPECT_EQ(m[6], Shard(6, {3, 0}, {9, 0}, {1, 4}));
  EXPECT_EQ(m[7], Shard(7, {3, 1}, {9, 4}, {1, 3}));
}

TEST(DeviceShardsTest, PermutedExplicitList) {
  // devices=[2,2]3,1,2,0: row-major positions (0,0)=3 (0,1)=1 (1,0)=2
  // (1,1)=0. f32[4,6] -> p = [2,3].
  auto m = ByDevice("f32[4,6]", "{devices=[2,2]3,1,2,0}");
  EXPECT_EQ(m[0], Shard(0, {1, 1}, {2, 3}, {2, 3}));
  EXPECT_EQ(m[1], Shard(1, {0, 1}, {0, 3}, {2, 3}));
  EXPECT_EQ(m[2], Shard(2, {1, 0}, {2, 0}, {2, 3}));
  EXPECT_EQ(m[3], Shard(3, {0, 0}, {0, 0}, {2, 3}));
}

TEST(DeviceShardsTest, LastShardsMayHoldNothing) {
  // f32[5] over 4 devices: p = ceil(5/4) = 2. Tiles [0,2) [2,4) [4,5) and
  // [min(6,5), min(8,5)) = [5,5): device 3 holds a padded buffer of 2
  // elements with no real data.
  EXPECT_EQ(Sharded("f32[5]", "{devices=[4]<=[4]}"), "f32[2]{0}");
  auto m = ByDevice("f32[5]", "{devices=[4]<=[4]}");
  EXPECT_EQ(m[0], Shard(0, {0}, {0}, {2}));
  EXPECT_EQ(m[1], Shard(1, {1}, {2}, {2}));
  EXPECT_EQ(m[2], Shard(2, {2}, {4}, {1}));
  EXPECT_EQ(m[3], Shard(3, {3}, {5}, {0}));
}

TEST(DeviceShardsTest, TransposedIota) {
  // <=[4,2]T(1,0): iota over [4,2] is a[i][j] = 2i + j; transposed,
  // b[j][i] = 2i + j over [2,4]: row 0 = 0,2,4,6; row 1 = 1,3,5,7; reshaped
  // to [2,4] unchanged. f32[16,8] -> p = [8,2].
  const HloSharding s = H("{devices=[2,4]<=[4,2]T(1,0)}");
  EXPECT_THAT(s.tile_assignment().devices(),
              ElementsAre(0, 2, 4, 6, 1, 3, 5, 7));
  auto m = ByDevice("f32[16,8]", "{devices=[2,4]<=[4,2]T(1,0)}");
  EXPECT_EQ(m[1], Shard(1, {1, 0}, {8, 0}, {8, 2}));
  EXPECT_EQ(m[2], Shard(2, {0, 1}, {0, 2}, {8, 2}));
  EXPECT_EQ(m[7], Shard(7, {1, 3}, {8, 6}, {8, 2}));
}

TEST(DeviceShardsTest, ThreeDimensionalIotaTransposeReshapedToTwo) {
  // <=[3,2,2]T(2,0,1): strides of [3,2,2] are (4,2,1); the transposed array
  // has dims [2,3,2] and holds j0*1 + j1*4 + j2*2 at (j0,j1,j2):
  //   j0=0: 0,2, 4,6, 8,10   j0=1: 1,3, 5,7, 9,11
  // Reshaped to [4,3]: rows 0,2,4 / 6,8,10 / 1,3,5 / 7,9,11.
  const HloSharding s = H("{devices=[4,3]<=[3,2,2]T(2,0,1)}");
  EXPECT_THAT(s.tile_assignment().devices(),
              ElementsAre(0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11));
  // f32[8,9] -> p = [2,3]; device 5 at (2,2): offset (4,6); device 6 at
  // (1,0): offset (2,0).
  auto m = ByDevice("f32[8,9]", "{devices=[4,3]<=[3,2,2]T(2,0,1)}");
  EXPECT_EQ(m[5], Shard(5, {2, 2}, {4, 6}, {2, 3}));
  EXPECT_EQ(m[6], Shard(6, {1, 0}, {2, 0}, {2, 3}));
  EXPECT_EQ(m.size(), 12u);
}

TEST(DeviceShardsTest, PartialReplication) {
  // [2,1,2]0,1,2,3 last_tile_dim_replicate: positions (a,0,r) hold device
  // 2a + r, so devices 0,1 hold tile (0,0) and 2,3 hold tile (1,0).
  // f32[6,5] -> p = [3,5].
  auto m =
      ByDevice("f32[6,5]", "{devices=[2,1,2]0,1,2,3 last_tile_dim_replicate}");
  EXPECT_EQ(m[0], Shard(0, {0, 0}, {0, 0}, {3, 5}));
  EXPECT_EQ(m[1], Shard(1, {0, 0}, {0, 0}, {3, 5}));
  EXPECT_EQ(m[2], Shard(2, {1, 0}, {3, 0}, {3, 5}));
  EXPECT_EQ(m[3], Shard(3, {1, 0}, {3, 0}, {3, 5}));
  const HloSharding s = H("{devices=[2,1,2]0,1,2,3 last_tile_dim_replicate}");
  EXPECT_THAT(*DevicesForTile(s, {1, 0}), ElementsAre(2, 3));
  EXPECT_THAT(*TileIndexForDevice(s, 1), ElementsAre(0, 0));

  // Transposed iota with replication: <=[2,2]T(1,0) lists 0,2,1,3 over
  // [2,2]; tile 0 = {0,2}, tile 1 = {1,3}. f32[7] -> p = 4; tile 1 holds
  // [4,7) = 3 real elements.
  const HloSharding t =
      H("{devices=[2,2]<=[2,2]T(1,0) last_tile_dim_replicate}");
  EXPECT_THAT(*DevicesForTile(t, {0}), ElementsAre(0, 2));
  EXPECT_THAT(*DevicesForTile(t, {1}), ElementsAre(1, 3));
  auto n = ByDevice("f32[7]",
                    "{devices=[2,2]<=[2,2]T(1,0) last_tile_dim_replicate}");
  EXPECT_EQ(n[3], Shard(3, {1}, {4}, {3}));
  EXPECT_EQ(n[2], Shard(2, {0}, {0}, {4}));
}

TEST(DeviceShardsTest, ManualAndReplicatedSubgroups) {
  // [2,1,2,2]<=[8] {manual, replicated}: position (a,0,m,r) holds device
  // 4a + 2m + r; devices 0-3 hold data tile (0,0), 4-7 tile (1,0).
  // f32[10,3] -> p = [5,3].
  const HloSharding s =
      H("{devices=[2,1,2,2]<=[8] last_tile_dims={manual, replicated}}");
  EXPECT_THAT(*TileIndexForDevice(s, 5), ElementsAre(1, 0));
  EXPECT_THAT(*DevicesForTile(s, {0, 0}), ElementsAre(0, 1, 2, 3));
  auto m = ByDevice("f32[10,3]",
                    "{devices=[2,1,2,2]<=[8] last_tile_dims={manual, "
                    "replicated}}");
  EXPECT_EQ(m[6], Shard(6, {1, 0}, {5, 0}, {5, 3}));
}

TEST(DeviceShardsTest, UntiledForms) {
  // Replicated names no devices: the module's num_partitions says how many.
  auto r = ByDevice("f32[10,7]", "{replicated}", 4);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[3], Shard(3, {}, {0, 0}, {10, 7}));
  absl::StatusOr<std::vector<DeviceShard>> no_count =
      DeviceShards(S("f32[3]"), H("{replicated}"));
  EXPECT_EQ(no_count.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(no_count.status().message()),
              HasSubstr("pass the module's num_partitions"));
  // Maximal: one device holds everything.
  auto x = ByDevice("f32[10,7]", "{maximal device=3}");
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(x[3], Shard(3, {}, {0, 0}, {10, 7}));
  auto y = ByDevice("f32[2]", "{maximal_mesh[device_id=5]}");
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(y[5], Shard(5, {}, {0}, {2}));
  // A named replicated sharding names its mesh's devices.
  EXPECT_EQ(ByDevice("f32[2]", "{mesh['x'=2,'y'=3], replicated}").size(), 6u);
  // An empty mesh names no devices and tiles nothing (regression: this used
  // to dereference the missing device count).
  EXPECT_EQ(Sharded("f32[4]", "{mesh[], [{}]}"), "f32[4]{0}");
  EXPECT_EQ(ByDevice("f32[4]", "{mesh[], [{}]}", 2).size(), 2u);
  EXPECT_FALSE(TileIndexForDevice(H("{mesh[], [{}]}"), 0).ok());
  EXPECT_FALSE(TileIndexForDevice(H("{replicated}"), 0).ok());
  EXPECT_FALSE(DevicesForTile(H("{maximal device=0}"), {}).ok());
}

TEST(DeviceShardsTest, NamedMeshAxes) {
  // mesh x=2, y=4, devices iota: mesh position (px,py) is device 4px + py;
  // [{x}, {y}] puts it at tile (px,py). f32[10,7] -> p = [5,2].
  // Device 7 = (1,3): offset (5,6), real extent (5, 7-6=1).
  auto m = ByDevice("f32[10,7]", "{mesh['x'=2,'y'=4], [{'x'}, {'y'}]}");
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[7], Shard(7, {1, 3}, {5, 6}, {5, 1}));
  EXPECT_EQ(m[2], Shard(2, {0, 2}, {0, 4}, {5, 2}));
  EXPECT_EQ(Sharded("f32[10,7]", "{mesh['x'=2,'y'=4], [{'x'}, {'y'}]}"),
            "f32[5,2]{1,0}");
  // Both axes on dim 0, x major: tile = 4px + py, i.e. the device id.
  const HloSharding both = H("{mesh['x'=2,'y'=4], [{'x', 'y'}, {}]}");
  EXPECT_THAT(*TileIndexForDevice(both, 6), ElementsAre(6, 0));
  // y major: tile = 2py + px; device 6 = (1,2) -> tile 5.
  const HloSharding yx = H("{mesh['x'=2,'y'=4], [{'y', 'x'}, {}]}");
  EXPECT_THAT(*TileIndexForDevice(yx, 6), ElementsAre(5, 0));
}

TEST(DeviceShardsTest, NamedSubAxes) {
  // mesh a=2, b=4; b splits major-to-minor into [pre 1 -> b:(1)2, pre 2 ->
  // b:(2)2]: b:(1)2 is pb / 2, b:(2)2 is pb % 2 (stride 4 / (2*2) = 1).
  // [{b:(2)2}, {a, b:(1)2}]: tile = (pb % 2, 2pa + pb / 2).
  // Device 5 = (pa 1, pb 1) -> (1, 2); device 6 = (1, 2) -> (0, 3).
  const HloSharding s = H("{mesh['a'=2,'b'=4], [{'b':(2)2}, {'a', 'b':(1)2}]}");
  EXPECT_THAT(s.TileCounts(), ElementsAre(2, 4));
  EXPECT_THAT(*TileIndexForDevice(s, 5), ElementsAre(1, 2));
  EXPECT_THAT(*TileIndexForDevice(s, 6), ElementsAre(0, 3));
  // f32[4,8] -> p = [2,2]; device 6 at (0,3): offset (0,6).
  auto m = ByDevice("f32[4,8]",
                    "{mesh['a'=2,'b'=4], [{'b':(2)2}, {'a', 'b':(1)2}]}");
  EXPECT_EQ(m[6], Shard(6, {0, 3}, {0, 6}, {2, 2}));
}

TEST(DeviceShardsTest, NamedReplicatedAxesAndDeviceIds) {
  // [{a}, {}] replicated={b} on mesh a=2, b=2: device 2pa + pb -> tile (pa,0).
  const HloSharding s = H("{mesh['a'=2,'b'=2], [{'a'}, {}], replicated={'b'}}");
  EXPECT_THAT(*DevicesForTile(s, {1, 0}), ElementsAre(2, 3));
  EXPECT_EQ(Sharded("f32[6,3]",
                    "{mesh['a'=2,'b'=2], [{'a'}, {}], "
                    "replicated={'b'}}"),
            "f32[3,3]{1,0}");
  // device_ids=(0,2,1,3): mesh position f holds ids[f]; x = f / 2. So x=0
  // is devices {0,2} and x=1 is {1,3}.
  const HloSharding ids =
      H("{mesh['x'=2,'y'=2], device_ids=(0,2,1,3), "
        "[{'x'}]}");
  EXPECT_THAT(*DevicesForTile(ids, {0}), ElementsAre(0, 2));
  EXPECT_THAT(*DevicesForTile(ids, {1}), ElementsAre(1, 3));
  // device_ids=([4,16]T(1,0)) over mesh a=2,b=4,c=4,d=2 (64 devices): the
  // transposed iota has dims [16,4] and holds j0 + 16 j1 at (j0,j1); mesh
  // position f = 4 j0 + j1; a = f / 32. So a=0 is j0 in 0..7: devices
  // {0..7, 16..23, 32..39, 48..55}; device 8 = (j0 8, j1 0), f = 32, a = 1.
  const HloSharding iota =
      H("{mesh['a'=2,'b'=4,'c'=4,'d'=2], "
        "device_ids=([4,16]T(1,0)), [{'a'}]}");
  std::vector<int64_t> a0;
  for (int64_t base : {0, 16, 32, 48}) {
    for (int64_t k = 0; k < 8; ++k) a0.push_back(base + k);
  }
  EXPECT_EQ(*DevicesForTile(iota, {0}), a0);
  EXPECT_THAT(*TileIndexForDevice(iota, 8), ElementsAre(1));
  EXPECT_THAT(*TileIndexForDevice(iota, 23), ElementsAre(0));
}

TEST(DeviceShardsTest, Rejections) {
  absl::StatusOr<std::vector<DeviceShard>> r =
      DeviceShards(S("(f32[2], f32[2])"), H("{replicated}"), 2);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("split tuples with LeafShardings"));
  r = DeviceShards(S("f32[2,2]"), H("{devices=[2]<=[2]}"));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("tiles 1 data dimension but shape f32[2,2]{1,0} has "
                        "rank 2"));
  // Device ids beyond the module's device count.
  r = DeviceShards(S("f32[4]"), H("{devices=[2]0,5}"), 4);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("device 5 is out of range for 4 devices (ids 0..3)"));
  EXPECT_EQ(TileIndexForDevice(H("{devices=[2]0,5}"), 3).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(
      std::string(
          DevicesForTile(H("{devices=[2]<=[2]}"), {2}).status().message()),
      HasSubstr("tile index [2] is outside the tile grid [2]"));
}

TEST(ValidateShardingTest, XlasChecks) {
  EXPECT_TRUE(
      ValidateSharding(H("{devices=[2,1]<=[2]}"), S("f32[4,4]"), 2).ok());
  EXPECT_TRUE(ValidateSharding(H("{replicated}"), S("f32[4,4]"), 8).ok());
  EXPECT_TRUE(ValidateSharding(H("{devices=[4]<=[4]}"), S("token[]"), 2).ok());
  EXPECT_TRUE(ValidateSharding(H("{{replicated}, {devices=[2]<=[2]}}"),
                               S("(f32[3], f32[4])"), 2)
                  .ok());
  auto message = [](const std::string& sharding, const std::string& shape,
                    std::optional<int64_t> n) {
    absl::Status s = ValidateSharding(H(sharding), S(shape), n);
    return s.ok() ? std::string("OK") : std::string(s.message());
  };
  EXPECT_EQ(message("{devices=[2]0,1}", "f32[4]", 4),
            "sharding {devices=[2]0,1} uses 2 devices but the module has 4 "
            "(num_partitions)");
  EXPECT_EQ(message("{devices=[2]0,7}", "f32[4]", 4),
            "sharding {devices=[2]0,7}: device 7 is out of range for 4 "
            "devices (ids 0..3)");
  EXPECT_EQ(message("{maximal device=4}", "f32[4]", 4),
            "sharding {maximal device=4}: device 4 is out of range for 4 "
            "devices (ids 0..3)");
  EXPECT_EQ(message("{maximal device=-1}", "f32[4]", std::nullopt),
            "sharding {maximal device=-1}: device -1 is negative");
  EXPECT_EQ(message("{devices=[2,1]<=[2]}", "f32[4]", 2),
            "sharding {devices=[2,1]<=[2]} tiles 2 data dimensions but shape "
            "f32[4]{0} has rank 1");
  EXPECT_EQ(message("{devices=[1]<=[1]}", "f32[4]", std::nullopt),
            "sharding {devices=[1]<=[1]} assigns a single device; XLA writes "
            "that as {replicated} or {maximal device=N}");
  EXPECT_EQ(
      message("{{replicated}, {devices=[2]<=[2]}}", "(f32[3], f32[4,4])", 2),
      "tuple leaf 1: sharding {devices=[2]<=[2]} tiles 1 data dimension "
      "but shape f32[4,4]{1,0} has rank 2");
  EXPECT_EQ(message("{mesh['x'=2,'y'=2], [{'x'}]}", "f32[4]", 8),
            "sharding {mesh['x'=2,'y'=2], [{'x'}]} uses 4 devices but the "
            "module has 8 (num_partitions)");
}

TEST(LeafShardingsTest, FlattensInPreOrder) {
  auto leaves = LeafShardings(S("((f32[2], f32[2]), f32[2])"),
                              H("{{replicated}, {manual}, {unknown}}"));
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 3u);
  EXPECT_EQ((*leaves)[1].ToString(), "{manual}");
  auto spread = LeafShardings(S("(f32[2], f32[2])"), H("{maximal device=1}"));
  ASSERT_TRUE(spread.ok());
  EXPECT_EQ(spread->size(), 2u);
}

TEST(TileCountsForShardExtentTest, InvertsTheCeilRule) {
  // 4096 / 512 = 8 exactly; ceil(4096/7) = 586 and ceil(4096/9) = 456.
  EXPECT_EQ(TileCountsForShardExtent(4096, 512), (TileCountRange{8, 8}));
  // ceil(10/4) = 3 and ceil(10/3) = 4, ceil(10/5) = 2: only t = 4.
  EXPECT_EQ(TileCountsForShardExtent(10, 3), (TileCountRange{4, 4}));
  // ceil(7/t) = 2 for t = 4, 5, 6 (7/4 = 1.75, 7/6 = 1.17; 7/3 = 2.33).
  EXPECT_EQ(TileCountsForShardExtent(7, 2), (TileCountRange{4, 6}));
  // Extent 1 for every t >= 7.
  EXPECT_EQ(TileCountsForShardExtent(7, 1),
            (TileCountRange{7, std::numeric_limits<int64_t>::max()}));
  // ceil(10/1) = 10 and ceil(10/2) = 5: no t gives 6.
  EXPECT_EQ(TileCountsForShardExtent(10, 6), std::nullopt);
  EXPECT_EQ(TileCountsForShardExtent(10, 11), std::nullopt);
  EXPECT_EQ(TileCountsForShardExtent(10, 10), (TileCountRange{1, 1}));
  EXPECT_EQ(TileCountsForShardExtent(0, 0),
            (TileCountRange{1, std::numeric_limits<int64_t>::max()}));
  EXPECT_EQ(TileCountsForShardExtent(0, 1), std::nullopt);
  EXPECT_EQ(TileCountsForShardExtent(5, 0), std::nullopt);
  // Every t in the range, and only those, reproduces the extent.
  for (int64_t g = 1; g <= 40; ++g) {
    for (int64_t sh = 1; sh <= 41; ++sh) {
      std::optional<TileCountRange> r = TileCountsForShardExtent(g, sh);
      for (int64_t t = 1; t <= 50; ++t) {
        const bool fits = (g + t - 1) / t == sh;
        const bool in = r.has_value() && t >= r->min && t <= r->max;
        EXPECT_EQ(fits, in) << "global " << g << " shard " << sh << " t " << t;
      }
    }
  }
}

TEST(DumpStageTest, Classification) {
  DumpStageFacts f;
  f.num_partitions = 1;
  EXPECT_EQ(ClassifyDumpStage(f).stage, DumpStage::kSinglePartition);

  f.num_partitions = 8;
  f.file_name = "module_0001.jit_step.before_optimizations.txt";
  DumpStageVerdict v = ClassifyDumpStage(f);
  EXPECT_EQ(v.stage, DumpStage::kBeforePartitioning);
  EXPECT_TRUE(v.certain);
  EXPECT_THAT(v.reason, HasSubstr("before_optimizations"));

  f.file_name = "module_0001.jit_step.tpu_after_optimizations.txt";
  EXPECT_EQ(ClassifyDumpStage(f).stage, DumpStage::kAfterPartitioning);

  f.file_name = "dump.txt";
  f.sharding_outside_entry_parameters = true;
  f.entry_parameter_shardings = true;
  v = ClassifyDumpStage(f);
  EXPECT_EQ(v.stage, DumpStage::kBeforePartitioning);
  EXPECT_TRUE(v.certain);

  f.sharding_outside_entry_parameters = false;
  v = ClassifyDumpStage(f);
  EXPECT_EQ(v.stage, DumpStage::kAfterPartitioning);
  EXPECT_FALSE(v.certain);

  // Cut short inside ENTRY, the absence of other shardings proves nothing.
  f.truncated = true;
  v = ClassifyDumpStage(f);
  EXPECT_EQ(v.stage, DumpStage::kUnknown);
  EXPECT_THAT(v.reason, HasSubstr("ends inside ENTRY"));
  f.sharding_outside_entry_parameters = true;
  EXPECT_EQ(ClassifyDumpStage(f).stage, DumpStage::kBeforePartitioning);
  f.sharding_outside_entry_parameters = false;
  f.truncated = false;

  f.entry_parameter_shardings = false;
  v = ClassifyDumpStage(f);
  EXPECT_EQ(v.stage, DumpStage::kUnknown);
  EXPECT_EQ(DumpStageName(DumpStage::kAfterPartitioning),
            "after SPMD partitioning");
}

TEST(DumpStageTest, JsonKeysRoundTrip) {
  for (DumpStage stage :
       {DumpStage::kUnknown, DumpStage::kSinglePartition,
        DumpStage::kBeforePartitioning, DumpStage::kAfterPartitioning}) {
    EXPECT_EQ(DumpStageFromKey(DumpStageKey(stage)), stage);
  }
  EXPECT_EQ(DumpStageKey(DumpStage::kBeforePartitioning),
            "before_spmd_partitioning");
  EXPECT_EQ(DumpStageFromKey("before SPMD partitioning"), std::nullopt);
}

ShardingChangeQuery Query(std::vector<int64_t> expected,
                          std::vector<int64_t> actual) {
  ShardingChangeQuery q;
  q.expected_dims = std::move(expected);
  q.actual_dims = std::move(actual);
  return q;
}

// The example: a global f32[1024,16384] is [1024,2048] per device
// under devices=[1,8] and [1024,4096] under [1,4].
TEST(InferPartitionCountChangeTest, BothShardingsKnown) {
  ShardingChangeQuery q = Query({1024, 2048}, {1024, 4096});
  q.expected_sharding = H("{devices=[1,8]<=[8]}");
  q.actual_sharding = H("{devices=[1,4]<=[4]}");
  std::optional<PartitionCountChange> c = InferPartitionCountChange(q);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->message,
            "dim 1 is 2048 on the expected side and 4096 on the actual one: "
            "this matches devices=[1,8] against [1,4], a different partition "
            "count");
  ASSERT_EQ(c->dims.size(), 1u);
  EXPECT_EQ(c->dims[0].dim, 1);
  EXPECT_EQ(c->dims[0].expected_tiles, (TileCountRange{8, 8}));
  EXPECT_EQ(c->dims[0].actual_tiles, (TileCountRange{4, 4}));
  // ceil(G/8) == 2048 for G in [16377, 16384]; ceil(G/4) == 4096 for G in
  // [16381, 16384].
  EXPECT_EQ(c->dims[0].global, (TileCountRange{16381, 16384}));
  EXPECT_FALSE(c->example_only);
}

TEST(InferPartitionCountChangeTest, OneShardingKnownPinsTheOther) {
  // G in [16377, 16384] (from 8 tiles of 2048); 4096 = ceil(G/t) only for
  // t = 4 there.
  ShardingChangeQuery q = Query({1024, 2048}, {1024, 4096});
  q.expected_sharding = H("{devices=[1,8]<=[8]}");
  std::optional<PartitionCountChange> c = InferPartitionCountChange(q);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->expected_tiles_text, "devices=[1,8]");
  EXPECT_EQ(c->actual_tiles_text, "[1,4]");
  EXPECT_EQ(c->dims[0].actual_tiles, (TileCountRange{4, 4}));
}

TEST(InferPartitionCountChangeTest, UnevenShardsWithAKnownGlobal) {
  // f32[10,7] over devices=[4,2]: every device holds [3,4]. A device of a
  // 2-way split along dim 0 holds 5 rows: ceil(10/2) = 5.
  ShardingChangeQuery q = Query({3, 4}, {5, 4});
  q.expected_sharding = H("{devices=[4,2]<=[8]}");
  q.global_dims = std::vector<int64_t>{10, 7};
  std::optional<PartitionCountChange> c = InferPartitionCountChange(q);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->message,
            "dim 0 is 3 on the expected side and 5 on the actual one: this "
            "matches devices=[4,2] against [2,2], a different partition "
            "count");
  EXPECT_EQ(c->dims[0].global, (TileCountRange{10, 10}));
}

TEST(InferPartitionCountChangeTest, RangeOfCountsAgainstAGlobalArray) {
  // Global 7 and per-device 2: ceil(7/t) == 2 for t = 4, 5, 6.
  ShardingChangeQuery q = Query({2}, {7});
  q.actual_per_device = false;
  q.global_dims = std::vector<int64_t>{7};
  std::optional<PartitionCountChange> c = InferPartitionCountChange(q);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->dims[0].expected_tiles, (TileCountRange{4, 6}));
  EXPECT_EQ(c->message,
            "dim 0 is 2 on the expected side and 7 on the actual one: this "
            "matches devices=[4–6] against [1], a different partition count");
}

TEST(InferPartitionCountChangeTest, NothingKnownGivesTheSmallestExample) {
  std::optional<PartitionCountChange> c =
      InferPartitionCountChange(Query({1024, 2048}, {1024, 4096}));
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->example_only);
  EXPECT_EQ(c->message,
            "dim 1 is 2048 on the expected side and 4096 on the actual one: "
            "this matches devices=[1,2] against [1,1] (or other counts in "
            "that ratio), a different partition count");
  // 1000 against 250: 4 times as many partitions on the actual side.
  c = InferPartitionCountChange(Query({1000}, {250}));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->expected_tiles_text, "devices=[1]");
  EXPECT_EQ(c->actual_tiles_text, "[4]");
  EXPECT_EQ(c->dims[0].global, (TileCountRange{1000, 1000}));
  // 16 against 12 is no whole ratio: a partial batch, not a sharding.
  EXPECT_FALSE(InferPartitionCountChange(Query({16}, {12})).has_value());
}

TEST(InferPartitionCountChangeTest, NotAPartitionCountChange) {
  // The same count on both sides cannot give two extents of one global.
  ShardingChangeQuery q = Query({10}, {20});
  q.expected_sharding = H("{devices=[2]<=[2]}");
  q.actual_sharding = H("{devices=[2]<=[2]}");
  EXPECT_FALSE(InferPartitionCountChange(q).has_value());
  // A shard larger than the global array.
  q = Query({50}, {200});
  q.expected_sharding = H("{devices=[2]<=[2]}");
  q.global_dims = std::vector<int64_t>{100};
  EXPECT_FALSE(InferPartitionCountChange(q).has_value());
  // Both global: the arrays themselves differ.
  q = Query({100}, {200});
  q.expected_per_device = q.actual_per_device = false;
  EXPECT_FALSE(InferPartitionCountChange(q).has_value());
  // Rank change, no change, a zero extent, a sharding of another rank.
  EXPECT_FALSE(InferPartitionCountChange(Query({4, 4}, {4})).has_value());
  EXPECT_FALSE(InferPartitionCountChange(Query({4, 4}, {4, 4})).has_value());
  EXPECT_FALSE(InferPartitionCountChange(Query({0}, {4})).has_value());
  q = Query({4, 4}, {4, 8});
  q.expected_sharding = H("{devices=[2]<=[2]}");
  EXPECT_FALSE(InferPartitionCountChange(q).has_value());
}

}  // namespace
}  // namespace xlayout
