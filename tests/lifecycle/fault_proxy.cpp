#include "fault_proxy.hpp"

#include <atomic>
#include <future>
#include <optional>
#include <random>
#include <vector>

#include "core/asio.hpp"

// Coroutines here follow the GCC 12 rule of core/asio.hpp: inputs are
// parameters, tasks are created before they are awaited.

namespace lc {

using weft::Task;
using weft::use_tuple;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kToUpstream = 0;  // direction: dialer -> upstream
constexpr int kToDialer = 1;    // direction: upstream -> dialer

struct Link {
  explicit Link(asio::io_context& io)
      : dialer(io), upstream(io), timer{asio::steady_timer(io), asio::steady_timer(io)} {}
  tcp::socket dialer, upstream;
  // Per direction: forwarding is held until this time (max: for good), and
  // the pump's one timer (hold and delay waits).
  Clock::time_point held_until[2]{};
  asio::steady_timer timer[2];
  Clock::time_point delayed_until{};
  std::int64_t dialer_budget = -1;
  bool connected = false;
  bool closed = false;
  bool upstream_ended = false, dialer_ended = false;
  int pumps = 0;
};

}  // namespace

struct FaultProxy::Impl {
  Impl(std::uint16_t upstream_port, const Options& options)
      : options(options),
        acceptor(io),
        upstream(asio::ip::make_address("127.0.0.1"), upstream_port),
        scheduler(io),
        work(io.get_executor()),
        rng(options.seed) {}

  const Options options;
  // Read by any thread, written on the proxy's.
  std::atomic<std::size_t> live_links{0};
  std::atomic<std::uint64_t> accepted{0}, upstream_endings{0}, dialer_endings{0}, dialer_bytes{0};
  std::array<std::atomic<std::uint64_t>, kFaultKinds> fault_counts{};

  asio::io_context io;
  tcp::acceptor acceptor;
  tcp::endpoint upstream;
  asio::steady_timer scheduler;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::mt19937_64 rng;
  bool faults_on = false;
  bool closing = false;
  std::function<std::int64_t()> budget;
  std::vector<std::shared_ptr<Link>> links;  // open links (connecting ones included)

  template <typename Rep, typename Period>
  std::chrono::milliseconds pick(std::chrono::duration<Rep, Period> lo,
                                 std::chrono::duration<Rep, Period> hi) {
    const auto a = std::chrono::duration_cast<std::chrono::milliseconds>(lo).count();
    const auto b = std::chrono::duration_cast<std::chrono::milliseconds>(hi).count();
    if (b <= a) return std::chrono::milliseconds(a);
    return std::chrono::milliseconds(std::uniform_int_distribution<long long>(a, b)(rng));
  }

  // Runs `fn` on the proxy's thread and waits for it.
  template <typename Fn>
  void run_here(Fn fn) {
    std::promise<void> done;
    auto f = done.get_future();
    asio::post(io, [&] {
      fn();
      done.set_value();
    });
    f.wait();
  }

  void close_link(const std::shared_ptr<Link>& link, bool reset) {
    if (link->closed) return;
    link->closed = true;
    std::error_code ec;
    if (reset) {
      link->dialer.set_option(asio::socket_base::linger(true, 0), ec);
      link->upstream.set_option(asio::socket_base::linger(true, 0), ec);
    }
    link->dialer.close(ec);
    link->upstream.close(ec);
    link->timer[0].cancel();
    link->timer[1].cancel();
    for (auto it = links.begin(); it != links.end(); ++it) {
      if (*it == link) {
        *it = links.back();
        links.pop_back();
        break;
      }
    }
    --live_links;
  }

  // The side `from` of `link` ended (EOF or error) while reading.
  void on_ending(const std::shared_ptr<Link>& link, int dir, const std::error_code& ec) {
    if (dir == kToDialer && !link->upstream_ended) {
      link->upstream_ended = true;
      ++upstream_endings;
    }
    if (dir == kToUpstream && !link->dialer_ended) {
      link->dialer_ended = true;
      ++dialer_endings;
    }
    if (ec == asio::error::eof) {
      // Pass the clean end on; the other direction keeps going.
      std::error_code ignored;
      (dir == kToUpstream ? link->upstream : link->dialer).shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      close_link(link, true);
    }
  }

