// Finds XLA program-input-mismatch messages (error E0102 and the older forms
// that report the same failure) in arbitrary text: logs, tracebacks, pasted
// snippets. Streams: memory stays bounded however large the input is.
//
// Recognised message forms (see docs/explain.md for the full list):
//   Executable(NAME) expected parameter N of size X (SHAPE) but got buffer
//       with incompatible size Y (SHAPE)
//   Executable expected parameter N of size X but got buffer with
//       incompatible size Y                                (CPU/GPU, no shapes)
//   Executable(NAME) got a parameter buffer for parameter N in an unexpected
//       memory space 'KIND'
//   Executable(NAME) expected parameter N to have element type|rank|layout ...
//   Executable(NAME) expected parameter N dimension D runtime size <= X, ...
//   Execution supplied N buffers but compiled program expected M buffers
//   Executable expected shape X for argument N but got incompatible shape Y
//   Argument does not match host shape or layout of computation parameter N:
//       want X, got Y
//   Executable(NAME) expected parameter N as X but got buffer Y with the same
//       size B and a different shape or physical layout (strict layout
//       check)                          (xlayout's runtime guard, strict mode)
//   Run-time shape mismatch for TPUExecute argument[N] (NAME). Expected
//       <ShapeProto>; got <ShapeProto>                 (TensorFlow on TPU)
//   Computation was compiled for input layouts that disagree with the
//       layouts of arguments passed to it. ... Argument NAME with shape S:
//       Passed layout: L Required layout: L     (JAX; one message per
//       argument; older JAX: "Got input layout(s) that compiled object was
//       called with: L and layout(s) the computation was compiled with: L
//       for arg NAME with shape: S")
//   Invalid buffer passed to Execute() as argument N to replica R: ...
//       Buffer has been deleted or donated.; Array has been deleted with
//       shape=S                                 (PJRT, JAX)
//   layout minor_to_major field contains N elements, but shape is rank R:
//       {...}; shape: <ShapeProto>                     (XLA validation)
// each optionally behind the `E0102: RuntimeProgramInputMismatch:` header,
// with or without the replica/partition suffix, wrapped over several lines,
// behind log-line prefixes (glog, timestamps, process tags) or glued to noise.
#ifndef XLAYOUT_LOG_SCANNER_H_
#define XLAYOUT_LOG_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "xlayout/mismatch.h"

namespace xlayout {

// MessageKind and MessageKindName are in mismatch.h.

// One message as printed. Shapes keep their printed text (whitespace
// removed); nothing is interpreted here, see explain.h for that.
struct ScannedMessage {
  MessageKind kind = MessageKind::kSize;
  std::string program;               // Empty for forms without a name.
  std::optional<int64_t> parameter;  // Parameter / argument number.
  // The argument's name where the form prints one: TensorFlow's input name
  // (TPUExecute), JAX's argument path (`t['k_bias']`).
  std::string parameter_name;
  std::string expected_shape;  // Empty when the form prints none.
  std::string actual_shape;
  std::optional<int64_t> expected_bytes;
  std::optional<int64_t> actual_bytes;
  // Form-specific values as printed: element type enum names ("BF16"),
  // ranks, layouts ("{1,0}"), runtime sizes, buffer counts; the memory kind
  // of a memory-space message is in actual_value.
  std::string expected_value;
  std::string actual_value;
  std::optional<int64_t> dimension;  // kDynamicDimension.
  std::optional<int64_t> replica;    // From the replica/partition suffix.
  std::optional<int64_t> partition;
  bool error_code =
      false;  // Preceded by "E0102: RuntimeProgramInputMismatch:".
  // Where it was found: 1-based line of the first line of the message and the
  // byte offset of the message start in the input.
  int64_t line = 0;
  int64_t offset = 0;
  // The message on one line, whitespace collapsed; capped at 4 KiB.
  std::string text;
};

// A place that looked like a mismatch message (it contains a message keyword
// such as "Executable(") but could not be read as one.
struct UnparsedCandidate {
  int64_t line = 0;
  int64_t offset = 0;
  std::string reason;   // What was expected where, e.g. "expected 'of size'".
  std::string excerpt;  // The start of the line, capped at 200 bytes.
};

struct ScanOptions {
  // Bytes read per chunk by ScanFile/ScanFd.
  size_t chunk_bytes = size_t{1} << 20;
  // A message may start this many bytes (and at most kMaxLinesBack lines)
  // before the keyword that finds it, and may run this many bytes after it.
  size_t max_back_bytes = 16 << 10;
  size_t max_forward_bytes = 64 << 10;
};

// Streaming scanner. Feed() text in pieces of any size (messages may be split
// anywhere), then Finish(). Callbacks run in input order, synchronously.
// Memory: one chunk plus max_back_bytes + max_forward_bytes of carry-over.
class LogScanner {
 public:
  using MessageFn = std::function<void(ScannedMessage)>;
  using UnparsedFn = std::function<void(UnparsedCandidate)>;

  explicit LogScanner(MessageFn on_message, UnparsedFn on_unparsed = nullptr,
                      ScanOptions options = {});
  ~LogScanner();
  LogScanner(const LogScanner&) = delete;
  LogScanner& operator=(const LogScanner&) = delete;

  void Feed(absl::string_view data);
  // Flushes the carry-over; call once at the end of the input.
  void Finish();

  int64_t bytes_scanned() const;
  int64_t messages_found() const;
  int64_t unparsed_candidates() const;
  // Bytes of buffer allocated: at most one chunk plus the carry-over
  // (max_back_bytes + max_forward_bytes + the longest keyword), whatever the
  // input size.
  size_t buffer_capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Length of the log-line prefix at the start of `line` (glog/absl headers
// "E0125 15:22:55.460935 12345 file.cc:123] ", ISO timestamps, "[tags]",
// Ray "(pid=N)" tags, container "stderr F " and compose "name | " tags, log
// levels, pytest's "E   "), repeated prefixes included; 0 if none.
size_t LogPrefixLength(absl::string_view line);

// Convenience: every message in `text`, in order.
std::vector<ScannedMessage> ScanText(absl::string_view text);

// Scans a file ("-" reads stdin). NOT_FOUND / PERMISSION_DENIED / INTERNAL
// statuses name the path and the OS error.
absl::Status ScanFile(const std::string& path, LogScanner& scanner,
                      const std::function<void(int64_t)>& on_progress = {});

}  // namespace xlayout

#endif  // XLAYOUT_LOG_SCANNER_H_
