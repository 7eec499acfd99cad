#include "xlayout/hlo_signature.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/hlo_text.h"
#include "nlohmann/json.hpp"
#include "xlayout/format.h"
#include "xlayout/io/input_file.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

// Prefixes a status message, keeping its code.
absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// Line-at-a-time reader over a ReadFn with a bounded buffer. Lines longer
// than the limit come back truncated (prefix only) and the rest of the line
// is skipped without being stored.
class LineReader {
 public:
  LineReader(const ReadFn& read, size_t chunk_size)
      : read_(read), chunk_(std::max<size_t>(chunk_size, 1)) {}

  // Next line without its '\n' (and without a trailing '\r'). false at end.
  // `*truncated` says the line was longer than `limit`.
  absl::StatusOr<bool> Next(size_t limit, absl::string_view* line,
                            bool* truncated) {
    *truncated = false;
    size_t scanned = 0;
    while (true) {
      const char* start = buf_.data() + begin_;
      const size_t avail = end_ - begin_;
      const void* nl = avail > scanned
                           ? std::memchr(start + scanned, '\n', avail - scanned)
                           : nullptr;
      if (nl != nullptr) {
        size_t len = static_cast<const char*>(nl) - start;
        begin_ += len + 1;
        ++line_number_;
        *line = Trim(absl::string_view(start, len));
        if (len > limit) {
          *line = line->substr(0, limit);
          *truncated = true;
        }
        return true;
      }
      scanned = avail;
      if (eof_) {
        if (avail == 0) return false;
        begin_ = end_;
        ++line_number_;
        *line = Trim(absl::string_view(start, avail));
        if (avail > limit) {
          *line = line->substr(0, limit);
          *truncated = true;
        }
        return true;
      }
      if (avail > limit) {
        // Hand out the prefix; SkipRestOfLine drops the remainder.
        ++line_number_;
        *line = absl::string_view(start, limit);
        *truncated = true;
        skip_pending_ = true;
        return true;
      }
      XLAYOUT_RETURN_IF_ERROR(Fill());
    }
  }

  // After a truncated line: discards input up to and including its '\n'.
  absl::Status SkipRestOfLine() {
    if (!skip_pending_) return absl::OkStatus();
    skip_pending_ = false;
    begin_ = end_ = 0;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(Fill());
      if (end_ == begin_ && eof_) return absl::OkStatus();
      const void* nl = std::memchr(buf_.data() + begin_, '\n', end_ - begin_);
      if (nl != nullptr) {
        begin_ = static_cast<const char*>(nl) - buf_.data() + 1;
        return absl::OkStatus();
      }
      begin_ = end_ = 0;
      if (eof_) return absl::OkStatus();
    }
  }

  // Gives back memory a long header line needed.
  void Shrink() {
    if (buf_.capacity() <= 4 * chunk_) return;
    std::vector<char> smaller(buf_.begin() + begin_, buf_.begin() + end_);
    smaller.resize(std::max(smaller.size(), chunk_));
    buf_.swap(smaller);
    end_ -= begin_;
    begin_ = 0;
  }

  int64_t line_number() const { return line_number_; }

 private:
  static absl::string_view Trim(absl::string_view s) {
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  }

  absl::Status Fill() {
    if (eof_) return absl::OkStatus();
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < chunk_) buf_.resize(end_ + chunk_);
    XLAYOUT_ASSIGN_OR_RETURN(size_t n,
                             read_(buf_.data() + end_, buf_.size() - end_));
    if (n > buf_.size() - end_) {
      return absl::InternalError("read callback returned more than requested");
    }
    if (n == 0) eof_ = true;
    end_ += n;
    return absl::OkStatus();
  }

  const ReadFn& read_;
  const size_t chunk_;
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool skip_pending_ = false;
  int64_t line_number_ = 0;
};

struct EntryParameter {
  hlo_text::ParameterInstruction instr;
  int64_t line = 0;
};

void AddWarning(ProgramSignature* sig, std::string warning) {
  for (const std::string& w : sig->warnings) {
    if (w == warning) return;
  }
  sig->warnings.push_back(std::move(warning));
}

// Gives every array without a layout the layout the ENTRY instruction wrote
// (if it has the same logical shape), else the default.
void FillLayouts(Shape* shape, const Shape* fallback) {
  if (shape->IsTuple()) {
    for (size_t i = 0; i < shape->tuple_shapes().size(); ++i) {
      const Shape* fb = fallback != nullptr && fallback->IsTuple() &&
                                i < fallback->tuple_shapes().size()
                            ? &fallback->tuple_shapes(static_cast<int>(i))
                            : nullptr;
      FillLayouts(&(*shape->mutable_tuple_shapes())[i], fb);
    }
    return;
  }
  if (!shape->IsArray() || shape->has_layout()) return;
  if (fallback != nullptr && fallback->IsArray() && fallback->has_layout() &&
      SameLogicalShape(*shape, *fallback)) {
    shape->set_layout(fallback->layout());
  } else {
    shape->set_layout(DefaultLayout(shape->rank()));
  }
}

