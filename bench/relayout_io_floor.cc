// The I/O floor of a checkpoint relayout on one thread: the system calls
// any relayout must make, with no conversion and no checksums. Each line of
// PLAN is one tensor:
//
//   R SRC OFFSET LENGTH DST   read it into memory, then write it (a tensor
//                             to convert: its bytes must pass through the
//                             process), 4 MiB at a time (512 KiB reads, as
//                             the relayout's) through one reused huge-page
//                             buffer
//   C SRC OFFSET LENGTH DST   copy it in the kernel (copy_file_range)
//
// to the same offset of DST. Every DST is preallocated to its largest end
// first and fsynced last, like the relayout's output. The bytes written are
// the source's (this measures the calls, not a conversion).
// bench/checkpoint_relayout_bench.py writes PLAN and times this beside
// `cp -r` and the relayout: the relayout's time over this one is what
// converting and hashing cost.
//
//   build/release/bench/relayout_io_floor PLAN
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

struct Step {
  bool read = false;
  std::string src;
  int64_t offset = 0;
  int64_t length = 0;
  std::string dst;
};

[[noreturn]] void Fail(const std::string& what, const std::string& path,
                       int error = errno) {
  std::fprintf(stderr, "relayout_io_floor: %s '%s': %s\n", what.c_str(),
               path.c_str(),
               error == 0 ? "it ends too soon" : std::strerror(error));
  std::exit(2);
}

int OpenOnce(std::map<std::string, int>& fds, const std::string& path,
             int flags) {
  auto it = fds.find(path);
  if (it != fds.end()) return it->second;
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) Fail("cannot open", path);
  fds[path] = fd;
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: relayout_io_floor PLAN\n");
    return 2;
  }
  std::ifstream plan(argv[1]);
  if (!plan) Fail("cannot read", argv[1]);
  std::vector<Step> steps;
  std::map<std::string, int64_t> ends;
  int64_t largest_read = 0;
  std::string kind;
  Step s;
  while (plan >> kind >> s.src >> s.offset >> s.length >> s.dst) {
    if ((kind != "R" && kind != "C") || s.offset < 0 || s.length < 0) {
      std::fprintf(stderr, "relayout_io_floor: '%s': bad line %zu\n", argv[1],
                   steps.size() + 1);
      return 2;
    }
    s.read = kind == "R";
    if (s.read) largest_read = std::max(largest_read, s.length);
    ends[s.dst] = std::max(ends[s.dst], s.offset + s.length);
    steps.push_back(s);
  }

  std::map<std::string, int> in, out;
  for (const auto& [path, end] : ends) {
    const int fd = OpenOnce(out, path, O_WRONLY | O_CREAT | O_TRUNC);
    if (end > 0 && fallocate(fd, 0, 0, end) != 0) Fail("cannot allocate", path);
  }
  constexpr int64_t kBlock = int64_t{4} << 20;
  const size_t capacity =
      static_cast<size_t>(std::min<int64_t>(largest_read, kBlock));
  uint8_t* buffer = nullptr;
  if (capacity > 0) {
    void* p = mmap(nullptr, kBlock, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) Fail("cannot map a buffer for", argv[1]);
    madvise(p, kBlock, MADV_HUGEPAGE);
    buffer = static_cast<uint8_t*>(p);
    std::memset(buffer, 0, capacity);  // Prefaulted, as the relayout's.
  }
  for (const Step& step : steps) {
    const int src = OpenOnce(in, step.src, O_RDONLY);
    const int dst = OpenOnce(out, step.dst, O_WRONLY);
    if (step.read) {
      // 4 MiB at a time through one buffer: the least memory any relayout
      // needs (a transpose needs the whole tensor; that is its cost).
      for (int64_t done = 0; done < step.length;) {
        const int64_t block = std::min<int64_t>(step.length - done, kBlock);
        for (int64_t got = 0; got < block;) {
          const ssize_t n = pread(
              src, buffer + got,
              static_cast<size_t>(std::min<int64_t>(block - got, 512 << 10)),
              step.offset + done + got);
          if (n <= 0) Fail("cannot read", step.src, n < 0 ? errno : 0);
          got += n;
        }
        for (int64_t put = 0; put < block;) {
          const ssize_t n =
              pwrite(dst, buffer + put, static_cast<size_t>(block - put),
                     step.offset + done + put);
          if (n <= 0) Fail("cannot write", step.dst);
          put += n;
        }
        done += block;
      }
    } else {
      loff_t from = step.offset, to = step.offset;
      for (int64_t done = 0; done < step.length;) {
        const ssize_t n = copy_file_range(
            src, &from, dst, &to, static_cast<size_t>(step.length - done), 0);
        if (n <= 0) Fail("cannot copy from", step.src, n < 0 ? errno : 0);
        done += n;
      }
    }
  }
  for (const auto& [path, fd] : out) {
    if (fsync(fd) != 0 || close(fd) != 0) Fail("cannot sync", path);
  }
  return 0;
}
