// Status propagation macros. Debian's Abseil (20220623) predates
// absl/status/status_macros.h, so the project defines its own, once, here.
#ifndef XLAYOUT_STATUS_MACROS_H_
#define XLAYOUT_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define XLAYOUT_CONCAT_IMPL_(a, b) a##b
#define XLAYOUT_CONCAT_(a, b) XLAYOUT_CONCAT_IMPL_(a, b)

// Returns from the enclosing function if `expr` yields a non-OK status.
#define XLAYOUT_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status xlayout_status_ = (expr);           \
    if (!xlayout_status_.ok()) return xlayout_status_; \
  } while (false)

// `XLAYOUT_ASSIGN_OR_RETURN(lhs, rexpr)`: evaluates `rexpr` (a StatusOr),
// returns its status on error, else moves its value into `lhs` (which may be a
// declaration).
#define XLAYOUT_ASSIGN_OR_RETURN(lhs, rexpr)                                   \
  XLAYOUT_ASSIGN_OR_RETURN_IMPL_(XLAYOUT_CONCAT_(xlayout_statusor_, __LINE__), \
                                 lhs, rexpr)

#define XLAYOUT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // XLAYOUT_STATUS_MACROS_H_
