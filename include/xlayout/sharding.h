// HLO shardings as XLA prints them in HLO dumps (`sharding={...}`), and the
// per-device shapes and device assignments they imply.
//
// Every form XLA's HloSharding::Print and NamedSharding::ToString produce is
// parsed and printed back byte for byte (see docs/sharding.md for the sources):
//   {replicated} {manual} {unknown} {unreduced} {maximal device=N}
//   {devices=[2,4]0,1,2,3,4,5,6,7}          explicit tile assignment
//   {devices=[2,4]<=[8]}  {devices=[2,4]<=[4,2]T(1,0)}   iota forms
//   ... last_tile_dim_replicate / last_tile_dims={manual, replicated}
//   ... shard_as N / shard_like N / metadata={...}
//   {{replicated}, {devices=[2,1]<=[2]}}    tuple shardings
//   {mesh['x'=2,'y'=4], [{'x'}, {}], replicated={'y'}}   named (mesh) form
//
// Per-device shapes follow XLA's HloSharding::TileShape: each sharded dim is
// split into tiles of ceil(dim / tiles) elements; the buffer every device
// holds has that padded extent, and the last devices along a dim may hold
// fewer real elements (or none).
#ifndef XLAYOUT_SHARDING_H_
#define XLAYOUT_SHARDING_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/shape.h"

namespace xlayout {

// The most devices a tile assignment or mesh may name. The device list is
// materialised, so untrusted text like `devices=[1000000000]<=[1000000000]`
// is refused instead of allocating gigabytes. Real TPU and GPU programs use
// at most a few tens of thousands.
inline constexpr int64_t kMaxShardingDevices = int64_t{1} << 20;

// The kinds a `last_tile_dims={...}` entry names (XLA's OpSharding::Type).
enum class SubgroupType { kManual, kReplicated, kUnreduced, kMaximal };

// XLA's printed name: "manual", "replicated", "unreduced", "maximal".
absl::string_view SubgroupTypeName(SubgroupType type);

// An N-dimensional array of device ids, stored row-major, written either as
// an explicit list or as an iota reshaped to `reshape_dims`, transposed by
// `transpose_perm` and reshaped to `dims` (XLA's IotaTileAssignment).
class TileAssignment {
 public:
  // `devices` row-major over `dims`; ids must be >= 0 and distinct.
  static absl::StatusOr<TileAssignment> Explicit(std::vector<int64_t> dims,
                                                 std::vector<int64_t> devices);
  // Devices 0..N-1 laid out as iota(reshape_dims).transpose(perm)
  // .reshape(dims). `perm` must be a permutation of 0..reshape_dims.size()-1
  // and the products of `dims` and `reshape_dims` must agree.
  static absl::StatusOr<TileAssignment> Iota(std::vector<int64_t> dims,
                                             std::vector<int64_t> reshape_dims,
                                             std::vector<int64_t> perm);

  absl::Span<const int64_t> dims() const { return dims_; }
  int64_t num_devices() const { return static_cast<int64_t>(devices_.size()); }
  // The device at each position, row-major over dims() (materialised).
  absl::Span<const int64_t> devices() const { return devices_; }
  int64_t device_at(absl::Span<const int64_t> index) const;

  bool is_iota() const { return is_iota_; }
  absl::Span<const int64_t> iota_reshape_dims() const { return reshape_dims_; }
  absl::Span<const int64_t> iota_transpose_perm() const { return perm_; }

  // XLA's TileAssignment::Print without the "devices=" prefix:
  // "[2,2]0,1,2,3", "[4]<=[4]", "[2,2]<=[2,2]T(1,0)".
  std::string ToString() const;
  // Only the array part: "0,1,2,3", "[4]", "[2,2]T(1,0)" (XLA's
  // ArrayToString, used inside a mesh's device_ids=(...)).
  std::string ArrayToString() const;

  // Same dims and the same device at every position (an iota and the
  // explicit list it expands to are equal, as in XLA).
  friend bool operator==(const TileAssignment& a, const TileAssignment& b) {
    return a.dims_ == b.dims_ && a.devices_ == b.devices_;
  }

