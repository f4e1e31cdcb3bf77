#pragma once
// Why a listen address cannot be bound, in the operating system's words ("Address already in
// use", "Cannot assign requested address", "Permission denied"), for the error an operator sees
// when the endpoint cannot start. civetweb only says it could not bind.
#include <optional>
#include <string>

namespace envprobe {

// Binds a TCP socket to `listen` (":9470", "127.0.0.1:9470", "[::1]:9470") and closes it at
// once; the reason it failed, or nullopt when it could bind.
std::optional<std::string> bindFailure(const std::string& listen);

}  // namespace envprobe
