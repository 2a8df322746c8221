#pragma once
// Link<Message>: a one-way typed channel between two actors in virtual time.
//
//   auto plan = co_await downlink.receive();                  // throws on error
//   co_await device.compute(flops);
//   auto [ec] = co_await uplink.send(Activations{...}, bytes);
//   auto [ec2, grad] = co_await downlink.receive_for(30s);    // errc::timeout
//
// Why not asio::experimental::channel: the kernel must know which actor waits
// on which link to report deadlocks, a receive with a virtual deadline must
// be one operation rather than a race of two coroutines, and delivery order
// must follow the kernel's (time, sequence) order. This mailbox is a small
// FIFO queue plus a FIFO of waiting receivers, completed through Asio
// handlers, so it composes with use_awaitable, as_tuple, deferred, parallel
// groups and the || operator like a channel does.
//
// Payload ownership: send() takes the message by value (move it in; it is
// never copied). The link owns it while it is in flight, destroys it if the
// transfer fails, and hands it to exactly one receiver on arrival. The wire
// size is declared separately (`bytes`), so a codec can shrink the cost
// without touching the tensors.
//
// Toolchain note: g++ 12 mishandles a temporary that owns resources when it
// appears inside a co_await expression (it is destroyed twice; this happens
// with plain Asio operations too). The project builds with g++ (clang 14
// rejects LibTorch 1.13's headers in C++20), so build the operation first and
// await it by name:
//   auto sending = uplink.send(Activations{...}, bytes);  co_await std::move(sending);
#include "simulator/core/link_core.hpp"
#include "simulator/core/state_codec.hpp"

#include <boost/asio/as_tuple.hpp>

#include <concepts>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace sflsim::core {

// A message type that checkpoints can save while it waits unread in a
// mailbox: it provides save_message(StateWriter&, const M&) and
// load_message(StateReader&, M&), found by argument-dependent lookup.
template <typename M>
concept SavableMessage = requires(const M& m, M& out, StateWriter& w, StateReader& r) {
  save_message(w, m);
  load_message(r, out);
};

// A message must be movable, and default-constructible so that a failed
// receive can complete with (error, Message{}).
template <typename T>
concept LinkMessage = std::move_constructible<T> && std::default_initializable<T>;

template <LinkMessage Message>
class Link final : public LinkCore {
 public:
  using message_type = Message;
  using ReceiveHandler = asio::any_completion_handler<void(error_code, Message)>;
  using DefaultSendToken = asio::as_tuple_t<asio::deferred_t>;

  Link(Simulation& sim, LinkOptions options) : LinkCore(sim, std::move(options)) {}
  ~Link() override {
    for (Receiver& r : receivers_) simulation().cancel(r.deadline);
  }

