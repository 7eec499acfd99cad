#include "xlayout/signature_diff.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "xlayout/format.h"
#include "xlayout/layout.h"
#include "xlayout/primitive_type.h"
#include "xlayout/sharding.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"

namespace xlayout {
namespace {

constexpr absl::string_view kArrow = "→";

// What one side of a comparison knows about a parameter.
struct Facts {
  const ParameterSignature* p = nullptr;
  std::optional<HloSharding> sharding;  // Parsed; nullopt if absent/bad.
  std::optional<Shape> per_device;
  int64_t device_xla_bytes = -1;
};

Facts Gather(const ParameterSignature& p, const ProgramSignature& program,
             absl::string_view side, std::vector<std::string>* warnings) {
  Facts f;
  f.p = &p;
  if (p.sharding.has_value()) {
    absl::StatusOr<HloSharding> s = ParseHloSharding(*p.sharding);
    if (s.ok()) {
      f.sharding = *std::move(s);
    } else {
      warnings->push_back(absl::StrCat(
          side, " parameter ", p.index, ": sharding not understood (",
          s.status().message(), "); compared as text"));
    }
  }
  if (!p.shape.IsArray()) return f;
  // The shapes of a dump taken after SPMD partitioning are per-device
  // already (FillDerivedFields): they are not cut again.
  if (program.shapes_are_global() && f.sharding.has_value()) {
    absl::StatusOr<Shape> shard = ShardShape(p.shape, *f.sharding);
    if (shard.ok()) {
      f.per_device = *std::move(shard);
    } else {
      warnings->push_back(absl::StrCat(side, " parameter ", p.index,
                                       ": no per-device shape (",
                                       shard.status().message(), ")"));
    }
  } else if (!program.shapes_are_global() || !p.sharding.has_value() ||
             f.sharding.has_value()) {
    // One partition: every device holds the global shape, whatever the
    // annotation says; after partitioning the shape is the device's.
    f.per_device = p.shape;
  }
  if (f.per_device.has_value()) {
    absl::StatusOr<int64_t> bytes = XlaBytes(*f.per_device);
    if (bytes.ok()) f.device_xla_bytes = *bytes;
  }
  return f;
}

DiffSide SideOf(const Facts& f) {
  DiffSide s;
  s.index = f.p->index;
  s.name = f.p->name;
  s.shape = f.p->shape.ToString(true);
  s.sharding = f.p->sharding;
  s.memory_kind = f.p->memory_kind;
  if (f.per_device.has_value()) s.per_device_shape = f.per_device->ToString();
  s.xla_bytes = f.p->xla_bytes;
  s.exact_bytes = f.p->exact_bytes;
  s.device_xla_bytes = f.device_xla_bytes;
  return s;
}

std::string Ints(absl::Span<const int64_t> v) {
  return absl::StrCat("{", absl::StrJoin(v, ","), "}");
}

std::string DimsText(const Shape& s) {
  // "bf16[16,<=1280]" without the type: everything from the '['.
  std::string text = s.ToString(false);
  size_t open = text.find('[');
  return open == std::string::npos ? text : text.substr(open);
}

std::string TilingText(const Layout& l) {
  std::string t = TilesToString(l);
  if (t.empty()) return "none";
  return t.substr(1);  // Drop the "T".
}

// minor_to_major changes: a swap of two dims, or the whole order.
std::string OrderDetail(absl::Span<const int64_t> a,
                        absl::Span<const int64_t> b) {
  std::vector<size_t> diff;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) diff.push_back(i);
  }
  if (diff.size() == 2 && a[diff[0]] == b[diff[1]] &&
      a[diff[1]] == b[diff[0]]) {
    int64_t lo = std::min(a[diff[0]], a[diff[1]]);
    int64_t hi = std::max(a[diff[0]], a[diff[1]]);
    return absl::StrCat("dims ", lo, "↔", hi, " swapped");
  }
  return absl::StrCat("minor_to_major ", Ints(a), kArrow, Ints(b));
}

