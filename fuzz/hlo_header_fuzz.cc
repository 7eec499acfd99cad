// Fuzzes the HLO signature reader: header attributes, the
// entry_computation_layout grammar and ENTRY parameter lines. Invariants:
// no crash or hang; the chunk size never changes the answer; every
// signature that parses round-trips through JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "xlayout/hlo_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1 << 16)) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  xlayout::SignatureReadOptions whole;
  xlayout::SignatureReadOptions chunked;
  // Small chunks and a small line limit put boundaries inside every token.
  chunked.chunk_size = 1 + (size > 0 ? data[0] % 13 : 0);
  absl::StatusOr<xlayout::ProgramSignature> a =
      xlayout::ParseHloSignature(text, whole);
  absl::StatusOr<xlayout::ProgramSignature> b =
      xlayout::ParseHloSignature(text, chunked);
  if (a.ok() != b.ok()) std::abort();
  if (!a.ok()) {
    if (a.status() != b.status()) std::abort();
    return 0;
  }
  std::string json = xlayout::SignatureToJson(*a);
  if (json != xlayout::SignatureToJson(*b)) std::abort();
  absl::StatusOr<xlayout::ProgramSignature> back =
      xlayout::SignatureFromJson(json);
  // The reader makes every name valid UTF-8, so the JSON must come back
  // unchanged.
  if (!back.ok() || xlayout::SignatureToJson(*back) != json) std::abort();
  return 0;
}