// True when two shapes of the same logical shape both give a layout for
// some array in them and the layouts (tiles, memory space, ...) differ.
bool LayoutsDiffer(const Shape& a, const Shape& b) {
  if (a.IsTuple() && b.IsTuple()) {
    if (a.tuple_shapes().size() != b.tuple_shapes().size()) return false;
    for (size_t i = 0; i < a.tuple_shapes().size(); ++i) {
      if (LayoutsDiffer(a.tuple_shapes(static_cast<int>(i)),
                        b.tuple_shapes(static_cast<int>(i)))) {
        return true;
      }
    }
    return false;
  }
  return a.IsArray() && b.IsArray() && a.has_layout() && b.has_layout() &&
         !(a.layout() == b.layout());
}

void Flatten(const Shape& shape, std::vector<int64_t>* index,
             std::vector<std::pair<std::vector<int64_t>, Shape>>* leaves) {
  if (!shape.IsTuple()) {
    leaves->emplace_back(*index, shape);
    return;
  }
  for (size_t i = 0; i < shape.tuple_shapes().size(); ++i) {
    index->push_back(static_cast<int64_t>(i));
    Flatten(shape.tuple_shapes(static_cast<int>(i)), index, leaves);
    index->pop_back();
  }
}

// Adds the runtime parameters of HLO parameter `number`.
void AddParameter(int64_t number, Shape shape, const EntryParameter* entry,
                  ProgramSignature* sig) {
  FillLayouts(&shape, entry != nullptr ? &entry->instr.shape : nullptr);
  std::vector<std::pair<std::vector<int64_t>, Shape>> leaves;
  std::vector<int64_t> index;
  Flatten(shape, &index, &leaves);
  // A tuple sharding gives each leaf its element (read by the sharding
  // module's parser, the one parser of sharding text); one that does not
  // parse or fit is kept whole on every leaf.
  std::optional<std::vector<std::string>> split;
  if (shape.IsTuple() && entry != nullptr && entry->instr.sharding) {
    absl::StatusOr<HloSharding> parsed =
        ParseHloSharding(*entry->instr.sharding);
    if (parsed.ok() && parsed->IsTuple()) {
      absl::StatusOr<std::vector<HloSharding>> per_leaf =
          LeafShardings(shape, *parsed);
      if (per_leaf.ok() && per_leaf->size() == leaves.size()) {
        split.emplace();
        for (const HloSharding& leaf : *per_leaf) {
          split->push_back(leaf.ToString());
        }
      }
    }
  }
  for (size_t k = 0; k < leaves.size(); ++k) {
    ParameterSignature p;
    p.index = static_cast<int64_t>(sig->parameters.size());
    p.parameter_number = number;
    p.tuple_index = leaves[k].first;
    p.shape = std::move(leaves[k].second);
    if (entry != nullptr) {
      p.name = entry->instr.name;
      if (shape.IsTuple()) {
        absl::StrAppend(&p.name, "{", absl::StrJoin(p.tuple_index, ","), "}");
      }
      if (split) {
        p.sharding = (*split)[k];
      } else {
        p.sharding = entry->instr.sharding;
      }
    }
    sig->parameters.push_back(std::move(p));
  }
}

