/*
 * The one way a command writes a file the user named (--out, --f9-out).
 * What the name refers to decides what happens:
 *
 *   NULL or "-"            standard output
 *   /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N
 *                          that descriptor of this process, as the shell
 *                          means them (the names are symbolic links, but
 *                          to the descriptor, not to a file); only one the
 *                          process inherited (not close-on-exec)
 *   character device, FIFO written through: no --force needed; never
 *                          truncated, unlinked or renamed (a FIFO is opened
 *                          when written, which waits for its reader)
 *   symbolic link          refused, naming its target: never followed and
 *                          never replaced, even with OUTFILE_FORCE
 *   directory, socket, block device
 *                          refused
 *   regular file           refused unless OUTFILE_FORCE; then replaced
 *                          atomically: a temporary file in the same
 *                          directory is written, fsynced and renamed over
 *                          it, then the directory is fsynced; the old
 *                          file's permission bits (and, where allowed,
 *                          owner) are kept
 *   nothing (new file)     created exclusively, mode 0644 (OUTFILE_SECRET:
 *                          0600) less the umask, and published under its
 *                          name only once complete (rename without
 *                          replacing)
 *
 * A write that fails (ENOSPC, EIO, EFBIG) leaves neither a partial file
 * nor a temporary one, and an existing file unchanged. A crash leaves at
 * most a ".NAME.XXXXXX" temporary file, never a half-written NAME.
 */
#ifndef CARDSMITH_CLI_OUTFILE_H
#define CARDSMITH_CLI_OUTFILE_H

#include <stddef.h>

#include "cli.h"

enum outfile_flags {
	/* An existing regular file may be replaced (the user gave --force). */
	OUTFILE_FORCE = 1 << 0,
	/*
	 * Secret material: mode 0600, only a new file (O_EXCL semantics:
	 * nothing that exists is ever written or replaced).
	 */
	OUTFILE_SECRET = 1 << 1,
	/* The command has --force: a refusal of an existing file names it. */
	OUTFILE_HINT_FORCE = 1 << 2,
};

/* Room for the reason outfile_check/outfile_write give, NUL included. */
#define OUTFILE_WHY_MAX 1024

/*
 * Preflight: would outfile_write(path, ..., flags) be allowed, as far as
 * can be known before writing? Checks what path is (as above), and for a
 * file to create or replace, that a file can be created in its directory
 * (by creating and removing a temporary one). Opens no device or FIFO.
 * CS_OK, or CS_ERR_IO with the reason in why[0..cap) ("x.pem exists; add
 * --force to replace it"); why is always NUL-terminated when cap > 0.
 */
enum cs_err outfile_check(const char *path, unsigned int flags, char *why,
    size_t cap);

/*
 * Write data[0..len) to path as described at the top (flags: enum
 * outfile_flags). Standard output is flushed, so a full disk or a closed
 * pipe is an error here. CS_OK, or CS_ERR_IO with the reason in why.
 */
enum cs_err outfile_write(const char *path, const void *data, size_t len,
    unsigned int flags, char *why, size_t cap);

/*
 * outfile_check, reporting a refusal: CLI_CONTINUE, or the exit code
 * after reporting "cmd: reason; nothing was done".
 */
int outfile_preflight(struct cli *cli, const char *path, unsigned int flags);

/*
 * outfile_write of the NUL-terminated text, reporting a failure:
 * CLI_CONTINUE, or the exit code after reporting.
 */
int outfile_put(struct cli *cli, const char *path, const char *text,
    unsigned int flags);

/* "standard output" for NULL or "-", else path itself (for messages). */
const char *outfile_name(const char *path);

/* Is path standard output (NULL, "-", /dev/stdout, /dev/fd/1, ...)? */
int outfile_is_stdout(const char *path);

#endif
