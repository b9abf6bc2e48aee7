/*
 * File I/O of the CA directory: paths, bounded reads, atomic writes (0600,
 * O_EXCL for new secrets), directories, memory BIOs.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>

#include "ca_int.h"

#include "banned.h"

/* --- file helpers --- */

enum cs_err
csa_path(struct cs_ctx *ctx, char *dst, size_t cap, const char *dir,
    const char *name)
{
	int n = snprintf(dst, cap, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= cap)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "%s: path too long",
		    name);
	return CS_OK;
}

enum cs_err
csa_write_file(struct cs_ctx *ctx, const char *path, const void *p, size_t len,
    int mode, bool excl)
{
	char tmp[CSA_PATH_MAX];
	const uint8_t *q = p;
	struct stat st;
	ssize_t n;
	int fd = -1, k;
	enum cs_err r = CS_ERR_INTERNAL;

	if (excl && lstat(path, &st) == 0)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: already exists", path);
	k = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (k < 0 || (size_t)k >= sizeof(tmp))
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "%s: path too long",
		    path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp,
		    strerror(errno));
	while (len > 0) {
		n = write(fd, q, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		q += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
		r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (excl ? link(tmp, path) != 0 : rename(tmp, path) != 0) {
		r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	r = CS_OK;
out:
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	return r;
}

enum cs_err
csa_make_dir(struct cs_ctx *ctx, const char *dir)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (mkdir(dir, 0700) == 0)
		return CS_OK;
	if (errno != EEXIST)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", dir,
		    strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", dir,
		    strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	if (n != 0)
		return cs_ctx_fail(ctx, CS_ERR_IO,
		    "%s: not empty (a CA exists there?)", dir);
	if (chmod(dir, 0700) != 0)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", dir,
		    strerror(errno));
	return CS_OK;
}

bool
csa_file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

enum cs_err
csa_copy_file(struct cs_ctx *ctx, const char *src, const char *dst)
{
	uint8_t *data = NULL;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_file_read(ctx, src, CSA_FILE_MAX, &data, &len)) == CS_OK)
		r = csa_write_file(ctx, dst, data, len, 0600, false);
	cs_free(data);
	return r;
}

enum cs_err
csa_bio_take(struct cs_ctx *ctx, BIO *b, char **pem, size_t *pemlen)
{
	BUF_MEM *m;
	char *s;

	BIO_get_mem_ptr(b, &m);
	if ((s = malloc(m->length + 1)) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "PEM");
	memcpy(s, m->data, m->length);
	s[m->length] = '\0';
	*pem = s;
	*pemlen = m->length;
	return CS_OK;
}
