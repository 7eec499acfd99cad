// `xlayout size SHAPE...`: canonical form and the three byte sizes of each
// shape, a per-dimension padding table, and a side-by-side comparison when
// several array shapes are given.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "nlohmann/json.hpp"
#include "ui.h"
#include "xlayout/format.h"
#include "xlayout/layout.h"
#include "xlayout/memory_kind.h"
#include "xlayout/shape_parser.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/validate.h"

namespace xlayout::cli {
namespace {

using json = nlohmann::ordered_json;

// One measured input: what the user typed and the library's sizes.
struct Report {
  std::string input;
  ShapeSizes sizes;
  size_t number = 0;  // Its argument's position, from 1: "#N" in the text.
};

std::string TileCell(const DimSizeInfo& d) {
  if (!d.tile.has_value()) return "-";
  if (*d.tile == Tile::kCombineDimension) return "*";
  return absl::StrCat(*d.tile);
}

// Shapes are printed from the parsed model, never echoed raw; escaped
// anyway so nothing from the input reaches the terminal as a control code.
std::string ShapeText(const Shape& shape, bool with_layout) {
  return EscapeForTerminal(shape.ToString(with_layout));
}

void PrintHuman(const ShapeSizes& r, const Style& style, int indent) {
  std::string pad(indent, ' ');
  std::printf("%s%s\n", pad.c_str(),
              style.Bold(ShapeText(r.shape, true)).c_str());
  if (!r.has_size) {
    // No byte counts at all: a tuple with an element of unknown size has no
    // total either. The elements still print their own sizes.
    for (const std::string& note : r.sizes.notes) {
      std::printf("%s  %s\n", pad.c_str(),
                  style.Dim(EscapeForTerminal(note)).c_str());
    }
    for (const ShapeSizes& e : r.elements) PrintHuman(e, style, indent + 2);
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
  sizes.AddRow({"padding", FormatFactor(s.padding_factor), "",
                style.Dim("exact / logical")});
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
        factor = d.padded_extent > d.extent ? style.Yellow(FormatFactor(f))
                                            : FormatFactor(f);
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
                EscapeForTerminal(note).c_str());
  }
  for (const ShapeSizes& e : r.elements) PrintHuman(e, style, indent + 2);
}

// Physical order of an array's dims, major to minor: "0,1,2".
std::string PhysicalOrder(const ShapeSizes& r) {
  std::vector<int64_t> order;
  for (const DimSizeInfo& d : r.sizes.dims) order.push_back(d.dim);
  return absl::StrJoin(order, ",");
}

std::string Tiles(const Shape& s) {
  if (!s.IsArray() || !s.has_layout()) return "-";
  std::string tiles = TilesToString(s.layout());
  return tiles.empty() ? "-" : tiles;
}

// What a user holding #1 must do to feed it where #i is expected, from the
// library's comparison (never re-derived here).
std::string Verdict(PhysicalDifference d, const Report& ra, const Report& rb) {
  const ShapeSizes& a = ra.sizes;
  const ShapeSizes& b = rb.sizes;
  const std::string pair = absl::StrCat("#", ra.number, " and #", rb.number);
  switch (d) {
    case PhysicalDifference::kDifferentLogicalShape:
      return absl::StrCat(pair, " are different logical shapes");
    case PhysicalDifference::kIdentical:
      return absl::StrCat(pair, " are identical");
    case PhysicalDifference::kEquivalent:
      return absl::StrCat(
          pair,
          " are the same bytes in the same order: the layouts are spelled "
          "differently but nothing differs physically (no relayout needed)");
    case PhysicalDifference::kMemorySpaceOnly:
      return absl::StrCat(
          pair,
          " are the same bytes in the same order in different memory "
          "spaces (S(",
          MemorySpaceOf(a.shape), ") vs S(", MemorySpaceOf(b.shape),
          ")): a copy between memories, no relayout needed");
    case PhysicalDifference::kSameSizeReordered:
      return absl::StrCat(
          pair,
          " are the same logical shape in different physical layouts of the "
          "same size: XLA's size check passes them, but the bytes differ in "
          "order (relayout needed)");
    case PhysicalDifference::kDifferentSize: {
      // The larger as a multiple of the smaller ("#1 is 3.2× #2"), not a
      // ratio below 1 that reads as a factor.
      const bool a_larger = a.sizes.xla_bytes >= b.sizes.xla_bytes;
      const Report& big = a_larger ? ra : rb;
      const Report& small = a_larger ? rb : ra;
      const std::string factor =
          small.sizes.sizes.xla_bytes == 0
              ? "the other is empty"
              : absl::StrCat("#", big.number, " is ",
                             FormatFactor(static_cast<double>(
                                              big.sizes.sizes.xla_bytes) /
                                          small.sizes.sizes.xla_bytes),
                             " #", small.number);
      return absl::StrCat(
          pair,
          " are the same logical shape in different physical layouts; "
          "xla_bytes differ (",
          WithCommas(a.sizes.xla_bytes), " vs ", WithCommas(b.sizes.xla_bytes),
          ": ", factor,
          "): feeding one where the other is expected fails with E0102 "
          "(relayout needed)");
    }
  }
  return "";
}

void PrintComparison(const std::vector<Report>& reports, const Style& style) {
  std::vector<const ShapeSizes*> arrays;
  std::vector<const Report*> array_reports;
  for (const Report& r : reports) {
    if (r.sizes.shape.IsArray()) {
      arrays.push_back(&r.sizes);
      array_reports.push_back(&r);
    }
  }
  if (arrays.size() < 2) return;
  std::vector<std::string> header = {""};
  for (const Report* r : array_reports) {
    header.push_back(absl::StrCat("#", r->number));
  }
  std::vector<bool> right(header.size(), true);
  right[0] = false;
  Table table(header, right);
  auto row = [&](std::string name, auto cell) {
    std::vector<std::string> cells = {std::move(name)};
    for (const ShapeSizes* r : arrays) cells.push_back(cell(*r));
    table.AddRow(std::move(cells));
  };
  row("shape", [](const ShapeSizes& r) { return ShapeText(r.shape, false); });
  row("major→minor", [](const ShapeSizes& r) { return PhysicalOrder(r); });
  row("tiles", [](const ShapeSizes& r) { return Tiles(r.shape); });
  bool spaces_differ = false;
  for (const ShapeSizes* r : arrays) {
    spaces_differ |= MemorySpaceOf(r->shape) != MemorySpaceOf(arrays[0]->shape);
  }
  if (spaces_differ) {
    row("memory space", [](const ShapeSizes& r) {
      return absl::StrCat("S(", MemorySpaceOf(r.shape), ")");
    });
  }
  row("xla_bytes",
      [](const ShapeSizes& r) { return WithCommas(r.sizes.xla_bytes); });
  row("exact_bytes",
      [](const ShapeSizes& r) { return WithCommas(r.sizes.exact_bytes); });
  row("logical_bytes",
      [](const ShapeSizes& r) { return WithCommas(r.sizes.logical_bytes); });
  row("padding",
      [](const ShapeSizes& r) { return FormatFactor(r.sizes.padding_factor); });
  std::printf("\n%s\n%s", style.Bold("Side by side").c_str(),
              table.Render("  ").c_str());

  const ShapeSizes& a = *arrays[0];
  const size_t first = array_reports[0]->number;
  for (size_t i = 1; i < arrays.size(); ++i) {
    const ShapeSizes& b = *arrays[i];
    const size_t number = array_reports[i]->number;
    absl::StatusOr<PhysicalDifference> d = ComparePhysical(a.shape, b.shape);
    if (!d.ok()) {
      std::printf("  #%zu and #%zu: %s\n", first, number,
                  EscapeForTerminal(d.status().message()).c_str());
      continue;
    }
    std::printf("  %s\n",
                Verdict(*d, *array_reports[0], *array_reports[i]).c_str());
    if (*d == PhysicalDifference::kDifferentLogicalShape) continue;
    // Per logical dim: padded extents on each side.
    for (int dim = 0; dim < a.shape.rank(); ++dim) {
      auto find = [dim](const ShapeSizes& r) {
        for (const DimSizeInfo& info : r.sizes.dims) {
          if (info.dim == dim) return info;
        }
        return DimSizeInfo{};
      };
      DimSizeInfo x = find(a), y = find(b);
      if (x.padded_extent != y.padded_extent) {
        std::printf("  dim %d (%s): padded to %s in #%zu, %s in #%zu\n", dim,
                    WithCommas(x.extent).c_str(),
                    WithCommas(x.padded_extent).c_str(), first,
                    WithCommas(y.padded_extent).c_str(), number);
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

// One shape's object; keys in the order of docs/json.md.
json SizesJson(const ShapeSizes& r, json input) {
  json j;
  if (!input.is_null()) j["input"] = std::move(input);
  j["shape"] = r.shape.ToString(true);
  if (r.has_size) {
    j["xla_bytes"] = r.sizes.xla_bytes;
    j["exact_bytes"] = r.sizes.exact_bytes;
    j["logical_bytes"] = r.sizes.logical_bytes;
    j["padding_factor"] = r.sizes.padding_factor;
  } else {
    j["xla_bytes"] = nullptr;
    j["exact_bytes"] = nullptr;
    j["logical_bytes"] = nullptr;
    j["padding_factor"] = nullptr;
  }
  j["metadata_prefix_bytes"] = r.sizes.metadata_prefix_bytes;
  j["memory_space"] = MemorySpaceOf(r.shape);
  j["dims"] = DimsJson(r.sizes);
  j["notes"] = r.sizes.notes;
  if (r.shape.IsTuple()) {
    json elements = json::array();
    for (const ShapeSizes& e : r.elements) {
      elements.push_back(SizesJson(e, nullptr));
    }
    j["elements"] = std::move(elements);
  }
  return j;
}

// Each array shape after the first against the first.
json ComparisonsJson(const std::vector<Report>& reports) {
  json out = json::array();
  std::vector<size_t> arrays;
  for (size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].sizes.shape.IsArray()) arrays.push_back(i);
  }
  for (size_t k = 1; k < arrays.size(); ++k) {
    absl::StatusOr<PhysicalDifference> d = ComparePhysical(
        reports[arrays[0]].sizes.shape, reports[arrays[k]].sizes.shape);
    json c;
    c["a"] = arrays[0];
    c["b"] = arrays[k];
    c["difference"] =
        d.ok() ? json(std::string(PhysicalDifferenceName(*d))) : json(nullptr);
    c["relayout_needed"] =
        d.ok() && (*d == PhysicalDifference::kSameSizeReordered ||
                   *d == PhysicalDifference::kDifferentSize);
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<Report> Analyze(const std::string& input) {
  XLAYOUT_ASSIGN_OR_RETURN(Shape shape, ParseShape(input));
  XLAYOUT_RETURN_IF_ERROR(ValidateShape(shape));
  XLAYOUT_ASSIGN_OR_RETURN(ShapeSizes sizes, ComputeShapeSizes(shape));
  return Report{input, std::move(sizes)};
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
                "Print one JSON object (schema xlayout.v1, docs/json.md): "
                "shapes[], comparisons[], errors[]");
  cmd->footer(
      "Exit status: 0 when every shape was measured, 2 when any shape failed "
      "to parse or "
      "validate (the others are still reported).");
  return [options]() {
    std::vector<Report> reports;
    json errors = json::array();
    for (const std::string& input : options->shapes) {
      absl::StatusOr<Report> report = Analyze(input);
      if (report.ok()) report->number = reports.size() + errors.size() + 1;
      if (!report.ok()) {
        PrintError(absl::StrCat("'", EscapeAndTruncate(input, 200),
                                "': ", report.status().message()));
        errors.push_back(JsonErrorItem(JsonTextInput(input), report.status()));
        continue;
      }
      reports.push_back(*std::move(report));
    }
    const bool failed = !errors.empty();
    if (options->json) {
      json out = JsonEnvelope("size");
      json shapes = json::array();
      for (const Report& r : reports) {
        shapes.push_back(SizesJson(r.sizes, JsonTextInput(r.input)));
      }
      out["shapes"] = std::move(shapes);
      out["comparisons"] = ComparisonsJson(reports);
      out["errors"] = std::move(errors);
      PrintJson(out);
    } else {
      Style style = Style::For(stdout);
      for (size_t i = 0; i < reports.size(); ++i) {
        if (i > 0) std::printf("\n");
        PrintHuman(reports[i].sizes, style, 0);
      }
      PrintComparison(reports, style);
    }
    return failed ? kExitError : kExitOk;
  };
}

}  // namespace xlayout::cli
