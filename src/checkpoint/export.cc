// ExportCheckpoint and VerifyCheckpoint: checkpoint -> row-major files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "checkpoint/json_util.h"
#include "checkpoint/nibbles.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/io/atomic_output_dir.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/io_status.h"
#include "xlayout/io/mapped_region.h"
#include "xlayout/io/output_overlap.h"
#include "xlayout/io/page_buffer.h"
#include "xlayout/npy.h"
#include "xlayout/relayout_stream.h"
#include "xlayout/safetensors.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/xxh3.h"

namespace xlayout {

using checkpoint_internal::Quote;
using checkpoint_internal::SwapNibbles;

namespace {

// What StreamLogical reuses from one tensor to the next.
struct TensorStream {
  explicit TensorStream(int threads) : streamer(threads) {}
  RelayoutStreamer streamer;
  io::PageBuffer input;  // The stored bytes (see CheckpointReader::Load).
};

// Reads one tensor (physical checksum verified), converts it to its
// logical bytes and hands them to `sink` in order; then checks the logical
// checksum.
absl::Status StreamLogical(const CheckpointReader& reader,
                           const TensorRecord& t, TensorStream& stream,
                           const ByteSink& sink) {
  RelayoutStreamer& streamer = stream.streamer;
  // Errors of reading the checkpoint are marked as being about it
  // (io::InputFileOf); the sink's (writing OUT) are not.
  absl::StatusOr<io::RandomAccessBytes> loaded = reader.Load(t, &stream.input);
  if (!loaded.ok()) return io::WithInputFile(loaded.status(), reader.dir());
  absl::Span<const uint8_t> physical = loaded->bytes;
  const Shape logical = LogicalShape(t.dtype, t.dims);
  Xxh3 hash;
  auto hashing_sink = [&](absl::Span<const uint8_t> piece) {
    hash.Update(piece);
    return sink(piece);
  };
  if (t.device_shape == logical) {
    XLAYOUT_RETURN_IF_ERROR(hashing_sink(physical));
  } else {
    XLAYOUT_ASSIGN_OR_RETURN(
        std::unique_ptr<RelayoutPlan> plan,
        RelayoutPlan::Create(t.device_shape, logical, streamer.PlanOptions()));
    XLAYOUT_RETURN_IF_ERROR(streamer.Run(*plan, physical.data(), hashing_sink));
  }
  if (hash.Digest() != t.xxh3_logical) {
    return io::WithInputFile(absl::DataLossError(LogicalMismatchMessage(
                                 reader.dir(), t, hash.Digest())),
                             reader.dir());
  }
  return absl::OkStatus();
}

absl::Status Unsupported(const TensorRecord& t, absl::string_view format,
                         absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "tensor \"", t.name, "\" (", Shape(t.dtype, t.dims).ToString(false),
      ") cannot be ", "exported to ", format, ": ", why));
}

// The .npy descr of a tensor: numpy's own, or raw void ('|V2') for the
// types numpy lacks (bf16, f8*: ml_dtypes' convention).
absl::StatusOr<std::string> DescrFor(const TensorRecord& t) {
  absl::StatusOr<std::string> descr = NpyDescrOf(t.dtype);
  if (descr.ok()) return descr;
  if (BitWidth(t.dtype) % 8 != 0) {
    return Unsupported(t, ".npy", "numpy has no sub-byte element type");
  }
  return absl::StrCat("|V", ByteWidth(t.dtype));
}

absl::StatusOr<std::string> NpyHeaderFor(const TensorRecord& t) {
  XLAYOUT_ASSIGN_OR_RETURN(std::string descr, DescrFor(t));
  return WriteNpyHeader(descr, t.dims);
}

