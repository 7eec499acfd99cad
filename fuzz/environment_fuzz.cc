// libFuzzer target for the environment file (--env ENV.json) and the
// XLA_FLAGS splitter. An environment that parses must round-trip through
// SerializeEnvironment and differ from itself in nothing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "xlayout/environment.h"

namespace {

void Check(bool condition, const char* what, const std::string& input) {
  if (condition) return;
  std::fprintf(stderr, "invariant failed: %s\ninput: %s\n", what,
               input.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<xlayout::Environment> env = xlayout::ParseEnvironment(input);
  if (env.ok()) {
    std::string text = xlayout::SerializeEnvironment(*env);
    absl::StatusOr<xlayout::Environment> again =
        xlayout::ParseEnvironment(text);
    Check(again.ok(), "serialised environment does not parse", input);
    Check(*again == *env, "serialised environment parses to another value",
          input);
    Check(xlayout::SerializeEnvironment(*again) == text,
          "serialisation is not a fixed point", input);
    Check(xlayout::DiffEnvironments(*env, *again).empty(),
          "an environment differs from itself", input);
    for (const xlayout::EnvironmentChange& c :
         xlayout::DiffEnvironments(xlayout::Environment(), *env)) {
      Check(!c.ToString().empty(), "empty change text", input);
    }
  } else {
    Check(env.status().message().rfind("environment: ", 0) == 0,
          "error does not say it is about the environment", input);
  }
  absl::StatusOr<xlayout::FlagMap> flags = xlayout::ParseXlaFlags(input);
  if (flags.ok()) {
    for (const auto& [name, value] : *flags) {
      Check(!name.empty() && !xlayout::IsDumpOnlyFlag(name),
            "empty or dump-only flag kept", input);
    }
  }
  return 0;
}
