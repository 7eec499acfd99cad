// `xlayout size SHAPE...`: canonical form and the three byte sizes of each
// shape, a per-dimension padding table, and a side-by-side comparison when
// several array shapes are given.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"

namespace xlayout::cli {
namespace {

using nlohmann::json;

// Sizes of one shape; tuples carry their elements.
struct Report {
  std::string input;
  Shape shape;
  ArraySizes sizes;              // Sums over the leaves for tuples.
  std::vector<Report> elements;  // Tuple elements.
  bool has_size = true;          // False for opaque[] (backend-defined).
};

absl::StatusOr<Report> Measure(const std::string& input, const Shape& shape) {
  Report report{input, shape, {}, {}, true};
  if (shape.IsTuple()) {
    for (const Shape& element : shape.tuple_shapes()) {
      XLAYOUT_ASSIGN_OR_RETURN(Report r, Measure(element.ToString(true), element));
      report.sizes.logical_bytes += r.sizes.logical_bytes;
      report.sizes.xla_bytes += r.sizes.xla_bytes;
      report.sizes.exact_bytes += r.sizes.exact_bytes;
      report.elements.push_back(std::move(r));
    }
    const ArraySizes& s = report.sizes;
    report.sizes.padding_factor =
        s.logical_bytes == 0
            ? 1.0
            : static_cast<double>(s.exact_bytes) / s.logical_bytes;
    return report;
  }
  if (shape.IsToken()) return report;
  if (shape.IsOpaque()) {
    report.has_size = false;
    report.sizes.notes.push_back(
        "opaque[] has a backend-defined size (a pointer)");
    return report;
  }
  XLAYOUT_ASSIGN_OR_RETURN(report.sizes, ComputeArraySizes(shape));
  return report;
}

std::string Factor(double f) { return absl::StrFormat("%.2f×", f); }

std::string TileCell(const DimSizeInfo& d) {
  if (!d.tile.has_value()) return "-";
  if (*d.tile == Tile::kCombineDimension) return "*";
  return absl::StrCat(*d.tile);
}

void PrintHuman(const Report& r, const Style& style, int indent) {
  std::string pad(indent, ' ');
  std::printf("%s%s\n", pad.c_str(),
              style.Bold(r.shape.ToString(true)).c_str());
  if (!r.has_size) {
    for (const std::string& note : r.sizes.notes) {
      std::printf("%s  %s\n", pad.c_str(), style.Dim(note).c_str());
    }
    return;
  }
  const ArraySizes& s = r.sizes;
  Table sizes({"", "bytes", "", ""}, {false, true, false, false});
  sizes.AddRow({"xla_bytes", WithCommas(s.xla_bytes), HumanBytes(s.xla_bytes),
                style.Dim("what XLA's runtime compares (first tile level)")});
  std::string exact_mark =
      s.exact_bytes == s.xla_bytes ? "" : style.Yellow("≠ xla_bytes");
  sizes.AddRow({"exact_bytes", WithCommas(s.exact_bytes),
                HumanBytes(s.exact_bytes),
                exact_mark.empty() ? style.Dim("every tile level applied")
                                   : exact_mark});
  sizes.AddRow({"logical_bytes", WithCommas(s.logical_bytes),
                HumanBytes(s.logical_bytes),
                style.Dim("no tiling (ByteSizeOf)")});
  sizes.AddRow(
      {"padding", Factor(s.padding_factor), "", style.Dim("exact / logical")});
  // Drop the empty header row of this key/value table.
  std::string rendered = sizes.Render(pad + "  ");
  std::printf("%s", rendered.substr(rendered.find('\n') + 1).c_str());

  if (!s.dims.empty()) {
    Table dims({"dim", "extent", "padded", "tile", "padding"},
               {true, true, true, true, true});
    for (const DimSizeInfo& d : s.dims) {
      std::string factor;
      if (d.extent > 0 && d.padded_extent != d.extent) {
        double f = static_cast<double>(d.padded_extent) / d.extent;
        factor =
            d.padded_extent > d.extent ? style.Yellow(Factor(f)) : Factor(f);
      }
      dims.AddRow({absl::StrCat(d.dim), WithCommas(d.extent),
                   WithCommas(d.padded_extent), TileCell(d), factor});
    }
    std::printf("%s  %s\n", pad.c_str(),
                style.Dim("physical dims, major to minor:").c_str());
    std::printf("%s", dims.Render(pad + "  ").c_str());
  }
  for (const std::string& note : s.notes) {
    std::printf("%s  %s %s\n", pad.c_str(), style.Cyan("note:").c_str(),
                note.c_str());
  }
  for (const Report& e : r.elements) PrintHuman(e, style, indent + 2);
}

// Physical order of an array's dims, major to minor: "0,1,2".
std::string PhysicalOrder(const Report& r) {
  std::vector<int64_t> order;
  for (const DimSizeInfo& d : r.sizes.dims) order.push_back(d.dim);
  return absl::StrJoin(order, ",");
}

std::string Tiles(const Shape& s) {
  if (!s.IsArray() || !s.has_layout() || s.layout().tiles().empty()) return "-";
  std::string out = "T";
  for (const Tile& t : s.layout().tiles()) out += t.ToString();
  return out;
}

void PrintComparison(const std::vector<Report>& reports, const Style& style) {
  std::vector<const Report*> arrays;
  for (const Report& r : reports) {
    if (r.shape.IsArray()) arrays.push_back(&r);
  }
  if (arrays.size() < 2) return;
  std::vector<std::string> header = {""};
  for (size_t i = 0; i < arrays.size(); ++i)
    header.push_back(absl::StrCat("#", i + 1));
  std::vector<bool> right(header.size(), true);
  right[0] = false;
  Table table(header, right);
  auto row = [&](std::string name, auto cell) {
    std::vector<std::string> cells = {std::move(name)};
    for (const Report* r : arrays) cells.push_back(cell(*r));
    table.AddRow(std::move(cells));
  };
  row("shape", [](const Report& r) { return r.shape.ToString(false); });
  row("major→minor", [](const Report& r) { return PhysicalOrder(r); });
  row("tiles", [](const Report& r) { return Tiles(r.shape); });
  row("xla_bytes",
      [](const Report& r) { return WithCommas(r.sizes.xla_bytes); });
  row("exact_bytes",
      [](const Report& r) { return WithCommas(r.sizes.exact_bytes); });
  row("logical_bytes",
      [](const Report& r) { return WithCommas(r.sizes.logical_bytes); });
  row("padding",
      [](const Report& r) { return Factor(r.sizes.padding_factor); });
  std::printf("\n%s\n%s", style.Bold("Side by side").c_str(),
              table.Render("  ").c_str());

  const Report& a = *arrays[0];
  for (size_t i = 1; i < arrays.size(); ++i) {
    const Report& b = *arrays[i];
    bool same_logical = SameLogicalShape(a.shape, b.shape);
    std::string verdict;
    if (!same_logical) {
      verdict =
          absl::StrCat("#1 and #", i + 1, " are different logical shapes");
    } else if (a.shape.layout() == b.shape.layout()) {
      verdict = absl::StrCat("#1 and #", i + 1, " are identical");
    } else if (a.sizes.xla_bytes == b.sizes.xla_bytes) {
      verdict = absl::StrCat(
          "#1 and #", i + 1,
          " are the same logical shape in different physical layouts of the "
          "same size: XLA's size check passes them, but the bytes differ in "
          "order (relayout needed)");
    } else {
      double ratio =
          b.sizes.xla_bytes == 0
              ? 0.0
              : static_cast<double>(a.sizes.xla_bytes) / b.sizes.xla_bytes;
      verdict = absl::StrCat(
          "#1 and #", i + 1,
          " are the same logical shape in different physical layouts; "
          "xla_bytes differ (",
          WithCommas(a.sizes.xla_bytes), " vs ", WithCommas(b.sizes.xla_bytes),
          ", ", absl::StrFormat("%.2f", ratio),
          "×): feeding one where the "
          "other is expected fails with E0102");
    }
    std::printf("  %s\n", verdict.c_str());
    if (same_logical) {
      // Per logical dim: padded extents on each side.
      for (int dim = 0; dim < a.shape.rank(); ++dim) {
        auto find = [dim](const Report& r) {
          for (const DimSizeInfo& d : r.sizes.dims) {
            if (d.dim == dim) return d;
          }
          return DimSizeInfo{};
        };
        DimSizeInfo x = find(a), y = find(b);
        if (x.padded_extent != y.padded_extent) {
          std::printf("  dim %d (%s): padded to %s in #1, %s in #%zu\n", dim,
                      WithCommas(x.extent).c_str(),
                      WithCommas(x.padded_extent).c_str(),
                      WithCommas(y.padded_extent).c_str(), i + 1);
        }
      }
    }
  }
}

json DimsJson(const ArraySizes& s) {
  json dims = json::array();
  for (const DimSizeInfo& d : s.dims) {
    json tile = nullptr;
    if (d.tile.has_value()) {
      tile = *d.tile == Tile::kCombineDimension ? json("*") : json(*d.tile);
    }
    dims.push_back({{"dim", d.dim},
                    {"extent", d.extent},
                    {"padded_extent", d.padded_extent},
                    {"xla_padded_extent", d.xla_padded_extent},
                    {"tile", tile}});
  }
  return dims;
}

json ReportJson(const Report& r) {
  json j = {{"input", r.input}, {"canonical", r.shape.ToString(true)}};
  if (r.has_size) {
    j["logical_bytes"] = r.sizes.logical_bytes;
    j["xla_bytes"] = r.sizes.xla_bytes;
    j["exact_bytes"] = r.sizes.exact_bytes;
    j["padding_factor"] = r.sizes.padding_factor;
  } else {
    j["logical_bytes"] = nullptr;
    j["xla_bytes"] = nullptr;
    j["exact_bytes"] = nullptr;
    j["padding_factor"] = nullptr;
  }
  j["dims"] = DimsJson(r.sizes);
  j["metadata_prefix_bytes"] = r.sizes.metadata_prefix_bytes;
  j["notes"] = r.sizes.notes;
  if (r.shape.IsTuple()) {
    json elements = json::array();
    for (const Report& e : r.elements) elements.push_back(ReportJson(e));
    j["elements"] = std::move(elements);
  }
  return j;
}

absl::StatusOr<Report> Analyze(const std::string& input) {
  XLAYOUT_ASSIGN_OR_RETURN(Shape shape, ParseShape(input));
  XLAYOUT_RETURN_IF_ERROR(ValidateShape(shape));
  return Measure(input, shape);
}

}  // namespace

RunFn RegisterSizeCommand(CLI::App& app) {
  struct Options {
    std::vector<std::string> shapes;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd =
      app.add_subcommand("size",
                         "Byte sizes of XLA shapes: canonical form, xla_bytes "
                         "(what the runtime compares), "
                         "exact_bytes, logical_bytes, padding per dimension");
  cmd->add_option("shapes", options->shapes,
                  "Shapes as XLA prints them, e.g. "
                  "'bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}', or "
                  "with a JAX layout: 'bf16[16,1280,40] "
                  "Layout(major_to_minor=(0, 1, 2), "
                  "tiling=((8, 128), (2, 1)))'")
      ->required();
  cmd->add_flag("--json", options->json,
                "Print a JSON array, one object per shape");
  cmd->footer(
      "Exit status: 0 when every shape was measured, 2 when any shape failed "
      "to parse or "
      "validate (the others are still reported).");
  return [options]() {
    std::vector<Report> reports;
    bool failed = false;
    for (const std::string& input : options->shapes) {
      absl::StatusOr<Report> report = Analyze(input);
      if (!report.ok()) {
        PrintError(absl::StrCat("'", input, "': ", report.status().message()));
        failed = true;
        continue;
      }
      reports.push_back(*std::move(report));
    }
    if (options->json) {
      json out = json::array();
      for (const Report& r : reports) out.push_back(ReportJson(r));
      PrintJson(out);
    } else {
      Style style = Style::For(stdout);
      for (size_t i = 0; i < reports.size(); ++i) {
        if (i > 0) std::printf("\n");
        PrintHuman(reports[i], style, 0);
      }
      PrintComparison(reports, style);
    }
    return failed ? kExitError : kExitOk;
  };
}

}  // namespace xlayout::cli
