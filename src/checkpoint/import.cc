// ImportCheckpoint: sources -> tensors -> target layouts -> checkpoint.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "checkpoint/nibbles.h"
#include "checkpoint/tensor_map.h"
#include "xlayout/checkpoint_transfer.h"
#include "xlayout/hlo_signature.h"
#include "xlayout/io/input_file.h"
#include "xlayout/io/io_status.h"
#include "xlayout/io/mapped_region.h"
#include "xlayout/io/output_overlap.h"
#include "xlayout/io/page_buffer.h"
#include "xlayout/memory_kind.h"
#include "xlayout/npy.h"
#include "xlayout/npz.h"
#include "xlayout/relayout_stream.h"
#include "xlayout/safetensors.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"
#include "xlayout/xxh3.h"

namespace xlayout {

using checkpoint_internal::SwapNibbles;

Shape LogicalShape(PrimitiveType dtype, const std::vector<int64_t>& dims) {
  Shape shape = Shape::MakeArray(dtype, dims,
                                 DefaultLayout(static_cast<int>(dims.size())));
  if (BitWidth(dtype) == 4) {
    shape.mutable_layout()->set_element_size_in_bits(4);
  }
  return shape;
}

namespace {

enum class SourceKind { kSafetensors, kNpy, kNpz };

// One tensor found in a source file.
struct SourceTensor {
  std::string name;
  size_t source = 0;  // Index into the sources.
  SourceKind kind = SourceKind::kSafetensors;
  PrimitiveType type = PrimitiveType::kInvalid;
  std::vector<int64_t> dims;
  Shape stored;        // How the source bytes are laid out.
  int64_t offset = 0;  // File offset of the data (safetensors, npy).
  int64_t bytes = 0;   // Stored bytes.
  NpyDtype npy_dtype;  // Byte order (npy, npz).
  std::optional<PrimitiveType> void_type;
  size_t npz_member = 0;
  bool swap_nibbles = false;  // safetensors F4.
};

struct Source {
  std::string path;
  SourceKind kind = SourceKind::kSafetensors;
  std::optional<io::InputFile> file;
  std::unique_ptr<NpzReader> npz;
};

absl::Status SourceError(const std::string& path, const absl::Status& s) {
  return io::WithInputFile(
      absl::Status(s.code(),
                   absl::StrCat("source '", path, "': ", s.message())),
      path);
}

absl::StatusOr<SourceKind> KindOf(const std::string& path) {
  std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".safetensors")) return SourceKind::kSafetensors;
  if (absl::EndsWith(lower, ".npy")) return SourceKind::kNpy;
  if (absl::EndsWith(lower, ".npz")) return SourceKind::kNpz;
  return absl::InvalidArgumentError(
      absl::StrCat("source '", path,
                   "': unknown kind of file: the name must end in "
                   ".safetensors, .npy or .npz"));
}

std::string Stem(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base.substr(0, base.size() - 4);  // ".npy"
}

