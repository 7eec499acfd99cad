#include "xlayout/npz.h"

#include <zip.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "checkpoint/json_util.h"
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
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
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
    m.zip_name = (st.valid & ZIP_STAT_NAME) && st.name ? st.name : "";
    std::string quoted = Quote(m.zip_name);
    if (!absl::EndsWith(m.zip_name, ".npy") || m.zip_name.size() <= 4) {
      return error(absl::StrCat("member ", quoted,
                                " is not an .npy array (np.savez writes "
                                "NAME.npy)"));
    }
    m.name = m.zip_name.substr(0, m.zip_name.size() - 4);
    if (!names.insert(m.zip_name).second) {
      return error(absl::StrCat("member ", quoted, " appears twice"));
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
  absl::StatusOr<std::string> preamble = ReadUpTo(f.get(), kNpyPreambleBytes);
  if (!preamble.ok()) return MemberError(i, preamble.status().message());
  absl::StatusOr<int64_t> data_offset = ParseNpyDataOffset(*preamble);
  if (!data_offset.ok()) return MemberError(i, data_offset.status().message());
  // Bound the header read before allocating (numpy's limit, in bytes at most
  // 4 per character).
  if (*data_offset > kNpyPreambleBytes + 4 * options.max_header_chars ||
      *data_offset > members_[i].size) {
    return MemberError(i, absl::StrCat("npy header of ", *data_offset,
                                       " bytes is too large for the member"));
  }
  absl::StatusOr<std::string> rest =
      ReadUpTo(f.get(), *data_offset - static_cast<int64_t>(preamble->size()));
  if (!rest.ok()) return MemberError(i, rest.status().message());
  absl::StatusOr<NpyHeader> header =
      ParseNpyHeader(*preamble + *rest, options, members_[i].size);
  if (!header.ok()) return MemberError(i, header.status().message());
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