absl::StatusOr<ProgramSignature> Assemble(
    const hlo_text::ModuleHeader& header, bool saw_entry,
    const std::map<int64_t, EntryParameter>& entry, const MemoryKindMap& kinds,
    DumpStageFacts facts) {
  ProgramSignature sig;
  facts.num_partitions = header.num_partitions;
  for (const auto& [number, e] : entry) {
    if (e.instr.sharding.has_value()) facts.entry_parameter_shardings = true;
  }
  DumpStageVerdict stage = ClassifyDumpStage(facts);
  sig.dump_stage = stage.stage;
  sig.dump_stage_certain = stage.certain;
  sig.dump_stage_reason = std::move(stage.reason);
  sig.name = header.name;
  sig.replica_count = header.replica_count;
  sig.num_partitions = header.num_partitions;
  sig.result = header.result;
  if (sig.result) FillLayouts(&*sig.result, nullptr);
  if (header.has_entry_layout) {
    sig.layout_source = LayoutSource::kEntryComputationLayout;
    if (!saw_entry) {
      AddWarning(&sig,
                 "no ENTRY computation found: parameter names and shardings "
                 "are unknown");
    }
    const int64_t n = static_cast<int64_t>(header.parameters.size());
    for (int64_t k = 0; k < n; ++k) {
      auto it = entry.find(k);
      const EntryParameter* e = it == entry.end() ? nullptr : &it->second;
      const Shape& shape = header.parameters[k];
      if (e == nullptr && saw_entry) {
        AddWarning(&sig, absl::StrCat("ENTRY has no parameter(", k,
                                      "); its name is unknown"));
      }
      if (e != nullptr && !SameLogicalShape(shape, e->instr.shape)) {
        AddWarning(&sig, absl::StrCat("parameter ", k,
                                      ": entry_computation_layout "
                                      "says ",
                                      shape.ToString(true),
                                      " but ENTRY "
                                      "parameter(",
                                      k, ") at line ", e->line, " is ",
                                      e->instr.shape.ToString(true),
                                      "; using the header"));
      } else if (e != nullptr && LayoutsDiffer(shape, e->instr.shape)) {
        // The runtime checks buffers against the header's layouts (the
        // compiled module's entry layout); a parameter instruction with
        // another one means an edited or mixed-up dump.
        AddWarning(
            &sig,
            absl::StrCat("parameter ", k, ": entry_computation_layout says ",
                         shape.ToString(true), " but ENTRY parameter(", k,
                         ") at line ", e->line, " is ",
                         e->instr.shape.ToString(true),
                         ": the layouts differ; using the "
                         "header's, which XLA's runtime checks "
                         "buffers against"));
      }
      AddParameter(k, shape, e, &sig);
    }
    for (const auto& [number, e] : entry) {
      if (number >= n) {
        AddWarning(
            &sig, absl::StrCat("ENTRY parameter(", number, ") at line ", e.line,
                               " is not in "
                               "entry_computation_layout, which has ",
                               n, " parameters"));
      }
    }
  } else {
    sig.layout_source = LayoutSource::kEntryParameters;
    if (!saw_entry) {
      return absl::InvalidArgumentError(
          "the HloModule header has no entry_computation_layout and there "
          "is no ENTRY computation to take parameter layouts from");
    }
    int64_t expected = 0;
    for (const auto& [number, e] : entry) {
      if (number != expected) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ENTRY computation has parameter(", number, ") at line ", e.line,
            " but no parameter(", expected, ")"));
      }
      AddParameter(number, e.instr.shape, &e, &sig);
      ++expected;
    }
  }
  // Names and shardings come from arbitrary bytes; made valid UTF-8 here so
  // that JSON (which must replace invalid bytes) round-trips exactly and
  // warnings derived from them read the same after a round trip.
  sig.name = ToValidUtf8(sig.name);
  for (ParameterSignature& p : sig.parameters) {
    p.name = ToValidUtf8(p.name);
    if (p.sharding) p.sharding = ToValidUtf8(*p.sharding);
  }
  for (std::string& w : sig.warnings) w = ToValidUtf8(w);
  FillDerivedFields(&sig, kinds);
  return sig;
}

