// chat_server: a line-based TCP chat, showing registered names, gen_servers
// and supervision working together. SIGINT or SIGTERM stops it gracefully.
//
//   top (one_for_one)
//   ├── rooms (simple_one_for_one, registered "rooms")
//   │   └── room gen_servers, started on demand, each registered "room:<name>"
//   ├── lobby — a gen_server registered "lobby": finds or creates a room
//   └── chat  — the TCP server: one process per connection
//
//   build/examples/chat_server --port 7070 --schedulers 2
//   nc 127.0.0.1 7070          (in two terminals: /nick ann, /join tea, hello)
//
// A room monitors its members, and they monitor it: the hidden command /crash
// makes a room throw, and its members rejoin a fresh one through the lobby.
//
// A member who stops reading cannot take the server's memory: each
// connection's mailbox holds at most `max_queued_lines` lines (a bounded
// mailbox that refuses senders when full), the room disconnects a member whose
// mailbox refuses a line, and a send the client does not take within the
// socket's send timeout ends the connection. A member who talks faster than
// the room passes lines on waits for each (a line is a call to the room), so
// the room's own mailbox stays small too.

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <otter/net/server.hpp>
#include <otter/otter.hpp>

#include "server_cli.hpp"

namespace net = otter::net;
namespace gs = otter::gen_server;
namespace sup = otter::supervisor;

constexpr std::size_t max_line = 4096;
constexpr std::size_t max_name = 32;
constexpr std::uint32_t max_queued_lines = 256; // lines waiting for a slow member

// Requests. Those owning strings have constructors, so they are safe to build
// inside a co_await expression with g++ 12 (see docs/gcc12.md).
struct find_room { // lobby: the room's pid, started if need be (null if it cannot be)
  explicit find_room(std::string n) : name(std::move(n)) {}
  std::string name;
};
struct join { // room: add (or rename) a member; replies with the member count
  join(otter::pid p, std::string n) : member(p), nick(std::move(n)) {}
  otter::pid member;
  std::string nick;
};
struct who {}; // room: the members' nicks, as a line
struct say {   // room: send a line to the other members (a call: see on_line)
  say(otter::pid p, std::string t) : from(p), text(std::move(t)) {}
  otter::pid from;
  std::string text;
};
struct leave {
  otter::pid member;
};
struct crash_room {}; // room: throw (let it crash)

// What a room sends its members: a line for the user, ready to write.
struct room_line {
  std::string text;
};

// A room: its members are connection processes, which it monitors, so a member
// that vanishes is dropped on its DOWN. Empty, the room stops (normally).
class chat_room {
public:
  void init(std::string name) { name_ = std::move(name); }

  std::size_t handle_call(join j) {
    auto [it, fresh] = members_.try_emplace(j.member);
    if (fresh) it->second.watch = otter::monitor(j.member);
    it->second.nick = std::move(j.nick);
    return members_.size();
  }
  std::string handle_call(who) {
    std::vector<std::string> nicks;
    for (const auto& [pid, m] : members_) nicks.push_back(m.nick);
    std::sort(nicks.begin(), nicks.end());
    std::string line = "in " + name_ + ":";
    for (std::size_t i = 0; i < nicks.size(); ++i) line += (i == 0 ? " " : ", ") + nicks[i];
    return line;
  }

  bool handle_call(say s) {
    auto from = members_.find(s.from);
    if (from == members_.end()) return false; // left meanwhile
    const std::string line = "[" + name_ + "] " + from->second.nick + ": " + s.text + "\n";
    std::vector<otter::pid> too_slow;
    for (const auto& [pid, m] : members_)
      if (pid != s.from && !otter::try_send(pid, room_line{line})) too_slow.push_back(pid);
    // A member whose mailbox is full has not read its last max_queued_lines
    // lines: disconnect it (killed: it may be stuck writing to its socket).
    for (const otter::pid pid : too_slow) {
      otter::exit(pid, otter::exit_reason::killed());
      if (auto it = members_.find(pid); it != members_.end()) {
        otter::demonitor(it->second.watch, true);
        drop(it);
      }
    }
    return true;
  }
  void handle_cast(leave l) {
    if (auto it = members_.find(l.member); it != members_.end()) {
      otter::demonitor(it->second.watch, true);
      drop(it);
    }
  }
  void handle_cast(crash_room) { throw std::runtime_error("room " + name_ + " was asked to crash"); }

  void handle_info(otter::message m) {
    if (auto* down = m.get_if<otter::down_message>())
      if (auto it = members_.find(down->process); it != members_.end()) drop(it);
  }

private:
  struct member {
    std::string nick;
    otter::ref watch;
  };
  void drop(std::map<otter::pid, member>::iterator it) {
    members_.erase(it);
    if (members_.empty()) gs::stop_self();
  }

