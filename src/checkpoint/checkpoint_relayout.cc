// RelayoutCheckpoint: a checkpoint -> the same tensors in a program's
// layouts (see checkpoint_relayout.h).
#include "xlayout/checkpoint_relayout.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "xlayout/io/input_file.h"
#include "xlayout/io/output_overlap.h"
#include "xlayout/io/page_buffer.h"
#include "xlayout/layout_util.h"
#include "xlayout/physical_index.h"
#include "xlayout/relayout_bands.h"
#include "xlayout/relayout_stream.h"
#include "xlayout/status_macros.h"
#include "xlayout/xxh3.h"

namespace xlayout {
namespace {

constexpr int64_t kWindowBytes = int64_t{4} << 20;

// Reused per-job state (streaming windows, read buffers): one per tensor
// job in flight, made by `make` when none is free.
template <typename T>
class Pool {
 public:
  explicit Pool(std::function<std::unique_ptr<T>()> make)
      : make_(std::move(make)) {}
  std::unique_ptr<T> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        std::unique_ptr<T> t = std::move(free_.back());
        free_.pop_back();
        return t;
      }
    }
    return make_();
  }
  void Release(std::unique_ptr<T> t) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(t));
  }

 private:
  std::function<std::unique_ptr<T>()> make_;
  std::mutex mu_;
  std::vector<std::unique_ptr<T>> free_;
};

// The shared state of the tensor jobs.
struct Jobs {
  std::mutex mu;
  std::condition_variable cv;
  int64_t pending = 0;
  absl::Status first_error;  // Guarded by mu.
  std::atomic<bool> failed{false};
  std::atomic<int64_t> bytes_done{0};

  void Fail(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = std::move(s);
    failed.store(true);
  }
  void Done() {
    std::lock_guard<std::mutex> lock(mu);
    --pending;
    cv.notify_all();
  }
};

// Converts `tensor` band by band (`plans`), reading each band into
// `*buffer` (grown to a band), hashed as it is read, and verifying the
// tensor's physical checksum after the last.
absl::Status RunInBands(const RelayoutBandPlans& plans,
                        const TensorRecord& tensor,
                        const CheckpointReader& source, io::PageBuffer* buffer,
                        RelayoutStreamer& streamer, const ByteSink& sink) {
  const size_t band_bytes = static_cast<size_t>(plans.full->input_bytes());
  if (buffer->size() < band_bytes) {
    *buffer = io::PageBuffer();  // Free the old one first.
    XLAYOUT_ASSIGN_OR_RETURN(*buffer,
                             io::PageBuffer::Allocate(band_bytes, true));
  }
  Xxh3 hash;
  int64_t band = 0;
  XLAYOUT_RETURN_IF_ERROR(source.ReadTensorBlocks(
      tensor, buffer->span().first(band_bytes),
      [&](absl::Span<const uint8_t> piece) {
        const RelayoutPlan& plan = plans.band(band++);
        if (static_cast<int64_t>(piece.size()) != plan.input_bytes()) {
          return absl::InternalError(absl::StrCat(
              DescribeTensor(tensor), ": band ", band, " has ", piece.size(),
              " bytes, its plan reads ", plan.input_bytes()));
        }
        return streamer.Run(plan, piece.data(), sink);
      },
      &hash));
  return source.CheckPhysical(tensor, hash.Digest());
}

}  // namespace

