// Parser for the sharding text XLA prints after `sharding=` in HLO dumps.
// The grammar is XLA's hlo_parser.cc (ParseSharding, ParseSingleSharding,
// ParseTileAssignment) for the tile forms and NamedSharding::ToString for the
// mesh form; lexical rules (whitespace, /*...*/ comments, integers) are XLA's
// lexer's, shared with the shape parser through TextCursor. Every rejection
// names the column and what was expected there.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/text_cursor.h"
#include "xlayout/sharding.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

class ShardingParser : public TextCursor {
 public:
  explicit ShardingParser(absl::string_view text) : TextCursor(text) {}

  // sharding ::= '{' single-body | '{' [element {',' element}] '}'
  absl::StatusOr<HloSharding> ParseSharding() {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    const size_t open = pos();
    XLAYOUT_RETURN_IF_ERROR(Expect('{', "'{' to start a sharding"));
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (Peek() != '{' && Peek() != '}') return ParseBody(open);
    std::vector<HloSharding> elements;
    XLAYOUT_RETURN_IF_ERROR(
        ReadList('}', /*trailing_comma=*/false,
                 "between tuple sharding elements", [&]() -> absl::Status {
                   XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
                   const size_t at = pos();
                   XLAYOUT_RETURN_IF_ERROR(
                       Expect('{', "'{' to start a tuple element's sharding"));
                   XLAYOUT_ASSIGN_OR_RETURN(HloSharding e, ParseBody(at));
                   elements.push_back(std::move(e));
                   return absl::OkStatus();
                 }));
    return HloSharding::Tuple(std::move(elements));
  }

