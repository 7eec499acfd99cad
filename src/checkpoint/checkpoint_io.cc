#include "xlayout/checkpoint_io.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "xlayout/io/atomic_output_dir.h"
#include "xlayout/io/input_file.h"
#include "xlayout/io/io_status.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/xxh3.h"

namespace xlayout {
namespace {

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::Status ChecksumMismatch(const std::string& dir,
                              const TensorRecord& tensor, uint64_t h) {
  return absl::DataLossError(PhysicalMismatchMessage(dir, tensor, h));
}

}  // namespace

std::string DescribeTensor(const TensorRecord& tensor) {
  return absl::StrCat("tensor \"", tensor.name, "\" (file \"", tensor.file,
                      "\")");
}

std::string PhysicalMismatchMessage(const std::string& dir,
                                    const TensorRecord& tensor,
                                    uint64_t computed) {
  return absl::StrCat("checkpoint '", dir, "': ", DescribeTensor(tensor),
                      ": physical checksum mismatch: the stored bytes hash to ",
                      FormatChecksum(computed), ", the manifest says ",
                      FormatChecksum(tensor.xxh3_physical));
}

std::string LogicalMismatchMessage(const std::string& dir,
                                   const TensorRecord& tensor,
                                   uint64_t computed) {
  return absl::StrCat(
      "checkpoint '", dir, "': ", DescribeTensor(tensor),
      ": logical checksum mismatch: the row-major bytes hash to ",
      FormatChecksum(computed), ", the manifest says ",
      FormatChecksum(tensor.xxh3_logical));
}

// ---------------------------------------------------------------- writer

namespace {

// A tensor placed by ReserveTensors, written through WriteReserved.
struct ReservedTensor {
  int64_t written = 0;
  bool ended = false;
  bool unhashed = false;  // Written by CopyReserved, not hashed.
  Xxh3 hash;
};

}  // namespace

struct CheckpointWriter::Impl {
  explicit Impl(io::AtomicOutputDir d) : dir(std::move(d)) {}
  io::AtomicOutputDir dir;
  std::optional<io::DirFileWriter> data;
  int64_t position = 0;  // End of the last tensor placed in the data file.
  bool in_tensor = false;
  TensorRecord current;
  int64_t written = 0;       // Bytes of the current tensor.
  std::optional<Xxh3> hash;  // Of the current tensor.
  // tensors_ index -> its state, for reserved tensors only.
  std::map<int64_t, std::unique_ptr<ReservedTensor>> reserved;
  bool finished = false;  // Finish() succeeded: the manifest is written.
  bool committed = false;
};

namespace {

// An existing directory may be replaced by a checkpoint only when it is
// empty or is a checkpoint and nothing else: manifest.json naming the
// format, and data/ holding only files the manifest names. Anything more
// (notes, logs, a source file) would be deleted with it.
absl::Status MayReplaceWithCheckpoint(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_empty(dir, ec) && !ec) return absl::OkStatus();
  auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to replace directory '", dir, "': ", why,
                     "; remove it yourself or choose another output name"));
  };
  std::string manifest_text;
  absl::StatusOr<io::InputFile> manifest =
      io::InputFile::OpenBeneath(dir, kManifestFileName);
  if (manifest.ok()) {
    absl::StatusOr<io::PageBuffer> bytes = manifest->ReadAll(int64_t{1} << 30);
    if (bytes.ok()) {
      manifest_text.assign(reinterpret_cast<const char*>(bytes->data()),
                           bytes->size());
    }
  }
  if (!absl::StrContains(manifest_text,
                         absl::StrCat("\"", kCheckpointFormat, "\""))) {
    return refuse(
        absl::StrCat("it is not empty and not an xlayout checkpoint "
                     "(no manifest.json naming \"",
                     kCheckpointFormat, "\")"));
  }
  auto foreign = [&](const std::string& name) {
    return refuse(absl::StrCat("it is a checkpoint but also holds '", name,
                               "', which is not part of it"));
  };
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const fs::file_status st = e.symlink_status(ec);
    if (name == kManifestFileName && fs::is_regular_file(st)) continue;
    if (name != "data" || !fs::is_directory(st)) return foreign(name);
    for (const fs::directory_entry& f : fs::directory_iterator(e.path(), ec)) {
      const std::string file =
          absl::StrCat("data/", f.path().filename().string());
      if (!fs::is_regular_file(f.symlink_status(ec)) ||
          !absl::StrContains(manifest_text, absl::StrCat("\"", file, "\""))) {
        return foreign(file);
      }
    }
    if (ec) break;
  }
  if (ec) return io::IoError(ec.value(), "list directory", dir);
  return absl::OkStatus();
}

}  // namespace