absl::Status CheckNpyName(const TensorRecord& t) {
  if (absl::StrContains(t.name, '/')) {
    return Unsupported(t, "a .npy file name",
                       "the name has a '/' (names with '/' go to .npz only)");
  }
  const std::string file = absl::StrCat(t.name, ".npy");
  if (std::optional<std::string> why = DataFileNameProblem(file)) {
    return Unsupported(t, "a .npy file name",
                       absl::StrCat("the name is not a safe file name: ",
                                    Quote(file), " ", *why));
  }
  return absl::OkStatus();
}

// .npz members may have '/' in their names, as np.savez writes flax-style
// names ("params/Dense_0/kernel.npy"); the parts follow the data file rules.
absl::Status CheckNpzMemberName(const TensorRecord& t) {
  const std::string member = absl::StrCat(t.name, ".npy");
  if (std::optional<std::string> why = DataFileNameProblem(member)) {
    return Unsupported(
        t, "an .npz member name",
        absl::StrCat("the member name ", Quote(member), " ", *why,
                     " (member names follow the rules "
                     "of file names)"));
  }
  return absl::OkStatus();
}

// ---- safetensors

absl::StatusOr<int64_t> ExportSafetensors(const CheckpointReader& reader,
                                          const std::string& output,
                                          TensorStream& stream,
                                          const ExportOptions& options) {
  const auto& tensors = reader.manifest().tensors;
  std::vector<SafetensorsEntry> entries;
  int64_t total = 0;
  for (const TensorRecord& t : tensors) {
    std::optional<SafetensorsDtype> dtype = SafetensorsDtypeOf(t.dtype);
    if (!dtype.has_value()) {
      return Unsupported(t, "safetensors", "safetensors has no such dtype");
    }
    if (dtype->bits == 6) {
      return Unsupported(t, "safetensors", "6-bit packing is not supported");
    }
    entries.push_back({t.name, t.dtype, t.dims});
    XLAYOUT_ASSIGN_OR_RETURN(int64_t bytes,
                             ExactBytes(LogicalShape(t.dtype, t.dims)));
    total += bytes;
  }
  XLAYOUT_ASSIGN_OR_RETURN(std::string header, WriteSafetensorsHeader(entries));
  io::OutputOptions out_options;
  out_options.expected_bytes = static_cast<int64_t>(header.size()) + total;
  XLAYOUT_ASSIGN_OR_RETURN(io::AtomicOutputFile out,
                           io::AtomicOutputFile::Create(output, out_options));
  XLAYOUT_RETURN_IF_ERROR(out.Write(header.data(), header.size()));
  std::vector<uint8_t> scratch;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorRecord& t = tensors[i];
    const bool swap = BitWidth(t.dtype) == 4;
    XLAYOUT_RETURN_IF_ERROR(
        StreamLogical(reader, t, stream, [&](absl::Span<const uint8_t> piece) {
          if (!swap) return out.Write(piece.data(), piece.size());
          scratch.assign(piece.begin(), piece.end());
          SwapNibbles(scratch.data(), scratch.size());
          return out.Write(scratch.data(), scratch.size());
        }));
    if (options.progress) {
      options.progress(static_cast<int64_t>(i + 1),
                       static_cast<int64_t>(tensors.size()));
    }
  }
  XLAYOUT_RETURN_IF_ERROR(out.Commit());
  return total;
}

// ---- a directory of .npy files

