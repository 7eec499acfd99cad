// Reads the repo's tab-separated test vectors (testdata/*.tsv): one case per
// line, '#' comments and empty lines skipped.
//
// Tests that loop over rows must check every row and report every failing
// one: use EXPECT_* (or ADD_FAILURE and `continue`) inside the loop, never
// ASSERT_*, which stops at the first bad row.
#ifndef XLAYOUT_SRC_TESTING_TEST_DATA_H_
#define XLAYOUT_SRC_TESTING_TEST_DATA_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"

namespace xlayout::test_util {

struct TsvRow {
  int line = 0;
  std::vector<std::string> fields;
};

// The rows of testdata/`name`. A file that cannot be opened is a test
// failure. When `fields` is non-zero, every row with another number of
// fields is reported as a failure (each one, with its line number); such
// rows are still returned so callers can skip them with a size check.
inline std::vector<TsvRow> ReadTsv(const std::string& name, size_t fields = 0) {
  const std::string path = std::string(XLAYOUT_TESTDATA_DIR) + "/" + name;
  std::ifstream in(path);
  if (!in) ADD_FAILURE() << path << ": cannot open test vectors";
  std::vector<TsvRow> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    TsvRow row{number, absl::StrSplit(line, '\t')};
    if (fields != 0 && row.fields.size() != fields) {
      ADD_FAILURE() << name << ":" << number << ": " << row.fields.size()
                    << " tab-separated fields, expected " << fields << ": "
                    << line;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace xlayout::test_util

#endif  // XLAYOUT_SRC_TESTING_TEST_DATA_H_
