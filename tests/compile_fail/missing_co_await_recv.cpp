// expect: tcp_socket::recv does nothing until you co_await it
// flags: -Werror=unused-result
#include <otter/net/tcp.hpp>
#include <otter/process.hpp>

otter::process body(otter::net::tcp_socket socket) {
  socket.recv();
  co_return;
}
