// Handle lookups shared by the exported functions: each fails with
// WEFT_ENOTFOUND (last error set) for an unknown, stale or mistyped id.
#pragma once

#include <string>

#include "capi/common.hpp"
#include "capi/node_state.hpp"

namespace weft::capi {

inline int find_node(weft_node node, std::shared_ptr<NodeState>& out) {
  out = Registry::instance().node(node.id);
  if (!out) return fail(WEFT_ENOTFOUND, "unknown node handle " + std::to_string(node.id));
  return WEFT_OK;
}

// The node, with a hold on its life for `access`.
inline int enter_node(weft_node node, NodeState::Access access, std::shared_ptr<NodeState>& out,
                      NodeState::Hold& hold) {
  if (int st = find_node(node, out)) return st;
  return out->enter(hold, access);
}

// The conn handle, with a hold on its node's life for `access`.
inline int enter_conn(weft_conn conn, NodeState::Access access, std::shared_ptr<ConnHandle>& out,
                      NodeState::Hold& hold) {
  out = Registry::instance().conn(conn.id);
  if (!out) return fail(WEFT_ENOTFOUND, "unknown connection handle " + std::to_string(conn.id));
  return out->node->enter(hold, access);
}

// The stream handle, with a hold on its node's life for `access`.
inline int enter_stream(weft_stream stream, NodeState::Access access,
                        std::shared_ptr<StreamHandle>& out, NodeState::Hold& hold) {
  out = Registry::instance().stream(stream.id);
  if (!out) return fail(WEFT_ENOTFOUND, "unknown stream handle " + std::to_string(stream.id));
  return out->node->enter(hold, access);
}

}  // namespace weft::capi
