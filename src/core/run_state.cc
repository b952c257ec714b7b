// SPDX-License-Identifier: MIT
// FirstError: the first error of any stage stops the run.
#include "core/run_state.h"

#include <utility>

namespace pulse::internal {

void FirstError::Report(Status status) {
  if (status.ok()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.ok()) first_ = std::move(status);
  }
  failed_.store(true);
  channels_.CloseAll();
}

Status FirstError::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_;
}

}  // namespace pulse::internal
