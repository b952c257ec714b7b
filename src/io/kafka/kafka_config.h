// SPDX-License-Identifier: MIT
// What the Kafka declarations (kafka_declaration.cc, always built) and factories
// (kafka_connector.cc, built with PULSE_HAVE_KAFKA) share about a Kafka config.
#pragma once

#include <string>
#include <vector>

#include "pulse/core/connector_registry.h"

namespace pulse::io::internal {

/// The topics of a Kafka source config: `topics`, then `topic` when it is not among them.
std::vector<std::string> KafkaTopicsOf(const ConnectorConfig& config);

}  // namespace pulse::io::internal
