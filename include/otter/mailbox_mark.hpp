#pragma once
// otter::mailbox_mark — a position in the calling process's mailbox, so that a
// receive can skip everything queued before it (OTP's receive optimisation for
// `Ref = make_ref(), Pid ! {req, Ref}, receive {Ref, Reply} -> ... end`).

#include <otter/detail/config.hpp>

#include <otter/detail/envelope.hpp>
#include <otter/detail/pcb.hpp>

namespace otter {

/// Marks the end of the calling process's mailbox as it is now. A receive given
/// the mark, `co_await otter::receive(mark, clauses...)`, looks only at the
/// messages that arrived after the mark was made; those queued before it stay
/// queued, in order, and later receives see them as usual. That makes waiting
/// for the answer to a request just sent cost the same whether 0 or 100,000
/// other messages are queued:
///
/// ```
/// otter::mailbox_mark mark;                          // before the request goes out
/// otter::send(server, query{otter::self(), tag});
/// auto answer = co_await otter::receive(mark,
///     otter::when([tag](const reply& r) { return r.tag == tag; }, [](reply r) { return r; }));
/// ```
///
/// The mark stays exact while the process receives other messages in between,
/// including the message just before the mark. It belongs to the process that
/// made it: it is neither copyable nor movable, lives in that process's frame,
/// and a receive in any other process that is given it throws std::logic_error.
/// Marks nest; each costs a few words until it is destroyed. Making one outside
/// a process throws std::logic_error.
class mailbox_mark {
public:
  mailbox_mark();
  ~mailbox_mark();
  mailbox_mark(const mailbox_mark&) = delete;
  mailbox_mark& operator=(const mailbox_mark&) = delete;

  /// The link after which the messages that came after the mark begin (the
  /// runtime keeps it exact as messages are taken out of the mailbox).
  detail::envelope** position() const noexcept { return at_; }
  /// The process whose mailbox this marks.
  const detail::pcb& owner() const noexcept { return *owner_; }

private:
  friend void detail::move_marks(detail::pcb&, detail::envelope**, detail::envelope**) noexcept;
  detail::pcb* owner_;
  detail::envelope** at_;
  mailbox_mark* older_ = nullptr; // the process's other live marks
};

} // namespace otter