absl::StatusOr<ProgramSignature> ReadImpl(const ReadFn& read,
                                          const SignatureReadOptions& options) {
  LineReader reader(read, options.chunk_size);
  absl::string_view line;
  bool truncated = false;
  auto at_line = [&](const absl::Status& s) {
    return Annotate(s, absl::StrCat("line ", reader.line_number(), ": "));
  };

  // 1. The header: the first line that is not blank or a // comment.
  std::optional<hlo_text::ModuleHeader> header;
  while (true) {
    XLAYOUT_ASSIGN_OR_RETURN(
        bool more, reader.Next(options.max_header_bytes, &line, &truncated));
    if (!more) {
      return absl::InvalidArgumentError(
          "no 'HloModule' header: the input is empty or only comments");
    }
    if (truncated) {
      return absl::ResourceExhaustedError(
          absl::StrCat("line ", reader.line_number(),
                       ": the HloModule header is longer "
                       "than ",
                       options.max_header_bytes, " bytes (max_header_bytes)"));
    }
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || absl::StartsWith(trimmed, "//")) continue;
    if (!absl::StartsWith(trimmed, "HloModule")) {
      return at_line(absl::InvalidArgumentError(absl::StrCat(
          "expected the 'HloModule' header, got '", trimmed.substr(0, 40),
          trimmed.size() > 40 ? "...'" : "'")));
    }
    absl::StatusOr<hlo_text::ModuleHeader> parsed =
        hlo_text::ParseModuleHeader(line);
    if (!parsed.ok()) return at_line(parsed.status());
    header = *std::move(parsed);
    break;
  }
  reader.Shrink();

  // 2. Skip to the ENTRY computation, then 3. collect its parameters until
  // the closing '}' at column 0. Nothing else is kept but one fact for the
  // SPMD stage: whether an instruction the partitioner clears the sharding
  // of (anything but entry parameters, infeed, outfeed, send and recv)
  // carries `sharding=`.
  DumpStageFacts facts;
  facts.file_name = options.file_name;
  auto note_sharding = [&](absl::string_view text) {
    if (facts.sharding_outside_entry_parameters ||
        !absl::StrContains(text, "sharding=")) {
      return;
    }
    absl::string_view op = hlo_text::InstructionOpcode(text);
    if (op.empty() || op == "infeed" || op == "outfeed" || op == "send" ||
        op == "recv" || op == "send-done" || op == "recv-done") {
      return;
    }
    facts.sharding_outside_entry_parameters = true;
  };
  bool saw_entry = false;
  bool in_entry = false;
  bool entry_closed = false;
  std::map<int64_t, EntryParameter> params;
  while (true) {
    XLAYOUT_ASSIGN_OR_RETURN(
        bool more, reader.Next(options.max_line_bytes, &line, &truncated));
    if (!more) break;
    if (!in_entry) {
      note_sharding(line);
      if (hlo_text::IsEntryLine(line)) {
        if (saw_entry) {
          return at_line(
              absl::InvalidArgumentError("a second ENTRY computation"));
        }
        saw_entry = in_entry = true;
      }
    } else if (hlo_text::IsEntryLine(line)) {
      return at_line(absl::InvalidArgumentError(
          "a second ENTRY computation before the first one is closed by '}'"));
    } else if (!line.empty() && line[0] == '}') {
      in_entry = false;
      entry_closed = true;
      break;  // The rest of the file cannot change the signature.
    } else if (!hlo_text::MayBeParameterInstruction(line)) {
      note_sharding(line);
    } else {
      if (truncated) {
        return at_line(absl::ResourceExhaustedError(
            absl::StrCat("a parameter instruction longer than ",
                         options.max_line_bytes, " bytes (max_line_bytes)")));
      }
      absl::StatusOr<std::optional<hlo_text::ParameterInstruction>> instr =
          hlo_text::ParseParameterInstruction(line);
      if (!instr.ok()) return at_line(instr.status());
      if (!instr->has_value()) {
        note_sharding(line);
      } else {
        int64_t number = (*instr)->number;
        auto [it, inserted] = params.try_emplace(number);
        if (!inserted) {
          return at_line(absl::InvalidArgumentError(absl::StrCat(
              "ENTRY has two parameter(", number, ") instructions ('",
              it->second.instr.name, "' at line ", it->second.line, " and '",
              (*instr)->name, "')")));
        }
        it->second.instr = **std::move(instr);
        it->second.line = reader.line_number();
      }
    }
    if (truncated) XLAYOUT_RETURN_IF_ERROR(reader.SkipRestOfLine());
  }
  if (saw_entry && !entry_closed && !header->has_entry_layout) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ENTRY computation is not closed by '}' (the input ends at line ",
        reader.line_number(),
        ") and the HloModule header has no entry_computation_layout: the "
        "dump looks truncated, so its parameter list may be incomplete"));
  }
  facts.truncated = saw_entry && !entry_closed;
  XLAYOUT_ASSIGN_OR_RETURN(
      ProgramSignature sig,
      Assemble(*header, saw_entry, params, options.memory_kinds, facts));
  if (saw_entry && !entry_closed) {
    AddWarning(&sig,
               "the ENTRY computation is not closed by '}': the dump looks "
               "truncated");
  }
  return sig;
}

absl::Status JsonError(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("JSON signature: ", where, ": ", what));
}

