// Makes the shared helpers' failed checks GoogleTest failures of the test
// that is running.
#include <gtest/gtest.h>

#include "lifecycle_util.hpp"

namespace {

void add_failure(const std::string& what) { ADD_FAILURE() << what; }

const bool installed = [] {
  lc::set_failure_handler(add_failure);
  return true;
}();

}  // namespace
