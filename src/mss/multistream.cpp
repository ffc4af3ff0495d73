#include "mss/multistream.hpp"

#include "core/varint.hpp"

namespace weft::mss {

void encode_message(std::string_view text, Bytes& out) {
  varint::encode(text.size() + 1, out);
  append(out, as_bytes(text));
  out.push_back('\n');
}

Result<Parsed> parse_message(BytesView in, std::size_t max_message_size) {
  auto len = varint::decode(in);
  if (!len) return std::move(len).error();
  if (len->value == 0) return Error{errc::parse_error, "multistream: empty message"};
  if (len->value > max_message_size)
    return Error{errc::limit_exceeded, "multistream: message of " + std::to_string(len->value) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(max_message_size)};
  const std::size_t total = len->size + static_cast<std::size_t>(len->value);
  if (in.size() < total) return Error{errc::eof, "multistream: incomplete message"};
  if (in[total - 1] != '\n')
    return Error{errc::parse_error, "multistream: message does not end with a newline"};
  return Parsed{as_string_view(in.subspan(len->size, static_cast<std::size_t>(len->value) - 1)),
                total};
}

namespace {

// Reads whole messages, buffering what arrives beyond them.
class MessageReader {
 public:
  MessageReader(ByteChannel& channel, const Config& config) : channel_(channel), config_(config) {}

  // Returns the next message's text (valid until the next call).
  Task<Result<std::string>> next() {
    for (;;) {
      auto parsed = parse_message(BytesView(buffer_).subspan(pos_), config_.max_message_size);
      if (parsed) {
        std::string text(parsed->text);
        pos_ += parsed->consumed;
        co_return text;
      }
      if (parsed.code() != errc::eof) co_return std::move(parsed).error();
      // Compact, then read more (never more than one message's worth ahead).
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
      pos_ = 0;
      const std::size_t old = buffer_.size();
      buffer_.resize(old + config_.max_message_size + varint::kMaxBytes);
      auto n = co_await channel_.read_some(MutableBytesView(buffer_).subspan(old));
      if (!n) {
        buffer_.resize(old);
        Error e = std::move(n).error();
        if (e.code == errc::eof) e.detail = "multistream: connection closed during negotiation";
        co_return e;
      }
      buffer_.resize(old + *n);
    }
  }

  // True if a complete message is already buffered.
  bool has_message() const {
    return parse_message(BytesView(buffer_).subspan(pos_), config_.max_message_size).ok();
  }

  // Gives unconsumed bytes back to the channel for the next layer.
  void finish() {
    channel_.unread(BytesView(buffer_).subspan(pos_));
    buffer_.clear();
    pos_ = 0;
  }

 private:
  ByteChannel& channel_;
  const Config& config_;
  Bytes buffer_;
  std::size_t pos_ = 0;
};

Status check_protocol_name(std::string_view p, const Config& config) {
  if (p.empty() || p.size() + 1 > config.max_message_size || p.find('\n') != p.npos)
    return Error{errc::invalid_argument, "multistream: invalid protocol name '" + std::string(p) + "'"};
  return {};
}

}  // namespace

Task<Result<std::string>> select(ByteChannel& channel, std::vector<std::string> protocols,
                                 Config config) {
  if (protocols.empty()) co_return Error{errc::invalid_argument, "multistream: no protocol to propose"};
  for (const auto& p : protocols) WEFT_CO_CHECK(check_protocol_name(p, config));

  Bytes out;
  encode_message(kProtocolId, out);
  encode_message(protocols[0], out);
  WEFT_CO_CHECK(co_await channel.write_all(out));

  MessageReader reader(channel, config);
  WEFT_CO_TRY(auto header, co_await reader.next());
  if (header != kProtocolId)
    co_return Error{errc::protocol_error, "multistream: unexpected header '" + header + "'"};

  for (std::size_t i = 0; i < protocols.size(); ++i) {
    if (i > 0) {
      out.clear();
      encode_message(protocols[i], out);
      WEFT_CO_CHECK(co_await channel.write_all(out));
    }
    WEFT_CO_TRY(auto answer, co_await reader.next());
    if (answer == protocols[i]) {
      reader.finish();
      co_return answer;
    }
    if (answer != "na")
      co_return Error{errc::protocol_error,
                      "multistream: proposed '" + protocols[i] + "', listener answered '" + answer + "'"};
  }
  co_return Error{errc::protocol_not_supported,
                  "multistream: the remote supports none of the " + std::to_string(protocols.size()) +
                      " proposed protocols (first: " + protocols[0] + ")"};
}

Task<Status> select_lazy(ByteChannel& channel, std::string protocol, Config config) {
  WEFT_CO_CHECK(check_protocol_name(protocol, config));
  Bytes out;
  encode_message(kProtocolId, out);
  encode_message(protocol, out);
  // What follows a lazy proposal (the protocol's first message) may join it.
  co_return co_await channel.write_more(out);
}

Task<Status> confirm(ByteChannel& channel, std::string protocol, Config config) {
  MessageReader reader(channel, config);
  WEFT_CO_TRY(auto header, co_await reader.next());
  if (header != kProtocolId)
    co_return Error{errc::protocol_error, "multistream: unexpected header '" + header + "'"};
  WEFT_CO_TRY(auto answer, co_await reader.next());
  if (answer == protocol) {
    reader.finish();
    co_return Status{};
  }
  if (answer == "na")
    co_return Error{errc::protocol_not_supported,
                    "multistream: the remote does not support " + protocol};
  co_return Error{errc::protocol_error,
                  "multistream: proposed '" + protocol + "', listener answered '" + answer + "'"};
}

Task<Result<std::string>> handle(ByteChannel& channel,
                                 std::function<bool(std::string_view)> supported,
                                 Config config) {
  MessageReader reader(channel, config);
  WEFT_CO_TRY(auto header, co_await reader.next());
  if (header != kProtocolId)
    co_return Error{errc::protocol_error, "multistream: unexpected header '" + header + "'"};

  // Our header goes out with the first answer when the dialer pipelined its
  // proposal; otherwise at once, so a dialer waiting for it is not stalled.
  Bytes out;
  encode_message(kProtocolId, out);
  if (!reader.has_message()) {
    WEFT_CO_CHECK(co_await channel.write_all(out));
    out.clear();
  }
  for (std::size_t answered = 0; answered < config.max_proposals; ++answered) {
    WEFT_CO_TRY(auto proposal, co_await reader.next());
    const bool yes = proposal != "ls" && supported(proposal);
    encode_message(yes ? std::string_view(proposal) : std::string_view("na"), out);
    if (yes) {
      // The protocol's first reply may join the answer (a dialer that
      // pipelined its request gets both in one packet).
      WEFT_CO_CHECK(co_await channel.write_more(out));
      reader.finish();
      co_return proposal;
    }
    WEFT_CO_CHECK(co_await channel.write_all(out));
    out.clear();
  }
  co_return Error{errc::limit_exceeded, "multistream: more than " +
                                            std::to_string(config.max_proposals) +
                                            " unsupported proposals"};
}

}  // namespace weft::mss