  // Transfers `message` (owned by the link from now on) with a declared wire
  // size of `bytes`. Costs the wait for earlier sends on this link plus the
  // transmission time; see link_core.hpp for the error codes.
  // Default token: `auto [ec] = co_await link.send(std::move(m), bytes);`.
  template <typename Token = DefaultSendToken>
  auto send(Message message, std::int64_t bytes, Token&& token = {}) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](auto handler, Message m, std::int64_t b) { send_impl(simulation().template erase<VoidHandler>(std::move(handler)), std::move(m), b); },
        token, std::move(message), bytes);
  }

  // Waits for the next message, in arrival order, for as long as it takes
  // (an endless wait shows up in the deadlock report). Costs no time if a
  // message is already queued. Errors: operation_aborted if cancelled.
  // Default token: `Message m = co_await link.receive();` (throws on error).
  template <typename Token = asio::deferred_t>
  auto receive(Token&& token = {}) {
    return receive_until(kNever, std::forward<Token>(token));
  }

  // Waits until `deadline` at the latest. Errors: errc::timeout exactly at the
  // deadline (with Message{}), operation_aborted if cancelled.
  // Default token: `auto [ec, m] = co_await link.receive_until(t);`.
  template <typename Token = DefaultSendToken>
  auto receive_until(SimTime deadline, Token&& token = {}) {
    return asio::async_initiate<Token, void(error_code, Message)>(
        [this](auto handler, SimTime d) { receive_impl(simulation().template erase<ReceiveHandler>(std::move(handler)), d); }, token, deadline);
  }

  // receive_until(now + timeout).
  template <typename Token = DefaultSendToken>
  auto receive_for(SimDuration timeout, Token&& token = {}) {
    return receive_until(simulation().now() + timeout, std::forward<Token>(token));
  }

  // A message that has already arrived, if any; never waits.
  std::optional<Message> try_receive() {
    if (mailbox_.empty()) return std::nullopt;
    std::optional<Message> m(std::move(mailbox_.front()));
    mailbox_.pop_front();
    return m;
  }
  std::size_t ready() const { return mailbox_.size(); }

  void describe_waiters(std::vector<std::pair<ActorId, std::string>>& out) const override {
    LinkCore::describe_waiters(out);
    for (const Receiver& r : receivers_) {
      if (!r.active) continue;
      out.emplace_back(r.actor, "receive on link '" + name() + "'" +
                                    (simulation().pending(r.deadline) ? std::string(kTimedWait) : std::string()));
    }
  }

  std::string describe() const override {
    return LinkCore::describe() + " (" + std::to_string(mailbox_.size()) + " unread)";
  }
  // At rest with unread messages only if they can be saved.
  bool at_rest() const override {
    return LinkCore::at_rest() && (mailbox_.empty() || SavableMessage<Message>) &&
           payloads_.none_taken();
  }
  void save_state(StateWriter& out) const override {
    LinkCore::save_state(out);
    if constexpr (SavableMessage<Message>) {
      out.u64(mailbox_.size());
      for (const Message& m : mailbox_) save_message(out, m);
    }
  }
  void load_state(StateReader& in) override {
    LinkCore::load_state(in);
    if constexpr (SavableMessage<Message>) {
      const std::size_t unread = in.count(1);
      for (std::size_t k = 0; k < unread; ++k) {
        Message m{};
        load_message(in, m);
        mailbox_.push_back(std::move(m));
      }
    }
  }

  // The receiving entity crashed: what it had not read yet is lost.
  void on_crash(EntityId entity) override {
    if (entity == options().to) mailbox_.clear();
  }

 private:
  struct Payload {
    std::optional<Message> message;
    std::uint32_t generation = 0;
    bool active = false;
  };
  struct Receiver {
    ReceiveHandler handler;
    ActorId actor = kNoActor;
    TimerHandle deadline;
    std::uint32_t generation = 0;
    bool active = false;
  };
  struct Canceller {
    Canceller(Link* l, std::uint32_t i, std::uint32_t g) : link(l), index(i), generation(g) {}
    Link* link;
    std::uint32_t index;
    std::uint32_t generation;
    void operator()(asio::cancellation_type_t) const { link->finish_receiver(index, generation, asio::error::operation_aborted); }
  };

  void send_impl(VoidHandler handler, Message message, std::int64_t bytes) {
    const std::uint32_t slot = payloads_.take().index;
    payloads_[slot].message.emplace(std::move(message));
    start_send(std::move(handler), slot, bytes);
  }

  void receive_impl(ReceiveHandler handler, SimTime deadline) {
    Simulation& sim = simulation();
    if (!mailbox_.empty()) {
      Message m(std::move(mailbox_.front()));
      mailbox_.pop_front();
      sim.complete(std::move(handler), sim.current_actor(), error_code{}, std::move(m));
      return;
    }
    if (deadline <= sim.now()) {
      sim.complete(std::move(handler), sim.current_actor(), error_code{errc::timeout}, Message{});
      return;
    }
    const SlotId id = receivers_.take();
    const std::uint32_t index = id.index;
    const std::uint32_t generation = id.generation;
    Receiver& r = receivers_[index];
    r.actor = sim.current_actor();
    auto slot = asio::get_associated_cancellation_slot(handler);
    store_handler(r.handler, std::move(handler));
    if (deadline != kNever) {
      r.deadline = sim.schedule_at(deadline, {&Link::on_deadline, this, id.packed()});
    }
    if (slot.is_connected()) slot.template emplace<Canceller>(this, index, generation);
    waiting_.push_back(index);
  }

  static void on_deadline(void* self, std::uint64_t arg) {
    auto& link = *static_cast<Link*>(self);
    const auto index = static_cast<std::uint32_t>(arg);
    asio::get_associated_cancellation_slot(link.receivers_[index].handler).clear();
    link.finish_receiver(index, static_cast<std::uint32_t>(arg >> 32), errc::timeout);
  }

  // Completes a waiting receiver without a message (timeout or cancellation).
  void finish_receiver(std::uint32_t index, std::uint32_t generation, error_code ec) {
    if (!receivers_.holds({index, generation})) return;
    Receiver& r = receivers_[index];
    simulation().cancel(r.deadline);
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), index));
    ReceiveHandler handler(std::move(r.handler));
    receivers_.release(index);
    simulation().complete(std::move(handler), r.actor, ec, Message{});
  }

  void deliver(std::uint32_t payload) override {
    Message m(std::move(*payloads_[payload].message));
    payloads_[payload].message.reset();
    payloads_.release(payload);
    if (waiting_.empty()) {
      mailbox_.push_back(std::move(m));
      return;
    }
    const std::uint32_t index = waiting_.front();
    waiting_.pop_front();
    Receiver& r = receivers_[index];
    simulation().cancel(r.deadline);
    ReceiveHandler handler(std::move(r.handler));
    asio::get_associated_cancellation_slot(handler).clear();
    receivers_.release(index);
    simulation().complete(std::move(handler), r.actor, error_code{}, std::move(m));
  }

  void discard(std::uint32_t payload) override {
    payloads_[payload].message.reset();
    payloads_.release(payload);
  }

  SlotTable<Payload> payloads_;  // in flight
  std::deque<Message> mailbox_;                   // arrived, not yet received
  SlotTable<Receiver> receivers_;
  std::deque<std::uint32_t> waiting_;             // receivers in FIFO order
};

}  // namespace sflsim::core
