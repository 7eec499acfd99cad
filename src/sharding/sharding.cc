// The sharding model, its printer (XLA's HloSharding::Print and
// NamedSharding::ToString), and what a sharding implies for each device:
// shard shapes (HloSharding::TileShape), tile offsets and real extents
// (TileOffsetForDevice / TileLimitForDevice) and the device <-> tile maps.
#include "xlayout/sharding.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/checked_math.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

// Product of `dims`, or an error naming `what` if it overflows int64 or
// exceeds kMaxShardingDevices. Every dim must be >= 1.
absl::StatusOr<int64_t> DeviceProduct(absl::Span<const int64_t> dims,
                                      absl::string_view what) {
  int64_t product = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " [", absl::StrJoin(dims, ","), "]: dimension ", i, " is ",
          dims[i], "; every dimension must be at least 1"));
    }
    std::optional<int64_t> next = CheckedMul(product, dims[i]);
    if (!next.has_value() || *next > kMaxShardingDevices) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " [", absl::StrJoin(dims, ","), "] names more than ",
          kMaxShardingDevices, " devices (the most xlayout accepts)"));
    }
    product = *next;
  }
  return product;
}

// Advances a row-major multi-index over `dims`; false after the last one.
bool NextIndex(std::vector<int64_t>& index, absl::Span<const int64_t> dims) {
  for (size_t i = index.size(); i-- > 0;) {
    if (++index[i] < dims[i]) return true;
    index[i] = 0;
  }
  return false;
}

std::string AxisName(const NamedSharding& n, int64_t axis) {
  const std::string& name = n.mesh[axis].name;
  return n.quoted_names ? absl::StrCat("'", name, "'") : name;
}

std::string AxisRefText(const NamedSharding& n, const AxisRef& ref) {
  std::string out = AxisName(n, ref.axis);
  if (ref.is_sub_axis()) {
    absl::StrAppend(&out, ":(", ref.pre_size, ")", ref.sub_size);
  }
  return out;
}

std::string AxisRefsText(const NamedSharding& n,
                         absl::Span<const AxisRef> refs) {
  return absl::StrJoin(refs, ", ", [&](std::string* out, const AxisRef& r) {
    out->append(AxisRefText(n, r));
  });
}

// Size of one axis ref in the mesh.
int64_t RefSize(const NamedSharding& n, const AxisRef& ref) {
  return ref.is_sub_axis() ? ref.sub_size : n.mesh[ref.axis].size;
}

// The coordinate of a mesh position along `ref`: the full axis coordinate,
// or its digit when the axis of size s is split major-to-minor into
// [pre_size, sub_size, s / (pre_size * sub_size)].
int64_t RefCoordinate(const NamedSharding& n, const AxisRef& ref,
                      absl::Span<const int64_t> mesh_index) {
  const int64_t c = mesh_index[ref.axis];
  if (!ref.is_sub_axis()) return c;
  const int64_t stride = n.mesh[ref.axis].size / (ref.pre_size * ref.sub_size);
  return (c / stride) % ref.sub_size;
}

std::vector<int64_t> MeshSizes(const NamedSharding& n) {
  std::vector<int64_t> sizes;
  for (const MeshAxis& a : n.mesh) sizes.push_back(a.size);
  return sizes;
}

// Calls f(device, tile_index) for every device of a tiled leaf sharding.
absl::Status EachTile(
    const HloSharding& s,
    absl::FunctionRef<void(int64_t, absl::Span<const int64_t>)> f) {
  if (s.type() == HloSharding::Type::kTiled) {
    const TileAssignment& t = s.tile_assignment();
    const int64_t rank = s.TiledDataRank();
    std::vector<int64_t> index(t.dims().size(), 0);
    for (int64_t flat = 0; flat < t.num_devices(); ++flat) {
      f(t.devices()[flat], absl::MakeConstSpan(index).subspan(0, rank));
      NextIndex(index, t.dims());
    }
    return absl::OkStatus();
  }
  if (s.type() == HloSharding::Type::kNamed && s.IsTiled()) {
    const NamedSharding& n = s.named();
    const std::vector<int64_t> sizes = MeshSizes(n);
    std::vector<int64_t> mesh_index(sizes.size(), 0);
    std::vector<int64_t> tile(n.dims.size(), 0);
    const int64_t count = *s.NumDevices();
    for (int64_t flat = 0; flat < count; ++flat) {
      for (size_t d = 0; d < n.dims.size(); ++d) {
        int64_t t = 0;
        for (const AxisRef& ref : n.dims[d].axes) {
          t = t * RefSize(n, ref) + RefCoordinate(n, ref, mesh_index);
        }
        tile[d] = t;
      }
      const int64_t device =
          n.device_ids.has_value() ? n.device_ids->devices()[flat] : flat;
      f(device, tile);
      NextIndex(mesh_index, sizes);
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("sharding ", s.ToString(false),
                   " does not tile the array into per-device pieces"));
}

// Every device a leaf sharding names, for the untiled kinds.
std::vector<int64_t> NamedDevices(const NamedSharding& n) {
  if (n.body == NamedSharding::Body::kMaximal) return {n.maximal_device};
  if (n.device_ids.has_value()) {
    return std::vector<int64_t>(n.device_ids->devices().begin(),
                                n.device_ids->devices().end());
  }
  int64_t count = 1;
  for (const MeshAxis& a : n.mesh) count *= a.size;
  if (n.mesh.empty()) count = 0;
  std::vector<int64_t> devices(count);
  for (int64_t i = 0; i < count; ++i) devices[i] = i;
  return devices;
}

int64_t LeafCount(const Shape& shape) {
  if (!shape.IsTuple()) return 1;
  int64_t count = 0;
  for (const Shape& e : shape.tuple_shapes()) count += LeafCount(e);
  return count;
}

// The array a leaf sharding applies to: the array itself, or the array of a
// b(...) buffer. Null for tokens and opaque values, which are not sharded.
const Shape* LeafArray(const Shape& shape) {
  if (shape.IsBuffer()) return &shape.buffer_shape();
  if (shape.IsArray()) return &shape;
  return nullptr;
}

absl::Status CheckRank(const HloSharding& s, const Shape& array) {
  const int64_t rank = s.TiledDataRank();
  if (rank >= 0 && rank != array.rank()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sharding ", s.ToString(false), " tiles ", rank,
                     " data dimension", rank == 1 ? "" : "s", " but shape ",
                     array.ToString(), " has rank ", array.rank()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Shape> ShardArray(const Shape& array, const HloSharding& s) {
  XLAYOUT_RETURN_IF_ERROR(CheckRank(s, array));
  const std::vector<int64_t> counts = s.TileCounts();
  Shape out = array;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (array.is_unbounded_dynamic_dimension(i)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dimension ", i, " of ", array.ToString(),
                       " is unbounded (?): its per-device extent under ",
                       s.ToString(false), " is not known"));
    }
    out.set_dimension(i, CeilDiv(array.dimensions(i), counts[i]),
                      array.is_dynamic_dimension(i));
  }
  return out;
}

