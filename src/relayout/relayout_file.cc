#include "xlayout/relayout_file.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xlayout/io/atomic_output_file.h"
#include "xlayout/io/input_file.h"
#include "xlayout/io/mapped_region.h"
#include "xlayout/io/output_overlap.h"
#include "xlayout/relayout_stream.h"
#include "xlayout/size.h"
#include "xlayout/status_macros.h"
#include "xlayout/xxh3.h"

namespace xlayout {

RelayoutOptions RelayoutFilePlanOptions(const RelayoutFileOptions& options) {
  return RelayoutStreamer::PlanOptionsFor(
      options.relayout, options.relayout.threads, options.window_bytes);
}

absl::StatusOr<RelayoutFileResult> RelayoutFile(
    const Shape& from, const Shape& to, const std::string& input_path,
    const std::string& output_path, const RelayoutFileOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  RelayoutStreamer streamer(options.relayout.threads, options.window_bytes);
  const RelayoutOptions plan_options = streamer.PlanOptions(options.relayout);
  std::shared_ptr<const RelayoutPlan> plan;
  if (options.cache != nullptr) {
    XLAYOUT_ASSIGN_OR_RETURN(plan, options.cache->Get(from, to, plan_options));
  } else {
    XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<RelayoutPlan> created,
                             RelayoutPlan::Create(from, to, plan_options));
    plan = std::move(created);
  }
  // A file of a device layout is a device buffer: it must fit XLA's size.
  XLAYOUT_RETURN_IF_ERROR(CheckFitsDeviceBuffer(plan->from()));
  XLAYOUT_RETURN_IF_ERROR(CheckFitsDeviceBuffer(plan->to()));
  RelayoutFileResult r;
  r.from = plan->from();
  r.to = plan->to();
  r.input_bytes = plan->input_bytes();
  r.output_bytes = plan->output_bytes();
  r.threads = streamer.threads();

  // The input: checked before anything is written, and never overwritten.
  XLAYOUT_RETURN_IF_ERROR(
      io::CheckOutputApartFromInputs(output_path, {{input_path, "the input"}}));
  XLAYOUT_ASSIGN_OR_RETURN(
      io::InputFile in,
      io::InputFile::Open(input_path, {.allow_stdin = options.allow_stdio}));
  auto wrong_size = [&](int64_t got, bool at_least) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", in.path(), "' is ", at_least ? "more than " : "", got,
        " bytes but ", r.from.ToString(true), " needs ", r.input_bytes,
        " bytes"));
  };
  if (in.is_regular() && in.size() != r.input_bytes) {
    return wrong_size(in.size(), false);
  }
  io::MappedRegion mapped;
  io::PageBuffer read;
  const uint8_t* input = nullptr;
  if (in.is_regular() &&
      options.input_mode == RelayoutFileOptions::InputMode::kMap) {
    XLAYOUT_ASSIGN_OR_RETURN(mapped, in.Map(0, r.input_bytes));
    input = mapped.data();
  } else {
    XLAYOUT_ASSIGN_OR_RETURN(read, in.ReadAll(r.input_bytes));
    if (static_cast<int64_t>(read.size()) != r.input_bytes) {
      return wrong_size(static_cast<int64_t>(read.size()), false);
    }
    input = read.data();
  }

  // The output: after the input is known to be right.
  XLAYOUT_ASSIGN_OR_RETURN(
      io::AtomicOutputFile out,
      io::AtomicOutputFile::Create(
          output_path,
          {.allow_stdout = options.allow_stdio,
           .expected_bytes =
               options.precheck_free_space ? r.output_bytes : -1}));
  r.output_target = out.target();

  std::optional<Xxh3> hash;
  if (options.hash) hash.emplace();
  XLAYOUT_RETURN_IF_ERROR(streamer.Run(
      *plan, input,
      [&](absl::Span<const uint8_t> piece) {
        if (hash) hash->Update(piece);
        return out.Write(piece.data(), piece.size());
      },
      options.progress));
  XLAYOUT_RETURN_IF_ERROR(out.Commit());
  if (hash) r.xxh3_64 = hash->Digest();
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return r;
}

}  // namespace xlayout
