// Asio's implementation, compiled exactly once for the whole library.
#include <asio/impl/src.hpp>
