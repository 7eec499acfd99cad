#include "xlayout/checkpoint_io.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "xlayout/io/atomic_output_dir.h"
#include "xlayout/io/input_file.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/xxh3.h"

namespace xlayout {
namespace {

constexpr size_t kIoBlockBytes = size_t{4} << 20;

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::Status ChecksumMismatch(const std::string& dir,
                              const TensorRecord& tensor, uint64_t h) {
  return absl::DataLossError(
      absl::StrCat("checkpoint '", dir, "': ", DescribeTensor(tensor),
                   ": physical checksum mismatch: the stored bytes hash to ",
                   FormatChecksum(h), ", the manifest says ",
                   FormatChecksum(tensor.xxh3_physical)));
}

}  // namespace

std::string DescribeTensor(const TensorRecord& tensor) {
  return absl::StrCat("tensor \"", tensor.name, "\" (file \"", tensor.file,
                      "\")");
}

// ---------------------------------------------------------------- writer

struct CheckpointWriter::Impl {
  explicit Impl(io::AtomicOutputDir d) : dir(std::move(d)) {}
  io::AtomicOutputDir dir;
  std::optional<io::DirFileWriter> data;
  int64_t position = 0;  // Bytes written to the data file.
  bool in_tensor = false;
  TensorRecord current;
  int64_t written = 0;       // Bytes of the current tensor.
  std::optional<Xxh3> hash;  // Of the current tensor.
  bool committed = false;
};

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
  XLAYOUT_ASSIGN_OR_RETURN(io::AtomicOutputDir out,
                           io::AtomicOutputDir::Create(dir));
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
  if (s.in_tensor || s.committed) {
    return absl::FailedPreconditionError(
        "CheckpointWriter::BeginTensor: a tensor is already open");
  }
  XLAYOUT_ASSIGN_OR_RETURN(int64_t length, ExactBytes(record.device_shape));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t offset, AlignTensorOffset(s.position));
  if (offset > s.position) {
    static const uint8_t kZeros[kTensorAlignment] = {};
    XLAYOUT_RETURN_IF_ERROR(
        s.data->Write(kZeros, static_cast<size_t>(offset - s.position)));
    s.position = offset;
  }
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
  XLAYOUT_RETURN_IF_ERROR(s.data->Write(bytes.data(), bytes.size()));
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

absl::Status CheckpointWriter::Commit(std::optional<Environment> environment,
                                      Provenance provenance) {
  Impl& s = *impl_;
  if (s.in_tensor) {
    return absl::FailedPreconditionError(
        absl::StrCat("tensor \"", s.current.name, "\" was not ended"));
  }
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
  XLAYOUT_RETURN_IF_ERROR(s.dir.Commit());
  s.committed = true;
  return absl::OkStatus();
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
  absl::Status read = it->second.ReadAt(tensor.offset, dst);
  if (!read.ok()) {
    return Prefixed(
        absl::StrCat("checkpoint '", dir_, "': ", DescribeTensor(tensor), ": "),
        read);
  }
  if (verify) {
    const uint64_t h = Xxh3Of(dst);
    if (h != tensor.xxh3_physical) return ChecksumMismatch(dir_, tensor, h);
  }
  return absl::OkStatus();
}

absl::StatusOr<io::MappedRegion> CheckpointReader::Map(
    const TensorRecord& tensor, bool verify) const {
  auto it = files_.find(tensor.file);
  if (it == files_.end()) {
    return absl::InternalError(absl::StrCat("Map: ", DescribeTensor(tensor)));
  }
  absl::StatusOr<io::MappedRegion> bytes =
      it->second.Map(tensor.offset, tensor.length, {.populate = true});
  if (!bytes.ok()) {
    return Prefixed(
        absl::StrCat("checkpoint '", dir_, "': ", DescribeTensor(tensor), ": "),
        bytes.status());
  }
  if (verify) {
    const uint64_t h = Xxh3Of(bytes->span());
    if (h != tensor.xxh3_physical) return ChecksumMismatch(dir_, tensor, h);
  }
  return bytes;
}

absl::StatusOr<uint64_t> CheckpointReader::HashPhysical(
    const TensorRecord& tensor) const {
  auto it = files_.find(tensor.file);
  if (it == files_.end()) {
    return absl::InternalError(
        absl::StrCat("HashPhysical: ", DescribeTensor(tensor)));
  }
  std::vector<uint8_t> block(
      std::min<int64_t>(tensor.length, static_cast<int64_t>(kIoBlockBytes)));
  Xxh3 hash;
  int64_t done = 0;
  while (done < tensor.length) {
    const size_t n = static_cast<size_t>(
        std::min<int64_t>(tensor.length - done, block.size()));
    absl::Span<uint8_t> piece = absl::MakeSpan(block.data(), n);
    absl::Status status = it->second.ReadAt(tensor.offset + done, piece);
    if (!status.ok()) {
      return Prefixed(absl::StrCat("checkpoint '", dir_,
                                   "': ", DescribeTensor(tensor), ": "),
                      status);
    }
    hash.Update(piece);
    done += static_cast<int64_t>(n);
  }
  return hash.Digest();
}

}  // namespace xlayout