 private:
  std::vector<int64_t> dims_;
  std::vector<int64_t> devices_;
  bool is_iota_ = false;
  std::vector<int64_t> reshape_dims_;
  std::vector<int64_t> perm_;
};

// The newer named-axis ("V3", Shardy) form XLA prints as
//   {mesh['a'=2,'b'=4], [{'a'}, {'b':(2)2, ?}], replicated={...},
//    unreduced={...}, manual={...}, metadata={...}}
//   {maximal_mesh[device_id=5]}
// Axis names are printed quoted by current XLA and bare by older 2025
// versions; both are read and printed back as read.
struct MeshAxis {
  std::string name;
  int64_t size = 0;
  friend bool operator==(const MeshAxis&, const MeshAxis&) = default;
};

// One mesh axis, or the sub-axis `name:(pre_size)size` of it: the axis of
// size n split major-to-minor into [pre_size, size, n / (pre_size * size)],
// taking the middle part.
struct AxisRef {
  int64_t axis = 0;      // Index into the mesh axes.
  int64_t pre_size = 0;  // 0 for a full axis.
  int64_t sub_size = 0;  // 0 for a full axis.
  bool is_sub_axis() const { return sub_size != 0; }
  friend bool operator==(const AxisRef&, const AxisRef&) = default;
};

struct DimSharding {
  std::vector<AxisRef> axes;  // Major to minor.
  bool open = false;          // Printed with a trailing `?`.
  friend bool operator==(const DimSharding&, const DimSharding&) = default;
};

struct NamedSharding {
  enum class Body { kReplicated, kUnreduced, kManual, kDims, kMaximal };
  std::vector<MeshAxis> mesh;
  bool quoted_names = true;
  // device_ids=(...): the mesh's devices, row-major over the axis sizes;
  // absent means iota 0..N-1.
  std::optional<TileAssignment> device_ids;
  int64_t maximal_device = 0;  // For Body::kMaximal (maximal_mesh[...]).
  Body body = Body::kReplicated;
  std::vector<DimSharding> dims;  // Body::kDims; empty means all replicated.
  std::vector<AxisRef> replicated_axes;
  std::vector<AxisRef> unreduced_axes;
  std::vector<AxisRef> manual_axes;
  friend bool operator==(const NamedSharding&, const NamedSharding&) = default;
};

class HloSharding {
 public:
  enum class Type {
    kReplicated,
    kMaximal,
    kManual,
    kUnknown,
    kUnreduced,
    kTiled,  // devices=...
    kNamed,  // mesh[...] / maximal_mesh[...]
    kTuple,
  };
  enum class ShardGroup { kNone, kAs, kLike };

  HloSharding() = default;  // {replicated}
  static HloSharding Replicate();
  static HloSharding Manual();
  static HloSharding Unknown();
  static HloSharding Unreduced();
  static HloSharding Maximal(int64_t device);
  // `subgroup_types` (last_tile_dims) and `last_tile_dim_replicate` are
  // exclusive; the trailing dims they name must exist.
  static absl::StatusOr<HloSharding> Tiled(
      TileAssignment tiles, bool last_tile_dim_replicate = false,
      std::vector<SubgroupType> subgroup_types = {});
  static absl::StatusOr<HloSharding> Named(NamedSharding named);
  static HloSharding Tuple(std::vector<HloSharding> elements);

  Type type() const { return type_; }
  bool IsTuple() const { return type_ == Type::kTuple; }
  // Tiled over data dims (devices=... or a named sharding with dim axes).
  bool IsTiled() const;
  absl::Span<const HloSharding> tuple_elements() const { return elements_; }

  // kMaximal: the device; kNamed maximal_mesh: its device_id.
  int64_t maximal_device() const { return maximal_device_; }
  // kTiled only.
  const TileAssignment& tile_assignment() const { return tiles_; }
  bool replicate_on_last_tile_dim() const { return last_tile_replicate_; }
  absl::Span<const SubgroupType> subgroup_types() const {
    return subgroup_types_;
  }
  // kNamed only.
  const NamedSharding& named() const { return named_; }

  // shard_as N / shard_like N (not for tuples or named shardings).
  ShardGroup shard_group() const { return shard_group_; }
  int64_t shard_group_id() const { return shard_group_id_; }
  void set_shard_group(ShardGroup group, int64_t id);

  // The text inside `metadata={...}`, kept verbatim (e.g.
  // `op_name="jit(f)/x" source_file="a.py" source_line=3`); empty if none.
  const std::string& metadata() const { return metadata_; }
  void set_metadata(std::string metadata) { metadata_ = std::move(metadata); }

  // Leaf properties (not for tuples). The number of data dims the sharding
  // tiles; -1 when it applies to any rank (replicated, maximal, manual,
  // unknown, unreduced, and named shardings without dim axes).
  int64_t TiledDataRank() const;
  // Tiles along each data dim (size TiledDataRank()); empty when untiled.
  std::vector<int64_t> TileCounts() const;
  // Devices the sharding names: the tile assignment's or the mesh's size, 1
  // for maximal; nullopt for replicated, manual, unknown and unreduced, which
  // take the count from the module's num_partitions.
  std::optional<int64_t> NumDevices() const;

  // XLA's HloSharding::ToString(include_metadata): the exact text XLA prints.
  std::string ToString(bool include_metadata = true) const;

