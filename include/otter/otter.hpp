#pragma once
// All of otter's public API.

#include <otter/errors.hpp>
#include <otter/exit_reason.hpp>
#include <otter/gen_server.hpp>
#include <otter/link.hpp>
#include <otter/logger.hpp>
#include <otter/message.hpp>
#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/pid.hpp>
#include <otter/process.hpp>
#include <otter/receive.hpp>
#include <otter/ref.hpp>
#include <otter/registry.hpp>
#include <otter/result.hpp>
#include <otter/send.hpp>
#include <otter/spawn.hpp>
#include <otter/supervisor.hpp>
#include <otter/task.hpp>
#include <otter/timer.hpp>
