#include "xlayout/environment.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xlayout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(ParseXlaFlags, SplitsLikeXla) {
  absl::StatusOr<FlagMap> flags = ParseXlaFlags(
      "  --xla_tpu_enable_foo --xla_b=1\t--xla_c=FALSE\n--xla_a=\"x y\\\"z\" "
      "--xla_d='p\\q r' --xla_e=TRUE");
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(
      *flags,
      ElementsAre(Pair("xla_a", "x y\"z"), Pair("xla_b", "1"),
                  Pair("xla_c", "false"), Pair("xla_d", "p\\q r"),
                  Pair("xla_e", "true"), Pair("xla_tpu_enable_foo", "true")));
}

TEST(ParseXlaFlags, EmptyAndWhitespaceOnly) {
  EXPECT_TRUE(ParseXlaFlags("")->empty());
  EXPECT_TRUE(ParseXlaFlags(" \t\n ")->empty());
}

TEST(ParseXlaFlags, DropsDumpFlags) {
  absl::StatusOr<FlagMap> flags = ParseXlaFlags(
      "--xla_dump_to=/tmp/dump --xla_dump_hlo_as_text --xla_x=2 "
      "--xla_dump_hlo_pass_re='.*'");
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(*flags, ElementsAre(Pair("xla_x", "2")));
}

TEST(ParseXlaFlags, NoPrefixIsNotNegation) {
  absl::StatusOr<FlagMap> flags = ParseXlaFlags("--noxla_foo");
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(*flags, ElementsAre(Pair("noxla_foo", "true")));
}

TEST(ParseXlaFlags, LastValueWins) {
  EXPECT_THAT(*ParseXlaFlags("--xla_a=1 --xla_a=2"),
              ElementsAre(Pair("xla_a", "2")));
}

TEST(ParseXlaFlags, EmptyValueKept) {
  EXPECT_THAT(*ParseXlaFlags("--xla_a= --xla_b=\"\""),
              ElementsAre(Pair("xla_a", ""), Pair("xla_b", "")));
}

TEST(ParseXlaFlags, Errors) {
  absl::StatusOr<FlagMap> r = ParseXlaFlags("--xla_a=1 foo --xla_b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "XLA_FLAGS: col 11: expected a flag starting with \"--\", got "
            "\"foo\" (XLA stops reading flags here)");
  r = ParseXlaFlags("-xla_a", "LIBTPU_INIT_ARGS");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("LIBTPU_INIT_ARGS: col 1"));
  r = ParseXlaFlags("--xla_a=\"unterminated");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("col 9: unterminated quoted value for --xla_a"));
  r = ParseXlaFlags("--");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("expected a flag name"));
  r = ParseXlaFlags("--xla.a=1");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("col 6: unexpected character \".\" in flag name"));
  r = ParseXlaFlags("--a='x'y");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("after the quoted value"));
}

constexpr char kFull[] = R"({
  "format": "xlayout.environment.v1",
  "xla_version": "0.6.1",
  "jax_version": "0.6.2",
  "jaxlib_version": "0.6.2",
  "libtpu_version": "0.0.17",
  "backend": "tpu",
  "platform_version": "TFRT TPU v4\nBuilt on Jun 1 2025",
  "device_kind": "TPU v4",
  "topology": "4x4x4",
  "device_count": 64,
  "process_count": 16,
  "xla_flags": "--xla_tpu_enable_foo=false --xla_dump_to=/tmp/x",
  "libtpu_init_args": {"xla_tpu_bar": "3"},
  "code_revision": "abc123",
  "created": "2026-11-30T13:00:00Z",
  "xlayout_version": "0.1.0"
})";

TEST(ParseEnvironment, AllFields) {
  absl::StatusOr<Environment> env = ParseEnvironment(kFull);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->xla_version, "0.6.1");
  EXPECT_EQ(env->device_kind, "TPU v4");
  EXPECT_EQ(env->device_count, 64);
  EXPECT_EQ(env->process_count, 16);
  EXPECT_THAT(*env->xla_flags,
              ElementsAre(Pair("xla_tpu_enable_foo", "false")));
  EXPECT_THAT(*env->libtpu_init_args, ElementsAre(Pair("xla_tpu_bar", "3")));
  EXPECT_EQ(env->platform_version, "TFRT TPU v4\nBuilt on Jun 1 2025");
  EXPECT_EQ(env->created, "2026-11-30T13:00:00Z");
}

