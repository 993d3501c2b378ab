#pragma once
// placeholder
#include <otter/detail/config.hpp>