absl::StatusOr<Shape> ShardLeaf(const Shape& shape, const HloSharding& s) {
  if (s.IsTuple()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tuple sharding ", s.ToString(false),
                     " on non-tuple shape ", shape.ToString()));
  }
  if (shape.IsBuffer()) {
    XLAYOUT_ASSIGN_OR_RETURN(Shape inner, ShardArray(shape.buffer_shape(), s));
    return Shape::MakeBuffer(std::move(inner));
  }
  if (!shape.IsArray()) return shape;
  return ShardArray(shape, s);
}

absl::StatusOr<Shape> ShardRecursive(const Shape& shape,
                                     absl::Span<const HloSharding> leaves,
                                     size_t* next) {
  if (!shape.IsTuple()) return ShardLeaf(shape, leaves[(*next)++]);
  std::vector<Shape> elements;
  for (const Shape& e : shape.tuple_shapes()) {
    XLAYOUT_ASSIGN_OR_RETURN(Shape sharded, ShardRecursive(e, leaves, next));
    elements.push_back(std::move(sharded));
  }
  return Shape::MakeTuple(std::move(elements));
}

absl::Status DeviceInRange(int64_t device, std::optional<int64_t> num_devices,
                           const HloSharding& s) {
  if (device < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sharding ", s.ToString(false), ": device ", device, " is negative"));
  }
  if (num_devices.has_value() && device >= *num_devices) {
    return absl::InvalidArgumentError(
        absl::StrCat("sharding ", s.ToString(false), ": device ", device,
                     " is out of range for ", *num_devices, " devices (ids 0..",
                     *num_devices - 1, ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLeaf(const HloSharding& s, const Shape& shape,
                          std::optional<int64_t> num_devices) {
  if (s.IsTuple()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tuple sharding ", s.ToString(false),
                     " on non-tuple shape ", shape.ToString()));
  }
  const Shape* array = LeafArray(shape);
  if (array == nullptr) return absl::OkStatus();
  switch (s.type()) {
    case HloSharding::Type::kReplicated:
    case HloSharding::Type::kManual:
    case HloSharding::Type::kUnknown:
    case HloSharding::Type::kUnreduced:
      return absl::OkStatus();
    case HloSharding::Type::kMaximal:
      return DeviceInRange(s.maximal_device(), num_devices, s);
    default:
      break;
  }
  XLAYOUT_RETURN_IF_ERROR(CheckRank(s, *array));
  if (s.type() == HloSharding::Type::kNamed &&
      s.named().body == NamedSharding::Body::kMaximal) {
    return DeviceInRange(s.maximal_device(), num_devices, s);
  }
  std::optional<int64_t> used = s.NumDevices();
  if (s.type() == HloSharding::Type::kTiled && used.value_or(0) == 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sharding ", s.ToString(false),
        " assigns a single device; XLA writes that as {replicated} or "
        "{maximal device=N}"));
  }
  std::vector<int64_t> devices =
      s.type() == HloSharding::Type::kTiled
          ? std::vector<int64_t>(s.tile_assignment().devices().begin(),
                                 s.tile_assignment().devices().end())
          : NamedDevices(s.named());
  for (int64_t d : devices) {
    XLAYOUT_RETURN_IF_ERROR(DeviceInRange(d, num_devices, s));
  }
  if (num_devices.has_value() && used.has_value() && *used != *num_devices) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sharding ", s.ToString(false), " uses ", *used, " devices but the ",
        "module has ", *num_devices, " (num_partitions)"));
  }
  return absl::OkStatus();
}

void FlattenShapes(const Shape& shape, std::vector<const Shape*>* out) {
  if (!shape.IsTuple()) {
    out->push_back(&shape);
    return;
  }
  for (const Shape& e : shape.tuple_shapes()) FlattenShapes(e, out);
}

}  // namespace

absl::string_view SubgroupTypeName(SubgroupType type) {
  switch (type) {
    case SubgroupType::kManual:
      return "manual";
    case SubgroupType::kReplicated:
      return "replicated";
    case SubgroupType::kUnreduced:
      return "unreduced";
    case SubgroupType::kMaximal:
      return "maximal";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// TileAssignment

absl::StatusOr<TileAssignment> TileAssignment::Explicit(
    std::vector<int64_t> dims, std::vector<int64_t> devices) {
  if (dims.empty()) {
    return absl::InvalidArgumentError("tile assignment has no dimensions");
  }
  XLAYOUT_ASSIGN_OR_RETURN(int64_t count,
                           DeviceProduct(dims, "tile assignment dimensions"));
  if (count != static_cast<int64_t>(devices.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tile assignment dimensions [", absl::StrJoin(dims, ","), "] hold ",
        count, " devices but ", devices.size(), " device ids are listed"));
  }
  std::vector<int64_t> sorted = devices;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "device id ", sorted[i], " in the tile assignment is negative"));
    }
    if (i > 0 && sorted[i] == sorted[i - 1]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "device id ", sorted[i],
          " appears more than once in the tile assignment; each device "
          "holds one tile"));
    }
  }
  TileAssignment t;
  t.dims_ = std::move(dims);
  t.devices_ = std::move(devices);
  return t;
}

