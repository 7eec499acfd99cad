#include "xlayout/environment.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "checkpoint/environment_json.h"
#include "checkpoint/json_util.h"
#include "xlayout/io/input_file.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

using checkpoint_internal::Excerpt;
using checkpoint_internal::Json;
using checkpoint_internal::OrderedJson;
using checkpoint_internal::Quote;

constexpr absl::string_view kWhitespace = " \t\r\n";

bool IsWhitespace(char c) {
  return kWhitespace.find(c) != absl::string_view::npos;
}

bool IsFlagNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-';
}

absl::Status FieldError(absl::string_view field, absl::string_view expected,
                        const Json& got) {
  return absl::InvalidArgumentError(absl::StrCat("environment: field '", field,
                                                 "': expected ", expected,
                                                 ", got ", Excerpt(got)));
}

absl::StatusOr<std::string> GetString(const Json& value,
                                      absl::string_view field) {
  if (!value.is_string()) return FieldError(field, "a string", value);
  return value.get<std::string>();
}

absl::StatusOr<int64_t> GetCount(const Json& value, absl::string_view field) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v);
  } else if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return value.get<int64_t>();
  }
  return FieldError(field, "a non-negative integer", value);
}

absl::StatusOr<FlagMap> GetFlags(const Json& value, absl::string_view field) {
  if (value.is_string()) {
    absl::StatusOr<FlagMap> flags = ParseXlaFlags(value.get<std::string>(), "");
    if (!flags.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment: field '", field, "': ", flags.status().message()));
    }
    return flags;
  }
  if (!value.is_object()) {
    return FieldError(field, "a flag string or an object of flag -> value",
                      value);
  }
  FlagMap flags;
  for (const auto& [name, flag_value] : value.items()) {
    std::string sub = absl::StrCat(field, ".", name);
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), IsFlagNameChar) ||
        name[0] == '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment: field '", sub,
          "': a flag name is letters, digits, '_' and '-', without the "
          "leading \"--\""));
    }
    XLAYOUT_ASSIGN_OR_RETURN(std::string v, GetString(flag_value, sub));
    if (IsDumpOnlyFlag(name)) continue;
    flags[name] = std::move(v);
  }
  return flags;
}

std::string Show(const std::optional<std::string>& v) {
  return v.has_value() ? *v : "(unset)";
}

}  // namespace

bool IsDumpOnlyFlag(absl::string_view name) {
  return absl::StartsWith(name, "xla_dump_");
}

absl::StatusOr<FlagMap> ParseXlaFlags(absl::string_view flags,
                                      absl::string_view what) {
  auto error = [&](size_t pos, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, what.empty() ? "" : ": ", "col ", pos + 1, ": ", message));
  };
  FlagMap result;
  size_t i = 0;
  const size_t n = flags.size();
  while (true) {
    while (i < n && IsWhitespace(flags[i])) ++i;
    if (i == n) break;
    const size_t start = i;
    if (flags.substr(i, 2) != "--") {
      size_t end = i;
      while (end < n && !IsWhitespace(flags[end])) ++end;
      return error(start,
                   absl::StrCat("expected a flag starting with \"--\", got ",
                                Quote(flags.substr(start, end - start)),
                                " (XLA stops reading flags here)"));
    }
    i += 2;
    size_t name_begin = i;
    while (i < n && IsFlagNameChar(flags[i])) ++i;
    std::string name(flags.substr(name_begin, i - name_begin));
    if (name.empty() || name[0] == '-') {
      return error(start, "expected a flag name after \"--\"");
    }
    std::string value;
    if (i == n || IsWhitespace(flags[i])) {
      value = "true";
    } else if (flags[i] != '=') {
      return error(
          i, absl::StrCat("unexpected character ", Quote(flags.substr(i, 1)),
                          " in flag name --", name));
    } else {
      ++i;  // '='
      if (i < n && (flags[i] == '"' || flags[i] == '\'')) {
        const char quote = flags[i];
        const size_t open = i;
        ++i;
        bool closed = false;
        while (i < n) {
          char c = flags[i];
          if (c == quote) {
            closed = true;
            ++i;
            break;
          }
          if (quote == '"' && c == '\\' && i + 1 < n) {
            ++i;
            c = flags[i];
          }
          value += c;
          ++i;
        }
        if (!closed) {
          return error(open,
                       absl::StrCat("unterminated quoted value for --", name));
        }
        if (i < n && !IsWhitespace(flags[i])) {
          return error(i, absl::StrCat("expected whitespace after the quoted "
                                       "value of --",
                                       name));
        }
      } else {
        size_t value_begin = i;
        while (i < n && !IsWhitespace(flags[i])) ++i;
        value = std::string(flags.substr(value_begin, i - value_begin));
      }
    }
    if (absl::EqualsIgnoreCase(value, "true")) value = "true";
    if (absl::EqualsIgnoreCase(value, "false")) value = "false";
    if (IsDumpOnlyFlag(name)) continue;
    result[name] = std::move(value);
  }
  return result;
}

