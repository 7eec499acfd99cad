// Collecting findings for a report: grouped or one per message, the
// per-parameter summary, and one tally per kind of unreadable candidate.
// `xlayout explain` prints these; the policy lives here so any front end
// (CLI, tests, the runtime guard's reports) groups the same way.
#ifndef XLAYOUT_FINDING_GROUP_H_
#define XLAYOUT_FINDING_GROUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "xlayout/explain.h"
#include "xlayout/log_scanner.h"

namespace xlayout {

// Collects the findings of scanned messages. Grouped (the default): messages
// that differ only in replica and partition are one finding (see
// FindingGrouper). Ungrouped (`explain --no-group`): one finding per message,
// each with its own replica, partition, source and line.
class FindingCollector {
 public:
  explicit FindingCollector(bool group = true) : group_(group) {}

  void Add(const ScannedMessage& message, absl::string_view source);

  const std::vector<Finding>& findings() const {
    return group_ ? grouper_.findings() : ungrouped_;
  }
  // Messages added, whatever the grouping.
  int64_t messages() const { return messages_; }
  bool grouped() const { return group_; }

 private:
  bool group_;
  FindingGrouper grouper_;
  std::vector<Finding> ungrouped_;
  int64_t messages_ = 0;
};

// One line of a summary: the findings that differ only in the parameter
// number, replica and partition (same form, program, shapes, printed sizes
// and form-specific values).
struct FindingSummary {
  MessageKind kind = MessageKind::kSize;
  std::string program;
  Classification classification = Classification::kUnknown;
  std::string summary;              // Diagnosis::summary of the first one.
  std::vector<int64_t> parameters;  // Sorted, unique; empty if none printed.
  // The argument's name (JAX's argument path) when the messages print a
  // name but no parameter number; part of the grouping then.
  std::string parameter_name;
  std::vector<int64_t> replicas;    // Sorted, unique.
  std::vector<int64_t> partitions;  // Sorted, unique.
  int64_t findings = 0;
  int64_t messages = 0;
};

// The summary lines of `findings`, in order of first appearance.
std::vector<FindingSummary> SummarizeFindings(
    absl::Span<const Finding> findings);

// Counts candidates that looked like a mismatch message but could not be
// read, one entry per reason, so a log with 100,000 of them yields one
// warning per kind of problem, not 100,000 lines.
class UnparsedTally {
 public:
  struct Entry {
    std::string reason;
    int64_t count = 0;
    std::string source;  // First occurrence.
    int64_t line = 0;
    std::string excerpt;  // Of the first occurrence.
  };

  void Add(const UnparsedCandidate& candidate, absl::string_view source);
  // In order of first appearance.
  const std::vector<Entry>& entries() const { return entries_; }
  int64_t total() const { return total_; }

 private:
  absl::flat_hash_map<std::string, size_t> index_;
  std::vector<Entry> entries_;
  int64_t total_ = 0;
};

}  // namespace xlayout

#endif  // XLAYOUT_FINDING_GROUP_H_