absl::StatusOr<TileAssignment> TileAssignment::Iota(
    std::vector<int64_t> dims, std::vector<int64_t> reshape_dims,
    std::vector<int64_t> perm) {
  if (dims.empty()) {
    return absl::InvalidArgumentError("tile assignment has no dimensions");
  }
  if (reshape_dims.empty()) {
    return absl::InvalidArgumentError("iota reshape dimensions are empty");
  }
  if (perm.size() != reshape_dims.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "iota transpose T(", absl::StrJoin(perm, ","), ") has ", perm.size(),
        " entries but the iota is reshaped to ", reshape_dims.size(),
        " dimensions [", absl::StrJoin(reshape_dims, ","), "]"));
  }
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[p]) {
      return absl::InvalidArgumentError(
          absl::StrCat("iota transpose T(", absl::StrJoin(perm, ","),
                       ") is not a permutation of 0..", perm.size() - 1));
    }
    seen[p] = true;
  }
  XLAYOUT_ASSIGN_OR_RETURN(int64_t count,
                           DeviceProduct(dims, "tile assignment dimensions"));
  XLAYOUT_ASSIGN_OR_RETURN(
      int64_t iota_count,
      DeviceProduct(reshape_dims, "iota reshape dimensions"));
  if (count != iota_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile assignment dimensions [", absl::StrJoin(dims, ","),
                     "] hold ", count, " devices but the iota [",
                     absl::StrJoin(reshape_dims, ","), "] has ", iota_count));
  }
  // Row-major strides of the iota array before the transpose.
  const size_t k = reshape_dims.size();
  std::vector<int64_t> stride(k, 1);
  for (size_t d = k - 1; d-- > 0;)
    stride[d] = stride[d + 1] * reshape_dims[d + 1];
  // Walk the transposed array row-major: position j holds the iota value at
  // the index i with i[perm[m]] = j[m], i.e. sum_m j[m] * stride[perm[m]].
  std::vector<int64_t> transposed_dims(k);
  for (size_t m = 0; m < k; ++m) transposed_dims[m] = reshape_dims[perm[m]];
  std::vector<int64_t> devices;
  devices.reserve(count);
  std::vector<int64_t> j(k, 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t value = 0;
    for (size_t m = 0; m < k; ++m) value += j[m] * stride[perm[m]];
    devices.push_back(value);
    NextIndex(j, transposed_dims);
  }
  TileAssignment t;
  t.dims_ = std::move(dims);
  t.devices_ = std::move(devices);
  t.is_iota_ = true;
  t.reshape_dims_ = std::move(reshape_dims);
  t.perm_ = std::move(perm);
  return t;
}

int64_t TileAssignment::device_at(absl::Span<const int64_t> index) const {
  int64_t flat = 0;
  for (size_t i = 0; i < dims_.size(); ++i) flat = flat * dims_[i] + index[i];
  return devices_[flat];
}

std::string TileAssignment::ArrayToString() const {
  if (!is_iota_) return absl::StrJoin(devices_, ",");
  std::string out = absl::StrCat("[", absl::StrJoin(reshape_dims_, ","), "]");
  if (reshape_dims_.size() > 1) {
    absl::StrAppend(&out, "T(", absl::StrJoin(perm_, ","), ")");
  }
  return out;
}

std::string TileAssignment::ToString() const {
  return absl::StrCat("[", absl::StrJoin(dims_, ","), "]", is_iota_ ? "<=" : "",
                      ArrayToString());
}

// ---------------------------------------------------------------------------
// HloSharding

HloSharding HloSharding::Replicate() { return HloSharding(); }

HloSharding HloSharding::Manual() {
  HloSharding s;
  s.type_ = Type::kManual;
  return s;
}

HloSharding HloSharding::Unknown() {
  HloSharding s;
  s.type_ = Type::kUnknown;
  return s;
}

HloSharding HloSharding::Unreduced() {
  HloSharding s;
  s.type_ = Type::kUnreduced;
  return s;
}

HloSharding HloSharding::Maximal(int64_t device) {
  HloSharding s;
  s.type_ = Type::kMaximal;
  s.maximal_device_ = device;
  return s;
}

absl::StatusOr<HloSharding> HloSharding::Tiled(
    TileAssignment tiles, bool last_tile_dim_replicate,
    std::vector<SubgroupType> subgroup_types) {
  if (last_tile_dim_replicate && !subgroup_types.empty()) {
    return absl::InvalidArgumentError(
        "last_tile_dim_replicate and last_tile_dims={...} cannot both be "
        "given (XLA writes partial replication one way or the other)");
  }
  const int64_t trailing = (last_tile_dim_replicate ? 1 : 0) +
                           static_cast<int64_t>(subgroup_types.size());
  if (trailing > static_cast<int64_t>(tiles.dims().size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tile assignment [", absl::StrJoin(tiles.dims(), ","), "] has ",
        tiles.dims().size(), " dimensions but ",
        last_tile_dim_replicate ? "last_tile_dim_replicate" : "last_tile_dims",
        " names ", trailing, " trailing subgroup dimensions"));
  }
  HloSharding s;
  s.type_ = Type::kTiled;
  s.tiles_ = std::move(tiles);
  s.last_tile_replicate_ = last_tile_dim_replicate;
  s.subgroup_types_ = std::move(subgroup_types);
  return s;
}