 private:
  // After the '{' at `open` of one (non-tuple) sharding.
  absl::StatusOr<HloSharding> ParseBody(size_t open) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (rest().substr(0, 12) == "maximal_mesh" || AtMesh()) {
      return ParseNamed(open);
    }
    return ParseSingle(open);
  }

  bool AtMesh() {
    if (rest().substr(0, 4) != "mesh") return false;
    TextCursor look(text(), pos() + 4);
    if (!look.SkipTrivia().ok()) return false;
    return look.Peek() == '[';
  }

  // The tile form, after its '{': XLA's ParseSingleSharding loop.
  absl::StatusOr<HloSharding> ParseSingle(size_t open) {
    struct Kind {
      const char* name;
      size_t at;
    };
    std::vector<Kind> kinds;  // replicated, manual, maximal, devices=, ...
    std::optional<int64_t> device;
    size_t device_at = 0;
    std::optional<TileAssignment> tiles;
    size_t tiles_at = 0;
    bool last_tile_dim_replicate = false;
    std::optional<std::vector<SubgroupType>> subgroups;
    size_t subgroup_at = 0;
    std::optional<std::string> metadata;
    HloSharding::ShardGroup group = HloSharding::ShardGroup::kNone;
    int64_t group_id = 0;
    auto once = [&](bool already, size_t at,
                    absl::string_view what) -> absl::Status {
      if (!already) return absl::OkStatus();
      return ErrorAt(at, absl::StrCat(what, " appears twice in one sharding"));
    };
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Consume('}')) break;
      const size_t at = pos();
      if (!AtIdentifier()) {
        return ErrorAt(
            at, absl::StrCat(AtEnd() ? "expected '}' to end the sharding"
                                     : "expected a sharding keyword or '}'",
                             ", got ", Describe(at)));
      }
      const std::string word(ReadIdentifier());
      if (Peek() == '=') {
        Advance();
        if (word == "device") {
          XLAYOUT_RETURN_IF_ERROR(once(device.has_value(), at, "device="));
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          XLAYOUT_ASSIGN_OR_RETURN(device, ReadInt64("device= of a maximal "
                                                     "sharding"));
          device_at = at;
        } else if (word == "devices") {
          XLAYOUT_RETURN_IF_ERROR(once(tiles.has_value(), at, "devices="));
          XLAYOUT_ASSIGN_OR_RETURN(tiles, ParseTileAssignment());
          tiles_at = at;
          kinds.push_back({"devices=", at});
        } else if (word == "metadata") {
          XLAYOUT_RETURN_IF_ERROR(once(metadata.has_value(), at, "metadata="));
          XLAYOUT_ASSIGN_OR_RETURN(metadata, ReadBraced("metadata="));
        } else if (word == "last_tile_dims") {
          XLAYOUT_RETURN_IF_ERROR(
              once(subgroups.has_value(), at, "last_tile_dims="));
          XLAYOUT_ASSIGN_OR_RETURN(subgroups, ParseSubgroupTypes());
          subgroup_at = at;
        } else {
          return ErrorAt(at, absl::StrCat("unknown sharding attribute '", word,
                                          "=': expected device=, devices=, "
                                          "metadata= or last_tile_dims="));
        }
        continue;
      }
      if (word == "replicated" || word == "manual" || word == "unknown" ||
          word == "unreduced" || word == "maximal") {
        for (const Kind& k : kinds) {
          if (k.name == word) {
            return ErrorAt(
                at, absl::StrCat("'", word, "' appears twice in one sharding"));
          }
        }
        static constexpr const char* kNames[] = {
            "replicated", "manual", "unknown", "unreduced", "maximal"};
        for (const char* name : kNames) {
          if (name == word) kinds.push_back({name, at});
        }
      } else if (word == "last_tile_dim_replicate") {
        XLAYOUT_RETURN_IF_ERROR(
            once(last_tile_dim_replicate, at, "last_tile_dim_replicate"));
        last_tile_dim_replicate = true;
        subgroup_at = at;
      } else if (word == "shard_as" || word == "shard_like") {
        XLAYOUT_RETURN_IF_ERROR(once(group != HloSharding::ShardGroup::kNone,
                                     at, "shard_as/shard_like"));
        group = word == "shard_as" ? HloSharding::ShardGroup::kAs
                                   : HloSharding::ShardGroup::kLike;
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        XLAYOUT_ASSIGN_OR_RETURN(group_id, ReadInt64("shard group id"));
      } else if (word == "device" || word == "devices" || word == "metadata" ||
                 word == "last_tile_dims") {
        return ErrorAt(
            at + word.size(),
            absl::StrCat("expected '=' right after '", word,
                         "' (XLA's lexer reads '", word,
                         "=' as one token), got ", Describe(at + word.size())));
      } else {
        return ErrorAt(
            at, absl::StrCat("unknown word '", word,
                             "' in sharding: expected replicated, manual, "
                             "unknown, unreduced, maximal, devices=, "
                             "last_tile_dim_replicate, last_tile_dims=, "
                             "shard_as, shard_like or metadata="));
      }
    }
    if (kinds.size() > 1) {
      return ErrorAt(
          kinds[1].at,
          absl::StrCat("conflicting sharding kinds '", kinds[0].name, "' and '",
                       kinds[1].name, "': a sharding is exactly one of them"));
    }
    if (kinds.empty()) {
      return ErrorAt(open,
                     "sharding names no kind: expected replicated, manual, "
                     "unknown, unreduced, maximal device=N or devices=[...]");
    }
    const std::string kind = kinds[0].name;
    if (kind != "maximal" && device.has_value()) {
      return ErrorAt(device_at, absl::StrCat("device= belongs to maximal "
                                             "shardings, not to '",
                                             kind, "'"));
    }
    if (kind != "devices=" &&
        (last_tile_dim_replicate || subgroups.has_value())) {
      return ErrorAt(subgroup_at,
                     absl::StrCat("subgroup dimensions (last_tile_dim_"
                                  "replicate, last_tile_dims=) belong to "
                                  "devices=[...] shardings, not to '",
                                  kind, "'"));
    }
    HloSharding s;
    if (kind == "replicated") {
      s = HloSharding::Replicate();
    } else if (kind == "manual") {
      s = HloSharding::Manual();
    } else if (kind == "unknown") {
      s = HloSharding::Unknown();
    } else if (kind == "unreduced") {
      s = HloSharding::Unreduced();
    } else if (kind == "maximal") {
      if (!device.has_value()) {
        return ErrorAt(kinds[0].at,
                       "a maximal sharding needs device=N (the one device "
                       "holding the value)");
      }
      s = HloSharding::Maximal(*device);
    } else {
      if (!tiles->is_iota() && tiles->num_devices() <= 1) {
        return ErrorAt(tiles_at,
                       "a devices=[...] sharding must list more than one "
                       "device (XLA writes one device as {maximal device=N})");
      }
      if (last_tile_dim_replicate && subgroups.has_value()) {
        return ErrorAt(subgroup_at,
                       "last_tile_dim_replicate and last_tile_dims= cannot "
                       "both be given");
      }
      absl::StatusOr<HloSharding> tiled =
          HloSharding::Tiled(*std::move(tiles), last_tile_dim_replicate,
                             subgroups.value_or(std::vector<SubgroupType>()));
      if (!tiled.ok()) return ErrorAt(tiles_at, tiled.status().message());
      s = *std::move(tiled);
    }
    s.set_shard_group(group, group_id);
    if (metadata.has_value()) s.set_metadata(*std::move(metadata));
    return s;
  }

  // After `devices=`: '[' dims ']' ( '<=' '[' dims ']' ['T' '(' perm ')']
  // | INT {',' INT} ).
  absl::StatusOr<TileAssignment> ParseTileAssignment() {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    const size_t at = pos();
    XLAYOUT_ASSIGN_OR_RETURN(
        std::vector<int64_t> dims,
        ReadBracketedInts('[', ']', "tile assignment dimensions"));
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    if (ConsumeLiteral("<=")) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      XLAYOUT_ASSIGN_OR_RETURN(
          std::vector<int64_t> reshape,
          ReadBracketedInts('[', ']', "iota reshape dimensions"));
      std::vector<int64_t> perm = {0};
      if (reshape.size() > 1) {
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        if (!Consume('T')) {
          return ErrorAt(pos(),
                         absl::StrCat("expected 'T(' with the iota transpose "
                                      "after the reshape dimensions [",
                                      absl::StrJoin(reshape, ","), "], got ",
                                      Describe(pos())));
        }
        XLAYOUT_ASSIGN_OR_RETURN(
            perm, ReadBracketedInts('(', ')', "iota transpose permutation"));
      }
      absl::StatusOr<TileAssignment> t = TileAssignment::Iota(
          std::move(dims), std::move(reshape), std::move(perm));
      if (!t.ok()) return ErrorAt(at, t.status().message());
      return t;
    }
    std::vector<int64_t> devices;
    while (true) {
      XLAYOUT_ASSIGN_OR_RETURN(int64_t d, ReadInt64("device id"));
      devices.push_back(d);
      if (devices.size() > static_cast<size_t>(kMaxShardingDevices)) {
        return ErrorAt(pos(), absl::StrCat("more than ", kMaxShardingDevices,
                                           " device ids"));
      }
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (!Consume(',')) break;
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    }
    absl::StatusOr<TileAssignment> t =
        TileAssignment::Explicit(std::move(dims), std::move(devices));
    if (!t.ok()) return ErrorAt(at, t.status().message());
    return t;
  }

  // After `last_tile_dims=`: '{' [type {',' type}] '}'.
  absl::StatusOr<std::vector<SubgroupType>> ParseSubgroupTypes() {
    XLAYOUT_RETURN_IF_ERROR(Expect('{', "'{' to start last_tile_dims"));
    std::vector<SubgroupType> types;
    XLAYOUT_RETURN_IF_ERROR(
        ReadList('}', false, "in last_tile_dims", [&]() -> absl::Status {
          const size_t at = pos();
          const absl::string_view word = ReadIdentifier();
          for (SubgroupType t :
               {SubgroupType::kManual, SubgroupType::kReplicated,
                SubgroupType::kUnreduced, SubgroupType::kMaximal}) {
            if (word == SubgroupTypeName(t)) {
              types.push_back(t);
              return absl::OkStatus();
            }
          }
          return ErrorAt(at, absl::StrCat("expected a subgroup type (manual, "
                                          "replicated, unreduced or maximal), "
                                          "got ",
                                          Describe(at)));
        }));
    return types;
  }

  // `open` INT {',' INT} `close`, at least one INT.
  absl::StatusOr<std::vector<int64_t>> ReadBracketedInts(
      char open, char close, absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(Expect(
        open,
        absl::StrCat("'", std::string(1, open), "' to start the ", what)));
    std::vector<int64_t> values;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      XLAYOUT_ASSIGN_OR_RETURN(int64_t v, ReadInt64(what));
      values.push_back(v);
      if (values.size() > 64) {
        return ErrorAt(pos(),
                       absl::StrCat("more than 64 entries in the ", what));
      }
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Consume(',')) continue;
      if (Consume(close)) return values;
      return ErrorAt(
          pos(), absl::StrCat("expected ',' or '", std::string(1, close),
                              "' in the ", what, ", got ", Describe(pos())));
    }
  }

  // After `name=`: '{' ... '}' with balanced braces and "..." strings (with
  // backslash escapes) skipped; returns the text between the braces.
  absl::StatusOr<std::string> ReadBraced(absl::string_view what) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    const size_t open = pos();
    XLAYOUT_RETURN_IF_ERROR(Expect('{', absl::StrCat("'{' to start ", what)));
    const size_t begin = pos();
    int depth = 1;
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '"') {
        Advance();
        while (!AtEnd() && Peek() != '"') Advance(Peek() == '\\' ? 2 : 1);
        if (AtEnd()) break;
        Advance();
        continue;
      }
      Advance();
      if (c == '{') ++depth;
      if (c == '}' && --depth == 0) {
        return std::string(text().substr(begin, pos() - 1 - begin));
      }
    }
    return ErrorAt(
        open, absl::StrCat("unterminated ", what, "{...}: no matching '}'"));
  }

  // --- The named (mesh) form: NamedSharding::ToString.

  // An axis name: 'quoted' (any characters but ' and newline) or bare.
  absl::StatusOr<std::string> ReadAxisName(bool* quoted) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    const size_t at = pos();
    if (Consume('\'')) {
      const size_t begin = pos();
      while (!AtEnd() && Peek() != '\'' && Peek() != '\n') Advance();
      if (!Consume('\'')) {
        return ErrorAt(at, "unterminated quoted axis name");
      }
      if (pos() - 1 == begin) return ErrorAt(at, "empty axis name ''");
      *quoted = true;
      return std::string(text().substr(begin, pos() - 1 - begin));
    }
    const absl::string_view name = ReadIdentifier();
    if (name.empty()) {
      return ErrorAt(
          at, absl::StrCat("expected a mesh axis name, got ", Describe(at)));
    }
    *quoted = false;
    return std::string(name);
  }

  absl::StatusOr<AxisRef> ReadAxisRef(const NamedSharding& n) {
    XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
    const size_t at = pos();
    bool quoted = false;
    XLAYOUT_ASSIGN_OR_RETURN(std::string name, ReadAxisName(&quoted));
    AxisRef ref;
    ref.axis = -1;
    for (size_t i = 0; i < n.mesh.size(); ++i) {
      if (n.mesh[i].name == name) ref.axis = static_cast<int64_t>(i);
    }
    if (ref.axis < 0) {
      return ErrorAt(
          at, absl::StrCat("axis '", name, "' is not in the mesh [",
                           absl::StrJoin(n.mesh, ",",
                                         [](std::string* o, const MeshAxis& a) {
                                           o->append(a.name);
                                         }),
                           "]"));
    }
    if (Consume(':')) {
      XLAYOUT_RETURN_IF_ERROR(Expect('(', "'(' with a sub-axis pre-size"));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      XLAYOUT_ASSIGN_OR_RETURN(ref.pre_size, ReadInt64("sub-axis pre-size"));
      XLAYOUT_RETURN_IF_ERROR(Expect(')', "')' after the sub-axis pre-size"));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      XLAYOUT_ASSIGN_OR_RETURN(ref.sub_size, ReadInt64("sub-axis size"));
      if (ref.sub_size == 0) {
        return ErrorAt(at, "sub-axis size 0: a sub-axis has size >= 2");
      }
    }
    return ref;
  }

  // '{' [ref {',' ref}] [',' '?' | '?'] '}' after the opening brace.
  absl::Status ReadAxisRefList(const NamedSharding& n,
                               std::vector<AxisRef>* out, bool* open_dim) {
    XLAYOUT_RETURN_IF_ERROR(Expect('{', "'{' to start a list of mesh axes"));
    return ReadList(
        '}', false, "in a list of mesh axes", [&]() -> absl::Status {
          XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
          if (open_dim != nullptr && Peek() == '?') {
            Advance();
            *open_dim = true;
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
            if (Peek() != '}') {
              return ErrorAt(pos(), absl::StrCat("expected '}' after '?' "
                                                 "(it ends the list), "
                                                 "got ",
                                                 Describe(pos())));
            }
            return absl::OkStatus();
          }
          XLAYOUT_ASSIGN_OR_RETURN(AxisRef r, ReadAxisRef(n));
          out->push_back(r);
          return absl::OkStatus();
        });
  }

  // After the '{' at `open`: maximal_mesh[device_id=N] or mesh[...], ...
  absl::StatusOr<HloSharding> ParseNamed(size_t open) {
    NamedSharding n;
    std::optional<std::string> metadata;
    if (ConsumeLiteral("maximal_mesh")) {
      XLAYOUT_RETURN_IF_ERROR(Expect('[', "'[' after maximal_mesh"));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (!ConsumeLiteral("device_id")) {
        return ErrorAt(
            pos(), absl::StrCat("expected device_id=, got ", Describe(pos())));
      }
      XLAYOUT_RETURN_IF_ERROR(Expect('=', "'=' after device_id"));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      XLAYOUT_ASSIGN_OR_RETURN(n.maximal_device, ReadInt64("device_id"));
      XLAYOUT_RETURN_IF_ERROR(Expect(']', "']' after the device_id"));
      n.body = NamedSharding::Body::kMaximal;
    } else {
      ConsumeLiteral("mesh");
      XLAYOUT_RETURN_IF_ERROR(Expect('[', "'[' after mesh"));
      bool first = true;
      XLAYOUT_RETURN_IF_ERROR(
          ReadList(']', false, "in the mesh axes", [&]() -> absl::Status {
            MeshAxis axis;
            bool quoted = false;
            const size_t at = pos();
            XLAYOUT_ASSIGN_OR_RETURN(axis.name, ReadAxisName(&quoted));
            if (first) {
              n.quoted_names = quoted;
            } else if (quoted != n.quoted_names) {
              // XLA quotes every name (current) or none (older); a mix
              // would not print back as read.
              return ErrorAt(at,
                             "mesh axis names are all quoted or all "
                             "bare, not a mix");
            }
            first = false;
            XLAYOUT_RETURN_IF_ERROR(Expect('=', "'=' and the axis size"));
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
            XLAYOUT_ASSIGN_OR_RETURN(axis.size, ReadInt64("mesh axis size"));
            for (const MeshAxis& a : n.mesh) {
              if (a.name == axis.name) {
                return ErrorAt(at, absl::StrCat("mesh axis '", axis.name,
                                                "' appears twice"));
              }
            }
            n.mesh.push_back(std::move(axis));
            return absl::OkStatus();
          }));
      std::vector<int64_t> sizes;
      for (const MeshAxis& a : n.mesh) sizes.push_back(a.size);
      XLAYOUT_RETURN_IF_ERROR(Expect(',', "',' after the mesh"));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (ConsumeLiteral("device_ids")) {
        const size_t at = pos();
        XLAYOUT_RETURN_IF_ERROR(Expect('=', "'=' after device_ids"));
        XLAYOUT_RETURN_IF_ERROR(Expect('(', "'(' to start the device_ids"));
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
        if (sizes.empty()) {
          return ErrorAt(at, "device_ids on a mesh without axes");
        }
        absl::StatusOr<TileAssignment> ids;
        if (Peek() == '[') {
          XLAYOUT_ASSIGN_OR_RETURN(
              std::vector<int64_t> reshape,
              ReadBracketedInts('[', ']', "device_ids iota dimensions"));
          std::vector<int64_t> perm = {0};
          if (reshape.size() > 1) {
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
            if (!Consume('T')) {
              return ErrorAt(pos(), absl::StrCat("expected 'T(' after the "
                                                 "device_ids iota, got ",
                                                 Describe(pos())));
            }
            XLAYOUT_ASSIGN_OR_RETURN(
                perm, ReadBracketedInts('(', ')', "device_ids transpose"));
          }
          ids =
              TileAssignment::Iota(sizes, std::move(reshape), std::move(perm));
        } else {
          std::vector<int64_t> list;
          while (true) {
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
            XLAYOUT_ASSIGN_OR_RETURN(int64_t d, ReadInt64("device id"));
            list.push_back(d);
            if (list.size() > static_cast<size_t>(kMaxShardingDevices)) {
              return ErrorAt(pos(),
                             absl::StrCat("more than ", kMaxShardingDevices,
                                          " device ids"));
            }
            XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
            if (!Consume(',')) break;
          }
          ids = TileAssignment::Explicit(sizes, std::move(list));
        }
        if (!ids.ok()) return ErrorAt(at, ids.status().message());
        n.device_ids = *std::move(ids);
        XLAYOUT_RETURN_IF_ERROR(Expect(')', "')' to end the device_ids"));
        XLAYOUT_RETURN_IF_ERROR(Expect(',', "',' after the device_ids"));
        XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      }
      const size_t body_at = pos();
      if (Peek() == '[') {
        Advance();
        n.body = NamedSharding::Body::kDims;
        XLAYOUT_RETURN_IF_ERROR(ReadList(
            ']', false, "between dimension shardings", [&]() -> absl::Status {
              DimSharding d;
              XLAYOUT_RETURN_IF_ERROR(ReadAxisRefList(n, &d.axes, &d.open));
              n.dims.push_back(std::move(d));
              return absl::OkStatus();
            }));
      } else {
        const absl::string_view word = ReadIdentifier();
        if (word == "replicated") {
          n.body = NamedSharding::Body::kReplicated;
        } else if (word == "unreduced") {
          n.body = NamedSharding::Body::kUnreduced;
        } else if (word == "manual") {
          n.body = NamedSharding::Body::kManual;
        } else {
          return ErrorAt(body_at,
                         absl::StrCat("expected '[' with the dimension "
                                      "shardings, replicated, unreduced or "
                                      "manual after the mesh, got ",
                                      Describe(body_at)));
        }
      }
    }
    // Trailing ", name={...}" parts.
    bool replicated = false, unreduced = false, manual = false;
    while (true) {
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      if (Consume('}')) break;
      XLAYOUT_RETURN_IF_ERROR(
          Expect(',', "',' or '}' after a named sharding part"));
      XLAYOUT_RETURN_IF_ERROR(SkipTrivia());
      const size_t at = pos();
      const std::string word(ReadIdentifier());
      if (Peek() != '=') {
        return ErrorAt(at, absl::StrCat("expected replicated=, unreduced=, "
                                        "manual= or metadata=, got ",
                                        Describe(at)));
      }
      Advance();
      std::vector<AxisRef>* list = nullptr;
      bool* seen = nullptr;
      if (word == "metadata") {
        if (metadata.has_value()) {
          return ErrorAt(at, "metadata= appears twice in one sharding");
        }
        XLAYOUT_ASSIGN_OR_RETURN(metadata, ReadBraced("metadata="));
        continue;
      } else if (word == "replicated") {
        list = &n.replicated_axes;
        seen = &replicated;
      } else if (word == "unreduced") {
        list = &n.unreduced_axes;
        seen = &unreduced;
      } else if (word == "manual") {
        list = &n.manual_axes;
        seen = &manual;
      } else {
        return ErrorAt(at, absl::StrCat("unknown named sharding part '", word,
                                        "=': expected replicated=, "
                                        "unreduced=, manual= or metadata="));
      }
      if (n.body != NamedSharding::Body::kDims) {
        return ErrorAt(at, absl::StrCat(word,
                                        "={...} follows the dimension "
                                        "shardings [...] only"));
      }
      if (*seen) {
        return ErrorAt(at, absl::StrCat(word, "= appears twice"));
      }
      *seen = true;
      XLAYOUT_RETURN_IF_ERROR(ReadAxisRefList(n, list, nullptr));
    }
    absl::StatusOr<HloSharding> s = HloSharding::Named(std::move(n));
    if (!s.ok()) return ErrorAt(open, s.status().message());
    if (metadata.has_value()) s->set_metadata(*std::move(metadata));
    return s;
  }
};

}  // namespace

absl::StatusOr<HloSharding> ParseHloShardingPrefix(absl::string_view text,
                                                   size_t* consumed) {
  ShardingParser parser(text);
  XLAYOUT_ASSIGN_OR_RETURN(HloSharding s, parser.ParseSharding());
  if (consumed != nullptr) *consumed = parser.pos();
  return s;
}

absl::StatusOr<HloSharding> ParseHloSharding(absl::string_view text) {
  ShardingParser parser(text);
  XLAYOUT_ASSIGN_OR_RETURN(HloSharding s, parser.ParseSharding());
  XLAYOUT_RETURN_IF_ERROR(parser.SkipTrivia());
  if (!parser.AtEnd()) {
    return parser.ErrorAt(parser.pos(),
                          absl::StrCat("extra content after the sharding: ",
                                       parser.Describe(parser.pos())));
  }
  return s;
}

}  // namespace xlayout