// Layout details, with the memory space left to the memory kind.
std::optional<std::string> LayoutDetail(const Shape& sa, const Shape& sb) {
  if (sa.rank() != sb.rank()) return std::nullopt;  // A dims change.
  if (!sa.has_layout() || !sb.has_layout()) {
    if (sa.has_layout() == sb.has_layout()) return std::nullopt;
    return absl::StrCat(sa.has_layout() ? sa.layout().ToString() : "none",
                        kArrow,
                        sb.has_layout() ? sb.layout().ToString() : "none");
  }
  Layout la = sa.layout();
  Layout lb = sb.layout();
  la.set_memory_space(0);
  lb.set_memory_space(0);
  if (la == lb) return std::nullopt;
  std::vector<std::string> parts;
  if (!std::equal(la.minor_to_major().begin(), la.minor_to_major().end(),
                  lb.minor_to_major().begin(), lb.minor_to_major().end())) {
    parts.push_back(OrderDetail(la.minor_to_major(), lb.minor_to_major()));
  }
  if (!std::equal(la.tiles().begin(), la.tiles().end(), lb.tiles().begin(),
                  lb.tiles().end())) {
    parts.push_back(
        absl::StrCat("tiling ", TilingText(la), kArrow, TilingText(lb)));
  }
  // Anything else (E(n), L(n), sparse attributes...): the layouts in full,
  // with the order and tiles made equal so only the rest shows.
  Layout ra = la;
  Layout rb = lb;
  *ra.mutable_minor_to_major() = std::vector<int64_t>(
      lb.minor_to_major().begin(), lb.minor_to_major().end());
  *ra.mutable_tiles() = std::vector<Tile>(lb.tiles().begin(), lb.tiles().end());
  if (ra != rb) {
    parts.push_back(
        absl::StrCat("layout ", la.ToString(), kArrow, lb.ToString()));
  }
  return absl::StrJoin(parts, ", ");
}

std::string ShardingText(const std::optional<std::string>& text,
                         const std::optional<HloSharding>& parsed) {
  if (!text.has_value()) return "none";
  if (parsed.has_value()) return parsed->ToString(/*include_metadata=*/false);
  return *text;
}

std::optional<std::string> ShardingDetail(const Facts& fa, const Facts& fb) {
  const auto& ta = fa.p->sharding;
  const auto& tb = fb.p->sharding;
  if (!ta.has_value() && !tb.has_value()) return std::nullopt;
  if (ta.has_value() && tb.has_value()) {
    if (fa.sharding.has_value() && fb.sharding.has_value()) {
      if (*fa.sharding == *fb.sharding) return std::nullopt;
      const HloSharding& a = *fa.sharding;
      const HloSharding& b = *fb.sharding;
      if (a.type() == HloSharding::Type::kTiled &&
          b.type() == HloSharding::Type::kTiled &&
          a.replicate_on_last_tile_dim() == b.replicate_on_last_tile_dim() &&
          std::equal(a.subgroup_types().begin(), a.subgroup_types().end(),
                     b.subgroup_types().begin(), b.subgroup_types().end())) {
        auto da = a.tile_assignment().dims();
        auto db = b.tile_assignment().dims();
        if (!std::equal(da.begin(), da.end(), db.begin(), db.end())) {
          return absl::StrCat("devices=[", absl::StrJoin(da, ","), "]", kArrow,
                              "[", absl::StrJoin(db, ","), "]");
        }
        return absl::StrCat(
            "device order devices=", a.tile_assignment().ToString(), kArrow,
            b.tile_assignment().ToString());
      }
    } else if (*ta == *tb) {
      return std::nullopt;
    }
  }
  return absl::StrCat(ShardingText(ta, fa.sharding), kArrow,
                      ShardingText(tb, fb.sharding));
}

std::string BytesText(int64_t n) { return n < 0 ? "?" : WithCommas(n); }

