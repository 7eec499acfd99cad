// The environment a checkpoint's physical layouts were fixed in: versions,
// hardware, topology and flags ("xlayout.environment.v1", the `--env` file).
//
// A device layout depends on the XLA (libtpu) version, the flags, the device
// kind and the topology at compile time; a checkpoint records them so that a
// later program can tell which change moved a layout (E0102). See
// docs/checkpoint.md for the JSON schema.
#ifndef XLAYOUT_ENVIRONMENT_H_
#define XLAYOUT_ENVIRONMENT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace xlayout {

inline constexpr absl::string_view kEnvironmentFormat =
    "xlayout.environment.v1";

// Flag name (without the leading "--") -> value, sorted by name.
using FlagMap = std::map<std::string, std::string>;

struct Environment {
  // Every field is optional: an unknown component is left unset (nullopt /
  // empty), never guessed.
  std::optional<std::string> xla_version;
  std::optional<std::string> jax_version;
  std::optional<std::string> jaxlib_version;
  std::optional<std::string> libtpu_version;
  std::optional<std::string> backend;           // "tpu", "gpu", "cpu"
  std::optional<std::string> platform_version;  // PJRT platform_version
  std::optional<std::string> device_kind;       // "TPU v4"
  std::optional<std::string> topology;          // "4x4x4"
  std::optional<int64_t> device_count;
  std::optional<int64_t> process_count;
  // XLA_FLAGS / LIBTPU_INIT_ARGS, parsed (ParseXlaFlags); nullopt when the
  // variable was not recorded, an empty map when it was recorded empty.
  std::optional<FlagMap> xla_flags;
  std::optional<FlagMap> libtpu_init_args;
  std::optional<std::string> code_revision;
  std::optional<std::string> created;  // RFC 3339, e.g. 2026-11-30T13:00:00Z
  std::optional<std::string> xlayout_version;

  friend bool operator==(const Environment&, const Environment&) = default;
};

// Parses a flag string the way XLA's parse_flags_from_env.cc splits
// XLA_FLAGS: whitespace-separated `--name` or `--name=value` tokens, where a
// value written `--name="a b"` (backslash escapes) or `--name='a b'` is
// unquoted. `--name` alone means "true"; values "true"/"false" in any case
// are lower-cased (tsl's bool parser accepts them case-insensitively);
// other values ("1", "0", numbers, strings) are kept verbatim, since the
// flag's type is not known here (DiffEnvironments compares "0" and "false"
// as one). `--noname` is kept as flag "noname": tsl's parser, which reads
// XLA_FLAGS, has no negated form (DiffEnvironments resolves it in
// LIBTPU_INIT_ARGS, which absl's parser reads). Dump-only flags
// (IsDumpOnlyFlag) are left out. A repeated flag keeps its last value, as XLA
// does. A token that does not start with "--" is an error naming its column
// (XLA itself would stop parsing there or reject the flag). A value that
// begins with a quote and never closes is an error too.
absl::StatusOr<FlagMap> ParseXlaFlags(absl::string_view flags,
                                      absl::string_view what = "XLA_FLAGS");

// The flags as one XLA_FLAGS string that ParseXlaFlags reads back to the
// same map: "--name=value" joined by spaces, a value double-quoted (with
// '"' and '\' escaped) when it is empty or holds whitespace, a quote or a
// backslash, so the line can be pasted into a shell's XLA_FLAGS="...".
std::string FormatXlaFlags(const FlagMap& flags);

// What the component of an EnvironmentChange is called in text: "libtpu",
// "device kind", "XLA_FLAGS", ...
std::string EnvironmentComponentLabel(absl::string_view component);

// Flags that only control debug output and cannot change a layout:
// --xla_dump_*.
bool IsDumpOnlyFlag(absl::string_view name);

// Parses the JSON text of an environment file. Unknown fields, wrong types
// and duplicate keys are errors naming the field, e.g.
//   environment: field 'device_count': expected a non-negative integer,
//   got "x"
// "xla_flags" and "libtpu_init_args" take either the raw string (as in
// os.environ) or an object of flag -> string value.
absl::StatusOr<Environment> ParseEnvironment(absl::string_view json_text);

// Reads and parses an environment file (at most 16 MiB) through the io
// layer: devices and directories are refused, FIFOs are read as streams,
// "-" is stdin. Open and read errors name the path; parse errors are
// prefixed "LABEL 'PATH': " (just "'PATH': " with an empty label), e.g.
// "--env 'env.json': environment: field 'device_count': ...".
absl::StatusOr<Environment> ReadEnvironmentFile(const std::string& path,
                                                absl::string_view label = "");

// Fills what a writer of a checkpoint knows about its own run when `env`
// lacks it: `created` (now, UTC) and `xlayout_version` (`tool_version`, when
// not empty).
void StampEnvironment(Environment& env, absl::string_view tool_version);

// The canonical JSON text: "format" first, then the fields above in
// declaration order, unset fields omitted, flags as objects; 2-space indent
// and a trailing newline. ParseEnvironment(SerializeEnvironment(e)) == e.
std::string SerializeEnvironment(const Environment& env);

// One component that differs between two environments.
struct EnvironmentChange {
  // Stable key for JSON output: "xla_version", "libtpu_version",
  // "xla_flag", "libtpu_init_arg", "device_kind", "topology",
  // "device_count", "backend", "platform_version", "jax_version",
  // "jaxlib_version", "process_count", "code_revision", "xlayout_version".
  std::string component;
  std::string flag;  // The flag name for "xla_flag" / "libtpu_init_arg".
  std::optional<std::string> before;  // nullopt: unset on that side.
  std::optional<std::string> after;
  // Whether this component can change a compiled program's layouts
  // (XLA/libtpu version, flags, device kind, topology, device count).
  bool affects_layout = false;

  // "flag --xla_tpu_foo: false → true", "device kind: TPU v4 → TPU v5 lite",
  // "topology: 4x4x4 → 4x8", "jaxlib 0.4.30 → 0.4.31"; an unset side prints
  // as "(unset)".
  std::string ToString() const;

  friend bool operator==(const EnvironmentChange&,
                         const EnvironmentChange&) = default;
};

// Component-by-component differences from `a` to `b`, layout-affecting ones
// first in this order: xla_version, libtpu_version, XLA_FLAGS (by flag
// name), LIBTPU_INIT_ARGS (by flag name), device_kind, topology,
// device_count; then backend, platform_version, jax_version, jaxlib_version,
// process_count, code_revision, xlayout_version. The creation time is not a
// component (it always differs) and is not compared. A component unset on
// both sides is no change; unset on one side is one. When one side did not
// record a flag variable at all (nullopt), its flags are not compared.
// Flag values are compared as a bool flag's parser reads them: "0" is
// "false" and "1" is "true" when the other side says "false" or "true"
// (which only a bool flag takes). In LIBTPU_INIT_ARGS, read by absl's flag
// parser, a bare `--noNAME` is NAME=false when NAME is set on either side.
std::vector<EnvironmentChange> DiffEnvironments(const Environment& a,
                                                const Environment& b);

}  // namespace xlayout

#endif  // XLAYOUT_ENVIRONMENT_H_
