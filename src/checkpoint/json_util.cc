#include "checkpoint/json_util.h"

#include <cstdio>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace xlayout::checkpoint_internal {
namespace {

// A SAX pass that only checks what nlohmann's DOM parser lets through:
// duplicate keys (it keeps the last) and nesting depth. It builds no DOM.
class StrictChecker : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override {
    return Value();
  }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Push(true); }
  bool end_object() override { return Pop(); }
  bool start_array(std::size_t) override { return Push(false); }
  bool end_array() override { return Pop(); }
  bool key(string_t& key) override {
    Frame& f = stack_.back();
    bool duplicate = false;
    if (f.large.has_value()) {
      duplicate = !f.large->insert(key).second;
    } else {
      for (const std::string& k : f.keys) duplicate |= k == key;
      if (!duplicate) {
        f.keys.push_back(key);
        if (f.keys.size() > 16) {
          f.large.emplace(f.keys.begin(), f.keys.end());
          f.keys.clear();
        }
      }
    }
    f.last_key = key;
    if (duplicate) {
      error_ = absl::StrCat("duplicate key ", Quote(key), " in ", Path());
      return false;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& e) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 2:
    // ..." without the bracketed id.
    std::string message = e.what();
    size_t close = message.find("] ");
    if (message.rfind("[json.exception.", 0) == 0 &&
        close != std::string::npos) {
      message = message.substr(close + 2);
    }
    error_ = absl::StrCat("invalid JSON: ", message);
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  struct Frame {
    bool is_object = false;
    std::string last_key;  // Objects: the key being read.
    size_t index = 0;      // Arrays: the element being read.
    std::vector<std::string> keys;
    std::optional<std::unordered_set<std::string>> large;
  };

  bool Value() {
    if (!stack_.empty() && !stack_.back().is_object) ++stack_.back().index;
    return true;
  }
  bool Push(bool is_object) {
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth) {
      error_ = absl::StrCat("nesting deeper than ", kMaxJsonDepth,
                            " levels at ", Path());
      return false;
    }
    stack_.emplace_back();
    stack_.back().is_object = is_object;
    return true;
  }
  bool Pop() {
    stack_.pop_back();
    return Value();
  }
  // ".tensors[3].name": where the parser is.
  std::string Path() const {
    std::string path;
    for (size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      if (f.is_object) {
        absl::StrAppend(&path, ".", f.last_key);
      } else {
        absl::StrAppend(&path, "[", f.index, "]");
      }
    }
    return path.empty() ? "top level" : path;
  }

  std::vector<Frame> stack_;
  std::string error_;
};

}  // namespace

absl::StatusOr<Json> ParseStrictJson(absl::string_view text,
                                     absl::string_view what) {
  // nlohmann's lexer ends the input at a NUL byte and would ignore what
  // follows; a NUL can never appear in JSON text (strings escape it).
  if (size_t nul = text.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": invalid JSON: NUL byte at offset ", nul));
  }
  StrictChecker checker;
  if (!Json::sax_parse(text.begin(), text.end(), &checker,
                       nlohmann::detail::input_format_t::json,
                       /*strict=*/true, /*ignore_comments=*/false)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", checker.error()));
  }
  // The text is valid JSON without duplicate keys or deep nesting: build it.
  try {
    return Json::parse(text.begin(), text.end(), nullptr,
                       /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": invalid JSON: ", e.what()));
  }
}

std::string Quote(absl::string_view s) {
  // Json::dump escapes control characters and refuses invalid UTF-8; replace
  // invalid sequences so error messages never throw.
  return Json(std::string(s))
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string Excerpt(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string FormatHash64(uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx",
                static_cast<unsigned long long>(value));
  return buffer;
}

std::optional<uint64_t> ParseHash64(absl::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return value;
}

}  // namespace xlayout::checkpoint_internal
