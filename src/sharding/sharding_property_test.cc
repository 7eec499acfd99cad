// Properties of random tiled shardings: the iota device array agrees with
// the transpose read the other way round, every sharding prints and parses
// back, and the devices' real extents cover the global array exactly once
// with XLA's ceil-and-clamp rule.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <vector>

#include "xlayout/shape.h"
#include "xlayout/sharding.h"

namespace xlayout {
namespace {

// A random iota tile assignment over `data_rank` data dims plus an optional
// replication dim, and whether that dim is last_tile_dim_replicate.
struct Case {
  std::vector<int64_t> dims;
  std::vector<int64_t> reshape;
  std::vector<int64_t> perm;
  bool replicate = false;
};

// Fisher-Yates with generated indices (this RapidCheck has no shuffle).
template <typename T>
std::vector<T> Shuffled(std::vector<T> v) {
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = *rc::gen::inRange<size_t>(0, i);
    std::swap(v[i - 1], v[j]);
  }
  return v;
}

Case GenCase() {
  Case c;
  const int rank = *rc::gen::inRange(1, 4);
  for (int i = 0; i < rank; ++i) c.dims.push_back(*rc::gen::inRange(1, 5));
  c.replicate = *rc::gen::arbitrary<bool>();
  if (c.replicate) c.dims.push_back(*rc::gen::inRange(2, 4));
  // Reshape dims: the tile dims in a random order, each possibly split in
  // two factors, so reshape and tile dims differ.
  std::vector<int64_t> factors;
  for (int64_t d : c.dims) {
    if (d == 4 && *rc::gen::arbitrary<bool>()) {
      factors.push_back(2);
      factors.push_back(2);
    } else {
      factors.push_back(d);
    }
  }
  c.reshape.assign(factors.size(), 0);
  std::vector<size_t> order(factors.size());
  std::iota(order.begin(), order.end(), 0);
  order = Shuffled(order);
  for (size_t i = 0; i < order.size(); ++i) c.reshape[i] = factors[order[i]];
  std::vector<int64_t> perm(factors.size());
  std::iota(perm.begin(), perm.end(), 0);
  c.perm = Shuffled(perm);
  return c;
}

RC_GTEST_PROP(ShardingPropertyTest, IotaMatchesTheTransposeReadBackwards, ()) {
  const Case c = GenCase();
  absl::StatusOr<TileAssignment> t =
      TileAssignment::Iota(c.dims, c.reshape, c.perm);
  RC_ASSERT(t.ok());
  // Iota value v sits at index i over the reshape dims; after the transpose
  // it is at j with j[m] = i[perm[m]], whose row-major position over the
  // transposed dims is where the reshape to `dims` leaves it.
  const size_t k = c.reshape.size();
  std::vector<int64_t> transposed(k);
  for (size_t m = 0; m < k; ++m) transposed[m] = c.reshape[c.perm[m]];
  const int64_t n = t->num_devices();
  for (int64_t v = 0; v < n; ++v) {
    std::vector<int64_t> i(k);
    int64_t rest = v;
    for (size_t d = k; d-- > 0;) {
      i[d] = rest % c.reshape[d];
      rest /= c.reshape[d];
    }
    int64_t position = 0;
    for (size_t m = 0; m < k; ++m) {
      position = position * transposed[m] + i[c.perm[m]];
    }
    RC_ASSERT(t->devices()[position] == v);
  }
}

RC_GTEST_PROP(ShardingPropertyTest, RoundTripsAndCoversTheArrayOnce, ()) {
  const Case c = GenCase();
  absl::StatusOr<TileAssignment> t =
      TileAssignment::Iota(c.dims, c.reshape, c.perm);
  RC_ASSERT(t.ok());
  absl::StatusOr<HloSharding> s = HloSharding::Tiled(*t, c.replicate);
  RC_ASSERT(s.ok());
  absl::StatusOr<HloSharding> back = ParseHloSharding(s->ToString());
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == *s);
  RC_ASSERT(back->ToString() == s->ToString());

  const int64_t rank = s->TiledDataRank();
  std::vector<int64_t> dims;
  int64_t elements = 1;
  for (int64_t i = 0; i < rank; ++i) {
    dims.push_back(*rc::gen::inRange<int64_t>(0, 12));
    elements *= dims.back();
  }
  const Shape global(PrimitiveType::kF32, dims);
  absl::StatusOr<Shape> shard = ShardShape(global, *s);
  RC_ASSERT(shard.ok());
  const std::vector<int64_t> counts = s->TileCounts();
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t p = shard->dimensions(i);
    // p is the smallest extent with p * tiles >= dim.
    RC_ASSERT(p * counts[i] >= dims[i]);
    RC_ASSERT(p == 0 || (p - 1) * counts[i] < dims[i]);
  }
  absl::StatusOr<std::vector<DeviceShard>> shards = DeviceShards(global, *s);
  RC_ASSERT(shards.ok());
  RC_ASSERT(static_cast<int64_t>(shards->size()) == t->num_devices());
  // Mark every element by the distinct tiles that hold it.
  std::map<std::vector<int64_t>, const DeviceShard*> tiles;
  for (const DeviceShard& d : *shards) tiles.emplace(d.tile_index, &d);
  int64_t tile_count = 1;
  for (int64_t c2 : counts) tile_count *= c2;
  RC_ASSERT(static_cast<int64_t>(tiles.size()) == tile_count);
  std::vector<int> hits(elements, 0);
  for (const auto& [index, d] : tiles) {
    std::vector<int64_t> e(rank, 0);
    bool empty = false;
    for (int64_t i = 0; i < rank; ++i) empty |= d->extent[i] == 0;
    if (empty) continue;
    do {
      int64_t flat = 0;
      for (int64_t i = 0; i < rank; ++i) {
        flat = flat * dims[i] + d->offset[i] + e[i];
      }
      ++hits[flat];
      int64_t i = rank - 1;
      for (; i >= 0; --i) {
        if (++e[i] < d->extent[i]) break;
        e[i] = 0;
      }
      if (i < 0) break;
    } while (true);
  }
  RC_ASSERT(
      std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
  // Replicas of a tile are exactly the devices DevicesForTile names.
  for (const auto& [index, d] : tiles) {
    absl::StatusOr<std::vector<int64_t>> holders = DevicesForTile(*s, index);
    RC_ASSERT(holders.ok());
    RC_ASSERT(static_cast<int64_t>(holders->size()) ==
              t->num_devices() / tile_count);
  }
}

}  // namespace
}  // namespace xlayout
