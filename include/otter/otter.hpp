#pragma once
// All of otter's public API: every header under include/otter/ except detail/.
// (tests/packaging/check-headers keeps this list complete.)

#include <otter/detail/config.hpp>

#include <otter/blocking.hpp>
#include <otter/dist/codec.hpp>
#include <otter/dist/node_table.hpp>
#include <otter/dist/term.hpp>
#include <otter/errors.hpp>
#include <otter/exit_reason.hpp>
#include <otter/file.hpp>
#include <otter/gen_server.hpp>
#include <otter/io_result.hpp>
#include <otter/link.hpp>
#include <otter/logger.hpp>
#include <otter/mailbox_limit.hpp>
#include <otter/mailbox_mark.hpp>
#include <otter/message.hpp>
#include <otter/monitor.hpp>
#include <otter/net/address.hpp>
#include <otter/net/http.hpp>
#include <otter/net/http_server.hpp>
#include <otter/net/server.hpp>
#include <otter/net/tcp.hpp>
#include <otter/net/udp.hpp>
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