  // Like XLA's HloSharding::operator==: metadata is ignored.
  friend bool operator==(const HloSharding& a, const HloSharding& b);

 private:
  Type type_ = Type::kReplicated;
  std::vector<HloSharding> elements_;
  int64_t maximal_device_ = 0;
  TileAssignment tiles_;
  bool last_tile_replicate_ = false;
  std::vector<SubgroupType> subgroup_types_;
  NamedSharding named_;
  ShardGroup shard_group_ = ShardGroup::kNone;
  int64_t shard_group_id_ = 0;
  std::string metadata_;
};

// Parses one sharding: the text of `sharding={...}` from `{` to its matching
// `}` inclusive, e.g. `{devices=[2,1]<=[2]}`. Whitespace and /*...*/
// comments may appear between tokens (XLA prints /*index=5*/ in tuples).
// Errors are INVALID_ARGUMENT "col N: what was expected, got what".
absl::StatusOr<HloSharding> ParseHloSharding(absl::string_view text);
// Parses one sharding at the start of `text` (after optional whitespace) and
// stores in `*consumed` the bytes read, for readers that find it inside an
// HLO instruction line.
absl::StatusOr<HloSharding> ParseHloShardingPrefix(absl::string_view text,
                                                   size_t* consumed);

// XLA's ValidateNonTuple/ValidateTuple: the sharding fits `shape` (tuple
// leaves match, the tiled data rank equals the array rank) and, when
// `num_devices` is given (the module's num_partitions), every device id is
// below it and a tiled sharding uses exactly that many devices.
absl::Status ValidateSharding(
    const HloSharding& sharding, const Shape& shape,
    std::optional<int64_t> num_devices = std::nullopt);

// The sharding of every array leaf of `shape`, in pre-order (XLA's flattened
// tuple shardings): a tuple sharding gives one per leaf, any other sharding
// applies to all leaves.
absl::StatusOr<std::vector<HloSharding>> LeafShardings(
    const Shape& shape, const HloSharding& sharding);

// The per-device shape XLA gives a buffer of global shape `global` under
// `sharding` (HloSharding::TileShape / spmd::MakePartitionedShape): each
// sharded dim becomes ceil(dim / tiles), dynamic flags and the layout are
// kept. Replicated, maximal, manual, unknown and unreduced leave the shape as
// it is. Tuples are sharded leaf by leaf.
absl::StatusOr<Shape> ShardShape(const Shape& global,
                                 const HloSharding& sharding);

// What one device holds of a sharded array.
struct DeviceShard {
  int64_t device = 0;
  // Tile index along each data dim (empty when the array is not tiled).
  std::vector<int64_t> tile_index;
  // Start of the device's part of the global array, per dim.
  std::vector<int64_t> offset;
  // Real (unpadded) elements it holds per dim: min(dim, offset + padded) -
  // offset, where padded is the ShardShape extent. Smaller than the padded
  // extent (possibly 0) for the last tiles of an uneven dim.
  std::vector<int64_t> extent;
  friend bool operator==(const DeviceShard&, const DeviceShard&) = default;
};

// Every device's shard of an array of shape `global` (one leaf: not a
// tuple), sorted by device id. Shardings that name no devices (replicated,
// manual, unknown, unreduced) need `num_devices`, the module's
// num_partitions; each device then holds the whole array.
absl::StatusOr<std::vector<DeviceShard>> DeviceShards(
    const Shape& global, const HloSharding& sharding,
    std::optional<int64_t> num_devices = std::nullopt);

// Tile index (data dims) of `device` under a tiled leaf sharding; NotFound
// if the device holds no tile, InvalidArgument if the sharding is not tiled.
absl::StatusOr<std::vector<int64_t>> TileIndexForDevice(
    const HloSharding& sharding, int64_t device);
// Every device holding tile `tile_index`, ascending (more than one under
// partial replication or manual subgroups).
absl::StatusOr<std::vector<int64_t>> DevicesForTile(
    const HloSharding& sharding, absl::Span<const int64_t> tile_index);

// The tile counts t >= 1 for which XLA's per-device extent ceil(global / t)
// equals `shard`, as an inclusive range (max is INT64_MAX when unbounded);
// nullopt when no count gives that extent. For telling which partition
// count a per-device dim implies: global 4096 and shard 512 give [8, 8];
// global 7 and shard 2 give [4, 6].
struct TileCountRange {
  int64_t min = 1;
  int64_t max = 1;
  friend bool operator==(const TileCountRange&,
                         const TileCountRange&) = default;
};
std::optional<TileCountRange> TileCountsForShardExtent(int64_t global,
                                                       int64_t shard);

// Which side of SPMD partitioning an HLO dump was taken on. Before it,
// parameter shapes are global and `sharding=` says how they will be split;
// after it, parameter shapes are already per-device (XLA keeps the
// annotation on entry parameters).
enum class DumpStage {
  kUnknown,
  kSinglePartition,     // num_partitions is 1: global == per-device.
  kBeforePartitioning,  // Shapes are global.
  kAfterPartitioning,   // Shapes are per-device.
};
absl::string_view DumpStageName(DumpStage stage);
// Stable lower-case keys for JSON: "unknown", "single_partition",
// "before_spmd_partitioning", "after_spmd_partitioning".
absl::string_view DumpStageKey(DumpStage stage);
std::optional<DumpStage> DumpStageFromKey(absl::string_view key);

// What a reader of an HLO dump can observe to tell the stage apart. XLA's
// module header prints no partitioning flag, so the verdict comes from the
// dump's file name, num_partitions and where `sharding=` appears.
struct DumpStageFacts {
  // The dump's file name; XLA names the two ends of compilation
  // "...before_optimizations.txt" and "...after_optimizations.txt".
  std::string file_name;
  int64_t num_partitions = 1;  // Module header num_partitions= (absent: 1).
  // Some instruction other than an entry parameter, infeed, outfeed, send or
  // recv carries `sharding=`. The SPMD partitioner clears all of those.
  bool sharding_outside_entry_parameters = false;
  // Some entry parameter carries `sharding=`.
  bool entry_parameter_shardings = false;
  // The dump ends inside ENTRY (cut short): the instructions whose
  // `sharding=` would show a dump before partitioning may be missing, so
  // their absence proves nothing.
  bool truncated = false;
};
struct DumpStageVerdict {
  DumpStage stage = DumpStage::kUnknown;
  // False when the verdict rests on the absence of evidence.
  bool certain = false;
  std::string reason;
};
DumpStageVerdict ClassifyDumpStage(const DumpStageFacts& facts);

// Recognising a sharding change from two shapes' dims. A buffer made for
// one partition count and fed to a program compiled for another differs in
// the sharded dims: f32[1024,2048] per device under devices=[1,8] is
// f32[1024,4096] under devices=[1,4] (both from a global f32[1024,16384]).
struct ShardingChangeQuery {
  // The dims compared (same rank), as each side holds them.
  std::vector<int64_t> expected_dims;
  std::vector<int64_t> actual_dims;
  // Whether each side's dims are one device's shard (true) or a whole,
  // global array (false: tile count 1 along every dim).
  bool expected_per_device = true;
  bool actual_per_device = true;
  // Leaf shardings, when known, for the per-device sides: they fix the tile
  // count along every dim. Unknown sides may have any count.
  std::optional<HloSharding> expected_sharding;
  std::optional<HloSharding> actual_sharding;
  // The global dims both sides are cut from, when known.
  std::optional<std::vector<int64_t>> global_dims;
};

// One differing dim and the tile counts along it that explain it: some
// global extent in [global.min, global.max] gives ceil(global / t) equal to
// each side's extent for t in that side's range.
struct PartitionCountDim {
  int64_t dim = 0;
  int64_t expected_extent = 0;
  int64_t actual_extent = 0;
  TileCountRange expected_tiles;
  TileCountRange actual_tiles;
  TileCountRange global;
};

struct PartitionCountChange {
  std::vector<PartitionCountDim> dims;  // Every differing dim, ascending.
  // Tile counts along every dim ("devices=[1,8]" and "[1,4]" as printed):
  // the differing dims' counts, and for the others the known count (1 when
  // unknown). A range prints as "3–4".
  std::string expected_tiles_text;  // "devices=[1,8]"
  std::string actual_tiles_text;    // "[1,4]"
  // Neither side's sharding nor the global dims were known: the counts are
  // one example of a family (any multiple of the ratio fits too).
  bool example_only = false;
  // "dim 1 is 2048 on the expected side and 4096 on the actual one: this
  // matches devices=[1,8] against [1,4], a different partition count"
  std::string message;
};

// Whether a different number of partitions along the differing dims
// explains the difference between `expected_dims` and `actual_dims` (XLA's
// per-device extent ceil(global / tiles), uneven shards included). nullopt
// when the ranks differ, no dim differs, a differing extent is 0, or no
// tile counts within the known facts reproduce both extents from one global
// extent. When nothing pins the counts down (no sharding, no global dims),
// only a whole ratio k between the extents counts, and k against 1 is named
// as an example (example_only): any two extents fit some pair of counts.
std::optional<PartitionCountChange> InferPartitionCountChange(
    const ShardingChangeQuery& query);

}  // namespace xlayout

#endif  // XLAYOUT_SHARDING_H_
