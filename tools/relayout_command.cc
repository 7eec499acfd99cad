// `xlayout relayout --shape SHAPE (--to LAYOUT | --to-host | --from-host) IN
// OUT`: converts a raw buffer file from one physical layout to another. OUT is
// written atomically: a temporary file in OUT's directory, fsync, rename.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/relayout.h"
#include "xlayout/shape_parser.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"

namespace xlayout::cli {
namespace {

using nlohmann::json;

struct Options {
  std::string shape;
  std::string to;
  bool from_host = false;
  bool to_host = false;
  int threads = 1;
  bool json = false;
  bool verbose = false;
  bool no_progress = false;
  std::string in;
  std::string out;
};

// The temporary output file, removed by the signal handler if the run is
// interrupted; a plain array so the handler touches no allocator.
char g_temp_path[4096] = {0};

void RemoveTempAndExit(int signo) {
  if (g_temp_path[0] != '\0') unlink(g_temp_path);
  _exit(128 + signo);
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " '", path, "': ", std::strerror(errno)));
}

// A read-only mapping of the whole input file (no copy in memory).
class InputFile {
 public:
  static absl::StatusOr<std::unique_ptr<InputFile>> Open(
      const std::string& path, int64_t expected, const Shape& shape) {
    auto f = std::unique_ptr<InputFile>(new InputFile);
    f->fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f->fd_ < 0) return Errno("cannot open input", path);
    struct stat st;
    if (fstat(f->fd_, &st) != 0) return Errno("cannot stat input", path);
    if (!S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", path, "' is not a regular file"));
    }
    // Checked before any byte is read or written.
    if (st.st_size != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", path, "' is ", st.st_size, " bytes but ",
                       shape.ToString(true), " needs ", expected, " bytes (",
                       HumanBytes(expected), ")"));
    }
    f->size_ = st.st_size;
    if (f->size_ > 0) {
      void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, f->fd_, 0);
      if (p == MAP_FAILED) return Errno("cannot map input", path);
      f->data_ = static_cast<const uint8_t*>(p);
      madvise(p, f->size_, MADV_SEQUENTIAL);
    }
    return f;
  }
  ~InputFile() {
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
    if (fd_ >= 0) close(fd_);
  }
  absl::Span<const uint8_t> span() const {
    return {data_, static_cast<size_t>(size_)};
  }

 private:
  InputFile() = default;
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

// The output: a temporary file next to OUT, mapped for writing; Commit()
// syncs and renames it over OUT, the destructor removes it otherwise.
class OutputFile {
 public:
  static absl::StatusOr<std::unique_ptr<OutputFile>> Create(
      const std::string& path, int64_t size) {
    auto f = std::unique_ptr<OutputFile>(new OutputFile);
    f->path_ = path;
    size_t slash = path.rfind('/');
    f->dir_ = slash == std::string::npos
                  ? "."
                  : (slash == 0 ? "/" : path.substr(0, slash));
    std::string base =
        slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", path, "' names a directory"));
    }
    // Refuse before writing anything when the result cannot fit (a large
    // tile on a small array can ask for terabytes).
    struct statvfs fs;
    if (statvfs(f->dir_.c_str(), &fs) == 0) {
      const __int128 free_bytes =
          static_cast<__int128>(fs.f_bavail) * fs.f_frsize;
      if (size > free_bytes) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "output needs ", size, " bytes (", HumanBytes(size), ") but only ",
            static_cast<int64_t>(free_bytes), " are free in '", f->dir_, "'"));
      }
    }
    std::string temp = absl::StrCat(f->dir_, "/.", base, ".xlayout-tmp-XXXXXX");
    if (temp.size() >= sizeof(g_temp_path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("output path '", path, "' is too long"));
    }
    std::snprintf(g_temp_path, sizeof(g_temp_path), "%s", temp.c_str());
    f->fd_ = mkostemp(g_temp_path, O_CLOEXEC);
    if (f->fd_ < 0) {
      g_temp_path[0] = '\0';
      return Errno("cannot create a temporary file for output", path);
    }
    f->temp_ = g_temp_path;
    f->size_ = size;
    if (ftruncate(f->fd_, size) != 0)
      return Errno("cannot size output", f->temp_);
    if (size > 0) {
      void* p =
          mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd_, 0);
      if (p == MAP_FAILED) return Errno("cannot map output", f->temp_);
      f->data_ = static_cast<uint8_t*>(p);
    }
    return f;
  }

  absl::Span<uint8_t> span() { return {data_, static_cast<size_t>(size_)}; }

  absl::Status Commit() {
    if (data_ != nullptr) {
      if (msync(data_, size_, MS_SYNC) != 0)
        return Errno("cannot write output", temp_);
      munmap(data_, size_);
      data_ = nullptr;
    }
    if (fsync(fd_) != 0) return Errno("cannot sync output", temp_);
    close(fd_);
    fd_ = -1;
    // New files get the usual permissions (mkstemp makes them 0600).
    mode_t mask = umask(0);
    umask(mask);
    chmod(temp_.c_str(), 0666 & ~mask);
    if (rename(temp_.c_str(), path_.c_str()) != 0)
      return Errno("cannot rename output to", path_);
    committed_ = true;
    g_temp_path[0] = '\0';
    int dir = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      fsync(dir);  // Make the rename itself durable.
      close(dir);
    }
    return absl::OkStatus();
  }

  ~OutputFile() {
    if (data_ != nullptr) munmap(data_, size_);
    if (fd_ >= 0) close(fd_);
    if (!committed_ && !temp_.empty()) {
      unlink(temp_.c_str());
      g_temp_path[0] = '\0';
    }
  }

 private:
  OutputFile() = default;
  std::string path_, dir_, temp_;
  int fd_ = -1;
  uint8_t* data_ = nullptr;
  int64_t size_ = 0;
  bool committed_ = false;
};