TEST(ParseEnvironment, RoundTrip) {
  absl::StatusOr<Environment> env = ParseEnvironment(kFull);
  ASSERT_TRUE(env.ok()) << env.status();
  std::string text = SerializeEnvironment(*env);
  absl::StatusOr<Environment> again = ParseEnvironment(text);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
  EXPECT_EQ(*again, *env);
  EXPECT_EQ(SerializeEnvironment(*again), text);
  // Stable key order: format first, then declaration order.
  EXPECT_EQ(text.find("\"format\""), 4u);
  EXPECT_LT(text.find("\"xla_version\""), text.find("\"jax_version\""));
  EXPECT_LT(text.find("\"device_count\""), text.find("\"xla_flags\""));
  EXPECT_EQ(text.back(), '\n');
}

TEST(ParseEnvironment, MinimalAndEmptyFlags) {
  absl::StatusOr<Environment> env = ParseEnvironment(
      R"({"format": "xlayout.environment.v1", "xla_flags": ""})");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_FALSE(env->xla_version.has_value());
  ASSERT_TRUE(env->xla_flags.has_value());
  EXPECT_TRUE(env->xla_flags->empty());
  EXPECT_FALSE(env->libtpu_init_args.has_value());
  EXPECT_EQ(SerializeEnvironment(*env),
            "{\n  \"format\": \"xlayout.environment.v1\",\n"
            "  \"xla_flags\": {}\n}\n");
}

std::string ErrorOf(const std::string& body) {
  absl::StatusOr<Environment> env = ParseEnvironment(body);
  EXPECT_FALSE(env.ok()) << body;
  if (env.ok()) return "";
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(env.status().message());
}

std::string WithField(const std::string& field) {
  return R"({"format": "xlayout.environment.v1", )" + field + "}";
}

TEST(ParseEnvironment, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(WithField(R"("device_count": "x")")),
            "environment: field 'device_count': expected a non-negative "
            "integer, got \"x\"");
  EXPECT_EQ(ErrorOf(WithField(R"("device_count": -1)")),
            "environment: field 'device_count': expected a non-negative "
            "integer, got -1");
  EXPECT_EQ(ErrorOf(WithField(R"("process_count": 2.5)")),
            "environment: field 'process_count': expected a non-negative "
            "integer, got 2.5");
  EXPECT_EQ(ErrorOf(WithField(R"("jax_version": 7)")),
            "environment: field 'jax_version': expected a string, got 7");
  EXPECT_EQ(ErrorOf(WithField(R"("created": "yesterday")")),
            "environment: field 'created': expected an RFC 3339 time such as "
            "\"2026-11-30T13:00:00Z\", got \"yesterday\"");
  EXPECT_EQ(ErrorOf(WithField(R"("xla_flags": "--a=1 b")")),
            "environment: field 'xla_flags': col 7: expected a flag starting "
            "with \"--\", got \"b\" (XLA stops reading flags here)");
  EXPECT_EQ(ErrorOf(WithField(R"("xla_flags": {"xla_a": 1})")),
            "environment: field 'xla_flags.xla_a': expected a string, got 1");
  EXPECT_THAT(ErrorOf(WithField(R"("xla_flags": {"--xla_a": "1"})")),
              HasSubstr("field 'xla_flags.--xla_a': a flag name"));
  EXPECT_THAT(ErrorOf(WithField(R"("xla_flags": [1])")),
              HasSubstr("field 'xla_flags': expected a flag string"));
  EXPECT_EQ(ErrorOf(WithField(R"("device_knd": "TPU v4")")),
            "environment: unknown field \"device_knd\" (schema "
            "xlayout.environment.v1; see docs/checkpoint.md)");
}