absl::StatusOr<int64_t> ExportNpyDir(const CheckpointReader& reader,
                                     const std::string& output,
                                     TensorStream& stream,
                                     const ExportOptions& options) {
  const auto& tensors = reader.manifest().tensors;
  std::vector<std::string> headers;
  for (const TensorRecord& t : tensors) {
    XLAYOUT_RETURN_IF_ERROR(CheckNpyName(t));
    XLAYOUT_ASSIGN_OR_RETURN(std::string header, NpyHeaderFor(t));
    headers.push_back(std::move(header));
  }
  std::string dir = output;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  // An existing directory is replaced only when it is empty or holds
  // nothing but .npy files this export writes again (an earlier export).
  std::set<std::string> names;
  for (const TensorRecord& t : tensors)
    names.insert(absl::StrCat(t.name, ".npy"));
  auto may_replace = [&names](const std::string& target) -> absl::Status {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(target, ec)) {
      const std::string name = e.path().filename().string();
      if (!std::filesystem::is_regular_file(e.symlink_status(ec)) ||
          !absl::EndsWith(name, ".npy")) {
        return absl::FailedPreconditionError(absl::StrCat(
            "refusing to replace directory '", target, "': it holds '", name,
            "', which is not a .npy file; remove it yourself or choose "
            "another output name"));
      }
      if (names.count(name) == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "refusing to replace directory '", target, "': it holds '", name,
            "', which this export does not write (the checkpoint has no "
            "tensor of that name); remove it yourself or choose another "
            "output name"));
      }
    }
    if (ec) return io::IoError(ec.value(), "list directory", target);
    return absl::OkStatus();
  };
  XLAYOUT_ASSIGN_OR_RETURN(
      io::AtomicOutputDir out,
      io::AtomicOutputDir::Create(dir, {.may_replace = may_replace}));
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorRecord& t = tensors[i];
    XLAYOUT_ASSIGN_OR_RETURN(io::DirFileWriter file,
                             out.CreateFile(absl::StrCat(t.name, ".npy")));
    XLAYOUT_RETURN_IF_ERROR(file.Write(headers[i].data(), headers[i].size()));
    XLAYOUT_RETURN_IF_ERROR(
        StreamLogical(reader, t, stream, [&](absl::Span<const uint8_t> piece) {
          total += static_cast<int64_t>(piece.size());
          return file.Write(piece.data(), piece.size());
        }));
    XLAYOUT_RETURN_IF_ERROR(file.Close());
    if (options.progress) {
      options.progress(static_cast<int64_t>(i + 1),
                       static_cast<int64_t>(tensors.size()));
    }
  }
  XLAYOUT_RETURN_IF_ERROR(out.Commit());
  return total;
}

// ---- .npz (stored, like np.savez), written by libzip

struct NpzMemberSource {
  const CheckpointReader* reader;
  const TensorRecord* tensor;
  std::string header;
  TensorStream* stream;
  absl::Status* first_error;
  int64_t* total;
  std::string data;  // The member's bytes while open.
  size_t position = 0;
  zip_error_t error;
};