absl::StatusOr<Environment> ParseEnvironment(absl::string_view json_text) {
  XLAYOUT_ASSIGN_OR_RETURN(Json root, checkpoint_internal::ParseStrictJson(
                                          json_text, "environment"));
  return checkpoint_internal::EnvironmentFromJson(root);
}

namespace checkpoint_internal {

absl::StatusOr<Environment> EnvironmentFromJson(const Json& root) {
  if (!root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "environment: expected a JSON object, got ", Excerpt(root)));
  }
  auto format = root.find("format");
  if (format == root.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment: field 'format' is missing; expected \"",
                     kEnvironmentFormat, "\""));
  }
  if (!format->is_string() ||
      format->get<std::string>() != kEnvironmentFormat) {
    return FieldError("format", Quote(kEnvironmentFormat), *format);
  }
  Environment env;
  for (const auto& item : root.items()) {
    // Named variables, not a structured binding: the lambda below captures
    // them (clang before 16 cannot capture bindings).
    const std::string& key = item.key();
    const Json& value = item.value();
    if (key == "format") continue;
    auto string_field = [&](std::optional<std::string>* out) -> absl::Status {
      XLAYOUT_ASSIGN_OR_RETURN(*out, GetString(value, key));
      return absl::OkStatus();
    };
    if (key == "xla_version") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.xla_version));
    } else if (key == "jax_version") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.jax_version));
    } else if (key == "jaxlib_version") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.jaxlib_version));
    } else if (key == "libtpu_version") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.libtpu_version));
    } else if (key == "backend") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.backend));
    } else if (key == "platform_version") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.platform_version));
    } else if (key == "device_kind") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.device_kind));
    } else if (key == "topology") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.topology));
    } else if (key == "device_count") {
      XLAYOUT_ASSIGN_OR_RETURN(env.device_count, GetCount(value, key));
    } else if (key == "process_count") {
      XLAYOUT_ASSIGN_OR_RETURN(env.process_count, GetCount(value, key));
    } else if (key == "xla_flags") {
      XLAYOUT_ASSIGN_OR_RETURN(env.xla_flags, GetFlags(value, key));
    } else if (key == "libtpu_init_args") {
      XLAYOUT_ASSIGN_OR_RETURN(env.libtpu_init_args, GetFlags(value, key));
    } else if (key == "code_revision") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.code_revision));
    } else if (key == "created") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.created));
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, *env.created, &t, &err)) {
        return FieldError(
            key, "an RFC 3339 time such as \"2026-11-30T13:00:00Z\"", value);
      }
    } else if (key == "xlayout_version") {
      XLAYOUT_RETURN_IF_ERROR(string_field(&env.xlayout_version));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("environment: unknown field ", Quote(key), " (schema ",
                       kEnvironmentFormat, "; see docs/checkpoint.md)"));
    }
  }
  return env;
}

OrderedJson EnvironmentToJson(const Environment& env) {
  OrderedJson j = OrderedJson::object();
  j["format"] = std::string(kEnvironmentFormat);
  auto put = [&j](const char* key, const std::optional<std::string>& v) {
    if (v.has_value()) j[key] = *v;
  };
  auto put_flags = [&j](const char* key, const std::optional<FlagMap>& v) {
    if (!v.has_value()) return;
    OrderedJson flags = OrderedJson::object();
    for (const auto& [name, value] : *v) flags[name] = value;
    j[key] = std::move(flags);
  };
  put("xla_version", env.xla_version);
  put("jax_version", env.jax_version);
  put("jaxlib_version", env.jaxlib_version);
  put("libtpu_version", env.libtpu_version);
  put("backend", env.backend);
  put("platform_version", env.platform_version);
  put("device_kind", env.device_kind);
  put("topology", env.topology);
  if (env.device_count.has_value()) j["device_count"] = *env.device_count;
  if (env.process_count.has_value()) j["process_count"] = *env.process_count;
  put_flags("xla_flags", env.xla_flags);
  put_flags("libtpu_init_args", env.libtpu_init_args);
  put("code_revision", env.code_revision);
  put("created", env.created);
  put("xlayout_version", env.xlayout_version);
  return j;
}

}  // namespace checkpoint_internal