absl::StatusOr<HloSharding> HloSharding::Named(NamedSharding n) {
  using Body = NamedSharding::Body;
  if (n.body == Body::kMaximal) {
    HloSharding s;
    s.type_ = Type::kNamed;
    s.maximal_device_ = n.maximal_device;
    s.named_ = std::move(n);
    return s;
  }
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < n.mesh.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (n.mesh[j].name == n.mesh[i].name) {
        return absl::InvalidArgumentError(absl::StrCat(
            "mesh axis name '", n.mesh[i].name, "' appears more than once"));
      }
    }
    sizes.push_back(n.mesh[i].size);
  }
  XLAYOUT_ASSIGN_OR_RETURN(int64_t count,
                           DeviceProduct(sizes, "mesh axis sizes"));
  if (n.device_ids.has_value()) {
    if (n.device_ids->num_devices() != count) {
      return absl::InvalidArgumentError(
          absl::StrCat("mesh of ", count, " devices lists ",
                       n.device_ids->num_devices(), " device_ids"));
    }
    std::vector<int64_t> sorted(n.device_ids->devices().begin(),
                                n.device_ids->devices().end());
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < count; ++i) {
      if (sorted[i] != i) {
        return absl::InvalidArgumentError(
            absl::StrCat("mesh device_ids must be a permutation of 0..",
                         count - 1, " (XLA's Mesh::ValidateMesh)"));
      }
    }
  }
  // Axis refs: in range, sub-axes dividing their axis, no overlaps.
  std::vector<const AxisRef*> all;
  for (const DimSharding& d : n.dims) {
    for (const AxisRef& r : d.axes) all.push_back(&r);
  }
  for (const auto* list :
       {&n.replicated_axes, &n.unreduced_axes, &n.manual_axes}) {
    for (const AxisRef& r : *list) all.push_back(&r);
  }
  for (const AxisRef* r : all) {
    if (r->axis < 0 || r->axis >= static_cast<int64_t>(n.mesh.size())) {
      return absl::InvalidArgumentError("axis reference outside the mesh");
    }
    if (!r->is_sub_axis()) continue;
    const int64_t size = n.mesh[r->axis].size;
    std::optional<int64_t> next = CheckedMul(r->pre_size, r->sub_size);
    if (r->pre_size < 1 || r->sub_size < 2 || !next.has_value() ||
        size % *next != 0 || r->sub_size >= size) {
      return absl::InvalidArgumentError(
          absl::StrCat("sub-axis ", AxisRefText(n, *r), " does not split axis ",
                       AxisName(n, r->axis), " of size ", size,
                       ": it needs pre-size >= 1, 1 < size < ", size,
                       " and pre-size * "
                       "size dividing ",
                       size));
    }
  }
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const AxisRef& a = *all[i];
      const AxisRef& b = *all[j];
      if (a.axis != b.axis) continue;
      bool overlap = !a.is_sub_axis() || !b.is_sub_axis();
      if (!overlap) {
        overlap = a.pre_size * a.sub_size > b.pre_size &&
                  b.pre_size * b.sub_size > a.pre_size;
      }
      if (overlap) {
        return absl::InvalidArgumentError(absl::StrCat(
            "axis ", AxisRefText(n, a), " overlaps ", AxisRefText(n, b),
            ": each part of a mesh axis may be used once"));
      }
    }
  }
  HloSharding s;
  s.type_ = Type::kNamed;
  s.named_ = std::move(n);
  return s;
}

HloSharding HloSharding::Tuple(std::vector<HloSharding> elements) {
  HloSharding s;
  s.type_ = Type::kTuple;
  s.elements_ = std::move(elements);
  return s;
}

void HloSharding::set_shard_group(ShardGroup group, int64_t id) {
  shard_group_ = group;
  shard_group_id_ = group == ShardGroup::kNone ? 0 : id;
}

bool HloSharding::IsTiled() const {
  if (type_ == Type::kTiled) return true;
  // An empty mesh (`mesh[]`) names no devices, so it tiles nothing.
  return type_ == Type::kNamed && named_.body == NamedSharding::Body::kDims &&
         !named_.dims.empty() && !named_.mesh.empty();
}

int64_t HloSharding::TiledDataRank() const {
  if (type_ == Type::kTiled) {
    return static_cast<int64_t>(tiles_.dims().size()) -
           (last_tile_replicate_ ? 1 : 0) -
           static_cast<int64_t>(subgroup_types_.size());
  }
  if (IsTiled()) return static_cast<int64_t>(named_.dims.size());
  return -1;
}

std::vector<int64_t> HloSharding::TileCounts() const {
  std::vector<int64_t> counts;
  if (type_ == Type::kTiled) {
    const int64_t rank = TiledDataRank();
    counts.assign(tiles_.dims().begin(), tiles_.dims().begin() + rank);
  } else if (IsTiled()) {
    for (const DimSharding& d : named_.dims) {
      int64_t c = 1;
      for (const AxisRef& r : d.axes) c *= RefSize(named_, r);
      counts.push_back(c);
    }
  }
  return counts;
}

std::optional<int64_t> HloSharding::NumDevices() const {
  switch (type_) {
    case Type::kTiled:
      return tiles_.num_devices();
    case Type::kMaximal:
      return 1;
    case Type::kNamed: {
      if (named_.body == NamedSharding::Body::kMaximal) return 1;
      if (named_.mesh.empty()) return std::nullopt;
      int64_t count = 1;
      for (const MeshAxis& a : named_.mesh) count *= a.size;
      return count;
    }
    default:
      return std::nullopt;
  }
}