  void apply_fault(const std::shared_ptr<Link>& link, int fault) {
    const auto now = Clock::now();
    switch (fault) {
      case kStall: {
        const auto until = now + pick(std::chrono::milliseconds(10), options.max_stall);
        for (auto& h : link->held_until) h = std::max(h, until);
        break;
      }
      case kDelay:
        link->delayed_until = now + pick(std::chrono::milliseconds(20), options.max_delay_period);
        break;
      case kDrop: {
        std::error_code ec;
        link->dialer.shutdown(tcp::socket::shutdown_both, ec);
        link->upstream.shutdown(tcp::socket::shutdown_both, ec);
        close_link(link, false);
        break;
      }
      case kReset:
        close_link(link, true);
        break;
    }
    ++fault_counts[fault];
  }
};

namespace {

using Impl = FaultProxy::Impl;

// Waits while direction `dir` of `link` is held. False once the link is closed.
Task<bool> wait_released(std::shared_ptr<Link> link, int dir) {
  while (!link->closed && Clock::now() < link->held_until[dir]) {
    link->timer[dir].expires_at(link->held_until[dir]);
    auto [ec] = co_await link->timer[dir].async_wait(use_tuple);
    (void)ec;  // cancelled: the hold was lifted or the link closed; re-check
  }
  co_return !link->closed;
}

Task<void> pump(Impl* impl, std::shared_ptr<Link> link, int dir) {
  tcp::socket& from = dir == kToUpstream ? link->dialer : link->upstream;
  tcp::socket& to = dir == kToUpstream ? link->upstream : link->dialer;
  std::vector<std::uint8_t> buf(64 * 1024);
  for (;;) {
    auto released = wait_released(link, dir);
    if (!co_await std::move(released)) break;
    std::size_t want = buf.size();
    if (dir == kToUpstream && link->dialer_budget >= 0) {
      if (link->dialer_budget == 0) {
        link->held_until[dir] = Clock::time_point::max();
        continue;
      }
      want = std::min<std::size_t>(want, static_cast<std::size_t>(link->dialer_budget));
    }
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf.data(), want), use_tuple);
    if (link->closed) break;
    if (ec) {
      impl->on_ending(link, dir, ec);
      break;
    }
    if (dir == kToUpstream) {
      impl->dialer_bytes += n;
      if (link->dialer_budget >= 0) link->dialer_budget -= static_cast<std::int64_t>(n);
    }
    auto held = wait_released(link, dir);
    if (!co_await std::move(held)) break;
    if (Clock::now() < link->delayed_until) {
      link->timer[dir].expires_after(impl->pick(std::chrono::milliseconds(1), impl->options.max_chunk_delay));
      auto [tec] = co_await link->timer[dir].async_wait(use_tuple);
      (void)tec;
      if (link->closed) break;
    }
    auto [wec, written] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
    (void)written;
    if (link->closed) break;
    if (wec) {
      impl->close_link(link, true);
      break;
    }
  }
  if (--link->pumps == 0) impl->close_link(link, false);
}

Task<void> start_link(Impl* impl, std::shared_ptr<Link> link) {
  auto [ec] = co_await link->upstream.async_connect(impl->upstream, use_tuple);
  if (link->closed) co_return;
  if (ec) {
    impl->close_link(link, true);
    co_return;
  }
  // Forward each chunk at once (as the endpoints themselves do).
  std::error_code ignored;
  link->dialer.set_option(tcp::no_delay(true), ignored);
  link->upstream.set_option(tcp::no_delay(true), ignored);
  link->connected = true;
  link->pumps = 2;
  asio::co_spawn(impl->io, pump(impl, link, kToUpstream), asio::detached);
  asio::co_spawn(impl->io, pump(impl, link, kToDialer), asio::detached);
}

Task<void> accept_loop(Impl* impl) {
  for (;;) {
    auto link = std::make_shared<Link>(impl->io);
    auto [ec] = co_await impl->acceptor.async_accept(link->dialer, use_tuple);
    if (ec) {
      if (impl->closing || !impl->acceptor.is_open()) co_return;
      continue;  // e.g. out of descriptors for a moment: the next accept may work
    }
    ++impl->accepted;
    ++impl->live_links;
    if (impl->budget) link->dialer_budget = impl->budget();
    impl->links.push_back(link);
    asio::co_spawn(impl->io, start_link(impl, link), asio::detached);
  }
}