// --to takes a layout `{...}` or a whole shape, which must be the same
// logical array as --shape.
absl::StatusOr<Shape> TargetShape(const Shape& from, const std::string& to) {
  absl::string_view text = absl::StripAsciiWhitespace(to);
  if (!text.empty() && text.front() == '{') {
    absl::StatusOr<Layout> layout = ParseLayout(text);
    if (!layout.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--to '", to, "': ", layout.status().message()));
    }
    Shape target = from;
    target.set_layout(*layout);
    return target;
  }
  absl::StatusOr<Shape> shape = ParseShape(text);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--to '", to, "': ", shape.status().message()));
  }
  return *shape;
}

struct Result {
  Shape from, to;
  int64_t in_bytes = 0, out_bytes = 0;
  double seconds = 0;
  uint64_t xxh3 = 0;
  int threads = 1;
};

absl::StatusOr<Result> Run(const Options& o) {
  absl::StatusOr<Shape> parsed = ParseShape(o.shape);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shape '", o.shape, "': ", parsed.status().message()));
  }
  if (!parsed->IsArray()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--shape must be an array shape, not ", parsed->ToString(true)));
  }
  XLAYOUT_RETURN_IF_ERROR(ValidateShape(*parsed));
  Result r;
  if (o.from_host && o.to_host) {
    return absl::InvalidArgumentError(
        "--from-host and --to-host together convert nothing");
  }
  if (o.to_host && !o.to.empty()) {
    return absl::InvalidArgumentError(
        "--to and --to-host both name the output layout");
  }
  if (!o.from_host && !o.to_host && o.to.empty()) {
    return absl::InvalidArgumentError(
        "say where to convert to: --to LAYOUT, --to-host or --from-host");
  }
  if (o.from_host) {
    r.from = HostShape(*parsed);
    if (o.to.empty()) {
      r.to = *parsed;
    } else {
      XLAYOUT_ASSIGN_OR_RETURN(r.to, TargetShape(*parsed, o.to));
    }
  } else {
    r.from = *parsed;
    if (o.to_host) {
      r.to = HostShape(*parsed);
    } else {
      XLAYOUT_ASSIGN_OR_RETURN(r.to, TargetShape(*parsed, o.to));
    }
  }
  XLAYOUT_RETURN_IF_ERROR(ValidateShape(r.to));
  XLAYOUT_ASSIGN_OR_RETURN(std::shared_ptr<const RelayoutPlan> plan,
                   GetCachedRelayoutPlan(r.from, r.to, {.threads = o.threads}));
  r.from = plan->from();
  r.to = plan->to();
  r.threads = o.threads;
  r.in_bytes = plan->input_bytes();
  r.out_bytes = plan->output_bytes();
  if (o.verbose) std::fprintf(stderr, "%s", plan->DebugString().c_str());

  XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<InputFile> in,
                   InputFile::Open(o.in, r.in_bytes, r.from));
  XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> out,
                   OutputFile::Create(o.out, r.out_bytes));
  std::unique_ptr<ProgressBar> bar;
  if (!o.no_progress && r.out_bytes >= (64 << 20)) {
    bar = std::make_unique<ProgressBar>("relayout", r.out_bytes);
  }
  auto start = std::chrono::steady_clock::now();
  XLAYOUT_RETURN_IF_ERROR(
      plan->Execute(in->span(), out->span(), [&](int64_t done, int64_t) {
        if (bar) bar->Update(done);
      }));
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  bar.reset();
  r.xxh3 = XXH3_64bits(out->span().data(), out->span().size());
  XLAYOUT_RETURN_IF_ERROR(out->Commit());
  return r;
}

}  // namespace

