#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "platform/dir_listing.hpp"

namespace projcache::platform::detail {

namespace {
entry_type type_of(const struct dirent* de) {
#if defined(DT_UNKNOWN)
  switch (de->d_type) {
    case DT_REG: return entry_type::file;
    case DT_DIR: return entry_type::directory;
    case DT_LNK: return entry_type::symlink;
    case DT_UNKNOWN: return entry_type::unknown;
    default: return entry_type::other;
  }
#else
  return entry_type::unknown;  // no d_type (some System V descendants): the caller stats
#endif
}
}  // namespace

int list_with_readdir(int dirfd, std::vector<dir_entry>& out) {
  out.clear();
  // fdopendir takes the descriptor over and closedir would close it: hand it a duplicate.
  int own = ::dup(dirfd);
  if (own < 0) return errno;
  DIR* d = ::fdopendir(own);
  if (!d) {
    int err = errno;
    ::close(own);
    return err;
  }
  ::rewinddir(d);  // the duplicate shares the offset: start from the top
  int err = 0;
  for (;;) {
    errno = 0;
    struct dirent* de = ::readdir(d);
    if (!de) {
      err = errno;
      break;
    }
    const char* nm = de->d_name;
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
    out.push_back({nm, type_of(de)});
  }
  ::closedir(d);
  if (err) return err;
  std::sort(out.begin(), out.end(), [](const dir_entry& a, const dir_entry& b) { return a.name < b.name; });
  return 0;
}

}  // namespace projcache::platform::detail