absl::Status ListSafetensors(Source& src, size_t index,
                             std::vector<SourceTensor>* out) {
  io::InputFile& f = *src.file;
  std::string prefix(
      static_cast<size_t>(std::min<int64_t>(f.size(), kSafetensorsLengthBytes)),
      '\0');
  XLAYOUT_RETURN_IF_ERROR(
      f.ReadAt(0, absl::MakeSpan(reinterpret_cast<uint8_t*>(prefix.data()),
                                 prefix.size())));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t n, ParseSafetensorsHeaderLength(prefix));
  if (n > f.size() - kSafetensorsLengthBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("safetensors: the header length ", n,
                     " runs past the end of the ", f.size(), "-byte file"));
  }
  std::string header(static_cast<size_t>(n), '\0');
  XLAYOUT_RETURN_IF_ERROR(
      f.ReadAt(kSafetensorsLengthBytes,
               absl::MakeSpan(reinterpret_cast<uint8_t*>(header.data()),
                              header.size())));
  XLAYOUT_ASSIGN_OR_RETURN(SafetensorsHeader h,
                           ParseSafetensorsHeader(header, f.size()));
  for (const SafetensorsTensor& t : h.tensors) {
    SourceTensor s;
    s.name = t.name;
    s.source = index;
    s.kind = SourceKind::kSafetensors;
    s.type = t.dtype.type;
    s.dims = t.shape;
    if (t.dtype.bits == 6) {
      return absl::UnimplementedError(absl::StrCat(
          "tensor \"", t.name, "\": dtype ", t.dtype.name,
          " (6-bit packed) has no XLA packed layout to import into"));
    }
    s.stored = LogicalShape(s.type, s.dims);
    s.swap_nibbles = t.dtype.bits == 4;
    s.offset = h.data_start + t.begin;
    s.bytes = t.byte_size();
    out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

std::optional<PrimitiveType> VoidTypeFor(const std::string& name,
                                         const ImportOptions& options,
                                         std::set<std::string>* used_dtypes) {
  for (const auto& [n, type] : options.dtypes) {
    if (n == name) {
      used_dtypes->insert(n);
      return type;
    }
  }
  return std::nullopt;
}

void FillFromNpy(const NpyHeader& h, SourceTensor* s) {
  s->type = h.dtype.type;
  s->dims = h.shape;
  s->stored = h.StoredShape();
  s->npy_dtype = h.dtype;
  s->offset = h.data_offset;
  s->bytes = h.data_bytes;
}

absl::Status ListNpy(Source& src, size_t index, const ImportOptions& options,
                     std::set<std::string>* used_dtypes,
                     std::vector<SourceTensor>* out) {
  io::InputFile& f = *src.file;
  SourceTensor s;
  s.name = Stem(src.path);
  s.source = index;
  s.kind = SourceKind::kNpy;
  s.void_type = VoidTypeFor(s.name, options, used_dtypes);
  std::string prefix(
      static_cast<size_t>(std::min<int64_t>(f.size(), kNpyPreambleBytes)),
      '\0');
  XLAYOUT_RETURN_IF_ERROR(
      f.ReadAt(0, absl::MakeSpan(reinterpret_cast<uint8_t*>(prefix.data()),
                                 prefix.size())));
  XLAYOUT_ASSIGN_OR_RETURN(int64_t data_offset, ParseNpyDataOffset(prefix));
  if (data_offset > f.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "npy: the header runs past the end of the ", f.size(), "-byte file"));
  }
  // A header longer than numpy accepts is refused by ParseNpyHeader from
  // its length alone: never read more than the limit allows.
  prefix.resize(static_cast<size_t>(std::min<int64_t>(
      data_offset, kNpyPreambleBytes + 4 * kNpyMaxHeaderChars)));
  XLAYOUT_RETURN_IF_ERROR(
      f.ReadAt(0, absl::MakeSpan(reinterpret_cast<uint8_t*>(prefix.data()),
                                 prefix.size())));
  NpyReadOptions read;
  read.void_type = s.void_type;
  XLAYOUT_ASSIGN_OR_RETURN(NpyHeader h, ParseNpyHeader(prefix, read, f.size()));
  FillFromNpy(h, &s);
  out->push_back(std::move(s));
  return absl::OkStatus();
}