absl::StatusOr<ProgramSignature> FromJsonImpl(const nlohmann::json& j,
                                              const MemoryKindMap& given) {
  if (!j.is_object()) return JsonError("top level", "expected an object");
  // A signature written with --memory-kinds records its mapping; its
  // memory_kind values are read with that mapping, not the caller's.
  MemoryKindMap recorded;
  const MemoryKindMap* kinds_ptr = &given;
  if (j.contains("memory_kinds")) {
    if (!j["memory_kinds"].is_string()) {
      return JsonError("memory_kinds", "not a string");
    }
    const std::string text = j["memory_kinds"].get<std::string>();
    if (text.empty()) {
      recorded = MemoryKindMap::Empty();  // Every space named "S(n)".
    } else {
      absl::StatusOr<MemoryKindMap> parsed = MemoryKindMap::Parse(text);
      if (!parsed.ok()) {
        return JsonError("memory_kinds", parsed.status().message());
      }
      recorded = *std::move(parsed);
    }
    kinds_ptr = &recorded;
  }
  const MemoryKindMap& kinds = *kinds_ptr;
  ProgramSignature sig;
  if (j.contains("format") &&
      (!j["format"].is_string() || j["format"] != "xlayout.signature.v1")) {
    return JsonError("format", "expected \"xlayout.signature.v1\"");
  }
  if (!j.contains("name") || !j["name"].is_string()) {
    return JsonError("name", "missing or not a string");
  }
  sig.name = j["name"].get<std::string>();
  for (const char* key : {"replica_count", "num_partitions"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_number_integer() || j[key].get<int64_t>() < 1) {
      return JsonError(key, "expected a positive integer");
    }
    (std::string(key) == "replica_count" ? sig.replica_count
                                         : sig.num_partitions) =
        j[key].get<int64_t>();
  }
  sig.layout_source = LayoutSource::kJson;
  if (j.contains("layout_source")) {
    const auto& v = j["layout_source"];
    bool found = false;
    for (LayoutSource s :
         {LayoutSource::kEntryComputationLayout, LayoutSource::kEntryParameters,
          LayoutSource::kJson}) {
      if (v.is_string() && v.get<std::string>() == LayoutSourceName(s)) {
        sig.layout_source = s;
        found = true;
      }
    }
    if (!found) {
      return JsonError("layout_source",
                       "expected \"entry_computation_layout\", "
                       "\"entry_parameters\" or \"json\"");
    }
  }
  // The SPMD stage: as recorded, else (an older file) unknown, whose shapes
  // count as global.
  sig.dump_stage = DumpStage::kUnknown;
  sig.dump_stage_reason = "the JSON signature does not record it";
  if (j.contains("dump_stage")) {
    std::optional<DumpStage> stage =
        j["dump_stage"].is_string()
            ? DumpStageFromKey(j["dump_stage"].get<std::string>())
            : std::nullopt;
    if (!stage.has_value()) {
      return JsonError("dump_stage",
                       "expected \"unknown\", \"single_partition\", "
                       "\"before_spmd_partitioning\" or "
                       "\"after_spmd_partitioning\"");
    }
    sig.dump_stage = *stage;
    sig.dump_stage_reason.clear();
    if (j.contains("dump_stage_certain")) {
      if (!j["dump_stage_certain"].is_boolean()) {
        return JsonError("dump_stage_certain", "not a boolean");
      }
      sig.dump_stage_certain = j["dump_stage_certain"].get<bool>();
    }
    if (j.contains("dump_stage_reason")) {
      if (!j["dump_stage_reason"].is_string()) {
        return JsonError("dump_stage_reason", "not a string");
      }
      sig.dump_stage_reason = j["dump_stage_reason"].get<std::string>();
    }
  }
  if (j.contains("result") && !j["result"].is_null()) {
    if (!j["result"].is_string()) return JsonError("result", "not a string");
    absl::StatusOr<Shape> result = ParseShape(j["result"].get<std::string>());
    if (!result.ok()) return JsonError("result", result.status().message());
    sig.result = *std::move(result);
  }
  if (j.contains("warnings")) {
    if (!j["warnings"].is_array()) return JsonError("warnings", "not an array");
    for (const auto& w : j["warnings"]) {
      if (!w.is_string()) return JsonError("warnings", "not a string");
      sig.warnings.push_back(w.get<std::string>());
    }
  }
  if (!j.contains("parameters") || !j["parameters"].is_array()) {
    return JsonError("parameters", "missing or not an array");
  }
  const auto& params = j["parameters"];
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& pj = params[i];
    std::string where = absl::StrCat("parameters[", i, "]");
    if (!pj.is_object()) return JsonError(where, "expected an object");
    ParameterSignature p;
    p.index = static_cast<int64_t>(i);
    if (pj.contains("index") && (!pj["index"].is_number_integer() ||
                                 pj["index"].get<int64_t>() != p.index)) {
      return JsonError(where, absl::StrCat("index must be ", i,
                                           " (parameters are in order)"));
    }
    if (!pj.contains("shape") || !pj["shape"].is_string()) {
      return JsonError(where, "shape is missing or not a string");
    }
    absl::StatusOr<Shape> shape = ParseShape(pj["shape"].get<std::string>());
    if (!shape.ok()) {
      return JsonError(absl::StrCat(where, ".shape"), shape.status().message());
    }
    if (shape->IsTuple()) {
      return JsonError(absl::StrCat(where, ".shape"),
                       "runtime parameters are arrays; flatten tuples");
    }
    p.shape = *std::move(shape);
    if (pj.contains("name")) {
      if (!pj["name"].is_string())
        return JsonError(where, "name is not a string");
      p.name = pj["name"].get<std::string>();
    }
    p.parameter_number = p.index;
    if (pj.contains("parameter_number")) {
      if (!pj["parameter_number"].is_number_integer() ||
          pj["parameter_number"].get<int64_t>() < 0) {
        return JsonError(where, "parameter_number must be an integer >= 0");
      }
      p.parameter_number = pj["parameter_number"].get<int64_t>();
    }
    if (pj.contains("tuple_index")) {
      if (!pj["tuple_index"].is_array()) {
        return JsonError(where, "tuple_index must be an array of integers");
      }
      for (const auto& t : pj["tuple_index"]) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0) {
          return JsonError(where,
                           "tuple_index must be an array of integers >= 0");
        }
        p.tuple_index.push_back(t.get<int64_t>());
      }
    }
    if (pj.contains("sharding") && !pj["sharding"].is_null()) {
      if (!pj["sharding"].is_string()) {
        return JsonError(where, "sharding must be a string or null");
      }
      p.sharding = pj["sharding"].get<std::string>();
    }
    sig.parameters.push_back(std::move(p));
  }
  FillDerivedFields(&sig, kinds);
  // Values written in the file must agree with what the shapes imply.
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& pj = params[i];
    const ParameterSignature& p = sig.parameters[i];
    std::string where = absl::StrCat("parameters[", i, "]");
    if (!p.per_device_known) {
      // Nothing to check the file's per-device values against: null is
      // the only value that agrees; anything else is ignored with a warning
      // (files written before unknown per-device shapes were null).
      for (const char* key : {"per_device_shape", "per_device_xla_bytes",
                              "per_device_exact_bytes"}) {
        if (pj.contains(key) && !pj[key].is_null()) {
          AddWarning(&sig, absl::StrCat(where, ": ", key, " ", pj[key].dump(),
                                        " ignored: the sharding does not "
                                        "apply, so it cannot be derived"));
        }
      }
    }
    for (const char* key : {"xla_bytes", "exact_bytes", "per_device_xla_bytes",
                            "per_device_exact_bytes"}) {
      if (!pj.contains(key)) continue;
      const std::string k = key;
      if (!p.per_device_known && k.starts_with("per_device_")) continue;
      int64_t want = k == "xla_bytes"              ? p.xla_bytes
                     : k == "exact_bytes"          ? p.exact_bytes
                     : k == "per_device_xla_bytes" ? p.per_device_xla_bytes
                                                   : p.per_device_exact_bytes;
      if (!pj[key].is_number_integer() || pj[key].get<int64_t>() != want) {
        // A per-device count is the per-device shape's, not the global one's.
        const Shape& of =
            k.starts_with("per_device_") ? p.per_device_shape : p.shape;
        return JsonError(where,
                         absl::StrCat(key, " is ", pj[key].dump(), " but ",
                                      of.ToString(true), " has ", want));
      }
    }
    if (p.per_device_known && pj.contains("per_device_shape")) {
      const std::string want = p.per_device_shape.ToString(true);
      if (!pj["per_device_shape"].is_string() ||
          pj["per_device_shape"].get<std::string>() != want) {
        return JsonError(
            where,
            absl::StrCat("per_device_shape is ", pj["per_device_shape"].dump(),
                         " but ", p.shape.ToString(true), " under sharding ",
                         p.sharding.value_or("(none)"), " gives ", want,
                         " (dump_stage ", DumpStageKey(sig.dump_stage), ")"));
      }
    }
    if (pj.contains("memory_kind") && (!pj["memory_kind"].is_string() ||
                                       pj["memory_kind"] != p.memory_kind)) {
      return JsonError(
          where, absl::StrCat("memory_kind is ", pj["memory_kind"].dump(),
                              " but ", p.shape.ToString(true), " maps to \"",
                              p.memory_kind, "\" (", kinds.ToString(), ")"));
    }
  }
  return sig;
}

}  // namespace

