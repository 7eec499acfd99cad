// libFuzzer target for .npy headers. The input is a whole file. A header
// that parses must give data that fits the file, and writing its descr,
// shape and order back must parse to the same header fields.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "xlayout/npy.h"

namespace {

void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "invariant failed: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  xlayout::NpyReadOptions options;
  options.require_resolved_void = false;
  absl::StatusOr<xlayout::NpyHeader> exact =
      xlayout::ParseNpyHeader(input, options, static_cast<int64_t>(size));
  if (exact.ok()) {
    Check(exact->data_offset + exact->data_bytes == static_cast<int64_t>(size),
          "data does not fill the file exactly");
  }
  absl::StatusOr<xlayout::NpyHeader> h =
      xlayout::ParseNpyHeader(input, options);
  if (!h.ok()) {
    Check(h.status().message().rfind("npy: ", 0) == 0, "error without prefix");
    return 0;
  }
  if (!h->dtype.is_void) (void)h->StoredShape().ToString(true);
  absl::StatusOr<std::string> written =
      xlayout::WriteNpyHeader(h->dtype.descr, h->shape, h->fortran_order);
  Check(written.ok(), "a parsed header cannot be written back");
  Check(written->size() % 64 == 0, "written header is not 64-byte aligned");
  xlayout::NpyReadOptions big = options;
  big.max_header_chars = int64_t{1} << 30;
  absl::StatusOr<xlayout::NpyHeader> again =
      xlayout::ParseNpyHeader(*written, big);
  Check(again.ok(), "written header does not parse");
  Check(again->dtype.descr == h->dtype.descr && again->shape == h->shape &&
            again->fortran_order == h->fortran_order &&
            again->data_bytes == h->data_bytes &&
            again->data_offset == static_cast<int64_t>(written->size()),
        "written header describes another array");
  return 0;
}