CheckpointWriter::CheckpointWriter(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
CheckpointWriter::~CheckpointWriter() {
  if (impl_ != nullptr && !impl_->committed) impl_->dir.Abort();
}

const std::string& CheckpointWriter::target() const {
  return impl_->dir.target();
}

absl::StatusOr<std::unique_ptr<CheckpointWriter>> CheckpointWriter::Create(
    const std::string& dir) {
  XLAYOUT_ASSIGN_OR_RETURN(
      io::AtomicOutputDir out,
      io::AtomicOutputDir::Create(dir,
                                  {.may_replace = &MayReplaceWithCheckpoint}));
  auto impl = std::make_unique<Impl>(std::move(out));
  XLAYOUT_RETURN_IF_ERROR(impl->dir.MakeDirectory("data"));
  XLAYOUT_ASSIGN_OR_RETURN(io::DirFileWriter data,
                           impl->dir.CreateFile(kCheckpointDataFile));
  impl->data.emplace(std::move(data));
  return std::unique_ptr<CheckpointWriter>(
      new CheckpointWriter(std::move(impl)));
}

absl::Status CheckpointWriter::BeginTensor(TensorRecord record) {
  Impl& s = *impl_;
  if (s.in_tensor || s.finished || s.committed) {
    return absl::FailedPreconditionError(
        "CheckpointWriter::BeginTensor: a tensor is already open");
  }
  XLAYOUT_ASSIGN_OR_RETURN(int64_t length, ExactBytes(record.device_shape));
  // The gap up to the aligned offset stays a hole (reads as zeros).
  XLAYOUT_ASSIGN_OR_RETURN(int64_t offset, AlignTensorOffset(s.position));
  s.position = offset;
  record.file = std::string(kCheckpointDataFile);
  record.offset = offset;
  record.length = length;
  s.current = std::move(record);
  s.written = 0;
  s.in_tensor = true;
  s.hash.emplace();
  return absl::OkStatus();
}

absl::Status CheckpointWriter::Write(absl::Span<const uint8_t> bytes) {
  Impl& s = *impl_;
  if (!s.in_tensor) {
    return absl::FailedPreconditionError(
        "CheckpointWriter::Write outside a tensor");
  }
  if (static_cast<int64_t>(bytes.size()) > s.current.length - s.written) {
    return absl::InternalError(
        absl::StrCat("tensor \"", s.current.name, "\": more than its ",
                     s.current.length, " bytes written"));
  }
  XLAYOUT_RETURN_IF_ERROR(
      s.data->WriteAt(s.position, bytes.data(), bytes.size()));
  s.hash->Update(bytes);
  s.written += static_cast<int64_t>(bytes.size());
  s.position += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::Status CheckpointWriter::EndTensor(uint64_t xxh3_logical) {
  Impl& s = *impl_;
  if (!s.in_tensor) {
    return absl::FailedPreconditionError("CheckpointWriter::EndTensor");
  }
  if (s.written != s.current.length) {
    return absl::InternalError(
        absl::StrCat("tensor \"", s.current.name, "\": ", s.written,
                     " bytes written, expected ", s.current.length));
  }
  s.current.xxh3_physical = s.hash->Digest();
  s.current.xxh3_logical = xxh3_logical;
  tensors_.push_back(std::move(s.current));
  s.in_tensor = false;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CheckpointWriter::ReserveTensors(
    std::vector<TensorRecord> records) {
  Impl& s = *impl_;
  if (s.in_tensor || s.finished || s.committed) {
    return absl::FailedPreconditionError(
        "CheckpointWriter::ReserveTensors: a tensor is open");
  }
  const int64_t first = static_cast<int64_t>(tensors_.size());
  int64_t position = s.position;
  for (TensorRecord& record : records) {
    XLAYOUT_ASSIGN_OR_RETURN(int64_t length, ExactBytes(record.device_shape));
    XLAYOUT_ASSIGN_OR_RETURN(int64_t offset, AlignTensorOffset(position));
    if (length > INT64_MAX - offset) {
      return absl::OutOfRangeError(absl::StrCat(
          "tensor \"", record.name, "\": the data file would pass 2^63 bytes"));
    }
    record.file = std::string(kCheckpointDataFile);
    record.offset = offset;
    record.length = length;
    position = offset + length;
  }
  XLAYOUT_RETURN_IF_ERROR(s.data->Allocate(position));
  s.position = position;
  for (TensorRecord& record : records) {
    s.reserved.emplace(static_cast<int64_t>(tensors_.size()),
                       std::make_unique<ReservedTensor>());
    tensors_.push_back(std::move(record));
  }
  return first;
}

absl::Status CheckpointWriter::WriteReserved(int64_t index,
                                             absl::Span<const uint8_t> bytes) {
  Impl& s = *impl_;
  auto it = s.reserved.find(index);
  if (it == s.reserved.end() || it->second->ended) {
    return absl::FailedPreconditionError(absl::StrCat(
        "CheckpointWriter::WriteReserved: tensor ", index, " is not open"));
  }
  ReservedTensor& r = *it->second;
  const TensorRecord& t = tensors_[index];
  if (static_cast<int64_t>(bytes.size()) > t.length - r.written) {
    return absl::InternalError(absl::StrCat(
        "tensor \"", t.name, "\": more than its ", t.length, " bytes written"));
  }
  XLAYOUT_RETURN_IF_ERROR(
      s.data->WriteAt(t.offset + r.written, bytes.data(), bytes.size()));
  r.hash.Update(bytes);
  r.written += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::Status CheckpointWriter::CopyReserved(int64_t index,
                                            const CheckpointReader& source,
                                            const TensorRecord& tensor) {
  Impl& s = *impl_;
  auto it = s.reserved.find(index);
  if (it == s.reserved.end() || it->second->ended || it->second->written != 0 ||
      tensors_[index].length != tensor.length) {
    return absl::FailedPreconditionError(absl::StrCat(
        "CheckpointWriter::CopyReserved: tensor ", index,
        " is not open, was begun or differs in length from the source"));
  }
  XLAYOUT_ASSIGN_OR_RETURN(const io::InputFile* file, source.DataFile(tensor));
  absl::Status status = s.data->CopyFrom(*file, tensor.offset,
                                         tensors_[index].offset, tensor.length);
  if (!status.ok()) {
    return Prefixed(absl::StrCat("checkpoint '", source.dir(),
                                 "': ", DescribeTensor(tensor), ": "),
                    status);
  }
  it->second->written = tensor.length;
  it->second->unhashed = true;
  return absl::OkStatus();
}

absl::Status CheckpointWriter::EndReserved(
    int64_t index, uint64_t xxh3_logical,
    std::optional<uint64_t> xxh3_physical) {
  Impl& s = *impl_;
  auto it = s.reserved.find(index);
  if (it == s.reserved.end() || it->second->ended) {
    return absl::FailedPreconditionError(absl::StrCat(
        "CheckpointWriter::EndReserved: tensor ", index, " is not open"));
  }
  ReservedTensor& r = *it->second;
  TensorRecord& t = tensors_[index];
  if (r.written != t.length) {
    return absl::InternalError(
        absl::StrCat("tensor \"", t.name, "\": ", r.written,
                     " bytes written, expected ", t.length));
  }
  if (r.unhashed && !xxh3_physical.has_value()) {
    return absl::InternalError(absl::StrCat(
        "tensor \"", t.name,
        "\": written without hashing and ended without a physical checksum"));
  }
  t.xxh3_physical = xxh3_physical.value_or(r.hash.Digest());
  t.xxh3_logical = xxh3_logical;
  r.ended = true;
  return absl::OkStatus();
}

absl::Status CheckpointWriter::Commit(std::optional<Environment> environment,
                                      Provenance provenance) {
  XLAYOUT_RETURN_IF_ERROR(
      Finish(std::move(environment), std::move(provenance)).status());
  return Commit();
}

absl::Status CheckpointWriter::Commit() {
  Impl& s = *impl_;
  if (!s.finished || s.committed) {
    return absl::FailedPreconditionError(
        "CheckpointWriter::Commit: call Finish() first, once");
  }
  XLAYOUT_RETURN_IF_ERROR(s.dir.Commit());
  s.committed = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> CheckpointWriter::Finish(
    std::optional<Environment> environment, Provenance provenance) {
  Impl& s = *impl_;
  if (s.finished || s.committed) {
    return absl::FailedPreconditionError(
        "CheckpointWriter::Finish: already finished");
  }
  if (s.in_tensor) {
    return absl::FailedPreconditionError(
        absl::StrCat("tensor \"", s.current.name, "\" was not ended"));
  }
  for (const auto& [index, r] : s.reserved) {
    if (!r->ended) {
      return absl::FailedPreconditionError(
          absl::StrCat("tensor \"", tensors_[index].name, "\" was not ended"));
    }
  }
  // The file covers every range, even an empty last tensor's.
  XLAYOUT_RETURN_IF_ERROR(s.data->ExtendTo(s.position));
  CheckpointManifest manifest;
  manifest.environment = std::move(environment);
  manifest.provenance = std::move(provenance);
  manifest.tensors = tensors_;
  XLAYOUT_ASSIGN_OR_RETURN(std::string text, SerializeManifest(manifest));
  XLAYOUT_RETURN_IF_ERROR(s.data->Close());
  s.data.reset();
  // The manifest goes last: a directory with a manifest is complete.
  XLAYOUT_RETURN_IF_ERROR(s.dir.WriteFile(
      kManifestFileName,
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()),
                          text.size())));
  s.finished = true;
  return s.dir.temp_path();
}

// ---------------------------------------------------------------- reader

CheckpointReader::~CheckpointReader() = default;

absl::StatusOr<std::unique_ptr<CheckpointReader>> CheckpointReader::Open(
    const std::string& dir) {
  const std::string prefix = absl::StrCat("checkpoint '", dir, "': ");
  std::unique_ptr<CheckpointReader> r(new CheckpointReader());
  r->dir_ = dir;
  // Held open: the manifest and every data file come from this directory.
  absl::StatusOr<io::InputDirectory> root = io::InputDirectory::Open(dir);
  if (!root.ok()) return Prefixed(prefix, root.status());
  const io::BeneathOptions beneath{
      .symlink_reason =
          "the checkpoint reader follows no links (one could lead out of the "
          "checkpoint directory)"};

  absl::StatusOr<io::InputFile> mfile =
      io::InputFile::OpenBeneath(*root, kManifestFileName, beneath);
  if (!mfile.ok()) return Prefixed(prefix, mfile.status());
  if (mfile->size() > kMaxManifestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, "manifest '", mfile->path(), "' is ", mfile->size(),
        " bytes; at most ", kMaxManifestBytes, " are accepted"));
  }
  std::string text(static_cast<size_t>(mfile->size()), '\0');
  absl::Status read = mfile->ReadAt(
      0, absl::MakeSpan(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  if (!read.ok()) return Prefixed(prefix, read);
  absl::StatusOr<CheckpointManifest> manifest = ParseManifest(text);
  if (!manifest.ok()) return Prefixed(prefix, manifest.status());
  r->manifest_ = *std::move(manifest);

  std::map<std::string, int64_t, std::less<>> sizes;
  for (const std::string& file : r->manifest_.DataFiles()) {
    absl::StatusOr<io::InputFile> f =
        io::InputFile::OpenBeneath(*root, file, beneath);
    if (!f.ok()) {
      if (f.status().code() == absl::StatusCode::kNotFound) continue;
      const TensorRecord* first = nullptr;
      for (const TensorRecord& t : r->manifest_.tensors) {
        if (t.file == file) {
          first = &t;
          break;
        }
      }
      return Prefixed(absl::StrCat(prefix, DescribeTensor(*first), ": "),
                      f.status());
    }
    sizes[file] = f->size();
    r->files_.emplace(file, *std::move(f));
  }
  absl::Status ranges = ValidateDataFileSizes(r->manifest_, sizes);
  if (!ranges.ok()) return Prefixed(prefix, ranges);
  return r;
}

absl::Status CheckpointReader::ReadTensor(const TensorRecord& tensor,
                                          absl::Span<uint8_t> dst,
                                          bool verify) const {
  auto it = files_.find(tensor.file);
  if (it == files_.end() || static_cast<int64_t>(dst.size()) != tensor.length) {
    return absl::InternalError(
        absl::StrCat("ReadTensor: ", DescribeTensor(tensor)));
  }
  // Hashed a piece at a time as it is read: the hash then reads from
  // cache, not from memory (a third of the time on a 1 GiB tensor).
  Xxh3 hash;
  absl::Status read =
      it->second.ReadAt(tensor.offset, dst, [&](absl::Span<const uint8_t> p) {
        if (verify) hash.Update(p);
      });
  if (!read.ok()) {
    return Prefixed(
        absl::StrCat("checkpoint '", dir_, "': ", DescribeTensor(tensor), ": "),
        read);
  }
  if (verify) XLAYOUT_RETURN_IF_ERROR(CheckPhysical(tensor, hash.Digest()));
  return absl::OkStatus();
}

absl::StatusOr<io::RandomAccessBytes> CheckpointReader::Load(
    const TensorRecord& tensor, io::PageBuffer* buffer, bool verify,
    uint64_t* physical) const {
  auto it = files_.find(tensor.file);
  if (it == files_.end()) {
    return absl::InternalError(absl::StrCat("Load: ", DescribeTensor(tensor)));
  }
  Xxh3 hash;
  absl::StatusOr<io::RandomAccessBytes> bytes = it->second.ReadForRandomAccess(
      tensor.offset, tensor.length, buffer,
      [&](absl::Span<const uint8_t> piece) { hash.Update(piece); });
  if (!bytes.ok()) {
    return Prefixed(
        absl::StrCat("checkpoint '", dir_, "': ", DescribeTensor(tensor), ": "),
        bytes.status());
  }
  if (physical != nullptr) *physical = hash.Digest();
  if (verify) XLAYOUT_RETURN_IF_ERROR(CheckPhysical(tensor, hash.Digest()));
  return bytes;
}

absl::Status CheckpointReader::CheckPhysical(const TensorRecord& tensor,
                                             uint64_t computed) const {
  if (computed == tensor.xxh3_physical) return absl::OkStatus();
  return ChecksumMismatch(dir_, tensor, computed);
}

absl::Status CheckpointReader::ReadTensorBlocks(
    const TensorRecord& tensor, absl::Span<uint8_t> block,
    absl::FunctionRef<absl::Status(absl::Span<const uint8_t>)> fn,
    Xxh3* hash) const {
  auto it = files_.find(tensor.file);
  if (it == files_.end() || (block.empty() && tensor.length > 0)) {
    return absl::InternalError(
        absl::StrCat("ReadTensorBlocks: ", DescribeTensor(tensor)));
  }
  int64_t done = 0;
  while (done < tensor.length) {
    const size_t n = static_cast<size_t>(
        std::min<int64_t>(tensor.length - done, block.size()));
    absl::Span<uint8_t> piece = block.subspan(0, n);
    absl::Status status =
        hash == nullptr ? it->second.ReadAt(tensor.offset + done, piece)
                        : it->second.ReadAt(tensor.offset + done, piece,
                                            [&](absl::Span<const uint8_t> p) {
                                              hash->Update(p);
                                            });
    if (!status.ok()) {
      return Prefixed(absl::StrCat("checkpoint '", dir_,
                                   "': ", DescribeTensor(tensor), ": "),
                      status);
    }
    XLAYOUT_RETURN_IF_ERROR(fn(piece));
    done += static_cast<int64_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<const io::InputFile*> CheckpointReader::DataFile(
    const TensorRecord& tensor) const {
  auto it = files_.find(tensor.file);
  if (it == files_.end()) {
    return absl::InternalError(absl::StrCat("checkpoint '", dir_,
                                            "' has no data file for ",
                                            DescribeTensor(tensor)));
  }
  return &it->second;
}

absl::StatusOr<uint64_t> CheckpointReader::HashPhysical(
    const TensorRecord& tensor) const {
  std::vector<uint8_t> block(std::min<int64_t>(
      tensor.length, static_cast<int64_t>(io::kCachePieceBytes)));
  Xxh3 hash;
  XLAYOUT_RETURN_IF_ERROR(ReadTensorBlocks(
      tensor, absl::MakeSpan(block),
      [](absl::Span<const uint8_t>) { return absl::OkStatus(); }, &hash));
  return hash.Digest();
}

}  // namespace xlayout