zip_int64_t NpzMemberCallback(void* user, void* data, zip_uint64_t len,
                              zip_source_cmd_t cmd) {
  auto* s = static_cast<NpzMemberSource*>(user);
  switch (cmd) {
    case ZIP_SOURCE_OPEN: {
      s->data = s->header;
      absl::StatusOr<int64_t> logical_bytes =
          ExactBytes(LogicalShape(s->tensor->dtype, s->tensor->dims));
      if (logical_bytes.ok()) {
        s->data.reserve(s->header.size() + static_cast<size_t>(*logical_bytes));
      }
      absl::Status st = StreamLogical(
          *s->reader, *s->tensor, *s->stream,
          [&](absl::Span<const uint8_t> piece) {
            s->data.append(reinterpret_cast<const char*>(piece.data()),
                           piece.size());
            return absl::OkStatus();
          });
      if (!st.ok()) {
        if (s->first_error->ok()) *s->first_error = st;
        zip_error_set(&s->error, ZIP_ER_INTERNAL, 0);
        return -1;
      }
      *s->total += static_cast<int64_t>(s->data.size() - s->header.size());
      s->position = 0;
      return 0;
    }
    case ZIP_SOURCE_READ: {
      size_t n = std::min<size_t>(len, s->data.size() - s->position);
      std::memcpy(data, s->data.data() + s->position, n);
      s->position += n;
      return static_cast<zip_int64_t>(n);
    }
    case ZIP_SOURCE_CLOSE:
      std::string().swap(s->data);
      return 0;
    case ZIP_SOURCE_STAT: {
      auto* st = static_cast<zip_stat_t*>(data);
      zip_stat_init(st);
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR:
      return zip_error_to_data(&s->error, data, len);
    case ZIP_SOURCE_FREE:
      zip_error_fini(&s->error);
      delete s;
      return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(
          ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
          ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
      zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0);
      return -1;
  }
}

absl::Status FsyncPath(const std::string& path, bool directory) {
  int fd =
      open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return io::IoError(errno, "open", path);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return io::IoError(err, "fsync", path);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ExportNpz(const CheckpointReader& reader,
                                  const std::string& output,
                                  TensorStream& stream,
                                  const ExportOptions& options) {
  const auto& tensors = reader.manifest().tensors;
  std::vector<std::string> headers;
  for (const TensorRecord& t : tensors) {
    XLAYOUT_RETURN_IF_ERROR(CheckNpzMemberName(t));
    XLAYOUT_ASSIGN_OR_RETURN(std::string header, NpyHeaderFor(t));
    headers.push_back(std::move(header));
  }
  if (tensors.empty()) {
    // libzip writes no file for an empty archive: write the 22-byte end of
    // central directory record that is an empty zip (np.savez() writes it).
    static const char kEmptyZip[22] = {'P', 'K', 5, 6};
    XLAYOUT_ASSIGN_OR_RETURN(io::AtomicOutputFile out,
                             io::AtomicOutputFile::Create(output));
    XLAYOUT_RETURN_IF_ERROR(out.Write(kEmptyZip, sizeof(kEmptyZip)));
    XLAYOUT_RETURN_IF_ERROR(out.Commit());
    return 0;
  }
  XLAYOUT_ASSIGN_OR_RETURN(std::string target, io::ResolveSymlinks(output));
  XLAYOUT_RETURN_IF_ERROR(io::CheckReplaceableFile(output, target));
  auto [parent, base] = io::SplitPath(target);
  // libzip creates its files only when the archive is closed: check the
  // directory now, with the words every other output uses.
  if (access(parent.c_str(), W_OK | X_OK) != 0) {
    return io::IoError(
        errno, absl::StrCat("create a temporary file for '", target, "' in"),
        parent);
  }
  struct stat st;
  io::RemoveStaleTemps(parent, base);
  const std::string temp =
      absl::StrCat(parent, "/", io::TempPrefix(base), "npz");
  int zerr = 0;
  zip_t* zip = zip_open(temp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &zerr);
  if (zip == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, zerr);
    absl::Status s = absl::InvalidArgumentError(
        absl::StrCat("cannot create '", temp, "': ", zip_error_strerror(&e)));
    zip_error_fini(&e);
    return s;
  }
  absl::Status first_error;
  int64_t total = 0;
  auto fail = [&](absl::Status s) {
    zip_discard(zip);
    unlink(temp.c_str());
    return s;
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto* member = new NpzMemberSource{
        &reader, &tensors[i],   headers[i], &stream, &first_error,
        &total,  std::string(), 0,          {}};
    zip_error_init(&member->error);
    zip_source_t* src = zip_source_function(zip, NpzMemberCallback, member);
    if (src == nullptr) {
      delete member;
      return fail(absl::InternalError(zip_strerror(zip)));
    }
    zip_int64_t index =
        zip_file_add(zip, absl::StrCat(tensors[i].name, ".npy").c_str(), src,
                     ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "npz member \"", tensors[i].name, ".npy\": ", zip_strerror(zip))));
    }
    zip_set_file_compression(zip, static_cast<zip_uint64_t>(index),
                             ZIP_CM_STORE, 0);
  }
  if (zip_close(zip) != 0) {
    absl::Status s =
        first_error.ok()
            ? absl::DataLossError(absl::StrCat("cannot write '", output,
                                               "': ", zip_strerror(zip)))
            : first_error;
    return fail(s);
  }
  // The mode of the file it replaces (as AtomicOutputFile keeps it), else
  // 0666 less the umask; libzip's temporary has its own.
  mode_t mode;
  if (lstat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = umask(0);
    umask(mask);
    mode = 0666 & ~mask;
  }
  absl::Status synced = chmod(temp.c_str(), mode) == 0
                            ? FsyncPath(temp, false)
                            : io::IoError(errno, "set the mode of", temp);
  if (synced.ok() && rename(temp.c_str(), target.c_str()) != 0) {
    synced = io::IoError(errno, "rename temporary file over", target);
  }
  if (!synced.ok()) {
    unlink(temp.c_str());
    return synced;
  }
  XLAYOUT_RETURN_IF_ERROR(FsyncPath(parent, true));
  if (options.progress) {
    options.progress(static_cast<int64_t>(tensors.size()),
                     static_cast<int64_t>(tensors.size()));
  }
  return total;
}

}  // namespace

