#include "explain/escapes.h"

#include <algorithm>

namespace xlayout::explain_internal {

void StripEscapes(absl::string_view line, std::string* clean,
                  std::vector<uint32_t>* map) {
  clean->clear();
  map->clear();
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b' && i + 1 < line.size()) {
      const char kind = line[i + 1];
      size_t j = i + 2;
      if (kind == '[') {
        while (j < line.size() && !(line[j] >= 0x40 && line[j] <= 0x7e)) {
          ++j;
        }
      } else if (kind == ']') {
        while (j < line.size() && line[j] != '\a' &&
               !(line[j] == '\x1b' && j + 1 < line.size() &&
                 line[j + 1] == '\\')) {
          ++j;
        }
        if (j < line.size() && line[j] == '\x1b') ++j;
      } else {
        j = i + 1;
      }
      i = std::min(j, line.size() - 1);
      continue;
    }
    clean->push_back(line[i]);
    map->push_back(static_cast<uint32_t>(i));
  }
}

}  // namespace xlayout::explain_internal