RunFn RegisterRelayoutCommand(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("relayout",
                                     "Convert a raw buffer file between two "
                                     "physical layouts of the same array "
                                     "(bit-exact; padding written as zeros)");
  cmd->add_option(
         "--shape", o->shape,
         "The array and the layout IN is stored in, e.g. "
         "'bf16[16,1280,40]{1,2,0:T(8,128)(2,1)}' (with --from-host: the "
         "device layout to produce)")
      ->required();
  cmd->add_option("--to", o->to,
                  "Target layout, e.g. '{2,1,0:T(8,128)(2,1)}', or a whole "
                  "shape of the same "
                  "array");
  cmd->add_flag("--from-host", o->from_host,
                "IN is the row-major host layout (as in .npy / safetensors); "
                "OUT gets the "
                "--shape layout (or --to)");
  cmd->add_flag("--to-host", o->to_host, "OUT gets the row-major host layout");
  cmd->add_option("--threads", o->threads, "Worker threads (default 1)")
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", o->json, "Print a JSON summary on stdout");
  cmd->add_flag("-v,--verbose", o->verbose,
                "Describe the relayout plan on stderr");
  cmd->add_flag("--no-progress", o->no_progress,
                "No progress bar (it shows only on a TTY, for outputs of 64 "
                "MiB or more)");
  cmd->add_option("IN", o->in, "Input buffer file")->required();
  cmd->add_option(
         "OUT", o->out,
         "Output file, replaced atomically (temporary file, fsync, rename)")
      ->required();
  cmd->footer(
      "Sub-byte types with E(n) are packed XLA's way: element 0 in the most "
      "significant bits.\n"
      "Exit status: 0 on success, 2 on bad options, mismatched shapes, wrong "
      "input size or "
      "I/O errors (OUT is then left untouched).");
  return [o]() {
    struct sigaction action {};
    action.sa_handler = RemoveTempAndExit;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGHUP, &action, nullptr);
    absl::StatusOr<Result> r = Run(*o);
    if (!r.ok()) {
      PrintError(absl::StrCat("relayout: ", r.status().message()));
      return kExitError;
    }
    const std::string hash = absl::StrFormat("%016x", r->xxh3);
    const double rate =
        r->seconds > 0 ? (r->in_bytes + r->out_bytes) / r->seconds : 0;
    if (o->json) {
      json j = {
          {"input",
           {{"file", o->in},
            {"shape", r->from.ToString(true)},
            {"bytes", r->in_bytes}}},
          {"output",
           {{"file", o->out},
            {"shape", r->to.ToString(true)},
            {"bytes", r->out_bytes},
            {"xxh3_64", hash}}},
          {"threads", r->threads},
          {"seconds", r->seconds},
          {"bytes_per_second", rate},
      };
      PrintJson(j);
      return kExitOk;
    }
    Style style = Style::For(stdout);
    std::printf("%s %s\n", style.Green("relayout").c_str(), o->out.c_str());
    Table t({"", "shape", "bytes"}, {false, false, true});
    t.AddRow({"from", r->from.ToString(true), WithCommas(r->in_bytes)});
    t.AddRow({"to", r->to.ToString(true), WithCommas(r->out_bytes)});
    std::printf("%s", t.Render("  ").c_str());
    std::printf("  %s\n",
                style
                    .Dim(absl::StrFormat(
                        "%.3f s, %s/s (read + written), %d thread%s, xxh3 %s",
                        r->seconds, HumanBytes(static_cast<int64_t>(rate)),
                        r->threads, r->threads == 1 ? "" : "s", hash))
                    .c_str());
    return kExitOk;
  };
}

}  // namespace xlayout::cli
