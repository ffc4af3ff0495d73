#include "capi/registry.hpp"

#include "capi/node_state.hpp"

namespace weft::capi {

Registry& Registry::instance() {
  static Registry* registry = new Registry;
  return *registry;
}

std::uint64_t Registry::add_config(std::shared_ptr<ConfigState> config) {
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_id_++;
  configs_.emplace(id, std::move(config));
  return id;
}

std::shared_ptr<ConfigState> Registry::config(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = configs_.find(id);
  return it == configs_.end() ? nullptr : it->second;
}

bool Registry::remove_config(std::uint64_t id) {
  std::shared_ptr<ConfigState> removed;  // released after the lock
  std::lock_guard lock(mu_);
  auto it = configs_.find(id);
  if (it == configs_.end()) return false;
  removed = std::move(it->second);
  configs_.erase(it);
  return true;
}

std::uint64_t Registry::add_node(std::shared_ptr<NodeState> node) {
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_id_++;
  node->set_id(id);
  node_handles_.try_emplace(id);
  nodes_.emplace(id, std::move(node));
  return id;
}

std::shared_ptr<NodeState> Registry::node(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second;
}

std::uint64_t Registry::conn_handle(const std::shared_ptr<NodeState>& node,
                                    const std::shared_ptr<Connection>& conn) {
  const std::uint64_t node_id = node->id();
  std::lock_guard lock(mu_);
  auto nh = node_handles_.find(node_id);
  if (nh == node_handles_.end()) return 0;
  auto known = nh->second.conn_by_object.find(conn.get());
  if (known != nh->second.conn_by_object.end()) return known->second;
  const std::uint64_t id = next_id_++;
  auto handle =
      std::shared_ptr<ConnHandle>(new ConnHandle{node, HandleLease(node->live_handles), conn});
  conns_.emplace(id, std::make_pair(node_id, std::move(handle)));
  nh->second.conns.insert(id);
  nh->second.conn_by_object.emplace(conn.get(), id);
  return id;
}

std::shared_ptr<ConnHandle> Registry::conn(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.second;
}

std::shared_ptr<ConnHandle> Registry::take_conn(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  if (it == conns_.end()) return nullptr;
  auto handle = std::move(it->second.second);
  auto nh = node_handles_.find(it->second.first);
  if (nh != node_handles_.end()) {
    nh->second.conns.erase(id);
    nh->second.conn_by_object.erase(handle->conn.get());
  }
  conns_.erase(it);
  return handle;
}

std::uint64_t Registry::add_stream(const std::shared_ptr<NodeState>& node, Stream stream) {
  const std::uint64_t node_id = node->id();
  std::lock_guard lock(mu_);
  auto nh = node_handles_.find(node_id);
  if (nh == node_handles_.end()) return 0;
  const std::uint64_t id = next_id_++;
  auto handle = std::shared_ptr<StreamHandle>(
      new StreamHandle{node, HandleLease(node->live_handles), std::move(stream)});
  streams_.emplace(id, std::make_pair(node_id, std::move(handle)));
  nh->second.streams.insert(id);
  return id;
}

std::shared_ptr<StreamHandle> Registry::stream(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.second;
}

std::shared_ptr<StreamHandle> Registry::take_stream(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return nullptr;
  auto handle = std::move(it->second.second);
  auto nh = node_handles_.find(it->second.first);
  if (nh != node_handles_.end()) nh->second.streams.erase(id);
  streams_.erase(it);
  return handle;
}

std::size_t Registry::stream_count(std::uint64_t node_id) const {
  std::lock_guard lock(mu_);
  auto nh = node_handles_.find(node_id);
  return nh == node_handles_.end() ? 0 : nh->second.streams.size();
}

Registry::Removed Registry::remove_node(std::uint64_t id) {
  Removed out;
  std::lock_guard lock(mu_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return out;
  out.node = std::move(it->second);
  nodes_.erase(it);
  auto nh = node_handles_.find(id);
  if (nh == node_handles_.end()) return out;
  for (auto c : nh->second.conns) {
    auto ci = conns_.find(c);
    if (ci == conns_.end()) continue;
    out.conns.push_back(std::move(ci->second.second));
    conns_.erase(ci);
  }
  for (auto s : nh->second.streams) {
    auto si = streams_.find(s);
    if (si == streams_.end()) continue;
    out.streams.push_back(std::move(si->second.second));
    streams_.erase(si);
  }
  node_handles_.erase(nh);
  return out;
}

}  // namespace weft::capi