std::string HloSharding::ToString(bool include_metadata) const {
  if (type_ == Type::kTuple) {
    std::string out = "{";
    for (size_t i = 0; i < elements_.size(); ++i) {
      if (i != 0) {
        out += i % 5 == 0 ? absl::StrCat(", /*index=", i, "*/") : ", ";
      }
      out += elements_[i].ToString(include_metadata);
    }
    return out + "}";
  }
  const bool metadata = include_metadata && !metadata_.empty();
  if (type_ == Type::kNamed) {
    const NamedSharding& n = named_;
    std::string out = "{";
    if (n.body == NamedSharding::Body::kMaximal) {
      absl::StrAppend(&out, "maximal_mesh[device_id=", n.maximal_device, "]");
    } else {
      absl::StrAppend(
          &out, "mesh[",
          absl::StrJoin(
              n.mesh, ",",
              [&](std::string* o, const MeshAxis& a) {
                absl::StrAppend(
                    o, n.quoted_names ? absl::StrCat("'", a.name, "'") : a.name,
                    "=", a.size);
              }),
          "]");
      if (n.device_ids.has_value()) {
        absl::StrAppend(&out, ", device_ids=(", n.device_ids->ArrayToString(),
                        ")");
      }
      switch (n.body) {
        case NamedSharding::Body::kReplicated:
          out += ", replicated";
          break;
        case NamedSharding::Body::kUnreduced:
          out += ", unreduced";
          break;
        case NamedSharding::Body::kManual:
          out += ", manual";
          break;
        default: {
          out += ", [";
          out += absl::StrJoin(
              n.dims, ", ", [&](std::string* o, const DimSharding& d) {
                absl::StrAppend(o, "{", AxisRefsText(n, d.axes));
                if (d.open) *o += d.axes.empty() ? "?" : ", ?";
                *o += "}";
              });
          out += "]";
          if (!n.replicated_axes.empty()) {
            absl::StrAppend(&out, ", replicated={",
                            AxisRefsText(n, n.replicated_axes), "}");
          }
          if (!n.unreduced_axes.empty()) {
            absl::StrAppend(&out, ", unreduced={",
                            AxisRefsText(n, n.unreduced_axes), "}");
          }
          if (!n.manual_axes.empty()) {
            absl::StrAppend(&out, ", manual={", AxisRefsText(n, n.manual_axes),
                            "}");
          }
        }
      }
    }
    if (metadata) absl::StrAppend(&out, ", metadata={", metadata_, "}");
    return out + "}";
  }
  std::string out = "{";
  switch (type_) {
    case Type::kReplicated:
      out += "replicated";
      break;
    case Type::kManual:
      out += "manual";
      break;
    case Type::kUnknown:
      out += "unknown";
      break;
    case Type::kUnreduced:
      out += "unreduced";
      break;
    case Type::kMaximal:
      absl::StrAppend(&out, "maximal device=", maximal_device_);
      break;
    default:
      absl::StrAppend(&out, "devices=", tiles_.ToString());
      if (last_tile_replicate_) out += " last_tile_dim_replicate";
      if (!subgroup_types_.empty()) {
        absl::StrAppend(&out, " last_tile_dims={",
                        absl::StrJoin(subgroup_types_, ", ",
                                      [](std::string* o, SubgroupType t) {
                                        absl::StrAppend(o, SubgroupTypeName(t));
                                      }),
                        "}");
      }
  }
  if (shard_group_ == ShardGroup::kAs) {
    absl::StrAppend(&out, " shard_as ", shard_group_id_);
  } else if (shard_group_ == ShardGroup::kLike) {
    absl::StrAppend(&out, " shard_like ", shard_group_id_);
  }
  if (metadata) absl::StrAppend(&out, " metadata={", metadata_, "}");
  return out + "}";
}

bool operator==(const HloSharding& a, const HloSharding& b) {
  return a.type_ == b.type_ && a.elements_ == b.elements_ &&
         a.maximal_device_ == b.maximal_device_ && a.tiles_ == b.tiles_ &&
         a.last_tile_replicate_ == b.last_tile_replicate_ &&
         a.subgroup_types_ == b.subgroup_types_ && a.named_ == b.named_ &&
         a.shard_group_ == b.shard_group_ &&
         a.shard_group_id_ == b.shard_group_id_;
}

// ---------------------------------------------------------------------------
// Shapes and devices

absl::StatusOr<std::vector<HloSharding>> LeafShardings(
    const Shape& shape, const HloSharding& sharding) {
  const int64_t leaves = LeafCount(shape);
  if (!sharding.IsTuple()) {
    return std::vector<HloSharding>(shape.IsTuple() ? leaves : 1, sharding);
  }
  if (!shape.IsTuple()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tuple sharding ", sharding.ToString(false),
                     " on non-tuple shape ", shape.ToString()));
  }
  const int64_t n = static_cast<int64_t>(sharding.tuple_elements().size());
  // XLA allows one sharding on an empty tuple (HloSharding::RequiredLeaves).
  if (leaves == 0 && n <= 1) return std::vector<HloSharding>();
  if (n != leaves) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tuple sharding has ", n, " element", n == 1 ? "" : "s", " but shape ",
        shape.ToString(), " has ", leaves, " lea", leaves == 1 ? "f" : "ves"));
  }
  return std::vector<HloSharding>(sharding.tuple_elements().begin(),
                                  sharding.tuple_elements().end());
}

