// SPDX-License-Identifier: MIT
// FieldCheck: fields a plan reads that the data never has, found in the first records.
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "pulse/plan/plan.h"

namespace pulse::plan {
namespace {

// Names of the data kept as candidates for "did you mean".
constexpr size_t kMaxNamesSeen = 1000;

// Edits between a and b (insert, delete, replace, swap two neighbours), case-insensitive.
size_t EditDistance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The candidate closest to `word`: a different case counts as no edit; names shorter than 6
// characters allow one edit, longer ones two; the first on ties.
std::string Closest(std::string_view word, const std::vector<std::string>& candidates) {
  const size_t limit = word.size() < 6 ? 1 : 2;
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace

FieldCheck::FieldCheck(std::vector<std::pair<std::string, std::string>> fields_and_uses,
                       uint64_t records_to_check)
    : fields_(std::move(fields_and_uses)),
      records_to_check_(records_to_check),
      seen_(fields_.size(), false) {
  if (fields_.empty()) done_.store(true);
}

void FieldCheck::OnWarning(std::function<void(std::string_view)> callback) {
  on_warning_ = std::move(callback);
}

void FieldCheck::CountIn(metrics::Counter* counter) { counter_ = counter; }

void FieldCheck::Observe(const Value& record) {
  if (done_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (done_.load(std::memory_order_relaxed)) return;
  if (record.is_object()) {
    for (const auto& [name, value] : record.as_object()) {
      (void)value;
      if (names_seen_.size() < kMaxNamesSeen &&
          std::find(names_seen_.begin(), names_seen_.end(), name) == names_seen_.end()) {
        names_seen_.push_back(name);
      }
    }
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (!seen_[i] && record.Find(fields_[i].first) != nullptr) seen_[i] = true;
    }
  }
  if (++records_ >= records_to_check_) Decide();
}

void FieldCheck::Finish() {
  if (done_.load()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!done_.load()) Decide();
}

void FieldCheck::Decide() {
  done_.store(true);
  if (records_ == 0) return;  // no data, nothing to say
  std::vector<std::string> warnings;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (seen_[i]) continue;
    Missing m{fields_[i].first, fields_[i].second, Closest(fields_[i].first, names_seen_)};
    std::string text =
        records_ >= records_to_check_
            ? fmt::format("{}: field '{}' is in none of the first {} records", m.used_in,
                          m.field, records_)
            : fmt::format("{}: field '{}' is in none of the {} records", m.used_in, m.field,
                          records_);
    if (!m.suggestion.empty()) text += fmt::format(" (did you mean '{}'?)", m.suggestion);
    warnings.push_back(std::move(text));
    missing_.push_back(std::move(m));
    if (counter_ != nullptr) counter_->Increment();
  }
  done_.store(true);
  if (on_warning_) {
    for (const std::string& w : warnings) on_warning_(w);
  }
}

std::vector<FieldCheck::Missing> FieldCheck::missing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return missing_;
}

}  // namespace pulse::plan