  std::string name_;
  std::map<otter::pid, member> members_;
};

// Starts a gen_server linked to the caller (a supervisor), registered as `name`.
template <class Server, class... A>
otter::task<otter::result<otter::pid>> start_named(std::string name, A... args) {
  auto started = co_await gs::start_link<Server>(gs::start_options().named(std::move(name)), std::move(args)...);
  if (!started) co_return otter::result<otter::pid>(started.error());
  co_return otter::result<otter::pid>(started->pid());
}

// The lobby finds a room by its registered name, or has the rooms supervisor
// start it. It handles one request at a time, so two users creating the same
// room at once get the same room.
class lobby {
public:
  otter::task<otter::pid> handle_call(find_room f) {
    if (const otter::pid found = otter::whereis("room:" + f.name)) co_return found;
    const otter::pid rooms = otter::whereis("rooms");
    if (!rooms) co_return otter::pid(); // being restarted
    auto started = co_await sup::start_child(rooms, f.name);
    co_return started ? *started : otter::pid();
  }
};

// Rooms are temporary children: a crashed room is not restarted by its
// supervisor; its members rejoin through the lobby, which creates it again.
// A transient room would be restarted empty (its members must rejoin anyway),
// and its restart would race the lobby for the name "room:<name>": a member
// asking the lobby before the restart registered the name gets a second room,
// and one of the two fails to start. With only the lobby creating rooms there
// is never more than one of a name — and crashes do not use up the rooms
// supervisor's restart intensity, so /crash cannot bring it down.
otter::child_spec room_spec() {
  return otter::child_spec("room",
                           [](otter::child_args& extra) {
                             auto* given = extra.get<std::tuple<std::string>>();
                             std::string name = given != nullptr ? std::get<0>(*given) : std::string();
                             return start_named<chat_room>("room:" + name, name);
                           })
      .restart(otter::restart_type::temporary);
}

// ---------------------------------------------------------------- connections

struct session {
  net::tcp_socket socket;
  std::string nick;
  std::string room_name;
  otter::server_ref<chat_room> room; // null when in no room
  otter::ref watch;                  // our monitor on the room
};

otter::task<bool> write(net::tcp_socket& socket, std::string line) {
  line += '\n';
  auto sent = co_await socket.send(line);
  co_return static_cast<bool>(sent);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > max_name) return false;
  for (const unsigned char c : name)
    if (c <= ' ' || c == 0x7f) return false;
  return true;
}

void leave_room(session& s) {
  if (!s.room) return;
  gs::cast(s.room, leave{otter::self()});
  otter::demonitor(s.watch, true);
  s.room = {};
}

// Joins room `name` through the lobby and returns how many are there. A room
// found just as it stops (its last member left) or crashes answers the join
// with its DOWN; then we ask the lobby again: by then the name is gone.
otter::task<std::optional<std::size_t>> enter(session& s, std::string name) {
  const auto lobby_ref = otter::server_ref<lobby>::named("lobby");
  for (int attempt = 0; attempt < 3; ++attempt) {
    find_room request(name);
    auto found = co_await gs::try_call(lobby_ref, std::move(request));
    if (!found || !*found) continue;
    const otter::server_ref<chat_room> joined(*found);
    join j(otter::self(), s.nick);
    auto here = co_await gs::try_call(joined, std::move(j));
    if (!here) continue;
    s.room = joined;
    s.room_name = std::move(name);
    s.watch = otter::monitor(*found); // if it died already: DOWN noproc, and we rejoin
    co_return *here;
  }
  co_return std::nullopt;
}

// One line from the user. False: close the connection.
otter::task<bool> on_line(session& s, std::string line) {
  if (line.empty()) co_return true;
  if (line[0] != '/') {
    if (!s.room) co_return co_await write(s.socket, "error: join a room first");
    // A call, not a cast: a member who talks faster than the room can pass
    // lines on waits for each to be taken, so the room's mailbox holds at most
    // one line per member (a cast would let it grow without bound).
    say line_said(otter::self(), std::move(line));
    co_await gs::try_call(s.room, std::move(line_said)); // fails only while the room restarts
    co_return true;
  }
  const std::size_t space = line.find(' ');
  const std::string command = line.substr(0, space);
  const std::string arg = space == std::string::npos ? std::string() : line.substr(space + 1);
  if (command == "/quit") {
    co_await write(s.socket, "bye");
    co_return false;
  }
  if (command == "/nick") {
    if (!valid_name(arg)) co_return co_await write(s.socket, "error: a nick is 1-32 characters, no spaces");
    s.nick = arg;
    if (s.room) {
      join rename(otter::self(), s.nick); // the room takes the new nick
      co_await gs::try_call(s.room, std::move(rename));
    }
    co_return co_await write(s.socket, "you are " + s.nick);
  }
  if (command == "/join") {
    if (!valid_name(arg)) co_return co_await write(s.socket, "error: a room name is 1-32 characters, no spaces");
    leave_room(s);
    const auto here = co_await enter(s, arg);
    if (!here) co_return co_await write(s.socket, "error: cannot join " + arg);
    co_return co_await write(s.socket, "joined " + arg + " (" + std::to_string(*here) + " here)");
  }
  if (command == "/who" || command == "/crash") {
    if (!s.room) co_return co_await write(s.socket, "error: join a room first");
    if (command == "/crash") {
      gs::cast(s.room, crash_room{});
      co_return true;
    }
    auto members = co_await gs::try_call(s.room, who{});
    std::string reply = members ? std::move(*members) : "error: the room is restarting"; // (g++ 12: no ?: in a co_await)
    co_return co_await write(s.socket, std::move(reply));
  }
  co_return co_await write(s.socket, "error: unknown command");
}

