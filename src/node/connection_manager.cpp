#include "node/connection_manager.hpp"

namespace weft {

Status ConnectionManager::admit(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu_);
  if (halted_) return Error{errc::stopped, "the node is stopping: no new connections"};
  const bool inbound = conn->direction() == Direction::inbound;
  if (counts_.handshaking >= limits_.max_pending_handshakes)
    return Error{errc::limit_exceeded, "too many pending handshakes (limit " +
                                           std::to_string(limits_.max_pending_handshakes) + ")"};
  if (inbound && counts_.inbound >= limits_.max_inbound_connections)
    return Error{errc::limit_exceeded, "too many inbound connections (limit " +
                                           std::to_string(limits_.max_inbound_connections) + ")"};
  if (!inbound && counts_.outbound >= limits_.max_outbound_connections)
    return Error{errc::limit_exceeded, "too many outbound connections (limit " +
                                           std::to_string(limits_.max_outbound_connections) + ")"};
  entries_.emplace(conn->id(), Entry{conn, false, PeerId{}});
  ++counts_.total;
  ++counts_.handshaking;
  ++(inbound ? counts_.inbound : counts_.outbound);
  return {};
}

Status ConnectionManager::upgraded(const std::shared_ptr<Connection>& conn, const PeerId& peer) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(conn->id());
  if (it == entries_.end() || it->second.upgraded)
    return Error{errc::invalid_argument, "connection not registered"};
  if (halted_) return Error{errc::stopped, "the node is stopping"};
  auto& n = per_peer_[peer];
  if (n >= limits_.max_connections_per_peer)
    return Error{errc::limit_exceeded, "too many connections to peer " + peer.to_string() +
                                           " (limit " + std::to_string(limits_.max_connections_per_peer) + ")"};
  ++n;
  it->second.upgraded = true;
  it->second.peer = peer;
  --counts_.handshaking;
  return {};
}

void ConnectionManager::remove(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(conn->id());
  if (it == entries_.end()) return;
  if (it->second.upgraded) {
    auto p = per_peer_.find(it->second.peer);
    if (p != per_peer_.end() && --p->second == 0) per_peer_.erase(p);
  } else {
    --counts_.handshaking;
  }
  --(conn->direction() == Direction::inbound ? counts_.inbound : counts_.outbound);
  --counts_.total;
  entries_.erase(it);
  if (entries_.empty()) empty_cv_.notify_all();
}

void ConnectionManager::halt() {
  std::lock_guard lock(mu_);
  halted_ = true;
}

bool ConnectionManager::halted() const {
  std::lock_guard lock(mu_);
  return halted_;
}

std::vector<std::shared_ptr<Connection>> ConnectionManager::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e.conn);
  return out;
}

std::vector<std::shared_ptr<Connection>> ConnectionManager::connections_to(const PeerId& peer) const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [id, e] : entries_)
    if (e.upgraded && e.peer == peer) out.push_back(e.conn);
  return out;
}

bool ConnectionManager::wait_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return empty_cv_.wait_until(lock, deadline, [&] { return entries_.empty(); });
}

ConnectionManager::Counts ConnectionManager::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace weft