absl::string_view LayoutSourceName(LayoutSource source) {
  switch (source) {
    case LayoutSource::kEntryComputationLayout:
      return "entry_computation_layout";
    case LayoutSource::kEntryParameters:
      return "entry_parameters";
    case LayoutSource::kJson:
      return "json";
  }
  return "unknown";
}

void FillDerivedFields(ProgramSignature* signature,
                       const MemoryKindMap& kinds) {
  signature->memory_kinds = kinds.ToString();
  // Shardings repeat (10,000 parameters, a handful of distinct texts).
  absl::flat_hash_map<std::string, absl::StatusOr<HloSharding>> parsed;
  for (ParameterSignature& p : signature->parameters) {
    p.memory_kind = MemoryKindOf(p.shape, kinds);
    p.xla_bytes = p.exact_bytes = 0;
    p.per_device_xla_bytes = p.per_device_exact_bytes = 0;
    p.per_device_shape = p.shape;
    p.per_device_known = true;
    if (!p.shape.IsArray()) {
      AddWarning(signature,
                 absl::StrCat("parameter ", p.index, " (", p.name, ") is ",
                              p.shape.ToString(true),
                              ", not an array: no buffer can match it"));
      continue;
    }
    if (!p.shape.has_layout())
      p.shape.set_layout(DefaultLayout(p.shape.rank()));
    p.per_device_shape = p.shape;
    absl::StatusOr<int64_t> xla = XlaBytes(p.shape);
    absl::StatusOr<int64_t> exact = ExactBytes(p.shape);
    p.xla_bytes = xla.ok() ? *xla : -1;
    p.exact_bytes = exact.ok() ? *exact : -1;
    if (!xla.ok() || !exact.ok()) {
      AddWarning(
          signature,
          absl::StrCat("parameter ", p.index, " (", p.name, ") ",
                       p.shape.ToString(true), ": size undefined (",
                       (!xla.ok() ? xla.status() : exact.status()).message(),
                       "); its size check is skipped"));
    }
    p.per_device_xla_bytes = p.xla_bytes;
    p.per_device_exact_bytes = p.exact_bytes;
    if (!p.sharding.has_value()) continue;
    auto it = parsed.find(*p.sharding);
    if (it == parsed.end()) {
      it = parsed.emplace(*p.sharding, ParseHloSharding(*p.sharding)).first;
    }
    // XLA validates every sharding against the module's partitions (device
    // ids below num_partitions, a tiled one on exactly that many devices);
    // a program that fails that never runs, so no per-device size either.
    if (it->second.ok() && signature->num_partitions > 1) {
      absl::Status valid =
          ValidateSharding(*it->second, p.shape, signature->num_partitions);
      if (!valid.ok()) {
        AddWarning(signature,
                   absl::StrCat("parameter ", p.index, " (", p.name,
                                "): ", valid.message(),
                                " (num_partitions=", signature->num_partitions,
                                "); XLA rejects such a program, so its "
                                "per-device shape and size are unknown"));
        p.per_device_known = false;
        p.per_device_xla_bytes = p.per_device_exact_bytes = -1;
        continue;
      }
    }
    if (!signature->shapes_are_global()) continue;
    absl::StatusOr<Shape> shard = it->second.ok()
                                      ? ShardShape(p.shape, *it->second)
                                      : it->second.status();
    if (!shard.ok()) {
      // The global shape is not what a device holds under this sharding:
      // no per-device shape or size rather than a wrong one.
      AddWarning(
          signature,
          absl::StrCat("parameter ", p.index, " (", p.name, "): sharding ",
                       *p.sharding, " not applied (", shard.status().message(),
                       "); its per-device shape and size are unknown"));
      p.per_device_known = false;
      p.per_device_xla_bytes = p.per_device_exact_bytes = -1;
      continue;
    }
    if (*shard == p.shape) continue;
    p.per_device_shape = *std::move(shard);
    absl::StatusOr<int64_t> pd_xla = XlaBytes(p.per_device_shape);
    absl::StatusOr<int64_t> pd_exact = ExactBytes(p.per_device_shape);
    p.per_device_xla_bytes = pd_xla.ok() ? *pd_xla : -1;
    p.per_device_exact_bytes = pd_exact.ok() ? *pd_exact : -1;
  }
}