absl::Status ListNpz(Source& src, size_t index, const ImportOptions& options,
                     std::set<std::string>* used_dtypes,
                     std::vector<SourceTensor>* out) {
  XLAYOUT_ASSIGN_OR_RETURN(src.npz, NpzReader::Open(src.path));
  for (size_t i = 0; i < src.npz->members().size(); ++i) {
    SourceTensor s;
    s.name = src.npz->members()[i].name;
    s.source = index;
    s.kind = SourceKind::kNpz;
    s.npz_member = i;
    s.void_type = VoidTypeFor(s.name, options, used_dtypes);
    NpyReadOptions read;
    read.void_type = s.void_type;
    XLAYOUT_ASSIGN_OR_RETURN(NpyHeader h, src.npz->ReadHeader(i, read));
    FillFromNpy(h, &s);
    s.offset = 0;
    out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

// Reads a tensor's stored bytes into `dst` (s.bytes long), little-endian and
// (for F4) in XLA's nibble order.
absl::Status ReadSourceTensor(const Source& src, const SourceTensor& s,
                              uint8_t* dst) {
  if (s.kind == SourceKind::kNpz) {
    int64_t at = 0;
    NpyReadOptions read;
    read.void_type = s.void_type;
    XLAYOUT_RETURN_IF_ERROR(src.npz->ReadData(
        s.npz_member, read, [&](absl::string_view chunk) -> absl::Status {
          if (at + static_cast<int64_t>(chunk.size()) > s.bytes) {
            return absl::DataLossError(
                absl::StrCat("array \"", s.name, "\" grew while reading"));
          }
          std::memcpy(dst + at, chunk.data(), chunk.size());
          at += static_cast<int64_t>(chunk.size());
          return absl::OkStatus();
        }));
  } else {
    XLAYOUT_RETURN_IF_ERROR(src.file->ReadAt(
        s.offset, absl::MakeSpan(dst, static_cast<size_t>(s.bytes))));
  }
  if (s.kind != SourceKind::kSafetensors && s.npy_dtype.big_endian) {
    XLAYOUT_RETURN_IF_ERROR(SwapToLittleEndian(s.npy_dtype,
                                               reinterpret_cast<char*>(dst),
                                               static_cast<size_t>(s.bytes)));
  }
  if (s.swap_nibbles) SwapNibbles(dst, static_cast<size_t>(s.bytes));
  return absl::OkStatus();
}

std::string LogicalText(const SourceTensor& s) {
  return Shape(s.type, s.dims).ToString(false);
}

// How `s` differs from `shape` (a parameter's global shape), or "" when it
// fits.
std::string FitProblem(const SourceTensor& s, const Shape& shape) {
  std::vector<std::string> problems;
  if (s.type != shape.element_type()) {
    problems.push_back(absl::StrCat("element type ", PrimitiveTypeName(s.type),
                                    ", the parameter's is ",
                                    PrimitiveTypeName(shape.element_type())));
  }
  if (static_cast<int>(s.dims.size()) != shape.rank()) {
    problems.push_back(absl::StrCat("rank ", s.dims.size(),
                                    ", the parameter's is ", shape.rank()));
  } else {
    for (int d = 0; d < shape.rank(); ++d) {
      if (s.dims[d] != shape.dimensions(d) || shape.is_dynamic_dimension(d)) {
        problems.push_back(absl::StrCat(
            "dim ", d, " is ", s.dims[d], ", the parameter's is ",
            shape.is_unbounded_dynamic_dimension(d)
                ? std::string("?")
                : absl::StrCat(shape.is_dynamic_dimension(d) ? "<=" : "",
                               shape.dimensions(d))));
      }
    }
  }
  return absl::StrJoin(problems, "; ");
}

absl::StatusOr<Shape> ShapeFromLayoutText(const SourceTensor& s,
                                          const std::string& text_in) {
  absl::string_view text = absl::StripAsciiWhitespace(text_in);
  const std::string what =
      absl::StrCat("--layout ", s.name, "='", text_in, "'");
  auto error = [&](const absl::Status& st) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", st.message()));
  };
  Shape shape = Shape::MakeArray(s.type, s.dims);
  if (absl::StartsWith(text, "{")) {
    absl::StatusOr<Layout> layout = ParseLayout(text);
    if (!layout.ok()) return error(layout.status());
    shape.set_layout(*layout);
  } else if (absl::StartsWith(text, "Layout") ||
             absl::StartsWith(text, "DeviceLocalLayout") ||
             absl::StartsWith(text, "Format")) {
    absl::StatusOr<Layout> layout = ParseJaxLayout(text);
    if (!layout.ok()) return error(layout.status());
    shape.set_layout(*layout);
  } else {
    absl::StatusOr<Shape> parsed = ParseShape(text);
    if (!parsed.ok()) return error(parsed.status());
    if (!parsed->IsArray() || parsed->element_type() != s.type ||
        std::vector<int64_t>(parsed->dimensions().begin(),
                             parsed->dimensions().end()) != s.dims) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the shape is not tensor \"", s.name,
                       "\"'s array ", LogicalText(s)));
    }
    shape = *parsed;
    if (!shape.has_layout()) shape.set_layout(DefaultLayout(shape.rank()));
  }
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return error(valid);
  return shape;
}

