#include <otter/gen_server.hpp>

// A bounded soak: gen_servers on both cores are killed, over and over, while a
// coroutine handler waits (on a timer, in a receive, inside nested tasks, in a
// cast or a handle_info). Every request and message must be freed with the
// server. It is worth most under ASan, where anything left behind is a leak
// report at exit; in every build it counts the live request payloads.

#include <atomic>
#include <chrono>
#include <vector>

#include <otter/monitor.hpp>
#include <otter/node.hpp>
#include <otter/receive.hpp>
#include <otter/timer.hpp>

#include "support/await.hpp"
#include "support/otter_test.hpp"

using namespace otter_test;
namespace gs = otter::gen_server;

namespace {

constexpr int max_kills = 20'000;
constexpr auto max_time = std::chrono::seconds(3);
constexpr int batch = 64; // servers killed together

// Counts its live instances: a payload left alive is a request leaked.
struct tracked {
  static inline std::atomic<int> alive{0};
  tracked() noexcept { alive.fetch_add(1); }
  tracked(const tracked&) noexcept { alive.fetch_add(1); }
  tracked(tracked&&) noexcept { alive.fetch_add(1); }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() { alive.fetch_sub(1); }
};

enum class wait_kind { timer, receive, nested };

struct hold_call {
  explicit hold_call(wait_kind k) noexcept : kind(k) {}
  hold_call() noexcept {}
  wait_kind kind = wait_kind::timer;
  tracked t;
};
struct hold_cast {
  hold_cast() noexcept {}
  tracked t;
};
struct hold_info {
  hold_info() noexcept {}
  tracked t;
};
struct never_sent {};
struct entered {};

class victim {
public:
  void init(otter::pid observer) { observer_ = observer; }

  otter::task<int> handle_call(const hold_call& c) {
    otter::send(observer_, entered{});
    switch (c.kind) {
    case wait_kind::timer:
      co_await otter::sleep(patience);
      break;
    case wait_kind::receive:
      co_await otter::receive([](never_sent) {}, otter::after(patience, [] {}));
      break;
    case wait_kind::nested:
      co_await outer();
      break;
    }
    co_return 0;
  }
  otter::task<> handle_cast(const hold_cast&) {
    otter::send(observer_, entered{});
    co_await outer();
  }
  otter::task<> handle_info(const hold_info&) {
    otter::send(observer_, entered{});
    co_await otter::sleep(patience);
  }

private:
  otter::task<> inner() {
    tracked t; // a frame deep in the chain owns something too
    co_await otter::sleep(patience);
  }
  otter::task<> outer() { co_await inner(); }

  otter::pid observer_;
};

otter::process caller(otter::server_ref<victim> server, wait_kind kind) {
  hold_call req(kind);
  auto r = co_await gs::try_call(server, std::move(req), gs::infinity);
  (void)r;
}

struct soak_result {
  int kills = 0;
  int missing = 0; // handlers or DOWNs that did not come within patience
};

otter::process soak(soak_result* out) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<otter::ref> watches;
  std::vector<otter::server_ref<victim>> servers;
  watches.reserve(2 * batch);
  servers.reserve(batch);
  int round = 0;
  while (out->kills < max_kills && std::chrono::steady_clock::now() - t0 < max_time && out->missing == 0) {
    servers.clear();
    watches.clear();
    for (int i = 0; i < batch; ++i) {
      gs::start_options o;
      o.spawn = otter::on_scheduler(static_cast<unsigned>(i % 2));
      auto s = co_await gs::start<victim>(o, otter::self());
      if (!s) {
        ++out->missing;
        co_return;
      }
      servers.push_back(s.value());
      switch ((i + round) % 5) {
      case 0:
      case 1:
      case 2:
        watches.push_back(otter::monitor(otter::spawn(caller, s.value(), static_cast<wait_kind>((i + round) % 5))));
        break;
      case 3:
        gs::cast(s.value(), hold_cast());
        break;
      default:
        otter::send(s.value().pid(), hold_info());
        break;
      }
    }
    for (int i = 0; i < batch; ++i) {
      const bool in = co_await otter::receive([](entered) { return true; }, otter::after(patience, [] { return false; }));
      if (!in) ++out->missing;
    }
    for (auto& s : servers) {
      watches.push_back(otter::monitor(s.pid()));
      otter::exit(s.pid(), otter::exit_reason::kill());
    }
    for (const otter::ref& w : watches) {
      auto d = co_await down_of(w);
      if (!d) ++out->missing;
    }
    out->kills += batch;
    ++round;
  }
}

} // namespace

TEST_CASE("soak - gen_servers killed inside coroutine handlers free everything", "[gen_server][soak]") {
  const int before = tracked::alive.load();
  soak_result r;
  otter::node_options o = two_cores();
  o.log.reports = false;
  run(o, soak, &r);
  INFO("servers killed: " << r.kills);
  CHECK(r.missing == 0);
  CHECK(r.kills >= batch);
  CHECK(tracked::alive.load() == before);
}
