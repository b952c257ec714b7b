// SPDX-License-Identifier: MIT
// JsonObjectReader: typed, checked reads of the JSON objects Pulse writes for itself (checkpoint
// manifests, source positions, sinks' commit information, state snapshot descriptions), with
// one error format for every reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pulse/core/key_group.h"
#include "pulse/core/status.h"
#include "pulse/core/value.h"

namespace pulse {

/// Reads the members of one JSON object by name and expected type, so that a metadata reader is
/// a few declarative lines. Every problem is one Status with the reader's code (Corruption
/// unless told otherwise) whose message names the document and the member:
///   `<document> is not an object`
///   `<document> has no "<name>"`
///   `<document>: "<name>" is not <a string | an integer | ...>`
///   `<document>: "<name>" is <v>, below <min>`
///   `<document>: "<name>" <what>` (Invalid, for a caller's own checks)
/// Members nested in it are read by readers named `<document> "<name>"` (an object) or
/// `<document> "<name>"[<i>]` (an element of an array). Null members count as absent for the
/// Optional* reads and as present (of the wrong type) for the others.
/// Borrows the Value, which must outlive the reader and what it returns. Copyable;
/// thread-compatible.
class JsonObjectReader {
 public:
  /// A reader of `value`, named `document` in errors (e.g. "manifest", "file source position").
  /// Errors: `code` if `value` is not an object.
  static Result<JsonObjectReader> Make(const Value& value, std::string document,
                                       StatusCode code = StatusCode::kCorruption);

  /// The member `name`, or null when absent (no type check).
  const Value* Find(std::string_view name) const;

  // --- Required members. Errors: absent, or not of the type.

  /// Any JSON value (an opaque member, e.g. a connector's position).
  Result<const Value*> Member(std::string_view name) const;
  Result<std::string> String(std::string_view name) const;
  Result<bool> Bool(std::string_view name) const;
  Result<int64_t> Int(std::string_view name) const;
  /// An integer that is at least `min`.
  Result<int64_t> IntAtLeast(std::string_view name, int64_t min) const;
  /// A non-negative integer.
  Result<uint64_t> Uint(std::string_view name) const;
  /// An array, its elements unchecked.
  Result<const Array*> List(std::string_view name) const;
  /// An object, whose members are returned in input order.
  Result<const Object*> Members(std::string_view name) const;
  /// An object, read by a reader named `<document> "<name>"`.
  Result<JsonObjectReader> Child(std::string_view name) const;
  /// An array of objects, each read by a reader named `<document> "<name>"[<i>]`.
  Result<std::vector<JsonObjectReader>> Children(std::string_view name) const;
  /// A key-group range written as `[begin, end]` (KeyGroupsToJson), with
  /// 0 <= begin < end <= kMaxKeyGroups.
  Result<KeyGroupRange> KeyGroups(std::string_view name) const;

  // --- Optional members: nullopt when absent or null. Errors: present and not of the type.

  Result<std::optional<std::string>> OptionalString(std::string_view name) const;
  Result<std::optional<bool>> OptionalBool(std::string_view name) const;
  Result<std::optional<int64_t>> OptionalInt(std::string_view name) const;
  Result<const Array*> OptionalList(std::string_view name) const;  // null when absent

  // --- Checks and errors.

  /// Check the "format" (a string) and "version" (an integer) members that versioned documents
  /// start with. Errors: either missing or of the wrong type, or
  /// `<document> has format "<f>" version <v>; this Pulse reads "<format>" version <version>`.
  Status CheckFormat(std::string_view format, int64_t version) const;

  /// The reader's error about member `name`: `<document>: "<name>" <what>`, e.g.
  /// Invalid("file", "is not a file of this sink").
  Status Invalid(std::string_view name, std::string_view what) const;

  /// The reader's error about the whole document: `<document> <what>`.
  Status Error(std::string_view what) const;

  const std::string& document() const { return document_; }
  const Value& value() const { return *value_; }

 private:
  JsonObjectReader(const Value& value, std::string document, StatusCode code)
      : value_(&value), document_(std::move(document)), code_(code) {}
  Result<const Value*> Typed(std::string_view name, Value::Type type) const;
  Result<const Value*> OptionalTyped(std::string_view name, Value::Type type) const;

  const Value* value_;
  std::string document_;
  StatusCode code_;
};

/// A key-group range as JsonObjectReader::KeyGroups reads it: `[begin, end]`.
Value KeyGroupsToJson(KeyGroupRange key_groups);

}  // namespace pulse
