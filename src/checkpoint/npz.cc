#include "xlayout/npz.h"

#include <sys/stat.h>
#include <zip.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "checkpoint/json_util.h"
#include "xlayout/io/input_file.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

using checkpoint_internal::Quote;

zip_t* Zip(void* z) { return static_cast<zip_t*>(z); }

struct ZipFileCloser {
  void operator()(zip_file_t* f) const {
    if (f != nullptr) zip_fclose(f);
  }
};
using ZipFile = std::unique_ptr<zip_file_t, ZipFileCloser>;

// Reads up to `n` bytes; fewer only at the end of the member.
absl::StatusOr<std::string> ReadUpTo(zip_file_t* f, int64_t n) {
  std::string out(static_cast<size_t>(n), '\0');
  int64_t got = 0;
  while (got < n) {
    zip_int64_t r = zip_fread(f, out.data() + got, n - got);
    if (r < 0) {
      return absl::DataLossError(zip_file_strerror(f));
    }
    if (r == 0) break;
    got += r;
  }
  out.resize(got);
  return out;
}

// Reads `f` to the end of its member, where libzip checks the CRC-32: the
// error met (libzip's text, e.g. "CRC error"), or nullopt when the member
// reads to its end intact.
std::optional<std::string> ReadToEndError(zip_file_t* f) {
  std::string buffer(64 * 1024, '\0');
  while (true) {
    const zip_int64_t r = zip_fread(f, buffer.data(), buffer.size());
    if (r < 0) return std::string(zip_file_strerror(f));
    if (r == 0) return std::nullopt;
  }
}

// Code page 437's upper half (0x80-0xFF) as Unicode code points, the table
// of Python's "cp437" codec (its lower half is ASCII, control bytes
// included).
constexpr char16_t kCp437High[128] = {
    0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,  // 80
    0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,  // 88
    0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,  // 90
    0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192,  // 98
    0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,  // A0
    0x00BF, 0x2310, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,  // A8
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,  // B0
    0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510,  // B8
    0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F,  // C0
    0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x2567,  // C8
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,  // D0
    0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580,  // D8
    0x03B1, 0x00DF, 0x0393, 0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4,  // E0
    0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6, 0x03B5, 0x2229,  // E8
    0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248,  // F0
    0x00B0, 0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,  // F8
};

// `raw` (a member name's bytes) read as code page 437, as UTF-8.
std::string Cp437ToUtf8(absl::string_view raw) {
  std::string out;
  for (const char ch : raw) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
      continue;
    }
    const char16_t u = kCp437High[c - 0x80];
    if (u < 0x800) {
      out += static_cast<char>(0xC0 | (u >> 6));
    } else {
      out += static_cast<char>(0xE0 | (u >> 12));
      out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
    }
    out += static_cast<char>(0x80 | (u & 0x3F));
  }
  return out;
}

// Member `i`'s name as Python's zipfile (and so numpy) reads it: UTF-8 when
// the entry's general-purpose flag bit 11 says so, else code page 437 with
// bytes 0x00-0x7F as themselves. libzip's own decoding would guess, and
// maps control bytes to CP437's pictures (ESC to U+2190), renaming the
// array. libzip does not expose the flag; its strict decoding is the raw
// bytes exactly when the flag is set (or the name is plain ASCII).
std::string MemberName(zip_t* z, zip_uint64_t i) {
  const char* raw = zip_get_name(z, i, ZIP_FL_ENC_RAW);
  if (raw == nullptr) return "";
  const absl::string_view bytes(raw);
  bool ascii = true;
  for (const char c : bytes)
    ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return std::string(bytes);
  const char* strict = zip_get_name(z, i, ZIP_FL_ENC_STRICT);
  if (strict != nullptr && bytes == strict) return std::string(bytes);
  return Cp437ToUtf8(bytes);
}

}  // namespace

NpzReader::~NpzReader() {
  if (zip_ != nullptr) zip_discard(Zip(zip_));
}

absl::Status NpzReader::MemberError(size_t i, absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(
      "npz: ", path_, ": member ", Quote(members_[i].zip_name), ": ", message));
}

