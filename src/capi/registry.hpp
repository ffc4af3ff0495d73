// The process-wide handle registry: ids (one 64-bit counter, never reused)
// to objects, one table per handle type, so a stale, closed or mistyped
// handle is looked up, not dereferenced, and gives WEFT_ENOTFOUND.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/turn_queue.hpp"
#include "node/node.hpp"

namespace weft::capi {

class NodeState;

// What weft_config_* edits; weft_node_new copies it.
struct ConfigState {
  std::mutex mu;
  NodeConfig node;
  std::uint64_t inbound_stream_backlog = 256;
  std::uint64_t max_read_size = 1 << 20;
  std::uint64_t max_pending_events = 65536;
};

// Counts the handle objects of a node that exist: registry entries and the
// copies calls hold while they run. Connections and streams must not outlive
// their node's io_context, so weft_node_close waits for the count to reach
// zero before destroying the node. Handles are immutable: no lock needed.
class HandleLease {
 public:
  explicit HandleLease(std::atomic<int>& count) noexcept : count_(&count) { ++*count_; }
  ~HandleLease() { --*count_; }
  HandleLease(const HandleLease&) = delete;
  HandleLease& operator=(const HandleLease&) = delete;

 private:
  std::atomic<int>* count_;
};

struct ConnHandle {
  std::shared_ptr<NodeState> node;
  HandleLease lease;
  std::shared_ptr<Connection> conn;
};

struct StreamHandle {
  std::shared_ptr<NodeState> node;
  HandleLease lease;
  Stream stream;  // channel, connection, protocol
  // Pending weft_stream_read calls, in order (used on the connection's strand).
  std::shared_ptr<TurnQueue> reads = std::make_shared<TurnQueue>();
};

class Registry {
 public:
  // The one registry; deliberately never destroyed (no static destruction
  // order problem at exit).
  static Registry& instance();

  std::uint64_t add_config(std::shared_ptr<ConfigState> config);
  std::shared_ptr<ConfigState> config(std::uint64_t id) const;
  bool remove_config(std::uint64_t id);

  std::uint64_t add_node(std::shared_ptr<NodeState> node);
  std::shared_ptr<NodeState> node(std::uint64_t id) const;

  // The handle of `conn` on `node`: the existing one, or a new one. 0 if the
  // node is no longer registered.
  std::uint64_t conn_handle(const std::shared_ptr<NodeState>& node,
                            const std::shared_ptr<Connection>& conn);
  std::shared_ptr<ConnHandle> conn(std::uint64_t id) const;
  std::shared_ptr<ConnHandle> take_conn(std::uint64_t id);

  // 0 if the node is no longer registered.
  std::uint64_t add_stream(const std::shared_ptr<NodeState>& node, Stream stream);
  std::shared_ptr<StreamHandle> stream(std::uint64_t id) const;
  std::shared_ptr<StreamHandle> take_stream(std::uint64_t id);
  std::size_t stream_count(std::uint64_t node_id) const;

  // Unregisters the node and every conn and stream handle it has; the
  // caller releases what is returned (outside the registry's lock).
  struct Removed {
    std::shared_ptr<NodeState> node;
    std::vector<std::shared_ptr<ConnHandle>> conns;
    std::vector<std::shared_ptr<StreamHandle>> streams;
  };
  Removed remove_node(std::uint64_t id);

 private:
  Registry() = default;

  struct NodeHandles {
    std::unordered_set<std::uint64_t> conns, streams;
    std::unordered_map<const Connection*, std::uint64_t> conn_by_object;
  };

  mutable std::mutex mu_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::shared_ptr<ConfigState>> configs_;
  std::unordered_map<std::uint64_t, std::shared_ptr<NodeState>> nodes_;
  std::unordered_map<std::uint64_t, NodeHandles> node_handles_;
  // id -> (node id, handle)
  template <typename Handle>
  using HandleTable =
      std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::shared_ptr<Handle>>>;
  HandleTable<ConnHandle> conns_;
  HandleTable<StreamHandle> streams_;
};

}  // namespace weft::capi
