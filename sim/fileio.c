/*
 * Plain file helpers for sim/: the one write loop and the directory fsync
 * behind the state file (state.c) and the vendor CA directory (vendor.c);
 * reading is lib's cs_file_read_fd.
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
