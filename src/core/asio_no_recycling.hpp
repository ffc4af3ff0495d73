// Included first in sanitizer builds, which turn off Asio's recycling of
// small blocks (ASIO_DISABLE_SMALL_BLOCK_RECYCLING) so that every handler and
// coroutine frame is really freed and a use after free is seen.
//
// Asio 1.22 names aligned_new/aligned_delete unqualified in
// asio_handler_alloc_helpers on that path (with ASIO_NO_DEPRECATED), where
// they are not visible; these using-declarations make them so.
#pragma once

#include <asio/detail/memory.hpp>

namespace asio_handler_alloc_helpers {
using asio::aligned_delete;
using asio::aligned_new;
}  // namespace asio_handler_alloc_helpers