absl::StatusOr<std::unique_ptr<NpzReader>> NpzReader::Open(
    const std::string& path, const NpzLimits& limits) {
  auto error = [&path](absl::string_view message) {
    return absl::InvalidArgumentError(
        absl::StrCat("npz: ", path, ": ", message));
  };
  // libzip calls a directory or a FIFO "not a valid zip archive: Operation
  // not supported"; say what it is, as for .npy and safetensors sources (a
  // path that cannot be stat'ed is left to zip_open's error).
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return error(absl::StrCat("it is ", io::FileTypeName(st.st_mode),
                              ", not a regular file"));
  }
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  const bool duplicate_names = z == nullptr && code == ZIP_ER_EXISTS;
  if (duplicate_names) {
    // Two members with one name ("File already exists"): opened without the
    // consistency checks, which refuse it, the loop below names the member.
    z = zip_open(path.c_str(), ZIP_RDONLY, &code);
    if (z == nullptr) code = ZIP_ER_EXISTS;
  }
  if (z == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, code);
    std::string message = zip_error_strerror(&e);
    zip_error_fini(&e);
    if (code == ZIP_ER_NOENT || code == ZIP_ER_OPEN || code == ZIP_ER_READ) {
      return absl::NotFoundError(
          absl::StrCat("npz: ", path, ": cannot open: ", message));
    }
    return error(absl::StrCat("not a valid zip archive: ", message));
  }
  std::unique_ptr<NpzReader> reader(new NpzReader());
  reader->path_ = path;
  reader->limits_ = limits;
  reader->zip_ = z;
  zip_int64_t count = zip_get_num_entries(z, 0);
  if (count < 0 || count > limits.max_members) {
    return error(absl::StrCat(count, " members; at most ", limits.max_members,
                              " are read"));
  }
  std::set<std::string> names;
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, i, 0, &st) != 0) {
      return error(absl::StrCat("member #", i, ": ", zip_strerror(z)));
    }
    NpzMember m;
    m.zip_index = static_cast<uint64_t>(i);
    m.zip_name = MemberName(z, static_cast<zip_uint64_t>(i));
    std::string quoted = Quote(m.zip_name);
    if (!absl::EndsWith(m.zip_name, ".npy") || m.zip_name.size() <= 4) {
      return error(absl::StrCat("member ", quoted,
                                " is not an .npy array (np.savez writes "
                                "NAME.npy)"));
    }
    m.name = m.zip_name.substr(0, m.zip_name.size() - 4);
    if (!names.insert(m.zip_name).second) {
      return error(absl::StrCat("the archive has two members named ", quoted));
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
        st.encryption_method != ZIP_EM_NONE) {
      return error(absl::StrCat("member ", quoted, " is encrypted"));
    }
    if (!(st.valid & ZIP_STAT_COMP_METHOD) ||
        (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)) {
      return error(absl::StrCat("member ", quoted, " uses compression method ",
                                st.comp_method,
                                "; only stored and deflate (np.savez, "
                                "np.savez_compressed) are read"));
    }
    m.deflated = st.comp_method == ZIP_CM_DEFLATE;
    if (!(st.valid & ZIP_STAT_SIZE) ||
        st.size > static_cast<zip_uint64_t>(limits.max_member_bytes)) {
      return error(absl::StrCat("member ", quoted, " is ", st.size,
                                " bytes uncompressed, over the limit of ",
                                limits.max_member_bytes));
    }
    m.size = static_cast<int64_t>(st.size);
    m.compressed_size = (st.valid & ZIP_STAT_COMP_SIZE)
                            ? static_cast<int64_t>(st.comp_size)
                            : 0;
    reader->members_.push_back(std::move(m));
  }
  if (duplicate_names) {
    // libzip saw two equal names that differ here: refused as before.
    return error("not a valid zip archive: File already exists");
  }
  return reader;
}

