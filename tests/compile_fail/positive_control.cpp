// expect: success
// flags: -Wall -Wextra -Wpedantic -Werror
// Every form the checks accept, so that the runner cannot pass by always failing.
#include <chrono>
#include <memory>
#include <string>

#include <otter/gen_server.hpp>
#include <otter/supervisor.hpp>
#include <otter/timer.hpp>

namespace gs = otter::gen_server;
using namespace std::chrono_literals;

struct get {};
struct later {
  using reply_type = int;
};
struct add {
  int n;
};
struct tick {};

struct typed_info {
  void init(int start) { value = start; }
  int handle_call(get) { return value; }
  void handle_call(later, gs::reply_to<int> from) { from.reply(value); }
  void handle_cast(add a) { value += a.n; }
  otter::task<> handle_info(const tick&) { co_await otter::sleep(1ms); }
  void terminate() {}
  int value = 0;
};

struct listed_info {
  using info_types = gs::info<tick, otter::down_message>;
  explicit listed_info(std::string n) : name(std::move(n)) {}
  std::string handle_call(get) { return name; }
  void handle_info(tick) {}
  void handle_info(otter::down_message&&) {}
  void handle_info(otter::message) {}
  otter::task<> terminate(const otter::exit_reason&) { co_return; }
  std::string name;
};

struct catch_all_only final {
  gs::init_result init() { return gs::init_result::ok; }
  void handle_info(otter::message) {}
  void terminate(otter::exit_reason) {}
};

otter::process worker(std::shared_ptr<int> shared, int n) {
  (void)shared, (void)n;
  co_await otter::receive<int>();
}

otter::process client() {
  auto a = (co_await gs::start_link<typed_info>(1)).value();
  int v = co_await gs::call(a, get{});
  int w = co_await gs::call(a, later{});
  auto r = co_await gs::try_call(a, get{}, 10ms);
  gs::cast(a, add{v + w + (r ? 1 : 0)});
  auto b = (co_await gs::start_link<listed_info>(std::string("b"))).value();
  std::string name = co_await gs::call(b, get{});
  auto c = co_await gs::start_link<catch_all_only>();
  (void)c;
  co_await gs::stop(a);
  auto spec = otter::child_spec::worker("w", worker, std::make_shared<int>(1), 2);
  auto server_spec = otter::child_spec::server<typed_info>("s", 3);
  (void)spec, (void)server_spec;
  otter::spawn(worker, std::make_shared<int>(2), 3);
  co_await otter::sleep(1ms);
  co_await otter::yield();
}
