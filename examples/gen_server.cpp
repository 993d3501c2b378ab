// gen_server: a key-value store as an OTP generic server.
//
// A server is a plain class: its handlers are overloads picked by the request
// type, and server_ref<kv_store> checks every call against them at compile
// time. Shows calls, casts, a deferred reply, plain messages in a typed
// handle_info, a timeout, and a call to a server that is gone. Run: build/examples/gen_server

#include <otter/otter.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace gs = otter::gen_server;

// Requests. Types with constructors are safe to build inside a co_await
// expression with g++ 12 (see docs/gcc12.md).
struct put {
  put(std::string k, int v) : key(std::move(k)), value(v) {}
  std::string key;
  int value;
};
struct get {
  explicit get(std::string k) : key(std::move(k)) {}
  std::string key;
};
struct wait_for { // replied to only once the key exists
  explicit wait_for(std::string k) : key(std::move(k)) {}
  using reply_type = int;
  std::string key;
};
struct clear {};
struct expire {}; // a plain message (not a call or cast): goes to handle_info

class kv_store {
public:
  void init(std::string greeting) { std::printf("kv_store: %s\n", greeting.c_str()); }

  // A call's reply is what its handler returns...
  std::optional<int> handle_call(const get& g) {
    auto it = data_.find(g.key);
    return it == data_.end() ? std::nullopt : std::optional<int>(it->second);
  }
  bool handle_call(put p) {
    const bool fresh = !data_.contains(p.key);
    data_[p.key] = p.value;
    for (auto& w : waiting_[p.key]) w.reply(p.value); // deferred replies, now due
    waiting_.erase(p.key);
    return fresh;
  }
  // ...or comes later, through the reply_to the handler keeps.
  void handle_call(wait_for w, gs::reply_to<int> from) {
    if (auto it = data_.find(w.key); it != data_.end())
      from.reply(it->second);
    else
      waiting_[w.key].push_back(from);
  }

  // Casts get no reply.
  void handle_cast(clear) { data_.clear(); }

  // Plain messages go to handle_info, picked by type like the other handlers.
  // (Several overloads? List their types: using info_types = gs::info<expire, tick>;)
  void handle_info(expire) {
    std::printf("kv_store: expire arrived as a plain message; dropping %zu keys\n", data_.size());
    data_.clear();
  }

  void terminate(const otter::exit_reason& why) { std::printf("kv_store: terminating (%s)\n", why.to_string().c_str()); }

private:
  std::map<std::string, int> data_;
  std::map<std::string, std::vector<gs::reply_to<int>>> waiting_;
};

otter::process client(otter::server_ref<kv_store> store) {
  wait_for request("answer");
  const int answer = co_await gs::call(store, std::move(request)); // waits for another process's put
  std::printf("client: the answer arrived: %d\n", answer);
}

otter::process main_process() {
  // start_link runs init in the new process and returns once it is done.
  const auto store = (co_await gs::start_link<kv_store>(gs::start_options().named("kv"), std::string("hello"))).value();

  otter::spawn(client, store);
  co_await otter::yield(); // the client's call is now waiting inside the server

  const bool fresh = co_await gs::call(store, put("answer", 42));
  std::printf("put answer: %s key\n", fresh ? "new" : "existing");

  // Calls by registered name look the name up each time.
  const auto by_name = otter::server_ref<kv_store>::named("kv");
  const std::optional<int> value = co_await gs::call(by_name, get("answer"));
  std::printf("get answer: %d\n", value.value_or(-1));

  gs::cast(store, clear{});
  const std::optional<int> gone = co_await gs::call(store, get("answer"));
  std::printf("after clear: %s\n", gone ? "still there" : "gone");

  co_await gs::call(store, put("again", 1));
  otter::send(store.pid(), expire{}); // handled by handle_info(expire)
  const std::optional<int> expired = co_await gs::call(store, get("again"));
  std::printf("after expire: %s\n", expired ? "still there" : "gone");

  // A call that gets no reply in time fails with `timeout` (try_call returns a
  // result instead of throwing).
  const auto late = co_await gs::try_call(store, wait_for("never"), 50ms);
  std::printf("wait_for never: %s\n", late ? "answered" : late.error().to_string().c_str());

  // Stop it (terminate runs), then calls fail with noproc.
  co_await gs::stop(store);
  const auto after_stop = co_await gs::try_call(store, get("answer"));
  std::printf("call after stop: %s\n", after_stop.error().to_string().c_str());
}

int main() {
  try {
    otter::node node;
    return node.run(main_process);
  } catch (const otter::runtime_unavailable& e) {
    // The kernel refused io_uring (a seccomp policy, an old kernel...): say why.
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