TEST(ParseEnvironment, FormatAndSyntax) {
  EXPECT_EQ(ErrorOf(R"({"xla_version": "1"})"),
            "environment: field 'format' is missing; expected "
            "\"xlayout.environment.v1\"");
  EXPECT_EQ(ErrorOf(R"({"format": "xlayout.environment.v2"})"),
            "environment: field 'format': expected "
            "\"xlayout.environment.v1\", got \"xlayout.environment.v2\"");
  EXPECT_EQ(ErrorOf("[1]"), "environment: expected a JSON object, got [1]");
  EXPECT_THAT(ErrorOf(R"({"format": )"),
              HasSubstr("environment: invalid JSON: parse error"));
  EXPECT_EQ(ErrorOf(WithField(R"("topology": "4x4", "topology": "4x8")")),
            "environment: duplicate key \"topology\" in top level");
  EXPECT_THAT(ErrorOf(WithField("\"jax_version\": \"\xff\"")),
              HasSubstr("invalid JSON"));
  std::string deep =
      WithField("\"x\": " + std::string(100, '[') + std::string(100, ']'));
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nesting deeper than 64 levels"));
}

Environment Base() {
  Environment e;
  e.xla_version = "0.6.1";
  e.libtpu_version = "0.0.17";
  e.jax_version = "0.4.30";
  e.jaxlib_version = "0.4.30";
  e.device_kind = "TPU v4";
  e.topology = "4x4x4";
  e.device_count = 64;
  e.process_count = 16;
  e.xla_flags = FlagMap{{"xla_tpu_foo", "false"}, {"xla_same", "1"}};
  e.created = "2026-01-01T00:00:00Z";
  return e;
}

std::vector<std::string> Strings(const std::vector<EnvironmentChange>& c) {
  std::vector<std::string> out;
  for (const EnvironmentChange& x : c) out.push_back(x.ToString());
  return out;
}

TEST(DiffEnvironments, IdenticalAndCreationTimeIgnored) {
  Environment a = Base();
  Environment b = Base();
  b.created = "2026-06-01T00:00:00Z";
  EXPECT_TRUE(DiffEnvironments(a, b).empty());
}

TEST(DiffEnvironments, LayoutAffectingFirst) {
  Environment a = Base();
  Environment b = Base();
  b.jaxlib_version = "0.4.31";
  b.device_kind = "TPU v5 lite";
  b.topology = "4x8";
  b.device_count = 32;
  b.process_count = 8;
  (*b.xla_flags)["xla_tpu_foo"] = "true";
  (*b.xla_flags)["xla_new"] = "5";
  b.xla_flags->erase("xla_same");
  b.xla_version = "0.6.2";
  std::vector<EnvironmentChange> changes = DiffEnvironments(a, b);
  EXPECT_THAT(Strings(changes),
              ElementsAre("XLA 0.6.1 → 0.6.2", "flag --xla_new: (unset) → 5",
                          "flag --xla_same: 1 → (unset)",
                          "flag --xla_tpu_foo: false → true",
                          "device kind: TPU v4 → TPU v5 lite",
                          "topology: 4x4x4 → 4x8", "device count: 64 → 32",
                          "jaxlib 0.4.30 → 0.4.31", "process count: 16 → 8"));
  for (size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(changes[i].affects_layout, i < 7) << i;
  }
  EXPECT_EQ(changes[3].component, "xla_flag");
  EXPECT_EQ(changes[3].flag, "xla_tpu_foo");
  EXPECT_EQ(changes[3].before, "false");
  EXPECT_EQ(changes[3].after, "true");
}

TEST(DiffEnvironments, UnrecordedFlagsNotCompared) {
  Environment a = Base();
  Environment b = Base();
  b.xla_flags.reset();
  b.libtpu_init_args = FlagMap{{"xla_x", "1"}};
  EXPECT_TRUE(DiffEnvironments(a, b).empty());
  a.libtpu_init_args = FlagMap{};
  EXPECT_THAT(Strings(DiffEnvironments(a, b)),
              ElementsAre("LIBTPU_INIT_ARGS --xla_x: (unset) → 1"));
}

TEST(DiffEnvironments, BoolSpellingsAreOneValue) {
  // tsl's bool parser reads "0"/"1" as false/true: --xla_a=0 and
  // --xla_a=false set the same value.
  Environment a = Base();
  Environment b = Base();
  a.xla_flags = *ParseXlaFlags("--xla_a=0 --xla_b=1 --xla_c=0 --xla_d=2");
  b.xla_flags =
      *ParseXlaFlags("--xla_a=false --xla_b=True --xla_c=1 --xla_d=true");
  // "0" vs "1" (an int flag, maybe) and "2" vs "true" still differ.
  EXPECT_THAT(Strings(DiffEnvironments(a, b)),
              ElementsAre("flag --xla_c: 0 → 1", "flag --xla_d: 2 → true"));
}

