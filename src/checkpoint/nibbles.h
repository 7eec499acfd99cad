// Nibble order of packed 4-bit data: safetensors' F4 keeps element 0 in the
// low nibble, XLA's E(4) in the high one (docs/checkpoint.md).
#ifndef XLAYOUT_SRC_CHECKPOINT_NIBBLES_H_
#define XLAYOUT_SRC_CHECKPOINT_NIBBLES_H_

#include <cstddef>
#include <cstdint>

namespace xlayout::checkpoint_internal {

// Swaps the two nibbles of every byte (safetensors F4 <-> XLA's E(4)).
inline void SwapNibbles(uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    data[i] = static_cast<uint8_t>((data[i] >> 4) | (data[i] << 4));
  }
}

}  // namespace xlayout::checkpoint_internal

#endif  // XLAYOUT_SRC_CHECKPOINT_NIBBLES_H_
