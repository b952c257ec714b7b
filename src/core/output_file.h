// SPDX-License-Identifier: MIT
// Forwarder: OutputFile and AppendUtf8Lossy are public now (pulse/core/output_file.h). Kept so
// that code naming pulse::internal::OutputFile still builds; new code includes the public
// header.
#pragma once

#include "pulse/core/output_file.h"

namespace pulse::internal {

using ::pulse::AppendUtf8Lossy;
using ::pulse::OutputFile;

}  // namespace pulse::internal