Task<void> fault_loop(Impl* impl) {
  for (;;) {
    impl->scheduler.expires_after(impl->pick(impl->options.min_gap, impl->options.max_gap));
    auto [ec] = co_await impl->scheduler.async_wait(use_tuple);
    (void)ec;
    if (impl->closing) co_return;
    if (!impl->faults_on) continue;
    std::vector<std::shared_ptr<Link>> ready;
    for (auto& l : impl->links)
      if (l->connected && !l->closed) ready.push_back(l);
    if (ready.empty()) continue;
    auto& link = ready[std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(impl->rng)];
    impl->apply_fault(link, std::uniform_int_distribution<int>(0, FaultProxy::kFaultKinds - 1)(impl->rng));
  }
}

}  // namespace

const char* FaultProxy::fault_name(int fault) {
  switch (fault) {
    case kStall: return "stall";
    case kDelay: return "delay";
    case kDrop: return "drop";
    case kReset: return "reset";
    default: return "?";
  }
}

FaultProxy::FaultProxy(std::uint16_t upstream_port, Options options)
    : impl_(std::make_unique<Impl>(upstream_port, options)) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  if (options.receive_buffer > 0)
    impl_->acceptor.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, accept_loop(impl_.get()), asio::detached);
  asio::co_spawn(impl_->io, fault_loop(impl_.get()), asio::detached);
  Impl* impl = impl_.get();
  thread_ = std::thread([impl] { impl->io.run(); });
}

FaultProxy::~FaultProxy() {
  Impl* impl = impl_.get();
  impl->run_here([impl] {
    impl->closing = true;
    std::error_code ec;
    impl->acceptor.close(ec);
    impl->scheduler.cancel();
    auto links = impl->links;
    for (auto& l : links) impl->close_link(l, false);
  });
  impl->work.reset();
  thread_.join();
}

std::string FaultProxy::multiaddr(const std::string& peer_id) const {
  std::string out = "/ip4/127.0.0.1/tcp/" + std::to_string(port_);
  if (!peer_id.empty()) out += "/p2p/" + peer_id;
  return out;
}

void FaultProxy::start_faults() {
  Impl* impl = impl_.get();
  impl->run_here([impl] { impl->faults_on = true; });
}

void FaultProxy::stop_faults() {
  Impl* impl = impl_.get();
  impl->run_here([impl] {
    impl->faults_on = false;
    for (auto& l : impl->links) {
      l->held_until[0] = l->held_until[1] = Clock::time_point{};
      l->delayed_until = Clock::time_point{};
      l->timer[0].cancel();
      l->timer[1].cancel();
    }
  });
}

void FaultProxy::freeze_all() {
  Impl* impl = impl_.get();
  impl->run_here([impl] {
    for (auto& l : impl->links) l->held_until[0] = l->held_until[1] = Clock::time_point::max();
  });
}

void FaultProxy::set_dialer_budget(std::function<std::int64_t()> pick) {
  Impl* impl = impl_.get();
  impl->run_here([impl, &pick] { impl->budget = std::move(pick); });
}

std::array<std::uint64_t, FaultProxy::kFaultKinds> FaultProxy::faults() const {
  std::array<std::uint64_t, kFaultKinds> out{};
  for (int i = 0; i < kFaultKinds; ++i) out[i] = impl_->fault_counts[i].load();
  return out;
}

std::size_t FaultProxy::live_links() const { return impl_->live_links.load(); }
std::uint64_t FaultProxy::links_accepted() const { return impl_->accepted.load(); }
std::uint64_t FaultProxy::upstream_endings() const { return impl_->upstream_endings.load(); }
std::uint64_t FaultProxy::dialer_endings() const { return impl_->dialer_endings.load(); }
std::uint64_t FaultProxy::bytes_from_dialers() const { return impl_->dialer_bytes.load(); }

std::size_t FaultProxy::links_with_upstream_open() const {
  Impl* impl = impl_.get();
  std::size_t n = 0;
  impl->run_here([impl, &n] {
    for (auto& l : impl->links) n += !l->closed && !l->upstream_ended;
  });
  return n;
}

}  // namespace lc
