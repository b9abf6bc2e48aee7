/*
 * Plain file helpers for sim/: the one write loop, bounded read loop and
 * directory fsync behind the state file (state.c) and the vendor CA
 * directory (vendor.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fileio.h"

#include "banned.h"

enum cs_err
simi_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;
	size_t off = 0;

	while (off < n) {
		w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		/* 0 for a non-empty write would loop forever. */
		if (w <= 0)
			return CS_ERR_IO;
		off += (size_t)w;
	}
	return CS_OK;
}

enum cs_err
simi_read_fd(int fd, struct cs_buf *b)
{
	uint8_t chunk[4096];
	ssize_t k;
	enum cs_err r = CS_ERR_INTERNAL;

	for (;;) {
		if ((k = read(fd, chunk, sizeof(chunk))) < 0) {
			if (errno == EINTR)
				continue;
			r = CS_ERR_IO;
			break;
		}
		if (k == 0) {
			r = CS_OK;
			break;
		}
		if ((r = cs_buf_put(b, chunk, (size_t)k)) != CS_OK)
			break;
	}
	cs_wipe(chunk, sizeof(chunk));
	return r;
}

enum cs_err
simi_dir_sync(const char *dir)
{
	int fd;
	enum cs_err r = CS_ERR_IO;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return CS_ERR_IO;
	if (fsync(fd) == 0)
		r = CS_OK;
	close(fd);
	return r;
}
