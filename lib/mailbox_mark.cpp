#include <otter/mailbox_mark.hpp>

#include <stdexcept>

#include <otter/detail/runtime.hpp>
#include <otter/receive.hpp>

#include "process_ext.hpp"

namespace otter {

// A process's live marks form a list, newest first, headed in its process_ext.
// Taking an envelope out of the mailbox calls move_marks only while the list is
// not empty (pcb_flag::marked), so processes without marks pay one flag test.

mailbox_mark::mailbox_mark() : owner_(&detail::current_process("otter::mailbox_mark")), at_(owner_->mailbox_tail) {
  detail::process_ext& ext = detail::ext_of(*owner_);
  older_ = ext.marks;
  ext.marks = this;
  owner_->flags |= detail::pcb_flag::marked;
}

mailbox_mark::~mailbox_mark() {
  // Runs in the owning process (its frame is destroyed on its own core, before
  // its mailbox and process_ext are freed).
  detail::process_ext* ext = owner_->ext;
  if (ext == nullptr) return;
  for (mailbox_mark** link = &ext->marks; *link != nullptr; link = &(*link)->older_) {
    if (*link == this) {
      *link = older_;
      break;
    }
  }
  if (ext->marks == nullptr) owner_->flags &= static_cast<std::uint8_t>(~detail::pcb_flag::marked);
}

namespace detail {

void throw_foreign_mark() {
  throw std::logic_error("otter::receive: the mailbox_mark belongs to another process (a mark is only "
                         "good in the process that made it)");
}

void move_marks(pcb& p, envelope** from, envelope** to) noexcept {
  for (mailbox_mark* m = p.ext != nullptr ? p.ext->marks : nullptr; m != nullptr; m = m->older_)
    if (m->at_ == from) m->at_ = to;
}

} // namespace detail
} // namespace otter