ParameterDiff Compare(const Facts& fa, const Facts& fb) {
  ParameterDiff d;
  d.a = SideOf(fa);
  d.b = SideOf(fb);
  const Shape& sa = fa.p->shape;
  const Shape& sb = fb.p->shape;
  auto add = [&](SignatureChangeKind kind, std::string detail) {
    d.changes.push_back({kind, std::move(detail)});
  };
  if (sa.element_type() != sb.element_type()) {
    add(SignatureChangeKind::kDtype,
        absl::StrCat(PrimitiveTypeName(sa.element_type()), kArrow,
                     PrimitiveTypeName(sb.element_type())));
  }
  bool same_dims = std::equal(sa.dimensions().begin(), sa.dimensions().end(),
                              sb.dimensions().begin(), sb.dimensions().end()) &&
                   sa.dynamic_dimensions() == sb.dynamic_dimensions();
  if (!same_dims) {
    add(SignatureChangeKind::kDims,
        absl::StrCat(DimsText(sa), kArrow, DimsText(sb)));
  }
  if (sa.IsArray() && sb.IsArray()) {
    std::optional<std::string> layout = LayoutDetail(sa, sb);
    if (layout.has_value()) add(SignatureChangeKind::kLayout, *layout);
  } else if (sa.ToString(true) != sb.ToString(true) && same_dims &&
             sa.element_type() == sb.element_type()) {
    add(SignatureChangeKind::kLayout,
        absl::StrCat(sa.ToString(true), kArrow, sb.ToString(true)));
  }
  if (fa.p->memory_kind != fb.p->memory_kind) {
    add(SignatureChangeKind::kMemoryKind,
        absl::StrCat(fa.p->memory_kind.empty() ? "?" : fa.p->memory_kind,
                     kArrow,
                     fb.p->memory_kind.empty() ? "?" : fb.p->memory_kind));
  }
  if (std::optional<std::string> s = ShardingDetail(fa, fb)) {
    add(SignatureChangeKind::kSharding, *std::move(s));
  }
  // The per-device shape, when a sharding makes it differ from the global
  // one on either side (otherwise the dims/layout changes say it all).
  bool sharded_a = d.a.per_device_shape != d.a.shape;
  bool sharded_b = d.b.per_device_shape != d.b.shape;
  if ((sharded_a || sharded_b) &&
      d.a.per_device_shape != d.b.per_device_shape) {
    add(SignatureChangeKind::kPerDeviceShape,
        absl::StrCat(d.a.per_device_shape.value_or("?"), kArrow,
                     d.b.per_device_shape.value_or("?")));
  }
  std::vector<std::string> bytes;
  if (d.a.xla_bytes != d.b.xla_bytes) {
    bytes.push_back(absl::StrCat("xla_bytes ", BytesText(d.a.xla_bytes), kArrow,
                                 BytesText(d.b.xla_bytes)));
  }
  if (d.a.exact_bytes != d.b.exact_bytes) {
    bytes.push_back(absl::StrCat("exact_bytes ", BytesText(d.a.exact_bytes),
                                 kArrow, BytesText(d.b.exact_bytes)));
  }
  if (!bytes.empty()) {
    add(SignatureChangeKind::kBytes, absl::StrJoin(bytes, ", "));
  }
  return d;
}

// Per-device bytes of every parameter, summed with overflow checks.
std::optional<int64_t> DeviceTotal(const std::vector<Facts>& facts,
                                   absl::string_view side,
                                   std::vector<std::string>* warnings) {
  std::vector<int64_t> bytes;
  bytes.reserve(facts.size());
  int64_t unknown = 0;
  for (const Facts& f : facts) {
    if (f.device_xla_bytes < 0) {
      ++unknown;
    } else {
      bytes.push_back(f.device_xla_bytes);
    }
  }
  if (unknown > 0) {
    warnings->push_back(absl::StrCat(side, ": the per-device size of ", unknown,
                                     " parameter(s) is unknown; no device "
                                     "byte total"));
    return std::nullopt;
  }
  absl::StatusOr<int64_t> sum =
      SumBytes(bytes, absl::StrCat("per-device bytes of ", side));
  if (!sum.ok()) {
    warnings->push_back(std::string(sum.status().message()));
    return std::nullopt;
  }
  return *sum;
}