enum class event { data, room_line, room_down, closed };

// One user. In active mode the socket's data comes as messages, so the process
// waits for the user, for its room's lines and for its room's DOWN at once.
// Trapping exits turns the server's stop into a message.
otter::process chat_connection(net::tcp_socket socket) {
  otter::trap_exit(true);
  otter::set_mailbox_limit({max_queued_lines, otter::on_full::fail}); // see try_send in chat_room
  session s;
  s.socket = std::move(socket);
  s.nick = "guest" + std::to_string(s.socket.id());
  if (!co_await write(s.socket, "welcome; /nick NAME, /join ROOM, /who, /quit; anything else is said to your room"))
    co_return;
  std::string buffer, heard;
  s.socket.set_active(net::active_mode::once());
  for (;;) {
    const event e = co_await otter::receive(
        [&buffer](net::tcp_data d) {
          buffer += d.bytes;
          return event::data;
        },
        [](net::tcp_closed) { return event::closed; }, [](net::tcp_error) { return event::closed; },
        [&heard](room_line r) {
          heard = std::move(r.text);
          return event::room_line;
        },
        otter::when([&s](const otter::down_message& d) { return s.room && d.monitor == s.watch; },
                    [](otter::down_message) { return event::room_down; }),
        [](otter::exit_message) { return event::closed; }); // the server stops
    switch (e) {
    case event::data: {
      bool too_long = false;
      for (std::size_t end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n')) {
        std::string line = buffer.substr(0, end);
        buffer.erase(0, end + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        too_long = line.size() > max_line;
        if (too_long) break;
        if (!co_await on_line(s, std::move(line))) co_return;
      }
      if (too_long || buffer.size() > max_line) { // (a line still unfinished counts too)
        co_await write(s.socket, "error: line too long");
        co_return;
      }
      s.socket.set_active(net::active_mode::once());
      break;
    }
    case event::room_line:
      if (!co_await s.socket.send(heard)) co_return;
      break;
    case event::room_down: { // it crashed: rejoin a fresh one, then tell the user
      s.room = {};
      const auto here = co_await enter(s, s.room_name);
      const std::string news = here ? "room " + s.room_name + " restarted" : "error: room " + s.room_name + " is gone";
      if (!co_await write(s.socket, news)) co_return;
      break;
    }
    case event::closed:
      co_return; // the room notices through its monitor
    }
  }
}

// ---------------------------------------------------------------- the tree

otter::supervisor_flags flags(otter::restart_strategy strategy) {
  otter::supervisor_flags f;
  f.strategy = strategy;
  f.intensity = 5;
  return f;
}

// one_for_one: the children find each other by registered name at each use
// (the lobby looks up "rooms", connections "lobby"), so none holds a stale
// pid after another restarts, and none needs restarting along with it.
otter::process main_process(net::address at) {
  otter::trap_exit(true);
  net::server_options options;
  options.at = at;
  options.listen.accepted.nodelay = true;
  options.on_listening = [](const net::address& bound) {
    std::printf("chat_server listening on %u\n", static_cast<unsigned>(bound.port()));
    std::fflush(stdout);
  };
  std::vector<otter::child_spec> tree{
      otter::child_spec(
          "rooms",
          [](otter::child_args&) {
            return sup::start_link(flags(otter::restart_strategy::simple_one_for_one), {room_spec()}, "rooms");
          },
          otter::child_type::supervisor),
      otter::child_spec("lobby", [](otter::child_args&) { return start_named<lobby>("lobby"); }),
      net::server_spec("chat", std::move(options), chat_connection)};
  auto top = co_await sup::start_link(flags(otter::restart_strategy::one_for_one), std::move(tree));
  if (!top) fail_to_start(top.error()); // start_server 127.0.0.1:PORT: address already in use
  co_await serve_until_stopped(*top);
}

int main(int argc, char** argv) { return run_server(argc, argv, 7070, main_process); }