absl::StatusOr<ProgramSignature> ReadHloSignature(
    const ReadFn& read, const SignatureReadOptions& options) {
  return ReadImpl(read, options);
}

absl::StatusOr<ProgramSignature> ParseHloSignature(
    absl::string_view hlo_text, const SignatureReadOptions& options) {
  size_t offset = 0;
  ReadFn read = [&](char* dst, size_t capacity) -> absl::StatusOr<size_t> {
    size_t n = std::min(capacity, hlo_text.size() - offset);
    std::memcpy(dst, hlo_text.data() + offset, n);
    offset += n;
    return n;
  };
  return ReadImpl(read, options);
}

namespace {

// Dumps and JSON signatures come from regular files, stdin ("-") or pipes
// such as bash's <(...); devices and directories are refused before any
// read (a read of /dev/zero never ends).
absl::StatusOr<io::InputFile> OpenInput(const std::string& path) {
  return io::InputFile::Open(path,
                             {.allow_stdin = true, .allow_streams = true});
}

// `options` with file_name set to the base name of `path` unless given.
SignatureReadOptions WithFileName(const SignatureReadOptions& options,
                                  const std::string& path) {
  SignatureReadOptions o = options;
  if (o.file_name.empty() && path != "-") {
    const size_t slash = path.rfind('/');
    o.file_name = slash == std::string::npos ? path : path.substr(slash + 1);
  }
  return o;
}

// Reads an HLO dump from `file`, serving `prefix` (bytes already read) first.
absl::StatusOr<ProgramSignature> ReadHloFrom(
    io::InputFile& file, absl::string_view prefix,
    const SignatureReadOptions& options) {
  size_t served = 0;
  ReadFn read = [&](char* dst, size_t capacity) -> absl::StatusOr<size_t> {
    if (served < prefix.size()) {
      size_t n = std::min(capacity, prefix.size() - served);
      std::memcpy(dst, prefix.data() + served, n);
      served += n;
      return n;
    }
    return file.Read(dst, capacity);
  };
  absl::StatusOr<ProgramSignature> sig = ReadImpl(read, options);
  if (!sig.ok()) {
    return Annotate(sig.status(), absl::StrCat(file.path(), ": "));
  }
  return sig;
}

}  // namespace