absl::StatusOr<CheckpointRelayoutResult> RelayoutCheckpoint(
    const ProgramSignature& program, const CheckpointReader& source,
    const std::string& output_dir, const CheckpointRelayoutOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const CheckpointManifest& manifest = source.manifest();
  CheckpointRelayoutResult result;
  XLAYOUT_ASSIGN_OR_RETURN(result.report,
                           CheckCheckpoint(program, manifest, options.check));
  const CheckReport& report = result.report;
  if (!report.ok() && !report.fixable_by_relayout()) return result;
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be at least 1, not ", options.threads));
  }
  XLAYOUT_RETURN_IF_ERROR(io::CheckOutputApartFromInputs(
      output_dir, {{source.dir(), "the source checkpoint"}}));

  // --- What becomes of each tensor.
  absl::flat_hash_map<std::string, const ParameterCheck*> check_of;
  for (const ParameterCheck& c : report.parameters) {
    if (!c.tensor.empty() && c.parameter >= 0) check_of[c.tensor] = &c;
  }
  const int64_t n = static_cast<int64_t>(manifest.tensors.size());
  std::vector<TensorRecord> records;
  records.reserve(n);
  result.tensors.reserve(n);
  Provenance provenance;
  provenance.source_files = manifest.provenance.source_files;
  provenance.source_checkpoint =
      options.source_name.empty() ? source.dir() : options.source_name;
  provenance.source_environment = manifest.environment;
  for (const TensorRecord& t : manifest.tensors) {
    TensorRecord out = t;
    TensorRelayoutAction action;
    action.tensor = t.name;
    action.from = t.device_shape;
    action.from_memory_kind = t.memory_kind;
    action.bytes_in = t.length;
    auto it = check_of.find(t.name);
    if (it != check_of.end()) {
      const ParameterCheck& c = *it->second;
      const ParameterSignature& p = program.parameters[c.parameter];
      out.binding = TensorBinding{p.parameter_number, p.tuple_index};
      if ((c.verdict == CheckVerdict::kNeedsRelayout ||
           c.verdict == CheckVerdict::kMemoryKind) &&
          c.expected.has_value()) {
        out.device_shape = *c.expected;
        out.memory_kind = c.expected_memory_kind;
      }
    }
    action.to = out.device_shape;
    action.to_memory_kind = out.memory_kind;
    action.converted = !SamePhysicalLayout(action.from, action.to);
    if (action.converted) {
      provenance.conversions.push_back({t.name, t.device_shape});
      ++result.converted;
    } else {
      ++result.copied;
    }
    result.tensors.push_back(std::move(action));
    records.push_back(std::move(out));
  }

  // The new fingerprint: the current environment if known; else the
  // source's, unless layouts change (they are then the program's).
  std::optional<Environment> environment;
  if (options.check.current_environment.has_value()) {
    environment = options.check.current_environment;
    StampEnvironment(*environment, options.tool_version);
    result.environment_note = "the current environment (--env)";
  } else if (result.converted == 0 && manifest.environment.has_value()) {
    environment = manifest.environment;
    result.environment_note = "the source's (no layout changed)";
  } else if (manifest.environment.has_value()) {
    result.environment_note =
        "none: layouts changed and the program's environment was not given "
        "(--env)";
  } else {
    result.environment_note = "none (the source records none)";
  }

  // --- Write.
  XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointWriter> writer,
                           CheckpointWriter::Create(output_dir));
  result.target = writer->target();
  XLAYOUT_ASSIGN_OR_RETURN(int64_t first,
                           writer->ReserveTensors(std::move(records)));
  const std::vector<TensorRecord>& written = writer->tensors();
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    result.bytes_read += manifest.tensors[i].length;
    result.tensors[i].bytes_out = written[first + i].length;
    total += written[first + i].length;
  }
  result.bytes_written = total;

  RelayoutPlanCache plans(64);
  const RelayoutOptions plan_options =
      RelayoutStreamer::PlanOptionsFor({}, 1, kWindowBytes);
  Pool<RelayoutStreamer> streamers(
      [] { return std::make_unique<RelayoutStreamer>(1, kWindowBytes); });
  Pool<io::PageBuffer> sources(
      [] { return std::make_unique<io::PageBuffer>(); });
  Jobs jobs;
  auto run_tensor = [&](int64_t i) -> absl::Status {
    const TensorRecord& src = manifest.tensors[i];
    const TensorRecord& dst = written[first + i];
    const int64_t index = first + i;
    const bool copy = !result.tensors[i].converted;
    if (copy) {
      // A verbatim copy, in the kernel (a reflink where the file system
      // shares extents): its bytes are not read, so it keeps the source's
      // checksum, checked wherever it is next read (--verify does at once).
      // Reading it to hash cost 9% of the benchmark's run.
      XLAYOUT_RETURN_IF_ERROR(writer->CopyReserved(index, source, src));
      jobs.bytes_done += src.length;
    } else if (dst.length > 0) {
      const Shape from = WithoutMemorySpace(src.device_shape);
      const Shape to = WithoutMemorySpace(dst.device_shape);
      auto plan_of = [&](const Shape& f, const Shape& t) {
        return plans.Get(f, t, plan_options);
      };
      std::optional<RelayoutBandPlans> bands;
      if (options.band_bytes > 0) {
        XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout f,
                                 PhysicalLayout::Create(from));
        XLAYOUT_ASSIGN_OR_RETURN(PhysicalLayout t, PhysicalLayout::Create(to));
        XLAYOUT_ASSIGN_OR_RETURN(
            bands, PlanRelayoutBands(f.shape(), t.shape(), options.band_bytes,
                                     plan_of));
      }
      auto sink = [&](absl::Span<const uint8_t> piece) {
        if (jobs.failed.load()) {
          return absl::CancelledError("another tensor failed");
        }
        XLAYOUT_RETURN_IF_ERROR(writer->WriteReserved(index, piece));
        jobs.bytes_done += static_cast<int64_t>(piece.size());
        return absl::OkStatus();
      };
      std::unique_ptr<io::PageBuffer> read_buffer = sources.Acquire();
      std::unique_ptr<RelayoutStreamer> streamer = streamers.Acquire();
      absl::Status s;
      if (bands.has_value()) {
        // The major dimension stays major: a band of input rows is a band
        // of output rows. Read, hashed, converted and written a band at a
        // time, in a reused buffer that stays in cache; verified at the end
        // (a corrupt source fails the run before anything is renamed).
        s = RunInBands(*bands, src, source, read_buffer.get(), *streamer, sink);
      } else {
        // Any other conversion reads its input in another order, so the
        // tensor is read (or, if huge, mapped) and verified first.
        absl::StatusOr<io::RandomAccessBytes> input =
            source.Load(src, read_buffer.get());
        absl::StatusOr<std::shared_ptr<const RelayoutPlan>> plan =
            plan_of(from, to);
        s = !input.ok()  ? input.status()
            : !plan.ok() ? plan.status()
                         : streamer->Run(**plan, input->bytes.data(), sink);
      }
      streamers.Release(std::move(streamer));
      sources.Release(std::move(read_buffer));
      if (!s.ok()) {
        if (jobs.failed.load()) return absl::OkStatus();
        return s;
      }
    }
    if (jobs.failed.load()) return absl::OkStatus();
    return writer->EndReserved(
        index, src.xxh3_logical,
        copy ? std::optional<uint64_t>(src.xxh3_physical) : std::nullopt);
  };

  // Largest first, so a big tensor does not start last and run alone.
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::max(written[first + a].length, manifest.tensors[a].length) >
           std::max(written[first + b].length, manifest.tensors[b].length);
  });
  std::unique_ptr<RelayoutThreadPool> pool;
  ScheduleWork schedule = options.schedule;
  if (!schedule) {
    // No more workers than tensors: the others would only start and wait.
    pool = std::make_unique<RelayoutThreadPool>(static_cast<int>(
        std::clamp<int64_t>(n, 1, std::max(options.threads, 1))));
    schedule = pool->Scheduler();
  }
  jobs.pending = n;
  for (int64_t i : order) {
    schedule([&jobs, &run_tensor, i] {
      if (!jobs.failed.load()) {
        if (absl::Status s = run_tensor(i); !s.ok()) jobs.Fail(std::move(s));
      }
      jobs.Done();
    });
  }
  {
    std::unique_lock<std::mutex> lock(jobs.mu);
    while (jobs.pending > 0) {
      jobs.cv.wait_for(lock, std::chrono::milliseconds(100));
      if (options.progress && jobs.pending > 0) {
        lock.unlock();
        options.progress(jobs.bytes_done.load(), total);
        lock.lock();
      }
    }
  }
  pool.reset();
  if (jobs.failed.load()) return jobs.first_error;
  if (options.progress) options.progress(total, total);

  XLAYOUT_ASSIGN_OR_RETURN(
      std::string temp,
      writer->Finish(std::move(environment), std::move(provenance)));
  if (options.verify) {
    XLAYOUT_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> check,
                             CheckpointReader::Open(temp));
    XLAYOUT_ASSIGN_OR_RETURN(std::vector<TensorVerification> verification,
                             VerifyCheckpoint(*check, options.threads));
    for (size_t i = 0; i < verification.size(); ++i) {
      const TensorVerification& v = verification[i];
      if (v.physical_ok && v.logical_ok) continue;
      const TensorRecord& t = check->manifest().tensors[i];
      const int64_t s = static_cast<int64_t>(i) - first;
      if (!v.physical_ok && s >= 0 && s < n && !result.tensors[s].converted) {
        // A copy was not read on the way: its bytes are the source's, so a
        // mismatch is the source's corruption, said as a reader would.
        return absl::DataLossError(
            absl::StrCat("verification of the output failed: tensor \"", t.name,
                         "\" was copied unread from a corrupt source: ",
                         PhysicalMismatchMessage(
                             source.dir(), manifest.tensors[s], v.physical),
                         "; nothing was written to '", output_dir, "'"));
      }
      return absl::DataLossError(absl::StrCat(
          "verification of the output failed: ", DescribeTensor(t), ": ",
          !v.physical_ok
              ? absl::StrCat("the stored bytes hash to ",
                             FormatChecksum(v.physical), ", not ",
                             FormatChecksum(t.xxh3_physical))
              : absl::StrCat("its logical bytes hash to ",
                             FormatChecksum(v.logical), ", the source's to ",
                             FormatChecksum(t.xxh3_logical)),
          "; nothing was written to '", output_dir, "'"));
    }
    result.verified = true;
  }
  XLAYOUT_RETURN_IF_ERROR(writer->Commit());
  result.written = true;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}

}  // namespace xlayout