absl::StatusOr<ExportFormat> ExportFormatFor(const std::string& output) {
  const std::string lower = absl::AsciiStrToLower(output);
  if (absl::EndsWith(lower, ".safetensors")) return ExportFormat::kSafetensors;
  if (absl::EndsWith(lower, ".npz")) return ExportFormat::kNpz;
  struct stat st;
  if (absl::EndsWith(output, "/") ||
      (stat(output.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
    return ExportFormat::kNpyDir;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "-o '", output,
      "': say the format by the name: OUT.safetensors, OUT.npz, or a "
      "directory OUTDIR/ for one .npy per tensor"));
}

absl::StatusOr<ExportResult> ExportCheckpoint(const std::string& checkpoint,
                                              const std::string& output,
                                              const ExportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ExportResult result;
  XLAYOUT_ASSIGN_OR_RETURN(result.format, ExportFormatFor(output));
  XLAYOUT_RETURN_IF_ERROR(io::CheckOutputApartFromInputs(
      output, {{checkpoint, "the source checkpoint"}}));
  absl::StatusOr<std::unique_ptr<CheckpointReader>> reader =
      CheckpointReader::Open(checkpoint);
  if (!reader.ok()) return io::WithInputFile(reader.status(), checkpoint);
  TensorStream stream(options.threads);
  absl::StatusOr<int64_t> bytes;
  switch (result.format) {
    case ExportFormat::kSafetensors:
      bytes = ExportSafetensors(**reader, output, stream, options);
      break;
    case ExportFormat::kNpz:
      bytes = ExportNpz(**reader, output, stream, options);
      break;
    case ExportFormat::kNpyDir:
      bytes = ExportNpyDir(**reader, output, stream, options);
      break;
  }
  if (!bytes.ok()) return bytes.status();
  result.logical_bytes = *bytes;
  result.output = output;
  result.tensors = static_cast<int64_t>((*reader)->manifest().tensors.size());
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}

absl::StatusOr<std::vector<TensorVerification>> VerifyCheckpoint(
    const CheckpointReader& reader, int threads) {
  RelayoutStreamer streamer(threads);
  io::PageBuffer input;
  std::vector<TensorVerification> out;
  for (const TensorRecord& t : reader.manifest().tensors) {
    TensorVerification v;
    v.name = t.name;
    XLAYOUT_ASSIGN_OR_RETURN(
        io::RandomAccessBytes loaded,
        reader.Load(t, &input, /*verify=*/false, &v.physical));
    absl::Span<const uint8_t> physical = loaded.bytes;
    v.physical_ok = v.physical == t.xxh3_physical;
    const Shape logical = LogicalShape(t.dtype, t.dims);
    if (t.device_shape == logical) {
      v.logical = v.physical;
    } else {
      Xxh3 lh;
      XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<RelayoutPlan> plan,
                               RelayoutPlan::Create(t.device_shape, logical,
                                                    streamer.PlanOptions()));
      XLAYOUT_RETURN_IF_ERROR(streamer.Run(
          *plan, physical.data(), [&](absl::Span<const uint8_t> piece) {
            lh.Update(piece);
            return absl::OkStatus();
          }));
      v.logical = lh.Digest();
    }
    v.logical_ok = v.logical == t.xxh3_logical;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace xlayout
