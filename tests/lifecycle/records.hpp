// Self-checking records for many writers sharing one stream: each record
// names its writer and sequence number, so the reader can tell that every
// record arrived once, whole, and in its writer's order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lc {

// writer (2 bytes), seq (4), size (4), magic (2), then the payload.
inline constexpr std::size_t kRecordHeader = 12;

inline std::uint8_t record_byte(std::uint32_t writer, std::uint32_t seq, std::size_t i) {
  return static_cast<std::uint8_t>(writer * 7 + seq * 13 + i);
}

inline std::vector<std::uint8_t> make_record(std::uint32_t writer, std::uint32_t seq, std::size_t size) {
  std::vector<std::uint8_t> r(size < kRecordHeader ? kRecordHeader : size);
  const std::uint32_t n = static_cast<std::uint32_t>(r.size());
  const std::uint8_t header[kRecordHeader] = {
      std::uint8_t(writer >> 8), std::uint8_t(writer), std::uint8_t(seq >> 24), std::uint8_t(seq >> 16),
      std::uint8_t(seq >> 8),    std::uint8_t(seq),    std::uint8_t(n >> 24),   std::uint8_t(n >> 16),
      std::uint8_t(n >> 8),      std::uint8_t(n),      0xa5,                    0x5a};
  for (std::size_t i = 0; i < kRecordHeader; ++i) r[i] = header[i];
  for (std::size_t i = kRecordHeader; i < r.size(); ++i) r[i] = record_byte(writer, seq, i);
  return r;
}

// Parses the byte stream the writers produced and checks every record.
class RecordChecker {
 public:
  explicit RecordChecker(std::size_t writers) : next_seq_(writers, 0) {}

  void feed(const std::uint8_t* data, std::size_t n) {
    bytes_ += n;
    pending_.insert(pending_.end(), data, data + n);
    std::size_t pos = 0;
    while (error_.empty() && pending_.size() - pos >= kRecordHeader) {
      const std::uint8_t* h = pending_.data() + pos;
      auto be32 = [](const std::uint8_t* p) {
        return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
      };
      const std::uint32_t writer = (std::uint32_t(h[0]) << 8) | h[1];
      const std::uint32_t seq = be32(h + 2);
      const std::uint32_t size = be32(h + 6);
      if (h[10] != 0xa5 || h[11] != 0x5a || size < kRecordHeader || writer >= next_seq_.size()) {
        error_ = "no record header at byte " + std::to_string(bytes_ - (pending_.size() - pos)) +
                 " (a record was cut, interleaved or lost)";
        break;
      }
      if (pending_.size() - pos < size) break;
      if (seq != next_seq_[writer]) {
        error_ = "writer " + std::to_string(writer) + ": record " + std::to_string(seq) + " arrived, expected " +
                 std::to_string(next_seq_[writer]);
        break;
      }
      for (std::size_t i = kRecordHeader; i < size; ++i) {
        if (h[i] != record_byte(writer, seq, i)) {
          error_ = "writer " + std::to_string(writer) + " record " + std::to_string(seq) + ": byte " +
                   std::to_string(i) + " differs";
          break;
        }
      }
      ++next_seq_[writer];
      ++records_;
      pos += size;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos));
  }

  // "" while everything was right; also checks nothing is left half-read
  // and that writer w delivered exactly expected[w] records.
  std::string finish(const std::vector<std::uint32_t>& expected) const {
    if (!error_.empty()) return error_;
    if (!pending_.empty()) return std::to_string(pending_.size()) + " bytes after the last whole record";
    for (std::size_t w = 0; w < next_seq_.size() && w < expected.size(); ++w)
      if (next_seq_[w] != expected[w])
        return "writer " + std::to_string(w) + ": " + std::to_string(next_seq_[w]) + " records arrived, " +
               std::to_string(expected[w]) + " written";
    return "";
  }

  const std::string& error() const { return error_; }
  std::uint64_t records() const { return records_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::vector<std::uint32_t> next_seq_;
  std::vector<std::uint8_t> pending_;
  std::string error_;
  std::uint64_t records_ = 0, bytes_ = 0;
};

}  // namespace lc
