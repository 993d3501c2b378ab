#include <otter/blocking.hpp>

#include <algorithm>
#include <system_error>

#include <pthread.h>

#include "blocking_pool.hpp"
#include "node_state.hpp"
#include "scheduler.hpp"

namespace otter::detail {

namespace {

void free_job(envelope* e) noexcept {
  auto* job = static_cast<blocking_job*>(e);
  job->free(job);
}

// Back on the waiting process's scheduler: wake the process, or free the job
// if the process is gone.
void job_arrived(envelope* e, scheduler& s) {
  auto* job = static_cast<blocking_job*>(e);
  s.blocking_returned();
  job->done = true;
  pcb* p = job->process;
  if (p == nullptr) {
    job->free(job); // its process was killed while the work ran
    return;
  }
  // Waiting in the awaiter (a kill may have made it ready already; then the
  // awaiter frees the job as the process is torn down).
  if (p->state == run_state::waiting) wake(*p);
}

constexpr type_tag blocking_tag{&free_job, &job_arrived};

} // namespace

void throw_blocking_cancelled() {
  throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                          "otter::blocking: the node shut down before the work ran");
}

void submit_blocking(blocking_job* job) {
  scheduler& s = current_scheduler("otter::blocking");
  job->tag = &blocking_tag;
  job->scheduler = s.index();
  s.node().blocking().submit(job);
  s.blocking_sent();
}

blocking_pool::blocking_pool(node_state& node, unsigned max_threads, std::chrono::nanoseconds keep_alive)
    : node_(node), max_threads_(std::max(1u, max_threads)), keep_alive_(keep_alive) {}

blocking_pool::~blocking_pool() { shutdown(); }

void blocking_pool::submit(blocking_job* job) {
  std::unique_lock lock(mutex_);
  if (stopping_) throw std::system_error(std::make_error_code(std::errc::operation_canceled),
                                         "otter::blocking: the node is shutting down");
  reap_finished();
  queue_.push_back(job);
  if (idle_ >= queue_.size()) {
    work_.notify_one();
    return;
  }
  if (threads_.size() < max_threads_) {
    try {
      threads_.emplace_back([this] { worker(); });
    } catch (const std::system_error&) {
      if (threads_.empty()) { // nobody could ever run it
        queue_.pop_back();
        throw;
      }
      // Otherwise a running thread takes it when it is free.
    }
  }
}

void blocking_pool::worker() {
  (void)::pthread_setname_np(::pthread_self(), "otter-blocking");
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) break;
      ++idle_;
      const bool woke = work_.wait_for(lock, keep_alive_, [this] { return !queue_.empty() || stopping_; });
      --idle_;
      if (!woke) break; // idle for keep_alive: leave
      continue;
    }
    blocking_job* job = queue_.front();
    queue_.pop_front();
    lock.unlock();
    job->run(job);
    job->ran = true;
    give_back(job);
    lock.lock();
  }
  finished_.push_back(std::this_thread::get_id());
}

void blocking_pool::give_back(blocking_job* job) noexcept {
  // Into its scheduler's inbox, as any thread may; it wakes the scheduler.
  node_.schedulers[job->scheduler]->push(job, job);
}

void blocking_pool::reap_finished() {
  // Called with the mutex held. A finished thread has left its loop; joining it
  // here waits at most for its last few instructions.
  for (std::thread::id id : finished_) {
    auto it = std::find_if(threads_.begin(), threads_.end(), [id](const std::thread& t) { return t.get_id() == id; });
    if (it != threads_.end()) {
      it->join();
      threads_.erase(it);
    }
  }
  finished_.clear();
}

void blocking_pool::shutdown() {
  std::vector<std::thread> running;
  std::deque<blocking_job*> unstarted;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    unstarted.swap(queue_);
    running.swap(threads_);
    finished_.clear();
  }
  work_.notify_all();
  for (blocking_job* job : unstarted) give_back(job); // unrun: their processes are gone
  for (std::thread& t : running) t.join();
}

} // namespace otter::detail
