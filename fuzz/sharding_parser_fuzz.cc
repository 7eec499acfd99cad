// libFuzzer target for the sharding parser (XLA's `sharding={...}` text).
// Beyond "no crash or hang": every rejection names a column; anything that
// parses prints to text that parses back to an equal sharding and prints the
// same again; the prefix parser agrees with the whole-text parser; and for a
// tiled sharding the devices' real extents cover an array of a fitting shape
// exactly once (every element in exactly one distinct tile).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "xlayout/shape.h"
#include "xlayout/sharding.h"

namespace {

void Check(bool condition, const char* what, const std::string& input) {
  if (condition) return;
  std::fprintf(stderr, "invariant failed: %s\ninput: %s\n", what,
               input.c_str());
  std::abort();
}

// Shards an array whose rank fits `s` and checks the tiles cover it.
void CheckCoverage(const xlayout::HloSharding& s, const uint8_t* data,
                   size_t size, const std::string& input) {
  const int64_t rank = s.TiledDataRank();
  const std::optional<int64_t> devices = s.NumDevices();
  if (rank < 0 || rank > 6 || !devices.has_value() || *devices > 4096) return;
  std::vector<int64_t> dims;
  int64_t elements = 1;
  for (int64_t i = 0; i < rank; ++i) {
    dims.push_back(size == 0 ? 3 : data[i % size] % 17);
    elements *= dims.back();
  }
  const xlayout::Shape array(xlayout::PrimitiveType::kF32, dims);
  absl::StatusOr<xlayout::Shape> shard = xlayout::ShardShape(array, s);
  Check(shard.ok(), "ShardShape fails on a shape of the tiled rank", input);
  absl::StatusOr<std::vector<xlayout::DeviceShard>> shards =
      xlayout::DeviceShards(array, s);
  Check(shards.ok(), "DeviceShards fails on a shape of the tiled rank", input);
  Check(static_cast<int64_t>(shards->size()) == *devices,
        "one shard per device", input);
  std::map<std::vector<int64_t>, int64_t> tiles;
  for (const xlayout::DeviceShard& d : *shards) {
    int64_t held = 1;
    for (int64_t i = 0; i < rank; ++i) {
      Check(d.extent[i] >= 0 && d.extent[i] <= shard->dimensions(i),
            "real extent within the padded shard", input);
      Check(d.offset[i] + d.extent[i] <= dims[i], "shard inside the array",
            input);
      held *= d.extent[i];
    }
    auto [it, inserted] = tiles.emplace(d.tile_index, held);
    Check(inserted || it->second == held, "replicas hold the same tile", input);
  }
  int64_t covered = 0;
  for (const auto& [tile, held] : tiles) covered += held;
  if (static_cast<int64_t>(tiles.size()) == [&] {
        int64_t n = 1;
        for (int64_t c : s.TileCounts()) n *= c;
        return n;
      }()) {
    Check(covered == elements, "distinct tiles cover the array once", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 14)) return 0;
  const std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<xlayout::HloSharding> s = xlayout::ParseHloSharding(input);
  size_t consumed = 0;
  absl::StatusOr<xlayout::HloSharding> prefix =
      xlayout::ParseHloShardingPrefix(input, &consumed);
  if (!s.ok()) {
    const std::string message(s.status().message());
    Check(message.find("col ") != std::string::npos ||
              message.find("line ") != std::string::npos,
          "error without a location", input);
    return 0;
  }
  Check(prefix.ok() && *prefix == *s && consumed <= size,
        "prefix parse disagrees", input);
  const std::string printed = s->ToString();
  absl::StatusOr<xlayout::HloSharding> again =
      xlayout::ParseHloSharding(printed);
  Check(again.ok(), "canonical print does not parse", input);
  Check(*again == *s, "canonical print parses to another sharding", input);
  Check(again->ToString() == printed, "print is not a fixed point", input);
  if (!s->IsTuple()) {
    if (s->IsTiled()) CheckCoverage(*s, data, size, input);
  } else {
    for (const xlayout::HloSharding& e : s->tuple_elements()) {
      if (e.IsTiled()) CheckCoverage(e, data, size, input);
    }
  }
  return 0;
}
