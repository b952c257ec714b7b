// SPDX-License-Identifier: MIT
// The window rules, written once for every store of open windows: which windows an event time
// belongs to, when a window is complete, when a record is late, and how sessions merge.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "pulse/core/time.h"
#include "pulse/ops/window.h"

namespace pulse::ops::internal {

/// The fixed (tumbling or sliding) windows of one record that are still open at a watermark,
/// newest (largest start) first: every [k·slide, k·slide + size) that contains the record's
/// time and is not closed. Use as
///
///   for (FixedWindowCursor w = rules.WindowsOf(ts, watermark); w.Valid(); w.Next()) ...
///
/// A value type holding no references. Not thread-safe.
class FixedWindowCursor {
 public:
  /// Whether the cursor is at a window. False at once when the record is late for all of its
  /// windows.
  bool Valid() const { return start_ > bound_; }
  /// Requires: Valid(). The window's start, end (start + size) and index (start / slide, which
  /// numbers the windows without a division per window).
  EventTime start() const { return start_; }
  EventTime end() const { return start_ + size_; }
  int64_t index() const { return index_; }
  /// Move to the next older window.
  void Next() {
    start_ -= slide_;
    --index_;
  }

 private:
  friend class WindowRules;
  // A window [s, s + size) holds ts when s > ts − size, and is open at W when s + size + L > W:
  // both bounds in one. (Times, watermarks and durations are bounded, so nothing overflows.)
  FixedWindowCursor(EventTime ts, EventTime watermark, DurationMs size, DurationMs slide,
                    DurationMs lateness)
      : index_(FloorDiv(ts, slide)),
        start_(index_ * slide),
        bound_(std::max(ts - size, watermark - size - lateness)),
        size_(size),
        slide_(slide) {}

  int64_t index_;
  EventTime start_;
  EventTime bound_;  // windows start after it
  DurationMs size_;
  DurationMs slide_;
};

/// Where a record falls among the open sessions of its key (sorted by start): it touches the
/// sessions at positions [lo, hi), and is late when it touches none and its own window
/// [ts, ts + gap) is closed.
struct SessionPlacement {
  size_t lo = 0;
  size_t hi = 0;
  bool late = false;
};

/// The window rules of one windowed aggregation (WindowOptions: the window spec and the allowed
/// lateness L). Every store of open windows (the heap's, the state backend's) and the window
/// operator decide with these functions, so that they cannot disagree:
///
/// - Assignment. Tumbling and sliding: a record at ts belongs to every [k·slide, k·slide + size)
///   that contains ts (tumbling: slide = size). Session: a record opens [ts, ts + gap), merged
///   with every open session of its key that it overlaps or touches; a session [start, end)
///   ends at its latest event time + gap.
/// - Completion. A window [s, e) is closed at watermark W when e + L ≤ W. It is released once,
///   at the first watermark that closes it.
/// - Lateness. A record is late for a closed window. It still counts in its windows that are
///   open; a record late for all of them (for a session: touching no open session while its own
///   window is closed) is handed back as late.
///
/// Requires: options.Validate() is OK (sizes, slides and gaps are positive). A small value
/// type; immutable, so thread-safe.
class WindowRules {
 public:
  explicit WindowRules(const WindowOptions& options)
      : size_(options.window.size_ms),
        slide_(options.window.kind == WindowSpec::Kind::kTumbling ? options.window.size_ms
                                                                  : options.window.slide_ms),
        gap_(options.window.gap_ms),
        lateness_(options.allowed_lateness_ms) {}

  DurationMs size() const { return size_; }
  DurationMs slide() const { return slide_; }
  DurationMs gap() const { return gap_; }
  DurationMs lateness() const { return lateness_; }

  /// Whether a window ending at `end` is closed at `watermark` (end + L ≤ W): released, and
  /// late for any record that would fall into it.
  bool IsClosed(EventTime end, EventTime watermark) const { return end + lateness_ <= watermark; }

  /// The first watermark that closes a window ending at `end` (end + L); kMaxWatermark for
  /// kMaxWatermark, which stands for no window.
  EventTime ClosesAt(EventTime end) const {
    return end >= kMaxWatermark ? kMaxWatermark : end + lateness_;
  }

  /// The fixed windows of a record at `ts` that are open at `watermark`, newest first.
  /// Requires: a tumbling or sliding spec.
  FixedWindowCursor WindowsOf(EventTime ts, EventTime watermark) const {
    return FixedWindowCursor(ts, watermark, size_, slide_, lateness_);
  }

  /// The start of the fixed window whose index (start / slide) is `index`.
  EventTime WindowStart(int64_t index) const { return index * slide_; }

  /// The end of a session whose latest event time is `last`.
  EventTime SessionEnd(EventTime last) const { return last + gap_; }

  /// Where a record at `ts` falls among `sessions` (open sessions of one key: disjoint, sorted
  /// by start, none touching another) at `watermark`. S has `start` and `last` (the latest
  /// event time).
  template <typename S>
  SessionPlacement PlaceSession(std::span<const S> sessions, EventTime ts,
                                EventTime watermark) const {
    SessionPlacement p;
    while (p.lo < sessions.size() && SessionEnd(sessions[p.lo].last) < ts) ++p.lo;
    p.hi = p.lo;
    while (p.hi < sessions.size() && sessions[p.hi].start <= ts + gap_) ++p.hi;
    p.late = p.lo == p.hi && IsClosed(ts + gap_, watermark);
    return p;
  }

  /// Replace sessions[p.lo, p.hi) by one session: `fresh` (the record's own: start = last = its
  /// time, its input added to the accumulator) merged with each of them in order (earliest
  /// start, latest last, accumulators folded in with Accumulator::Merge). Calls
  /// `on_part(const S& part)` for each of them before it is folded in, so that a store can
  /// drop what it keeps about the part. Returns the merged session, in the list.
  /// Requires: p came from PlaceSession on `*sessions` and p.late is false.
  template <typename S, typename OnPart>
  S& MergeSession(std::vector<S>* sessions, SessionPlacement p, S fresh, OnPart&& on_part) const {
    for (size_t i = p.lo; i < p.hi; ++i) {
      S& part = (*sessions)[i];
      on_part(static_cast<const S&>(part));
      fresh.start = std::min(fresh.start, part.start);
      fresh.last = std::max(fresh.last, part.last);
      fresh.acc.Merge(std::move(part.acc));
    }
    if (p.hi - p.lo == 1) {
      (*sessions)[p.lo] = std::move(fresh);
    } else {
      sessions->erase(sessions->begin() + static_cast<std::ptrdiff_t>(p.lo),
                      sessions->begin() + static_cast<std::ptrdiff_t>(p.hi));
      sessions->insert(sessions->begin() + static_cast<std::ptrdiff_t>(p.lo), std::move(fresh));
    }
    return (*sessions)[p.lo];
  }

 private:
  DurationMs size_;
  DurationMs slide_;
  DurationMs gap_;
  DurationMs lateness_;
};

}  // namespace pulse::ops::internal