std::string SerializeEnvironment(const Environment& env) {
  return checkpoint_internal::EnvironmentToJson(env).dump(
             2, ' ', false, OrderedJson::error_handler_t::replace) +
         "\n";
}

std::string FormatXlaFlags(const FlagMap& flags) {
  std::vector<std::string> parts;
  parts.reserve(flags.size());
  for (const auto& [name, value] : flags) {
    const bool quote =
        value.empty() || absl::c_any_of(value, [](char c) {
          return IsWhitespace(c) || c == '"' || c == '\'' || c == '\\';
        });
    if (!quote) {
      parts.push_back(absl::StrCat("--", name, "=", value));
      continue;
    }
    std::string quoted = "\"";
    for (char c : value) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    quoted += '"';
    parts.push_back(absl::StrCat("--", name, "=", quoted));
  }
  return absl::StrJoin(parts, " ");
}

namespace {

const std::map<std::string, std::string, std::less<>>& ComponentLabels() {
  static const auto* const kLabels =
      new std::map<std::string, std::string, std::less<>>{
          {"xla_version", "XLA "},
          {"libtpu_version", "libtpu "},
          {"device_kind", "device kind: "},
          {"topology", "topology: "},
          {"device_count", "device count: "},
          {"backend", "backend: "},
          {"platform_version", "platform version: "},
          {"jax_version", "jax "},
          {"jaxlib_version", "jaxlib "},
          {"process_count", "process count: "},
          {"code_revision", "code revision: "},
          {"xlayout_version", "xlayout "},
      };
  return *kLabels;
}

}  // namespace

std::string EnvironmentComponentLabel(absl::string_view component) {
  if (component == "xla_flag") return "XLA_FLAGS";
  if (component == "libtpu_init_arg") return "LIBTPU_INIT_ARGS";
  auto it = ComponentLabels().find(component);
  if (it == ComponentLabels().end()) return std::string(component);
  return std::string(
      absl::StripSuffix(absl::StripSuffix(it->second, ": "), " "));
}

std::string EnvironmentChange::ToString() const {
  const auto& kLabels = ComponentLabels();
  std::string label;
  if (component == "xla_flag") {
    label = absl::StrCat("flag --", flag, ": ");
  } else if (component == "libtpu_init_arg") {
    label = absl::StrCat("LIBTPU_INIT_ARGS --", flag, ": ");
  } else {
    auto it = kLabels.find(component);
    label = it != kLabels.end() ? it->second : component + ": ";
  }
  return absl::StrCat(label, Show(before), " → ", Show(after));
}

namespace {

// "true" or "false" for a value a bool flag reads as that ("0" and "1" as
// well: tsl's bool parser, and absl's for libtpu, accept them); nullopt
// otherwise. ParseXlaFlags has lower-cased "true" and "false" already.
std::optional<bool> BoolValue(absl::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return std::nullopt;
}

// Whether two values of one flag set it the same way: equal text, or "0"
// and "false" ("1" and "true"): "false" is a bool flag's value, so the flag
// is a bool and reads "0" as false. "0" and "1" alone say nothing of the
// type and are compared as text.
bool SameFlagValue(const std::string& x, const std::string& y) {
  if (x == y) return true;
  const bool literal =
      x == "true" || x == "false" || y == "true" || y == "false";
  const std::optional<bool> bx = BoolValue(x);
  const std::optional<bool> by = BoolValue(y);
  return literal && bx.has_value() && by.has_value() && *bx == *by;
}

// LIBTPU_INIT_ARGS is read by absl's flag parser, where a bare `--noNAME`
// sets the bool flag NAME to false. `--noNAME` becomes NAME=false when
// NAME is set on either side (otherwise "noNAME" may be a flag of its own,
// and it is compared as it is written).
FlagMap WithNegationsResolved(const FlagMap& flags, const FlagMap& other) {
  FlagMap out;
  for (const auto& [name, value] : flags) {
    if (absl::StartsWith(name, "no") && name.size() > 2 && value == "true") {
      const std::string target = name.substr(2);
      if ((flags.count(target) > 0 || other.count(target) > 0) &&
          flags.count(target) == 0) {
        out[target] = "false";
        continue;
      }
    }
    out.emplace(name, value);
  }
  return out;
}

}  // namespace

