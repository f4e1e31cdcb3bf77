#pragma once
// The few vocabulary types every part of the agent shares.
#include <chrono>

namespace envprobe {

using Duration = std::chrono::milliseconds;

enum class Tier { Prod, NonProd };
enum class Visibility { Internal, Public };
enum class AddressMode { First, All };

const char* toString(Tier tier);
const char* toString(Visibility visibility);
const char* toString(AddressMode mode);

}  // namespace envprobe
