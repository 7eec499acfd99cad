// Module-internal: the process-wide list of live temporary files and
// directories, which the signal handlers of InstallSignalCleanup() remove.
// Fixed-size and lock-free so the handler can read it safely.
#ifndef XLAYOUT_SRC_IO_TEMP_REGISTRY_H_
#define XLAYOUT_SRC_IO_TEMP_REGISTRY_H_

#include <string>

namespace xlayout::io::internal {

// Registers `path` (a file, or a directory when `is_dir`); returns the slot,
// or -1 when the registry is full or the path too long (the temporary is
// then only removed by its owner, not on a signal).
int RegisterTemp(const std::string& path, bool is_dir);
void UnregisterTemp(int slot);

}  // namespace xlayout::io::internal

#endif  // XLAYOUT_SRC_IO_TEMP_REGISTRY_H_