std::vector<EnvironmentChange> DiffEnvironments(const Environment& a,
                                                const Environment& b) {
  std::vector<EnvironmentChange> changes;
  auto compare = [&changes](
                     const char* component, const std::optional<std::string>& x,
                     const std::optional<std::string>& y, bool affects_layout) {
    if (x == y) return;
    changes.push_back({component, "", x, y, affects_layout});
  };
  auto count = [](const std::optional<int64_t>& v) {
    return v.has_value() ? std::optional<std::string>(absl::StrCat(*v))
                         : std::nullopt;
  };
  auto flags = [&changes](
                   const char* component, const std::optional<FlagMap>& x_in,
                   const std::optional<FlagMap>& y_in, bool absl_negation) {
    if (!x_in.has_value() || !y_in.has_value()) return;
    const std::optional<FlagMap> x =
        absl_negation ? WithNegationsResolved(*x_in, *y_in) : *x_in;
    const std::optional<FlagMap> y =
        absl_negation ? WithNegationsResolved(*y_in, *x_in) : *y_in;
    auto ix = x->begin();
    auto iy = y->begin();
    while (ix != x->end() || iy != y->end()) {
      if (iy == y->end() || (ix != x->end() && ix->first < iy->first)) {
        changes.push_back(
            {component, ix->first, ix->second, std::nullopt, true});
        ++ix;
      } else if (ix == x->end() || iy->first < ix->first) {
        changes.push_back(
            {component, iy->first, std::nullopt, iy->second, true});
        ++iy;
      } else {
        if (!SameFlagValue(ix->second, iy->second)) {
          changes.push_back(
              {component, ix->first, ix->second, iy->second, true});
        }
        ++ix;
        ++iy;
      }
    }
  };
  compare("xla_version", a.xla_version, b.xla_version, true);
  compare("libtpu_version", a.libtpu_version, b.libtpu_version, true);
  flags("xla_flag", a.xla_flags, b.xla_flags, /*absl_negation=*/false);
  flags("libtpu_init_arg", a.libtpu_init_args, b.libtpu_init_args,
        /*absl_negation=*/true);
  compare("device_kind", a.device_kind, b.device_kind, true);
  compare("topology", a.topology, b.topology, true);
  compare("device_count", count(a.device_count), count(b.device_count), true);
  compare("backend", a.backend, b.backend, false);
  compare("platform_version", a.platform_version, b.platform_version, false);
  compare("jax_version", a.jax_version, b.jax_version, false);
  compare("jaxlib_version", a.jaxlib_version, b.jaxlib_version, false);
  compare("process_count", count(a.process_count), count(b.process_count),
          false);
  compare("code_revision", a.code_revision, b.code_revision, false);
  compare("xlayout_version", a.xlayout_version, b.xlayout_version, false);
  return changes;
}

absl::StatusOr<Environment> ReadEnvironmentFile(const std::string& path,
                                                absl::string_view label) {
  auto prefixed = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(label, label.empty() ? "" : " ",
                                               "'", path, "': ", s.message()));
  };
  XLAYOUT_ASSIGN_OR_RETURN(
      io::InputFile f,
      io::InputFile::Open(path, {.allow_stdin = true, .allow_streams = true}));
  absl::StatusOr<io::PageBuffer> text = f.ReadAll(int64_t{16} << 20);
  if (!text.ok()) return prefixed(text.status());
  absl::StatusOr<Environment> env = ParseEnvironment(absl::string_view(
      reinterpret_cast<const char*>(text->data()), text->size()));
  if (!env.ok()) return prefixed(env.status());
  return env;
}

void StampEnvironment(Environment& env, absl::string_view tool_version) {
  if (!env.created.has_value()) {
    env.created = absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", absl::Now(),
                                   absl::UTCTimeZone());
  }
  if (!env.xlayout_version.has_value() && !tool_version.empty()) {
    env.xlayout_version = std::string(tool_version);
  }
}

}  // namespace xlayout
