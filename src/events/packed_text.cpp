#include "events/packed_text.hpp"

#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <stdexcept>

namespace zlib = boost::beast::zlib;

namespace projcache::events {

namespace {
// A stream from all of `in` into all of `out`.
zlib::z_params between(std::string_view in, std::string& out) {
  zlib::z_params zs;
  zs.next_in = in.data();
  zs.avail_in = in.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  return zs;
}
}  // namespace

struct packed_text::packer::impl {
  zlib::deflate_stream deflater;
};

packed_text::packer::packer() : impl_(std::make_unique<impl>()) {
  // Level 1: ids repeat a long prefix, which the fastest level already finds; this runs on the
  // publisher's thread for every large event.
  impl_->deflater.reset(1, 15, 8, zlib::Strategy::normal);
}

packed_text::packer::~packer() = default;

std::optional<packed_text> packed_text::packer::pack(std::string_view text) {
  auto& d = impl_->deflater;
  d.reset();
  std::string out(d.upper_bound(text.size()), '\0');
  auto zs = between(text, out);
  boost::system::error_code ec;
  // A sync flush, as permessage-deflate does: Beast's inflater reads that back whole.
  d.write(zs, zlib::Flush::sync, ec);
  if (ec || zs.avail_in != 0 || zs.avail_out == 0) return std::nullopt;
  if (zs.total_out > text.size() - text.size() / 4) return std::nullopt;
  out.resize(zs.total_out);
  out.shrink_to_fit();
  return packed_text(std::move(out), text.size());
}

std::string packed_text::unpack() const {
  zlib::inflate_stream in;
  // One byte to spare: a text cut short or run long shows in total_out.
  std::string out(size_ + 1, '\0');
  auto zs = between(data_, out);
  boost::system::error_code ec;
  in.write(zs, zlib::Flush::sync, ec);
  // Only this process packed it: a failure here is a bug, not bad input.
  if ((ec && ec != zlib::error::end_of_stream) || zs.avail_in != 0 || zs.total_out != size_)
    throw std::logic_error("a kept event could not be inflated");
  out.resize(size_);
  return out;
}

}  // namespace projcache::events