absl::StatusOr<ProgramSignature> ReadHloSignatureFile(
    const std::string& path, const SignatureReadOptions& options) {
  XLAYOUT_ASSIGN_OR_RETURN(io::InputFile file, OpenInput(path));
  return ReadHloFrom(file, "", WithFileName(options, path));
}

std::string SignatureToJson(const ProgramSignature& signature, int indent) {
  nlohmann::ordered_json j;
  j["format"] = "xlayout.signature.v1";
  j["name"] = signature.name;
  j["replica_count"] = signature.replica_count;
  j["num_partitions"] = signature.num_partitions;
  j["layout_source"] = std::string(LayoutSourceName(signature.layout_source));
  j["dump_stage"] = std::string(DumpStageKey(signature.dump_stage));
  j["dump_stage_certain"] = signature.dump_stage_certain;
  j["dump_stage_reason"] = signature.dump_stage_reason;
  nlohmann::ordered_json params = nlohmann::ordered_json::array();
  for (const ParameterSignature& p : signature.parameters) {
    nlohmann::ordered_json pj;
    pj["index"] = p.index;
    pj["name"] = p.name;
    pj["parameter_number"] = p.parameter_number;
    pj["tuple_index"] = p.tuple_index;
    pj["shape"] = p.shape.ToString(true);
    pj["xla_bytes"] = p.xla_bytes;
    pj["exact_bytes"] = p.exact_bytes;
    pj["memory_kind"] = p.memory_kind;
    pj["sharding"] = p.sharding ? nlohmann::ordered_json(*p.sharding)
                                : nlohmann::ordered_json(nullptr);
    if (p.per_device_known) {
      pj["per_device_shape"] = p.per_device_shape.ToString(true);
      pj["per_device_xla_bytes"] = p.per_device_xla_bytes;
      pj["per_device_exact_bytes"] = p.per_device_exact_bytes;
    } else {
      pj["per_device_shape"] = nullptr;
      pj["per_device_xla_bytes"] = nullptr;
      pj["per_device_exact_bytes"] = nullptr;
    }
    params.push_back(std::move(pj));
  }
  j["parameters"] = std::move(params);
  j["result"] = signature.result
                    ? nlohmann::ordered_json(signature.result->ToString(true))
                    : nlohmann::ordered_json(nullptr);
  j["warnings"] = signature.warnings;
  j["memory_kinds"] = signature.memory_kinds;
  // Replace invalid UTF-8 (names come from arbitrary files) instead of
  // throwing.
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<ProgramSignature> SignatureFromJson(absl::string_view json,
                                                   const MemoryKindMap& kinds) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError("JSON signature: not valid JSON");
  }
  return FromJsonImpl(j, kinds);
}

absl::StatusOr<ProgramSignature> ReadSignatureFile(
    const std::string& path, const SignatureReadOptions& options) {
  XLAYOUT_ASSIGN_OR_RETURN(io::InputFile file, OpenInput(path));
  // The first non-blank byte decides: '{' is JSON, anything else HLO.
  std::string head;
  char buf[1 << 16];
  while (true) {
    XLAYOUT_ASSIGN_OR_RETURN(size_t n, file.Read(buf, sizeof(buf)));
    head.append(buf, n);
    if (n == 0 || !absl::StripLeadingAsciiWhitespace(head).empty()) break;
    if (head.size() > options.max_header_bytes) break;
  }
  // Binary files are refused from their first bytes, not after reading
  // them whole.
  constexpr size_t kSniffBytes = 4096;
  if (!LooksLikeText(absl::string_view(head).substr(0, kSniffBytes))) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.path(), ": not a text HLO dump or JSON signature (binary data: ",
        EscapeAndTruncate(absl::string_view(head).substr(0, 64), 48), ")"));
  }
  absl::string_view start = absl::StripLeadingAsciiWhitespace(head);
  if (start.empty() || start[0] != '{') {
    return ReadHloFrom(file, head, WithFileName(options, path));
  }
  // JSON signatures are small: read it whole.
  while (true) {
    XLAYOUT_ASSIGN_OR_RETURN(size_t n, file.Read(buf, sizeof(buf)));
    if (n == 0) break;
    head.append(buf, n);
  }
  absl::StatusOr<ProgramSignature> sig =
      SignatureFromJson(head, options.memory_kinds);
  if (!sig.ok()) {
    return Annotate(sig.status(), absl::StrCat(file.path(), ": "));
  }
  return sig;
}

}  // namespace xlayout
