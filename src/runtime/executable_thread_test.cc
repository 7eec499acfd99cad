// One Executable validated from many threads at once (run under TSan by
// scripts/test: label `tsan`).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runtime/test_programs.h"
#include "xlayout/executable.h"
#include "xlayout/runtime_messages.h"
#include "xlayout/shape_parser.h"

namespace xlayout {
namespace {

TEST(ExecutableThreadTest, ConcurrentValidateAndExecute) {
  const int64_t n = 64;
  absl::StatusOr<ProgramSignature> sig = ParseHloSignature(
      testing::MakeProgramHlo("jit_threads", n, 2, 2,
                              {{7, "bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"}}));
  ASSERT_TRUE(sig.ok()) << sig.status();
  absl::StatusOr<Executable> exe = Executable::Create(*sig);
  ASSERT_TRUE(exe.ok());
  absl::StatusOr<Buffer> filler =
      Buffer::Describe(*ParseShape("f32[128]{0:T(128)}"));
  absl::StatusOr<Buffer> good =
      Buffer::Describe(*ParseShape("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}"));
  absl::StatusOr<Buffer> bad =
      Buffer::Describe(*ParseShape("bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}"));
  ASSERT_TRUE(filler.ok() && good.ok() && bad.ok());
  std::vector<const Buffer*> ok_args(n, &*filler), bad_args(n, &*filler);
  ok_args[7] = &*good;
  bad_args[7] = &*bad;
  std::vector<DeviceArguments> ok_devices, bad_devices;
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t p = 0; p < 2; ++p) {
      ok_devices.push_back({r, p, ok_args});
      bad_devices.push_back({r, p, r == 1 && p == 0 ? bad_args : ok_args});
    }
  }
  const std::string expected =
      "INVALID_ARGUMENT: Executable(jit_threads) expected parameter 7 of size "
      "5242880 (bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}) but got buffer with "
      "incompatible size 1638400 (bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}): "
      "while running replica 1 and partition 0 of a replicated computation "
      "(other replicas may have failed as well).";
  std::atomic<int> launches{0}, failures{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      ValidationOptions options;
      options.strict_layout = t % 2 == 0;
      for (int i = 0; i < 200; ++i) {
        absl::Status s = exe->Execute(
            ok_devices,
            [&](auto) {
              launches.fetch_add(1);
              return absl::OkStatus();
            },
            options);
        if (!s.ok()) wrong.fetch_add(1);
        ValidationResult r = exe->Validate(bad_devices, options);
        // Count what the guard reported, not the loop: a Validate that
        // let the bad buffer through leaves `failures` short.
        if (!r.status.ok()) failures.fetch_add(1);
        if (RenderStatus(r.status) != expected || r.findings.size() != 1) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(launches.load(), 8 * 200);
  EXPECT_EQ(failures.load(), 8 * 200);
}

}  // namespace
}  // namespace xlayout