TEST(DiffEnvironments, LibtpuNegatedFlags) {
  // absl's parser (libtpu): a bare --noFLAG is FLAG=false.
  Environment a = Base();
  Environment b = Base();
  a.libtpu_init_args = *ParseXlaFlags("--noxla_tpu_a --noxla_tpu_b", "");
  b.libtpu_init_args = *ParseXlaFlags("--xla_tpu_a=false --xla_tpu_b=1", "");
  EXPECT_THAT(Strings(DiffEnvironments(a, b)),
              ElementsAre("LIBTPU_INIT_ARGS --xla_tpu_b: false → 1"));
  // In XLA_FLAGS (tsl) --noFLAG is a flag of its own.
  a.xla_flags = *ParseXlaFlags("--noxla_a");
  b.xla_flags = *ParseXlaFlags("--xla_a=false");
  EXPECT_EQ(DiffEnvironments(a, b).size(), 3u);
}

TEST(DiffEnvironments, UnsetSide) {
  Environment a;
  Environment b;
  b.libtpu_version = "0.0.18";
  b.backend = "tpu";
  EXPECT_THAT(Strings(DiffEnvironments(a, b)),
              ElementsAre("libtpu (unset) → 0.0.18", "backend: (unset) → tpu"));
}

// Two environment files as the docs' Python snippet writes them
// (testdata/checkpoint/env/), checked against the diff worked out by hand.
std::string ReadEnvFile(const std::string& name) {
  std::ifstream in(std::string(XLAYOUT_TESTDATA_DIR) + "/checkpoint/env/" +
                   name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(EnvironmentFiles, V4ToV5e) {
  absl::StatusOr<Environment> a = ParseEnvironment(ReadEnvFile("env_v4.json"));
  absl::StatusOr<Environment> b = ParseEnvironment(ReadEnvFile("env_v5e.json"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(
      *a->xla_flags,
      ElementsAre(Pair("xla_tpu_enable_latency_hiding_scheduler", "true"),
                  Pair("xla_tpu_foo", "false")));
  EXPECT_TRUE(a->libtpu_init_args->empty());
  EXPECT_THAT(
      Strings(DiffEnvironments(*a, *b)),
      ElementsAre("libtpu 0.0.17 → 0.0.18", "flag --xla_tpu_foo: false → true",
                  "LIBTPU_INIT_ARGS --xla_tpu_megacore_fusion_allow_ags: "
                  "(unset) → false",
                  "device kind: TPU v4 → TPU v5 lite", "topology: 4x4x4 → 4x8",
                  "device count: 64 → 32", "jax 0.4.30 → 0.4.31",
                  "jaxlib 0.4.30 → 0.4.31", "process count: 16 → 8"));
}

}  // namespace
}  // namespace xlayout

namespace xlayout {
namespace {

// Regression: inspect printed --xla_a=x y for a value "x y"; the formatted
// flags read back to the same map.
TEST(FormatXlaFlagsTest, QuotesWhatNeedsItAndRoundTrips) {
  FlagMap flags = {{"xla_a", "x y"},
                   {"xla_b", "1"},
                   {"xla_c", "q\"w\\"},
                   {"xla_d", ""},
                   {"xla_e", "it's"}};
  const std::string text = FormatXlaFlags(flags);
  EXPECT_EQ(text,
            "--xla_a=\"x y\" --xla_b=1 --xla_c=\"q\\\"w\\\\\" --xla_d=\"\" "
            "--xla_e=\"it's\"");
  absl::StatusOr<FlagMap> back = ParseXlaFlags(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, flags);
}

TEST(EnvironmentComponentLabelTest, Names) {
  EXPECT_EQ(EnvironmentComponentLabel("device_kind"), "device kind");
  EXPECT_EQ(EnvironmentComponentLabel("libtpu_version"), "libtpu");
  EXPECT_EQ(EnvironmentComponentLabel("xla_flag"), "XLA_FLAGS");
}

}  // namespace
}  // namespace xlayout
