#include "noise/verified_signatures.hpp"

#include "core/varint.hpp"

namespace weft::noise {

std::string VerifiedSignatures::make_key(BytesView identity_key, BytesView static_key,
                                         BytesView signature) {
  // Length-prefixed parts: no two different triples concatenate to the same key.
  Bytes key;
  key.reserve(identity_key.size() + static_key.size() + signature.size() + 3 * varint::kMaxBytes);
  for (BytesView part : {identity_key, static_key, signature}) {
    varint::encode(part.size(), key);
    append(key, part);
  }
  return std::string(as_string_view(key));
}

bool VerifiedSignatures::contains(BytesView identity_key, BytesView static_key,
                                  BytesView signature) const {
  if (capacity_ == 0) return false;
  const std::string key = make_key(identity_key, static_key, signature);
  std::lock_guard lock(mu_);
  return entries_.count(key) != 0;
}

void VerifiedSignatures::insert(BytesView identity_key, BytesView static_key,
                                BytesView signature) {
  if (capacity_ == 0) return;
  std::string key = make_key(identity_key, static_key, signature);
  std::lock_guard lock(mu_);
  if (!entries_.insert(key).second) return;
  order_.push_back(std::move(key));
  while (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

std::size_t VerifiedSignatures::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace weft::noise
