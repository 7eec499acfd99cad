// JAX's side of layouts: printing an XLA layout as the JAX code that asks
// for it, and JAX's dtype names. Reading JAX's layout reprs is
// ParseJaxLayout in shape_parser.h.
#ifndef XLAYOUT_JAX_LAYOUT_H_
#define XLAYOUT_JAX_LAYOUT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "xlayout/layout.h"
#include "xlayout/primitive_type.h"

namespace xlayout {

// `Layout(major_to_minor=(0, 1, 2), tiling=((8, 128), (2, 1)))`, with
// `, sub_byte_element_size_in_bits=N` when the layout has E(N): the JAX
// object whose layout is `layout`. major_to_minor is XLA's minor_to_major
// reversed. Empty when JAX cannot express the layout (combined tile dims
// `*`, L(n), split configs, sparse or dynamic-shape attributes).
std::string JaxLayoutRepr(const Layout& layout);

// The JAX statement that gives array `var` the layout:
// `jax.device_put(x, Format(Layout(...), x.sharding))`. A memory space other
// than 0 is asked for through the sharding:
// `x.sharding.with_memory_kind('pinned_host')`, with `memory_kind` naming
// it. Empty when JaxLayoutRepr is.
std::string JaxDevicePutCode(const Layout& layout, absl::string_view var = "x",
                             absl::string_view memory_kind = "");

// JAX/numpy dtype names as JAX prints them in avals (`float32[8,128]`):
// bool, int4..int64, uint4..uint64, bfloat16, float16/32/64, complex64/128,
// float8_e4m3fn and the other ml_dtypes names. nullopt if unknown.
std::optional<PrimitiveType> PrimitiveTypeFromJaxDtype(absl::string_view name);

}  // namespace xlayout

#endif  // XLAYOUT_JAX_LAYOUT_H_
