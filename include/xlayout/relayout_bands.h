// Splitting a relayout into bands along the major-most dimension, so that a
// file can be converted a band at a time instead of held whole.
//
// When both layouts put the same dimension d major-most, and their tiles
// block d in rows of t_from and t_to (1 when no tile covers d; the product
// of the first dims of every level as long as the shape it tiles), rows
// [k*B, (k+1)*B) of d, for B a multiple of lcm(t_from, t_to) that makes a
// band of packed elements a whole number of bytes, are one contiguous byte
// range in each buffer, and converting that band as an array of its own
// (d = B, or the rest for the last band) gives exactly the output's bytes
// for it. The E0102 example bf16[16,1280,40]{1,2,0:...} ->
// {2,1,0:...} is 16 bands; a transpose of the major dimension has none.
#ifndef XLAYOUT_RELAYOUT_BANDS_H_
#define XLAYOUT_RELAYOUT_BANDS_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "xlayout/relayout.h"
#include "xlayout/shape.h"

namespace xlayout {

struct RelayoutBands {
  int64_t dimension = 0;      // d, the major-most dimension of both.
  int64_t rows_multiple = 1;  // Band heights must be multiples of this.
};

// The bands of a relayout from `from` to `to` (static dense arrays of the
// same dims, as a plan has them), or nullopt when it does not split so:
// another major-most dimension, a tile with combined dims or more dims than
// the shape it tiles, sparse or split layouts, tail padding, dynamic
// metadata, or band sizes (in bits) that do not add up to the whole on
// either side.
std::optional<RelayoutBands> FindRelayoutBands(const Shape& from,
                                               const Shape& to);

// `shape` with dimension `dimension` set to `rows` (a band of it).
Shape BandShape(const Shape& shape, int64_t dimension, int64_t rows);

// A conversion planned a band at a time: every band but the last is
// `full`, the last `rest` when the rows do not divide. Band k reads
// full->input_bytes() * k onwards of the input and writes as far into the
// output.
struct RelayoutBandPlans {
  int64_t dimension = 0;
  int64_t rows = 0;   // Of `full`.
  int64_t count = 0;  // Bands in all, `rest` included.
  std::shared_ptr<const RelayoutPlan> full, rest;

  const RelayoutPlan& band(int64_t k) const {
    return rest != nullptr && k + 1 == count ? *rest : *full;
  }
};

// Makes (or looks up) the plan of one band shape.
using BandPlanner =
    absl::FunctionRef<absl::StatusOr<std::shared_ptr<const RelayoutPlan>>(
        const Shape& from, const Shape& to)>;

// Plans `from` -> `to` (as a plan has them: PhysicalLayout's canonical
// shapes) in bands of about `target_bytes` of input each, or nullopt when
// it does not split into bands or would be one band. The bands are checked
// to tile both buffers exactly (INTERNAL if not: a bug, caught before a
// byte is written).
absl::StatusOr<std::optional<RelayoutBandPlans>> PlanRelayoutBands(
    const Shape& from, const Shape& to, int64_t target_bytes, BandPlanner plan);

}  // namespace xlayout

#endif  // XLAYOUT_RELAYOUT_BANDS_H_
