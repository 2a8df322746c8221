#pragma once
// Byte messages between the processes ("ranks") of one simulation: rank 0 owns
// the simulation and sends jobs to worker ranks, which send results back.
//
//   auto comm = Communicator::join(StoreAddress::parse("10.0.0.1:29500"), rank, world, 60s);
//   comm->send(peer, job, 30s);                   // returns once `peer` has taken it
//   std::string result = comm->receive(peer, 30s); // PeerLost if it died or stayed silent
//
// The transport is LibTorch's c10d (ProcessGroupGloo over a FileStore or
// TCPStore, Gloo's TCP pairs: one socket per pair of ranks). This header is
// torch-free on purpose: c10d's C++ API changes between LibTorch releases, and
// only this library's sources include it (communicator.cpp; deadlines.hpp for
// c10d's Work).
//
// Failures. A peer that dies (kill -9, crash, exit) closes its sockets: the
// pending and every later operation with it throw PeerLost at once (measured:
// 3-5 ms after SIGKILL). Exception: a send whose data Gloo has begun writing
// into the socket learns of it only at its timeout -- unless a receive() from
// that peer is pending in another thread, which fails at once and cuts the
// send short. So keep a receive() pending per peer (a receiving thread each),
// or give sends a timeout close to what the transfer needs. A peer that hangs
// (SIGSTOP, deadlock) gives PeerLost when the call's timeout passes. Either way
// the other peers are unaffected, and a peer that was lost once is never used
// again: every later send() or receive() with it throws PeerLost at once, and
// any call with it in flight in another thread is cut short with PeerLost too.
// (Why never again: after a timeout the socket may still be open with half a
// message pending in it, so the stream with that peer can no longer be
// trusted.)
//
// Why our own timeouts: Gloo's own timed wait (c10d Work::wait(timeout)),
// when it expires, closes every pair of the process, not just the silent
// one ("Application timeout caused pair closure"), so one hung worker would
// cut rank 0 off from all. This class instead waits without Gloo's timeout and
// aborts the one pending operation when our deadline passes (Work::abort(),
// which wakes the waiter and leaves the other pairs alone).
//
// Threads: any number of threads may call send() and receive() at once. Calls
// for one peer and one direction are serialised (a second send() to the same
// peer waits for the first; messages to one peer arrive in the order their
// send() calls returned); calls for different peers, or a send() and a
// receive() with the same peer, run concurrently. Behind the scenes Gloo runs
// one socket thread (epoll loop) and one idle worker thread, a TCPStore adds
// a client thread (and on rank 0 its server thread), and this class adds one
// timer thread: 3 threads besides the caller's with a FileStore, 4 (rank 0: 5)
// with a TCPStore. SIGPIPE is blocked in the calls and threads of this class
// (Gloo writes to sockets that a dead peer has reset); no process-wide signal
// setting is changed.
//
// Costs: a message travels as an 8-byte header (its size) and then its
// payload, so bytes_sent() and bytes_received() grow by 8 + size per message.
// send() copies the payload once (Gloo may still read the memory of a send
// whose timeout passed); receive() allocates the returned string and Gloo
// writes into it. Each message is a rendezvous (Gloo's TCP pairs move data
// once the receiver has posted its buffer), and Gloo's socket thread wakes
// often: measured on a 2-core VM with 3 ranks, a send + echo of 1 byte took
// 7 ms, of 1 MiB 7-8 ms, of 64 MiB 210-250 ms. Batch small messages.
// join() takes ~30 ms over a FileStore, ~1 s over a TCPStore when workers
// start before rank 0 listens (c10d's client retries once a second).
//
// Processes: fork() before join() (a child forked after it would hold a
// Communicator without the threads that drive it); a rank may end with
// _exit() or be killed at any time.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sflsim::ranks {

// Where the ranks meet to exchange their addresses: a FileStore (a file that
// every rank can open, e.g. on a shared disk) or a TCPStore served by rank 0
// at host:port (every rank connects to it; rank 0 listens on `port`).
struct StoreAddress {
  std::string file;  // non-empty: a FileStore at this path
  std::string host;  // otherwise: a TCPStore at host:port
  int port = 0;

  // "file:PATH" or "/ABSOLUTE/PATH" -> file; "HOST:PORT" or "[IPv6]:PORT" -> TCP
  // (PORT 1..65535). Anything else throws std::invalid_argument with a
  // one-line message (control characters in the text are escaped).
  static StoreAddress parse(std::string_view text);
  // The text parse() accepts for this address ("file:/p" or "host:port").
  std::string text() const;
};

// A peer died, closed its side, or did not complete the operation in time.
// After this exception the peer is lost for good (see above).
class PeerLost : public std::runtime_error {
 public:
  PeerLost(int peer, bool timed_out, const std::string& what)
      : std::runtime_error(what), peer_(peer), timed_out_(timed_out) {}
  int peer() const { return peer_; }
  // True when the peer was lost because an operation's timeout passed (it may
  // be hung rather than dead); false when its connection failed or closed.
  bool timed_out() const { return timed_out_; }

 private:
  int peer_;
  bool timed_out_;
};

class Communicator {
 public:
  // Joins the world of `world` ranks as `rank` (0 <= rank < world). Blocks
  // until every rank has joined; rank 0 serves the TCPStore. Throws
  // std::invalid_argument for a bad rank or world, and std::runtime_error
  // naming the rank and the store when the world is not complete in time (each
  // stage of the meeting -- store connection, address exchange -- may take up
  // to `timeout`, so a failing join can take a few times `timeout`).
  //
  // `bind_host`: the address (or host name) of this machine that the other
  // ranks can reach. Empty: the loopback address when the store is a TCPStore
  // on a loopback address, otherwise this machine's host name (Gloo's default
  // device, which falls back to loopback when the name does not resolve: fine
  // on one machine, give bind_host for several).
  //
  // A FileStore path must be fresh for each run (c10d keeps the keys of an
  // earlier run in the file; the last rank to leave normally deletes it).
  static std::unique_ptr<Communicator> join(const StoreAddress& store, int rank, int world,
                                            std::chrono::milliseconds timeout,
                                            std::string_view bind_host = {});

  // Closes the connections; peers see their pending and later operations with
  // this rank throw PeerLost. Does not wait for dead or hung peers (measured:
  // 10-20 ms with one peer killed and one stopped or alive; the test allows
  // 1 s). No call may be in flight in another thread.
  virtual ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int world() const = 0;

  // Sends one message to `peer` (!= rank(); std::invalid_argument otherwise)
  // and returns once the peer's receive() has asked for it and all of it has
  // been written to the socket: a rendezvous, so two ranks that both send to
  // each other before receiving wait for each other until `timeout` (give each
  // peer a receiving thread, or let workers receive before they send). Throws
  // PeerLost if the peer is lost, or did not take the whole message within
  // `timeout`.
  virtual void send(int peer, std::string_view message, std::chrono::milliseconds timeout) = 0;

  // The next message from `peer` (!= rank()), in the order sent. Throws
  // PeerLost if the peer is lost, or the whole message did not arrive within
  // `timeout`.
  virtual std::string receive(int peer, std::chrono::milliseconds timeout) = 0;

  // Bytes of the messages sent / received completely so far, headers included
  // (8 + size each). Safe from any thread.
  virtual std::int64_t bytes_sent() const = 0;
  virtual std::int64_t bytes_received() const = 0;

 protected:
  Communicator() = default;
};

}  // namespace sflsim::ranks
