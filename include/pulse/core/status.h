// SPDX-License-Identifier: MIT
// Status and Result<T>: how every fallible Pulse function reports failure.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pulse {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,  // bad configuration or API argument (CLI exit code 2)
  kNotFound,
  kIOError,
  kCorruption,
  kUnavailable,  // retryable
  kCancelled,
  kInternal,
};

/// Outcome of an operation: OK, or a code with a message.
/// Cheap to copy when OK (no allocation). Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return ok() ? StatusCode::kOk : state_->code; }
  const std::string& message() const;

  /// Return a copy whose message is prefixed with `context` ("context: message").
  Status WithContext(std::string_view context) const;

  /// "OK" or "<Code>: <message>".
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;
};

/// A value of type T or an error Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

#define PULSE_CONCAT_IMPL(a, b) a##b
#define PULSE_CONCAT(a, b) PULSE_CONCAT_IMPL(a, b)

/// Return the Status of `expr` from the enclosing function if it is not OK.
#define PULSE_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::pulse::Status _pulse_st = (expr);          \
    if (!_pulse_st.ok()) return _pulse_st;       \
  } while (false)

#define PULSE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

/// `lhs = value of expr`, or return its error Status.
#define PULSE_ASSIGN_OR_RETURN(lhs, expr) \
  PULSE_ASSIGN_OR_RETURN_IMPL(PULSE_CONCAT(_pulse_res_, __LINE__), lhs, expr)

}  // namespace pulse