struct Target {
  Shape device;
  std::string memory_kind = "device";
  std::optional<TensorBinding> binding;
};

absl::StatusOr<std::vector<Target>> ResolveTargets(
    const std::vector<SourceTensor>& tensors, const ImportOptions& options,
    std::vector<std::string>* unbound) {
  std::vector<Target> targets(tensors.size());
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < tensors.size(); ++i) by_name[tensors[i].name] = i;
  switch (options.target) {
    case ImportTarget::kHost:
      for (size_t i = 0; i < tensors.size(); ++i) {
        targets[i].device = LogicalShape(tensors[i].type, tensors[i].dims);
      }
      return targets;
    case ImportTarget::kLayouts: {
      std::vector<bool> have(tensors.size());
      for (const auto& [name, text] : options.layouts) {
        auto it = by_name.find(name);
        if (it == by_name.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--layout ", name,
                           "=...: no source holds a tensor \"", name, "\""));
        }
        if (have[it->second]) {
          return absl::InvalidArgumentError(
              absl::StrCat("--layout ", name, " is given twice"));
        }
        have[it->second] = true;
        Target& t = targets[it->second];
        XLAYOUT_ASSIGN_OR_RETURN(
            t.device, ShapeFromLayoutText(tensors[it->second], text));
        t.memory_kind = MemoryKindOf(t.device, MemoryKindMap());
      }
      std::vector<std::string> missing;
      for (size_t i = 0; i < tensors.size(); ++i) {
        if (!have[i])
          missing.push_back(absl::StrCat("\"", tensors[i].name, "\""));
      }
      if (!missing.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "no --layout for tensor", missing.size() > 1 ? "s " : " ",
            absl::StrJoin(missing, ", "),
            "; give every tensor a layout (--layout NAME=LAYOUT), or use "
            "--host for row-major"));
      }
      return targets;
    }
    case ImportTarget::kProgram:
      break;
  }
  absl::StatusOr<ProgramSignature> read = ReadSignatureFile(options.program);
  if (!read.ok()) return io::WithInputFile(read.status(), options.program);
  ProgramSignature sig = *std::move(read);
  const auto& params = sig.parameters;
  std::vector<int64_t> param_of(tensors.size(), -1);
  std::vector<int64_t> tensor_of(params.size(), -1);
  {
    std::vector<absl::string_view> names;
    names.reserve(tensors.size());
    for (const auto& t : tensors) names.push_back(t.name);
    XLAYOUT_RETURN_IF_ERROR(checkpoint_internal::ApplyTensorMap(
        options.map, names, params, options.program, "no source holds a tensor",
        param_of, tensor_of));
  }
  size_t next = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (param_of[i] >= 0) continue;
    while (next < params.size() && tensor_of[next] >= 0) ++next;
    if (next == params.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor \"", tensors[i].name, "\" has no parameter left: program '",
          options.program, "' has ", params.size(), " parameters and ",
          tensors.size(), " tensors were found (bind with --map NAME=N)"));
    }
    param_of[i] = static_cast<int64_t>(next);
    tensor_of[next] = static_cast<int64_t>(i);
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const ParameterSignature& p = params[param_of[i]];
    // A checkpoint holds global arrays: a program dumped after SPMD
    // partitioning states one device's shape, so the tensor must fit the
    // global shape the sharding gives (the same rule as check's).
    const Shape global = checkpoint_internal::ExpectedGlobal(
        sig, p, checkpoint_internal::ProgramSharding(sig, p), tensors[i].dims);
    std::string problem = FitProblem(tensors[i], global);
    if (!problem.empty()) {
      std::string cut;
      if (!(global == p.shape)) {
        cut = absl::StrCat(" per device; global ", global.ToString(true),
                           " under sharding ", p.sharding.value_or(""));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor \"", tensors[i].name, "\" (", LogicalText(tensors[i]),
          ") does not fit parameter ", checkpoint_internal::BindingText(p),
          " (", p.name.empty() ? "" : absl::StrCat(p.name, ": "),
          p.shape.ToString(true), cut, "): ", problem));
    }
    Target& t = targets[i];
    t.device = global;
    absl::Status valid = ValidateShape(t.device);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter ", checkpoint_internal::BindingText(p), " (",
                       p.name, "): ", valid.message()));
    }
    t.memory_kind = p.memory_kind.empty() ? "device" : p.memory_kind;
    t.binding = TensorBinding{p.parameter_number, p.tuple_index};
  }
  for (size_t k = 0; k < params.size(); ++k) {
    if (tensor_of[k] < 0) {
      unbound->push_back(absl::StrCat(
          checkpoint_internal::BindingText(params[k]), " (", params[k].name,
          ": ", params[k].shape.ToString(true), ")"));
    }
  }
  return targets;
}