absl::Status ValidateSharding(const HloSharding& sharding, const Shape& shape,
                              std::optional<int64_t> num_devices) {
  if (shape.IsToken()) return absl::OkStatus();
  XLAYOUT_ASSIGN_OR_RETURN(std::vector<HloSharding> leaves,
                           LeafShardings(shape, sharding));
  std::vector<const Shape*> shapes;
  FlattenShapes(shape, &shapes);
  if (shape.IsTuple() && shapes.size() == 1 && shapes[0] == &shape) {
    shapes.clear();  // An empty tuple has no leaves.
  }
  for (size_t i = 0; i < leaves.size(); ++i) {
    absl::Status status = ValidateLeaf(leaves[i], *shapes[i], num_devices);
    if (!status.ok()) {
      if (!shape.IsTuple()) return status;
      return absl::Status(status.code(), absl::StrCat("tuple leaf ", i, ": ",
                                                      status.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Shape> ShardShape(const Shape& global,
                                 const HloSharding& sharding) {
  XLAYOUT_ASSIGN_OR_RETURN(std::vector<HloSharding> leaves,
                           LeafShardings(global, sharding));
  if (global.IsTuple() && LeafCount(global) == 0) return global;
  size_t next = 0;
  return ShardRecursive(global, leaves, &next);
}

absl::StatusOr<std::vector<DeviceShard>> DeviceShards(
    const Shape& global, const HloSharding& sharding,
    std::optional<int64_t> num_devices) {
  if (sharding.IsTuple() || global.IsTuple()) {
    return absl::InvalidArgumentError(
        absl::StrCat("DeviceShards takes one array and one leaf sharding, got ",
                     global.ToString(), " and ", sharding.ToString(false),
                     "; split tuples with LeafShardings"));
  }
  const Shape* array = LeafArray(global);
  if (array == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(global.ToString(), " is not an array"));
  }
  const int64_t rank = array->rank();
  for (int64_t i = 0; i < rank; ++i) {
    if (array->is_unbounded_dynamic_dimension(i)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dimension ", i, " of ", array->ToString(),
          " is unbounded (?): its per-device extent is not known"));
    }
  }
  std::vector<DeviceShard> out;
  auto whole = [&](int64_t device) {
    DeviceShard d;
    d.device = device;
    d.offset.assign(rank, 0);
    d.extent.assign(array->dimensions().begin(), array->dimensions().end());
    out.push_back(std::move(d));
  };
  const HloSharding::Type type = sharding.type();
  if (type == HloSharding::Type::kMaximal ||
      (type == HloSharding::Type::kNamed &&
       sharding.named().body == NamedSharding::Body::kMaximal)) {
    XLAYOUT_RETURN_IF_ERROR(
        DeviceInRange(sharding.maximal_device(), num_devices, sharding));
    whole(sharding.maximal_device());
    return out;
  }
  if (!sharding.IsTiled()) {
    if (type == HloSharding::Type::kNamed && !sharding.named().mesh.empty()) {
      for (int64_t d : NamedDevices(sharding.named())) whole(d);
    } else if (num_devices.has_value()) {
      for (int64_t d = 0; d < *num_devices; ++d) whole(d);
    } else {
      return absl::FailedPreconditionError(absl::StrCat(
          "sharding ", sharding.ToString(false),
          " does not name its devices; pass the module's num_partitions"));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.device < b.device; });
    return out;
  }
  XLAYOUT_RETURN_IF_ERROR(CheckRank(sharding, *array));
  const std::vector<int64_t> counts = sharding.TileCounts();
  std::vector<int64_t> padded(rank);
  for (int64_t i = 0; i < rank; ++i) {
    padded[i] = CeilDiv(array->dimensions(i), counts[i]);
  }
  absl::Status range = absl::OkStatus();
  XLAYOUT_RETURN_IF_ERROR(
      EachTile(sharding, [&](int64_t device, absl::Span<const int64_t> tile) {
        if (range.ok()) range = DeviceInRange(device, num_devices, sharding);
        DeviceShard d;
        d.device = device;
        d.tile_index.assign(tile.begin(), tile.end());
        for (int64_t i = 0; i < rank; ++i) {
          const int64_t dim = array->dimensions(i);
          // tile[i] < counts[i], so tile[i] * padded[i] < dim + padded[i];
          // clamp like XLA's TileOffsetForDevice / TileLimitForDevice.
          const int64_t start =
              std::min(CheckedMul(tile[i], padded[i]).value_or(dim), dim);
          const int64_t limit =
              std::min(CheckedMul(tile[i] + 1, padded[i]).value_or(dim), dim);
          d.offset.push_back(start);
          d.extent.push_back(limit - start);
        }
        out.push_back(std::move(d));
      }));
  XLAYOUT_RETURN_IF_ERROR(range);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.device < b.device; });
  return out;
}

absl::StatusOr<std::vector<int64_t>> TileIndexForDevice(
    const HloSharding& sharding, int64_t device) {
  std::optional<std::vector<int64_t>> found;
  XLAYOUT_RETURN_IF_ERROR(
      EachTile(sharding, [&](int64_t d, absl::Span<const int64_t> tile) {
        if (d == device) found.emplace(tile.begin(), tile.end());
      }));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("device ", device,
                                            " holds no tile of sharding ",
                                            sharding.ToString(false)));
  }
  return *found;
}

absl::StatusOr<std::vector<int64_t>> DevicesForTile(
    const HloSharding& sharding, absl::Span<const int64_t> tile_index) {
  if (!sharding.IsTiled()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sharding ", sharding.ToString(false),
                     " does not tile the array into per-device pieces"));
  }
  const std::vector<int64_t> counts = sharding.TileCounts();
  bool in_range = tile_index.size() == counts.size();
  for (size_t i = 0; in_range && i < counts.size(); ++i) {
    in_range = tile_index[i] >= 0 && tile_index[i] < counts[i];
  }
  if (!in_range) {
    return absl::InvalidArgumentError(
        absl::StrCat("tile index [", absl::StrJoin(tile_index, ","),
                     "] is outside the tile grid [", absl::StrJoin(counts, ","),
                     "] of ", sharding.ToString(false)));
  }
  std::vector<int64_t> devices;
  XLAYOUT_RETURN_IF_ERROR(
      EachTile(sharding, [&](int64_t d, absl::Span<const int64_t> tile) {
        if (std::equal(tile.begin(), tile.end(), tile_index.begin())) {
          devices.push_back(d);
        }
      }));
  std::sort(devices.begin(), devices.end());
  return devices;
}