absl::Status IndexNames(const ProgramSignature& sig, absl::string_view side,
                        absl::flat_hash_map<std::string, size_t>* out) {
  out->reserve(sig.parameters.size());
  for (size_t i = 0; i < sig.parameters.size(); ++i) {
    const ParameterSignature& p = sig.parameters[i];
    if (p.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--by-name: parameter ", p.index, " of ", side,
                       " has no name; compare by index instead"));
    }
    auto [it, inserted] = out->emplace(p.name, i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--by-name: parameter name '", p.name, "' appears twice in ", side,
          " (parameters ", sig.parameters[it->second].index, " and ", p.index,
          "); compare by index instead"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view SignatureChangeKindName(SignatureChangeKind kind) {
  switch (kind) {
    case SignatureChangeKind::kDtype:
      return "dtype";
    case SignatureChangeKind::kDims:
      return "dims";
    case SignatureChangeKind::kLayout:
      return "layout";
    case SignatureChangeKind::kMemoryKind:
      return "memory_kind";
    case SignatureChangeKind::kSharding:
      return "sharding";
    case SignatureChangeKind::kPerDeviceShape:
      return "per_device_shape";
    case SignatureChangeKind::kBytes:
      return "bytes";
  }
  return "?";
}

absl::string_view SignatureChangeKindLabel(SignatureChangeKind kind) {
  switch (kind) {
    case SignatureChangeKind::kMemoryKind:
      return "memory kind";
    case SignatureChangeKind::kPerDeviceShape:
      return "per-device shape";
    case SignatureChangeKind::kBytes:
      return "size";
    default:
      return SignatureChangeKindName(kind);
  }
}

std::string SignatureChange::ToString() const {
  return absl::StrCat(SignatureChangeKindLabel(kind), ": ", detail);
}

bool ParameterDiff::Has(SignatureChangeKind kind) const {
  return std::any_of(
      changes.begin(), changes.end(),
      [kind](const SignatureChange& c) { return c.kind == kind; });
}

std::string ProgramChange::ToString() const {
  return absl::StrCat(field, " ", before, kArrow, after);
}

int64_t SignatureDiff::CountWith(SignatureChangeKind kind) const {
  return std::count_if(changed.begin(), changed.end(),
                       [kind](const ParameterDiff& d) { return d.Has(kind); });
}

absl::StatusOr<SignatureDiff> DiffSignatures(
    const ProgramSignature& a, const ProgramSignature& b,
    const SignatureDiffOptions& options) {
  SignatureDiff diff;
  diff.by_name = options.by_name;
  diff.parameters_a = static_cast<int64_t>(a.parameters.size());
  diff.parameters_b = static_cast<int64_t>(b.parameters.size());
  if (a.name != b.name)
    diff.program_changes.push_back({"name", a.name, b.name});
  if (a.replica_count != b.replica_count) {
    diff.program_changes.push_back({"replica_count",
                                    absl::StrCat(a.replica_count),
                                    absl::StrCat(b.replica_count)});
  }
  if (a.num_partitions != b.num_partitions) {
    diff.program_changes.push_back({"num_partitions",
                                    absl::StrCat(a.num_partitions),
                                    absl::StrCat(b.num_partitions)});
  }

  std::vector<Facts> fa, fb;
  fa.reserve(a.parameters.size());
  fb.reserve(b.parameters.size());
  for (const ParameterSignature& p : a.parameters) {
    fa.push_back(Gather(p, a, "A", &diff.warnings));
  }
  for (const ParameterSignature& p : b.parameters) {
    fb.push_back(Gather(p, b, "B", &diff.warnings));
  }

  std::vector<bool> b_matched(fb.size(), false);
  auto match = [&](size_t i, size_t j) {
    b_matched[j] = true;
    ++diff.matched;
    ParameterDiff d = Compare(fa[i], fb[j]);
    if (!d.changes.empty()) diff.changed.push_back(std::move(d));
  };
  if (options.by_name) {
    absl::flat_hash_map<std::string, size_t> names_a, names_b;
    XLAYOUT_RETURN_IF_ERROR(IndexNames(a, "A", &names_a));
    XLAYOUT_RETURN_IF_ERROR(IndexNames(b, "B", &names_b));
    for (size_t i = 0; i < fa.size(); ++i) {
      auto it = names_b.find(fa[i].p->name);
      if (it == names_b.end()) {
        diff.removed.push_back(SideOf(fa[i]));
      } else {
        match(i, it->second);
      }
    }
  } else {
    for (size_t i = 0; i < fa.size(); ++i) {
      if (i < fb.size()) {
        match(i, i);
      } else {
        diff.removed.push_back(SideOf(fa[i]));
      }
    }
  }
  for (size_t j = 0; j < fb.size(); ++j) {
    if (!b_matched[j]) diff.added.push_back(SideOf(fb[j]));
  }
  diff.device_bytes_a = DeviceTotal(fa, "A", &diff.warnings);
  diff.device_bytes_b = DeviceTotal(fb, "B", &diff.warnings);
  return diff;
}

std::vector<ChangeGroup> GroupSignatureChanges(const SignatureDiff& diff) {
  std::vector<ChangeGroup> out;
  for (int k = 0; k < kNumSignatureChangeKinds; ++k) {
    auto kind = static_cast<SignatureChangeKind>(k);
    std::vector<ChangeGroup> groups;
    absl::flat_hash_map<std::string, size_t> by_detail;
    for (size_t i = 0; i < diff.changed.size(); ++i) {
      for (const SignatureChange& c : diff.changed[i].changes) {
        if (c.kind != kind) continue;
        auto [it, inserted] = by_detail.emplace(c.detail, groups.size());
        if (inserted) groups.push_back({kind, c.detail, {}});
        groups[it->second].changed.push_back(static_cast<int64_t>(i));
      }
    }
    std::stable_sort(groups.begin(), groups.end(),
                     [](const ChangeGroup& x, const ChangeGroup& y) {
                       return x.changed.size() > y.changed.size();
                     });
    for (ChangeGroup& g : groups) out.push_back(std::move(g));
  }
  return out;
}

std::string SummarizeSignatureDiff(const SignatureDiff& diff, int max_groups) {
  std::vector<std::string> parts;
  if (diff.parameters_a == diff.parameters_b) {
    parts.push_back(
        absl::StrCat(WithCommas(diff.parameters_a),
                     diff.parameters_a == 1 ? " parameter" : " parameters"));
  } else {
    parts.push_back(absl::StrCat(
        WithCommas(diff.parameters_a), kArrow, WithCommas(diff.parameters_b),
        " parameters (", WithCommas(static_cast<int64_t>(diff.added.size())),
        " added, ", WithCommas(static_cast<int64_t>(diff.removed.size())),
        " removed)"));
  }
  if (diff.parameters_a == diff.parameters_b &&
      (!diff.added.empty() || !diff.removed.empty())) {
    parts.push_back(absl::StrCat(
        WithCommas(static_cast<int64_t>(diff.added.size())), " added, ",
        WithCommas(static_cast<int64_t>(diff.removed.size())), " removed"));
  }
  for (const ProgramChange& c : diff.program_changes) {
    parts.push_back(c.ToString());
  }
  if (diff.identical()) {
    return absl::StrCat("identical: ", absl::StrJoin(parts, "; "));
  }
  std::vector<ChangeGroup> groups = GroupSignatureChanges(diff);
  for (int k = 0; k < kNumSignatureChangeKinds; ++k) {
    auto kind = static_cast<SignatureChangeKind>(k);
    int64_t n = diff.CountWith(kind);
    if (n == 0) continue;
    // Per-device shapes and sizes are values, not classifications: each
    // parameter has its own, so only their count is summarised.
    if (kind == SignatureChangeKind::kPerDeviceShape ||
        kind == SignatureChangeKind::kBytes) {
      parts.push_back(absl::StrCat(WithCommas(n), " changed ",
                                   SignatureChangeKindLabel(kind)));
      continue;
    }
    std::vector<std::string> details;
    int64_t shown = 0, total = 0;
    for (const ChangeGroup& g : groups) {
      if (g.kind != kind) continue;
      ++total;
      if (shown < max_groups) {
        details.push_back(
            absl::StrCat(WithCommas(static_cast<int64_t>(g.changed.size())),
                         ": ", g.detail));
        ++shown;
      }
    }
    if (total > shown) {
      details.push_back(absl::StrCat(total - shown, " more"));
    }
    parts.push_back(absl::StrCat(WithCommas(n), " changed ",
                                 SignatureChangeKindLabel(kind), " (",
                                 absl::StrJoin(details, "; "), ")"));
  }
  if (diff.device_bytes_a.has_value() && diff.device_bytes_b.has_value()) {
    int64_t x = *diff.device_bytes_a;
    int64_t y = *diff.device_bytes_b;
    if (x == y) {
      parts.push_back("device bytes unchanged");
    } else if (x == 0) {
      parts.push_back(absl::StrCat("device bytes 0", kArrow, WithCommas(y)));
    } else {
      double pct = (static_cast<double>(y) - static_cast<double>(x)) /
                   static_cast<double>(x) * 100.0;
      parts.push_back(absl::StrFormat("device bytes %+.1f%% (%s%s%s)", pct,
                                      WithCommas(x), kArrow, WithCommas(y)));
    }
  } else {
    parts.push_back("device bytes unknown");
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace xlayout
