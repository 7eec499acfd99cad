#include "xlayout/xxh3.h"

#include <xxhash.h>
#if defined(__x86_64__)
// Debian's libxxhash exports run-time dispatched entry points; this header
// redirects XXH3_64bits* to them (its plain ones are the SSE2 build).
#include <xxh_x86dispatch.h>
#endif

namespace xlayout {

uint64_t Xxh3Of(absl::Span<const uint8_t> bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

Xxh3::Xxh3() : state_(XXH3_createState()) {
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}

Xxh3::~Xxh3() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Xxh3::Update(absl::Span<const uint8_t> bytes) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), bytes.data(),
                     bytes.size());
}

uint64_t Xxh3::Digest() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

}  // namespace xlayout