std::optional<TileCountRange> TileCountsForShardExtent(int64_t global,
                                                       int64_t shard) {
  constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
  if (global < 0 || shard < 0) return std::nullopt;
  if (global == 0) {
    if (shard != 0) return std::nullopt;
    return TileCountRange{1, kUnbounded};
  }
  if (shard == 0) return std::nullopt;
  // ceil(G/t) <= s  <=>  t >= ceil(G/s);
  // ceil(G/t) >= s  <=>  (s-1) * t < G  <=>  t <= (G-1) / (s-1) for s > 1.
  TileCountRange r;
  r.min = CeilDiv(global, shard);
  r.max = shard == 1 ? kUnbounded : (global - 1) / (shard - 1);
  if (r.min > r.max) return std::nullopt;
  return r;
}

// ---------------------------------------------------------------------------
// Dump stage

absl::string_view DumpStageName(DumpStage stage) {
  switch (stage) {
    case DumpStage::kUnknown:
      return "unknown";
    case DumpStage::kSinglePartition:
      return "single partition";
    case DumpStage::kBeforePartitioning:
      return "before SPMD partitioning";
    case DumpStage::kAfterPartitioning:
      return "after SPMD partitioning";
  }
  return "?";
}

DumpStageVerdict ClassifyDumpStage(const DumpStageFacts& facts) {
  DumpStageVerdict v;
  if (facts.num_partitions <= 1) {
    v.stage = DumpStage::kSinglePartition;
    v.certain = true;
    v.reason = "num_partitions is 1: every device holds the global shapes";
    return v;
  }
  if (absl::StrContains(facts.file_name, "before_optimizations")) {
    v.stage = DumpStage::kBeforePartitioning;
    v.certain = true;
    v.reason = absl::StrCat("the file name ", facts.file_name,
                            " is XLA's dump taken before any HLO pass");
    return v;
  }
  if (absl::StrContains(facts.file_name, "after_optimizations")) {
    v.stage = DumpStage::kAfterPartitioning;
    v.certain = true;
    v.reason = absl::StrCat("the file name ", facts.file_name,
                            " is XLA's dump of the compiled program");
    return v;
  }
  if (facts.sharding_outside_entry_parameters) {
    v.stage = DumpStage::kBeforePartitioning;
    v.certain = true;
    v.reason =
        "instructions other than entry parameters carry sharding=; the SPMD "
        "partitioner clears those";
    return v;
  }
  if (facts.entry_parameter_shardings && facts.truncated) {
    v.reason =
        "only entry parameters carry sharding= in what there is, but the "
        "dump ends inside ENTRY, before the instructions whose sharding= "
        "would show a dump before SPMD partitioning";
    return v;
  }
  if (facts.entry_parameter_shardings) {
    v.stage = DumpStage::kAfterPartitioning;
    v.certain = false;
    v.reason =
        "only entry parameters carry sharding=, as after the SPMD "
        "partitioner, which keeps them there";
    return v;
  }
  v.reason = absl::StrCat("num_partitions is ", facts.num_partitions,
                          " but no instruction carries sharding=");
  return v;
}

}  // namespace xlayout

