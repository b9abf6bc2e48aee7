/*
 * Bounded whole-file reading (include/cardsmith/file.h). One loop serves
 * both the plain and the secret reader; for secrets the buffer is a
 * secret cs_buf (grown by copy-and-wipe, never realloc) and the stack
 * chunk is wiped, so no partial copy of a key outlives the call.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "cardsmith/file.h"

#include "banned.h"

/* Read size: one page-sized chunk at a time keeps the stack use small. */
#define FILE_CHUNK 8192

static enum cs_err
read_fd(struct cs_ctx *ctx, int fd, const char *path, size_t max,
    struct cs_buf *b, uint8_t *chunk)
{
	ssize_t n;
	int e;
	enum cs_err r = CS_ERR_INTERNAL;

	for (;;) {
		n = read(fd, chunk, FILE_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* callers may still want errno */
			e = errno;
			r = csi_fail(ctx, CS_ERR_IO, "%s: %s", path,
			    strerror(e));
			errno = e;
			return r;
		}
		if (n == 0)
			return CS_OK;
		if ((size_t)n > max - b->len)
			return csi_fail(ctx, CS_ERR_LIMIT,
			    "%s: larger than %zu bytes", path, max);
		if ((r = cs_buf_put(b, chunk, (size_t)n)) != CS_OK)
			return csi_fail(ctx, r, "%s: %s", path, cs_strerror(r));
	}
}

enum cs_err
cs_file_read_fd(struct cs_ctx *ctx, int fd, const char *name,
    struct cs_buf *b)
{
	uint8_t chunk[FILE_CHUNK];
	enum cs_err r = CS_ERR_INTERNAL;

	if (b == NULL || b->len > b->max)
		return csi_fail(ctx, CS_ERR_ARG, "file: no buffer");
	r = read_fd(ctx, fd, name != NULL ? name : "file", b->max, b, chunk);
	if (b->secret)
		cs_wipe(chunk, sizeof(chunk));
	return r;
}

static enum cs_err
read_file(struct cs_ctx *ctx, const char *path, size_t max, bool secret,
    uint8_t **out, size_t *outlen)
{
	struct cs_buf b;
	uint8_t chunk[FILE_CHUNK];
	struct stat st;
	size_t len = 0;
	int fd = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL || outlen == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "file: no output");
	*out = NULL;
	*outlen = 0;
	if (path == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "file: no path");
	/* room for the NUL after the contents */
	if (max == SIZE_MAX)
		max--;
	cs_buf_init(&b, max + 1, secret);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return csi_fail(ctx,
		    errno == ENOENT ? CS_ERR_NOT_FOUND : CS_ERR_IO, "%s: %s",
		    path, strerror(errno));
	/* a directory opens fine; fail as read(2) would on it */
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		r = csi_fail(ctx, CS_ERR_IO, "%s: %s", path, strerror(EISDIR));
		goto out;
	}
	if ((r = read_fd(ctx, fd, path, max, &b, chunk)) != CS_OK)
		goto out;
	len = b.len;
	if ((r = cs_buf_put_u8(&b, 0)) != CS_OK ||
	    (r = cs_buf_take(&b, out, outlen)) != CS_OK) {
		r = csi_fail(ctx, r, "%s: %s", path, cs_strerror(r));
		goto out;
	}
	*outlen = len;
	r = CS_OK;
out:
	if (secret)
		cs_wipe(chunk, sizeof(chunk));
	close(fd);
	cs_buf_release(&b);
	return r;
}

enum cs_err
cs_file_read(struct cs_ctx *ctx, const char *path, size_t max, uint8_t **out,
    size_t *outlen)
{
	return read_file(ctx, path, max, false, out, outlen);
}

enum cs_err
cs_file_read_secret(struct cs_ctx *ctx, const char *path, size_t max,
    uint8_t **out, size_t *outlen)
{
	return read_file(ctx, path, max, true, out, outlen);
}

void
cs_file_free_secret(uint8_t *p, size_t len)
{
	cs_free_secret(p, len);
}
