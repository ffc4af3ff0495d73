// The Yamux stream multiplexer: include this for the whole public API
// (YamuxConfig, YamuxSession, YamuxStream, kYamuxProtocolId).
#pragma once

#include "yamux/config.hpp"    // IWYU pragma: export
#include "yamux/session.hpp"   // IWYU pragma: export
#include "yamux/stream.hpp"    // IWYU pragma: export