absl::StatusOr<Environment> LoadEnvironment(const ImportOptions& options) {
  Environment env;
  if (!options.env_path.empty()) {
    absl::StatusOr<Environment> read =
        ReadEnvironmentFile(options.env_path, "--env");
    if (!read.ok()) return io::WithInputFile(read.status(), options.env_path);
    env = *std::move(read);
  }
  StampEnvironment(env, options.tool_version);
  return env;
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> ParseLayoutAssignment(
    absl::string_view text) {
  auto well_formed = [](absl::string_view value) {
    value = absl::StripAsciiWhitespace(value);
    if (absl::StartsWith(value, "{")) return ParseLayout(value).ok();
    if (absl::StartsWith(value, "Layout") ||
        absl::StartsWith(value, "DeviceLocalLayout") ||
        absl::StartsWith(value, "Format")) {
      return ParseJaxLayout(value).ok();
    }
    return ParseShape(value).ok();
  };
  for (size_t eq = text.find('='); eq != absl::string_view::npos;
       eq = text.find('=', eq + 1)) {
    if (eq > 0 && well_formed(text.substr(eq + 1))) {
      return std::make_pair(std::string(text.substr(0, eq)),
                            std::string(text.substr(eq + 1)));
    }
  }
  // None parses: the first '=' (the error then names the layout text).
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--layout '", text, "': expected NAME=LAYOUT"));
  }
  return std::make_pair(std::string(text.substr(0, eq)),
                        std::string(text.substr(eq + 1)));
}

