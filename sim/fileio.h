/*
 * Plain file helpers shared by the state file (sim/state.c) and the
 * simulated vendor CA directory (sim/vendor.c). No OpenSSL, no card
 * types; never used outside sim/.
 */
#ifndef CARDSMITH_SIM_FILEIO_H
#define CARDSMITH_SIM_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "cardsmith/buf.h"

/* Write all n bytes (EINTR retried). CS_ERR_IO with errno set on failure. */
CS_MUST_CHECK enum cs_err simi_write_all(int fd, const uint8_t *p, size_t n);
/*
 * fsync(2) the directory dir, so a rename or link in it is durable;
 * CS_ERR_IO if not.
 */
enum cs_err simi_dir_sync(const char *dir);

#endif
