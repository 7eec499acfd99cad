#include "xlayout/finding_group.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace xlayout {

void FindingCollector::Add(const ScannedMessage& message,
                           absl::string_view source) {
  ++messages_;
  if (group_) {
    grouper_.Add(message, source);
    return;
  }
  Finding f;
  f.line = message.line;
  f.diagnosis = Diagnose(message);
  if (f.diagnosis.replica) f.replicas.push_back(*f.diagnosis.replica);
  if (f.diagnosis.partition) f.partitions.push_back(*f.diagnosis.partition);
  f.count = 1;
  f.source = std::string(source);
  ungrouped_.push_back(std::move(f));
}

namespace {

std::string OptionalText(const std::optional<int64_t>& v) {
  return v ? absl::StrCat(*v) : std::string("-");
}

// Everything that must match for two findings to share a summary line. A
// finding without a parameter number is told apart by its argument's name
// (JAX's argument path), which then labels the line.
std::string SummaryKey(const Diagnosis& d) {
  return absl::StrJoin(
      {std::string(MessageKindName(d.kind)), d.program,
       d.parameter ? std::string() : d.parameter_name, d.expected.shape,
       d.actual.shape, OptionalText(d.expected.printed_bytes),
       OptionalText(d.actual.printed_bytes), d.expected_value, d.actual_value},
      "\x1f");
}

void SortUnique(std::vector<int64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::vector<FindingSummary> SummarizeFindings(
    absl::Span<const Finding> findings) {
  std::vector<FindingSummary> out;
  absl::flat_hash_map<std::string, size_t> index;
  for (const Finding& f : findings) {
    const Diagnosis& d = f.diagnosis;
    auto [it, inserted] = index.try_emplace(SummaryKey(d), out.size());
    if (inserted) {
      FindingSummary s;
      s.kind = d.kind;
      s.program = d.program;
      s.classification = d.classification;
      s.summary = d.summary;
      if (!d.parameter) s.parameter_name = d.parameter_name;
      out.push_back(std::move(s));
    }
    FindingSummary& s = out[it->second];
    if (d.parameter) s.parameters.push_back(*d.parameter);
    s.replicas.insert(s.replicas.end(), f.replicas.begin(), f.replicas.end());
    s.partitions.insert(s.partitions.end(), f.partitions.begin(),
                        f.partitions.end());
    ++s.findings;
    s.messages += f.count;
  }
  for (FindingSummary& s : out) {
    SortUnique(s.parameters);
    SortUnique(s.replicas);
    SortUnique(s.partitions);
  }
  return out;
}

void UnparsedTally::Add(const UnparsedCandidate& candidate,
                        absl::string_view source) {
  ++total_;
  auto [it, inserted] = index_.try_emplace(candidate.reason, entries_.size());
  if (inserted) {
    entries_.push_back({candidate.reason, 0, std::string(source),
                        candidate.line, candidate.excerpt});
  }
  ++entries_[it->second].count;
}

}  // namespace xlayout