absl::StatusOr<NpyHeader> NpzReader::ReadHeader(
    size_t i, const NpyReadOptions& options) const {
  if (i >= members_.size()) {
    return absl::OutOfRangeError(
        absl::StrCat("npz: ", path_, ": no member #", i));
  }
  ZipFile f(zip_fopen_index(Zip(zip_), members_[i].zip_index, 0));
  if (f == nullptr) return MemberError(i, zip_strerror(Zip(zip_)));
  // A header whose bytes do not parse may be read from a corrupt member:
  // the member is then read to its end, where libzip checks its CRC-32, and
  // a mismatch is what is reported (the header's own error would blame the
  // file's format for a damaged copy).
  auto header_error = [&](absl::string_view message) -> absl::Status {
    std::optional<std::string> corrupt = ReadToEndError(f.get());
    if (!corrupt.has_value()) return MemberError(i, message);
    return absl::DataLossError(absl::StrCat(
        "npz: ", path_, ": member ", Quote(members_[i].zip_name), ": ",
        *corrupt, ": the member is corrupt (its .npy header did not parse: ",
        message, ")"));
  };
  absl::StatusOr<std::string> preamble = ReadUpTo(f.get(), kNpyPreambleBytes);
  if (!preamble.ok()) return MemberError(i, preamble.status().message());
  absl::StatusOr<int64_t> data_offset = ParseNpyDataOffset(*preamble);
  if (!data_offset.ok()) return header_error(data_offset.status().message());
  // Bound the header read before allocating (numpy's limit, in bytes at most
  // 4 per character).
  if (*data_offset > kNpyPreambleBytes + 4 * options.max_header_chars ||
      *data_offset > members_[i].size) {
    return header_error(absl::StrCat("npy header of ", *data_offset,
                                     " bytes is too large for the member"));
  }
  absl::StatusOr<std::string> rest =
      ReadUpTo(f.get(), *data_offset - static_cast<int64_t>(preamble->size()));
  if (!rest.ok()) return MemberError(i, rest.status().message());
  absl::StatusOr<NpyHeader> header =
      ParseNpyHeader(*preamble + *rest, options, members_[i].size);
  if (!header.ok()) {
    // A well-formed header refused for what it says (a raw void dtype
    // without --dtype, say) is not read on: that could take long.
    if (!IsMalformedNpyHeader(header.status())) {
      return MemberError(i, header.status().message());
    }
    return header_error(header.status().message());
  }
  return header;
}

absl::Status NpzReader::ReadData(
    size_t i, const NpyReadOptions& options,
    const std::function<absl::Status(absl::string_view chunk)>& sink) const {
  XLAYOUT_ASSIGN_OR_RETURN(NpyHeader header, ReadHeader(i, options));
  ZipFile f(zip_fopen_index(Zip(zip_), members_[i].zip_index, 0));
  if (f == nullptr) return MemberError(i, zip_strerror(Zip(zip_)));
  absl::StatusOr<std::string> skipped = ReadUpTo(f.get(), header.data_offset);
  if (!skipped.ok()) return MemberError(i, skipped.status().message());
  std::string buffer(
      static_cast<size_t>(std::max<int64_t>(1, limits_.chunk_bytes)), '\0');
  int64_t total = 0;
  while (true) {
    zip_int64_t r = zip_fread(f.get(), buffer.data(), buffer.size());
    if (r < 0) {
      return absl::DataLossError(absl::StrCat("npz: ", path_, ": member ",
                                              Quote(members_[i].zip_name), ": ",
                                              zip_file_strerror(f.get())));
    }
    if (r == 0) break;
    total += r;
    if (total > header.data_bytes) {
      return MemberError(i,
                         absl::StrCat("holds more than the ", header.data_bytes,
                                      " data bytes its header declares"));
    }
    XLAYOUT_RETURN_IF_ERROR(sink(absl::string_view(buffer.data(), r)));
  }
  if (total != header.data_bytes) {
    return absl::DataLossError(absl::StrCat(
        "npz: ", path_, ": member ", Quote(members_[i].zip_name), ": holds ",
        total, " data bytes, its header declares ", header.data_bytes));
  }
  return absl::OkStatus();
}

}  // namespace xlayout