absl::StatusOr<ImportResult> ImportCheckpoint(const std::string& output_dir,
                                              const ImportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.sources.empty()) {
    return absl::InvalidArgumentError("no source files given");
  }
  // Two --dtype for one array: the first used to win silently, so a
  // conflicting second one (x=bf16, x=f16) went unnoticed. Refused like a
  // second --layout.
  {
    std::map<std::string, PrimitiveType> seen;
    for (const auto& [name, type] : options.dtypes) {
      auto [it, fresh] = seen.emplace(name, type);
      if (fresh) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          "--dtype ", name, " is given twice (", PrimitiveTypeName(it->second),
          " and ", PrimitiveTypeName(type), ")"));
    }
  }
  std::vector<io::NamedInput> inputs;
  for (const std::string& path : options.sources) {
    inputs.push_back({path, "the source file"});
  }
  if (!options.program.empty())
    inputs.push_back({options.program, "the program"});
  if (!options.env_path.empty()) {
    inputs.push_back({options.env_path, "the environment file"});
  }
  XLAYOUT_RETURN_IF_ERROR(io::CheckOutputApartFromInputs(output_dir, inputs));
  // A source named twice (or by two names) would report each of its
  // tensors as being in two files.
  // One stat per source (a file that cannot be stat'ed is reported when
  // opened, below).
  std::map<std::pair<dev_t, ino_t>, const std::string*> files;
  for (const std::string& b : options.sources) {
    struct stat st;
    if (stat(b.c_str(), &st) != 0) continue;
    auto [it, fresh] = files.emplace(std::pair(st.st_dev, st.st_ino), &b);
    if (fresh) continue;
    const std::string& a = *it->second;
    if (a == b) {
      return io::WithInputFile(absl::InvalidArgumentError(absl::StrCat(
                                   "source '", b, "' is given twice")),
                               b);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("sources '", a, "' and '", b, "' are the same file"));
  }
  // 1. Every source's tensors, before anything is written.
  std::vector<Source> sources(options.sources.size());
  std::vector<SourceTensor> tensors;
  std::set<std::string> used_dtypes;
  for (size_t i = 0; i < options.sources.size(); ++i) {
    Source& src = sources[i];
    src.path = options.sources[i];
    absl::StatusOr<SourceKind> kind = KindOf(src.path);
    if (!kind.ok()) return io::WithInputFile(kind.status(), src.path);
    src.kind = *kind;
    absl::Status listed;
    if (src.kind == SourceKind::kNpz) {
      listed = ListNpz(src, i, options, &used_dtypes, &tensors);
    } else {
      absl::StatusOr<io::InputFile> f = io::InputFile::Open(src.path);
      if (!f.ok()) return io::WithInputFile(f.status(), src.path);
      src.file.emplace(*std::move(f));
      listed = src.kind == SourceKind::kSafetensors
                   ? ListSafetensors(src, i, &tensors)
                   : ListNpy(src, i, options, &used_dtypes, &tensors);
    }
    if (!listed.ok()) {
      if (absl::StartsWith(listed.message(), "npz: ")) {
        return io::WithInputFile(listed, src.path);
      }
      return SourceError(src.path, listed);
    }
  }
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto [it, fresh] = seen.emplace(tensors[i].name, i);
    if (!fresh) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor \"", tensors[i].name, "\" is in both '",
                       sources[tensors[it->second].source].path, "' and '",
                       sources[tensors[i].source].path, "'"));
    }
  }
  for (const auto& [name, type] : options.dtypes) {
    if (!used_dtypes.count(name)) {
      for (const SourceTensor& t : tensors) {
        if (t.name != name) continue;
        // Not an .npy/.npz array: a safetensors tensor, typed by its header.
        return absl::InvalidArgumentError(absl::StrCat(
            "--dtype ", name, "=", PrimitiveTypeName(type), ": tensor \"", name,
            "\" comes from the safetensors file '", sources[t.source].path,
            "', whose header gives its dtype; --dtype applies only to .npy "
            "and .npz arrays (stored as raw void, e.g. ml_dtypes' bfloat16 "
            "'|V2')"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("--dtype ", name, "=", PrimitiveTypeName(type),
                       ": no .npy or .npz array is named \"", name, "\""));
    }
  }
  // 2. Where each tensor goes.
  ImportResult result;
  XLAYOUT_ASSIGN_OR_RETURN(
      std::vector<Target> targets,
      ResolveTargets(tensors, options, &result.unbound_parameters));
  XLAYOUT_ASSIGN_OR_RETURN(Environment env, LoadEnvironment(options));

  // 3. Convert and write, one tensor at a time.
  XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointWriter> writer,
                           CheckpointWriter::Create(output_dir));
  RelayoutStreamer streamer(options.threads);
  io::PageBuffer buffer;
  Provenance provenance;
  provenance.source_files = options.sources;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const SourceTensor& s = tensors[i];
    const Target& t = targets[i];
    // Read (hashed on the way when the stored order is the logical one)
    // unless the bytes need fixing up in place or come out of a zip.
    const bool in_place_fixups =
        s.swap_nibbles ||
        (s.kind != SourceKind::kSafetensors && s.npy_dtype.big_endian);
    const Shape logical = LogicalShape(s.type, s.dims);
    Xxh3 logical_hash;
    bool hashed = false;
    io::RandomAccessBytes loaded;
    const uint8_t* data = nullptr;
    if (s.kind != SourceKind::kNpz && !in_place_fixups) {
      hashed = s.stored == logical;
      absl::StatusOr<io::RandomAccessBytes> read =
          sources[s.source].file->ReadForRandomAccess(
              s.offset, s.bytes, &buffer, [&](absl::Span<const uint8_t> piece) {
                if (hashed) logical_hash.Update(piece);
              });
      if (!read.ok()) return SourceError(sources[s.source].path, read.status());
      loaded = *std::move(read);
      data = loaded.bytes.data();
    } else {
      if (static_cast<int64_t>(buffer.size()) < s.bytes) {
        buffer = io::PageBuffer();
        XLAYOUT_ASSIGN_OR_RETURN(
            buffer, io::PageBuffer::Allocate(static_cast<size_t>(s.bytes),
                                             /*prefault=*/false));
      }
      absl::Status read = ReadSourceTensor(sources[s.source], s, buffer.data());
      if (!read.ok()) {
        return SourceError(
            sources[s.source].path,
            absl::Status(read.code(), absl::StrCat("tensor \"", s.name,
                                                   "\": ", read.message())));
      }
      data = buffer.data();
    }
    if (s.stored == logical) {
      if (!hashed) logical_hash.Update(absl::MakeConstSpan(data, s.bytes));
    } else {
      XLAYOUT_ASSIGN_OR_RETURN(
          std::unique_ptr<RelayoutPlan> plan,
          RelayoutPlan::Create(s.stored, logical, streamer.PlanOptions()));
      XLAYOUT_RETURN_IF_ERROR(
          streamer.Run(*plan, data, [&](absl::Span<const uint8_t> piece) {
            logical_hash.Update(piece);
            return absl::OkStatus();
          }));
    }
    TensorRecord record;
    record.name = s.name;
    record.binding = t.binding;
    record.dtype = s.type;
    record.dims = s.dims;
    record.device_shape = t.device;
    record.memory_kind = t.memory_kind;
    XLAYOUT_RETURN_IF_ERROR(writer->BeginTensor(record));
    if (s.stored == t.device) {
      XLAYOUT_RETURN_IF_ERROR(
          writer->Write(absl::MakeConstSpan(data, s.bytes)));
    } else {
      XLAYOUT_ASSIGN_OR_RETURN(
          std::unique_ptr<RelayoutPlan> plan,
          RelayoutPlan::Create(s.stored, t.device, streamer.PlanOptions()));
      XLAYOUT_RETURN_IF_ERROR(
          streamer.Run(*plan, data, [&](absl::Span<const uint8_t> piece) {
            return writer->Write(piece);
          }));
      provenance.conversions.push_back(TensorConversion{s.name, s.stored});
    }
    XLAYOUT_RETURN_IF_ERROR(writer->EndTensor(logical_hash.Digest()));
    result.logical_bytes += s.bytes;
    result.device_bytes += writer->tensors().back().length;
    if (options.progress) {
      options.progress(static_cast<int64_t>(i + 1),
                       static_cast<int64_t>(tensors.size()));
    }
  }
  result.target = writer->target();
  XLAYOUT_RETURN_IF_ERROR(writer->Commit(env, provenance));
  result.manifest.environment = env;
  result.manifest.provenance = std::move(provenance);
  result.manifest.tensors = writer->tensors();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}

}  // namespace xlayout