namespace xlayout {

absl::string_view DumpStageKey(DumpStage stage) {
  switch (stage) {
    case DumpStage::kUnknown:
      return "unknown";
    case DumpStage::kSinglePartition:
      return "single_partition";
    case DumpStage::kBeforePartitioning:
      return "before_spmd_partitioning";
    case DumpStage::kAfterPartitioning:
      return "after_spmd_partitioning";
  }
  return "unknown";
}

std::optional<DumpStage> DumpStageFromKey(absl::string_view key) {
  for (DumpStage s :
       {DumpStage::kUnknown, DumpStage::kSinglePartition,
        DumpStage::kBeforePartitioning, DumpStage::kAfterPartitioning}) {
    if (DumpStageKey(s) == key) return s;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Partition-count changes

namespace {

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

// The tile counts one side may have along each dim.
struct TileBounds {
  int64_t lo = 1;
  int64_t hi = kNoLimit;
  bool pinned() const { return lo == hi; }
};

std::optional<std::vector<TileBounds>> SideBounds(
    bool per_device, const std::optional<HloSharding>& sharding, size_t rank) {
  if (!per_device) return std::vector<TileBounds>(rank, TileBounds{1, 1});
  if (!sharding.has_value()) return std::vector<TileBounds>(rank);
  if (sharding->IsTuple()) return std::nullopt;
  if (!sharding->IsTiled()) {
    return std::vector<TileBounds>(rank, TileBounds{1, 1});
  }
  const std::vector<int64_t> counts = sharding->TileCounts();
  if (counts.size() != rank) return std::nullopt;
  std::vector<TileBounds> out;
  for (int64_t c : counts) out.push_back(TileBounds{c, c});
  return out;
}

// Global extents G with ceil(G / t) == e: [(e-1)t + 1, e*t].
std::optional<TileCountRange> GlobalsFor(int64_t e, int64_t t) {
  std::optional<int64_t> hi = CheckedMul(e, t);
  std::optional<int64_t> lo = CheckedMul(e - 1, t);
  if (!hi.has_value() || !lo.has_value()) return std::nullopt;
  return TileCountRange{*lo + 1, *hi};
}

// Tile counts t in `bounds` for which some G in `globals` has
// ceil(G / t) == e: e*t >= globals.min and (e-1)*t + 1 <= globals.max.
std::optional<TileBounds> TilesFor(int64_t e, const TileCountRange& globals,
                                   const TileBounds& bounds) {
  TileBounds r;
  r.lo = std::max(bounds.lo, CeilDiv(globals.min, e));
  r.hi = bounds.hi;
  if (e > 1) r.hi = std::min(r.hi, (globals.max - 1) / (e - 1));
  if (r.lo > r.hi) return std::nullopt;
  return r;
}

std::optional<TileCountRange> Intersect(const TileCountRange& a,
                                        const TileCountRange& b) {
  TileCountRange r{std::max(a.min, b.min), std::min(a.max, b.max)};
  if (r.min > r.max) return std::nullopt;
  return r;
}

std::string BoundsText(const TileBounds& b) {
  if (b.pinned()) return absl::StrCat(b.lo);
  if (b.hi == kNoLimit) return absl::StrCat("≥", b.lo);
  return absl::StrCat(b.lo, "–", b.hi);
}

}  // namespace

std::optional<PartitionCountChange> InferPartitionCountChange(
    const ShardingChangeQuery& q) {
  const size_t rank = q.expected_dims.size();
  if (q.actual_dims.size() != rank) return std::nullopt;
  if (q.global_dims.has_value() && q.global_dims->size() != rank) {
    return std::nullopt;
  }
  std::optional<std::vector<TileBounds>> eb =
      SideBounds(q.expected_per_device, q.expected_sharding, rank);
  std::optional<std::vector<TileBounds>> ab =
      SideBounds(q.actual_per_device, q.actual_sharding, rank);
  if (!eb.has_value() || !ab.has_value()) return std::nullopt;
  PartitionCountChange change;
  std::vector<TileBounds> e_tiles = *eb, a_tiles = *ab;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t e = q.expected_dims[d], a = q.actual_dims[d];
    if (e == a) continue;
    if (e <= 0 || a <= 0) return std::nullopt;
    PartitionCountDim dim;
    dim.dim = static_cast<int64_t>(d);
    dim.expected_extent = e;
    dim.actual_extent = a;
    std::optional<TileCountRange> globals;
    if (q.global_dims.has_value()) {
      const int64_t g = (*q.global_dims)[d];
      if (g <= 0) return std::nullopt;
      globals = TileCountRange{g, g};
    } else if ((*eb)[d].pinned() || (*ab)[d].pinned()) {
      // One side's count is known: it bounds the global extent.
      if ((*eb)[d].pinned()) globals = GlobalsFor(e, (*eb)[d].lo);
      if ((*ab)[d].pinned()) {
        std::optional<TileCountRange> ga = GlobalsFor(a, (*ab)[d].lo);
        if (!ga.has_value()) return std::nullopt;
        globals = globals.has_value() ? Intersect(*globals, *ga) : ga;
      }
    } else {
      // Nothing known: only a whole ratio k (one side's extent k times the
      // other's, as 8 against 4 partitions give) is taken for a partition
      // change; its smallest counts, k against 1, are named as an example.
      // Any two extents fit some pair of counts, so a looser rule would
      // call every dims change a sharding change.
      std::optional<std::pair<int64_t, int64_t>> best;
      if (e < a && a % e == 0) best = {a / e, 1};
      if (a < e && e % a == 0) best = {1, e / a};
      if (!best.has_value()) return std::nullopt;
      globals =
          Intersect(*GlobalsFor(e, best->first), *GlobalsFor(a, best->second));
      e_tiles[d] = TileBounds{best->first, best->first};
      a_tiles[d] = TileBounds{best->second, best->second};
      change.example_only = true;
    }
    if (!globals.has_value()) return std::nullopt;
    std::optional<TileBounds> te = TilesFor(e, *globals, e_tiles[d]);
    std::optional<TileBounds> ta = TilesFor(a, *globals, a_tiles[d]);
    if (!te.has_value() || !ta.has_value()) return std::nullopt;
    if (te->pinned() && ta->pinned() && te->lo == ta->lo) return std::nullopt;
    e_tiles[d] = *te;
    a_tiles[d] = *ta;
    dim.expected_tiles = TileCountRange{te->lo, te->hi};
    dim.actual_tiles = TileCountRange{ta->lo, ta->hi};
    dim.global = *globals;
    change.dims.push_back(dim);
  }
  if (change.dims.empty()) return std::nullopt;
  // Dims that do not differ: the known count of either side, else 1.
  std::vector<std::string> et, at;
  for (size_t d = 0; d < rank; ++d) {
    if (q.expected_dims[d] == q.actual_dims[d]) {
      TileBounds known{1, 1};
      if ((*eb)[d].pinned()) {
        known = (*eb)[d];
      } else if ((*ab)[d].pinned()) {
        known = (*ab)[d];
      }
      et.push_back(BoundsText((*eb)[d].pinned() ? (*eb)[d] : known));
      at.push_back(BoundsText((*ab)[d].pinned() ? (*ab)[d] : known));
    } else {
      et.push_back(BoundsText(e_tiles[d]));
      at.push_back(BoundsText(a_tiles[d]));
    }
  }
  change.expected_tiles_text =
      absl::StrCat("devices=[", absl::StrJoin(et, ","), "]");
  change.actual_tiles_text = absl::StrCat("[", absl::StrJoin(at, ","), "]");
  std::vector<std::string> clauses;
  for (const PartitionCountDim& d : change.dims) {
    clauses.push_back(absl::StrCat("dim ", d.dim, " is ", d.expected_extent,
                                   " on the expected side and ",
                                   d.actual_extent, " on the actual one"));
  }
  change.message = absl::StrCat(
      absl::StrJoin(clauses, ", "), ": this matches ",
      change.expected_tiles_text, " against ", change.actual_tiles_text,
      change.example_only ? " (or other counts in that ratio)" : "",
      ", a different partition count");
  return change;
}

}  // namespace xlayout
