/*
 * Output files: see outfile.h for what each kind of destination gets.
 *
 * The kind is taken from lstat(2) and confirmed on the descriptor that is
 * written (open, then fstat), so a name swapped between the check and the
 * write is never written through as the wrong kind. Files are written
 * under a temporary name in the destination directory and renamed into
 * place (renameat2 RENAME_NOREPLACE for a new file, so it is still created
 * exclusively), which is what makes the result all or nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "outfile.h"

#include "banned.h"

enum dest_kind {
	DEST_STDOUT,
	DEST_STDERR,
	DEST_FD, /* /dev/fd/N for N > 2 */
	DEST_THROUGH, /* an existing character device or FIFO */
	DEST_NEW,
	DEST_REPLACE, /* an existing regular file, OUTFILE_FORCE */
};

struct dest {
	enum dest_kind kind;
	int fd; /* DEST_FD */
	struct stat st; /* DEST_REPLACE: the file replaced */
	char dir[PATH_MAX]; /* DEST_NEW, DEST_REPLACE */
	const char *base; /* last component of the path */
};

static enum cs_err fail(char *why, size_t cap, const char *fmt, ...)
    CS_PRINTF(3, 4);

static enum cs_err
fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap > 0) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return CS_ERR_IO;
}

const char *
outfile_name(const char *path)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return "standard output";
	return path[0] != '\0' ? path : "''";
}

/* Decimal descriptor number, the whole of s; -1 if it is not one. */
static int
fd_number(const char *s)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

/* The descriptor a name of the shell's kind stands for, or -1. */
static int
fd_name(const char *path)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };
	size_t i, n;

	if (strcmp(path, "/dev/stdout") == 0)
		return STDOUT_FILENO;
	if (strcmp(path, "/dev/stderr") == 0)
		return STDERR_FILENO;
	for (i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], n) == 0)
			return fd_number(path + n);
	}
	return -1;
}

int
outfile_is_stdout(const char *path)
{
	return path == NULL || strcmp(path, "-") == 0 ||
	    fd_name(path) == STDOUT_FILENO;
}

static enum cs_err
refuse_link(const char *path, char *why, size_t cap)
{
	char target[PATH_MAX];
	ssize_t n;

	if ((n = readlink(path, target, sizeof(target) - 1)) < 0)
		n = 0;
	target[n] = '\0';
	return fail(why, cap,
	    "is a symbolic link to %s; links are never followed or "
	    "replaced: name the target itself, or remove the link",
	    n > 0 ? target : "?");
}

static enum cs_err
refuse_exists(unsigned int flags, char *why, size_t cap)
{
	if (flags & OUTFILE_SECRET)
		return fail(why, cap,
		    "exists; a secret is only ever written to a new file: "
		    "remove it or choose another name");
	if (flags & OUTFILE_HINT_FORCE)
		return fail(why, cap, "exists; add --force to replace it");
	return fail(why, cap, "exists; remove it or choose another name");
}

/*
 * A descriptor name (/dev/stdout, /dev/fd/N): is it open for writing, and
 * one the caller gave us? cardsmith's own descriptors (the registry
 * database, the PC/SC socket) are all close-on-exec; inherited ones,
 * from a shell redirection, are not.
 */
static enum cs_err
classify_fd(int n, struct dest *d, char *why, size_t cap)
{
	int fl, fdfl;

	if ((fl = fcntl(n, F_GETFL)) < 0 || (fdfl = fcntl(n, F_GETFD)) < 0)
		return fail(why, cap, "descriptor %d is not open", n);
	if (n > STDERR_FILENO && (fdfl & FD_CLOEXEC))
		return fail(why, cap,
		    "descriptor %d is cardsmith's own, not one it was given",
		    n);
	if ((fl & O_ACCMODE) == O_RDONLY)
		return fail(why, cap, "descriptor %d is open only for reading",
		    n);
	d->kind = n == STDOUT_FILENO ? DEST_STDOUT
	    : n == STDERR_FILENO     ? DEST_STDERR
	                             : DEST_FD;
	d->fd = n;
	return CS_OK;
}

static enum cs_err
split_dir(const char *path, struct dest *d, char *why, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		d->dir[0] = '.';
		d->dir[1] = '\0';
		d->base = path;
		return CS_OK;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(d->dir))
		return fail(why, cap, "name too long");
	memcpy(d->dir, path, n);
	d->dir[n] = '\0';
	d->base = slash + 1;
	return CS_OK;
}

/*
 * What path is, and what writing it means; refusals are decided here. why
 * starts empty, so a caller's message never shows a stale reason.
 */
static enum cs_err
classify(const char *path, unsigned int flags, struct dest *d, char *why,
    size_t cap)
{
	size_t len;
	int n;

	if (cap > 0)
		why[0] = '\0';
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (path == NULL || strcmp(path, "-") == 0) {
		d->kind = DEST_STDOUT;
		return CS_OK;
	}
	if ((n = fd_name(path)) >= 0)
		return classify_fd(n, d, why, cap);
	if ((len = strlen(path)) == 0)
		return fail(why, cap, "empty file name");
	if (path[len - 1] == '/')
		return fail(why, cap, "names a directory: give a file name");
	if (split_dir(path, d, why, cap) != CS_OK)
		return CS_ERR_IO;
	if (lstat(path, &d->st) != 0) {
		if (errno != ENOENT)
			return fail(why, cap, "%s", strerror(errno));
		d->kind = DEST_NEW;
		return CS_OK;
	}
	if (S_ISLNK(d->st.st_mode))
		return refuse_link(path, why, cap);
	if (S_ISDIR(d->st.st_mode))
		return fail(why, cap, "is a directory: give a file name");
	if (S_ISBLK(d->st.st_mode))
		return fail(why, cap,
		    "is a block device: refusing to write to it");
	if (S_ISSOCK(d->st.st_mode))
		return fail(why, cap,
		    "is a socket: only files, character devices and FIFOs "
		    "are written");
	if (S_ISCHR(d->st.st_mode) || S_ISFIFO(d->st.st_mode)) {
		if (flags & OUTFILE_SECRET)
			return refuse_exists(flags, why, cap);
		d->kind = DEST_THROUGH;
		return CS_OK;
	}
	if (!S_ISREG(d->st.st_mode))
		return fail(why, cap, "is not a regular file");
	if ((flags & OUTFILE_SECRET) || !(flags & OUTFILE_FORCE))
		return refuse_exists(flags, why, cap);
	d->kind = DEST_REPLACE;
	return CS_OK;
}

/* Create "<dir>/.<base>.XXXXXX" (mode 0600); -1 with errno on failure. */
static int
make_temp(const struct dest *d, char *tmp, size_t cap)
{
	size_t dl = strlen(d->dir);
	int n;

	n = snprintf(tmp, cap, "%s%s.%.200s.XXXXXX", d->dir,
	    dl > 0 && d->dir[dl - 1] == '/' ? "" : "/", d->base);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(tmp, O_CLOEXEC);
}

static enum cs_err
temp_fail(const struct dest *d, int err, char *why, size_t cap)
{
	/* The caller prints the path, which names the directory already. */
	(void)d;
	if (err == ENOENT)
		return fail(why, cap, "its directory does not exist");
	if (err == ENOTDIR)
		return fail(why, cap, "a part of its directory is not a "
		    "directory");
	return fail(why, cap, "cannot create a file in its directory: %s",
	    strerror(err));
}

/* Can a file be created in d->dir? Creates and removes one. */
static enum cs_err
probe_dir(const struct dest *d, char *why, size_t cap)
{
	char tmp[PATH_MAX];
	int fd;

	if ((fd = make_temp(d, tmp, sizeof(tmp))) < 0)
		return temp_fail(d, errno, why, cap);
	unlink(tmp);
	close(fd);
	return CS_OK;
}

enum cs_err
outfile_check(const char *path, unsigned int flags, char *why, size_t cap)
{
	struct dest d;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = classify(path, flags, &d, why, cap)) != CS_OK)
		return r;
	if (d.kind == DEST_NEW || d.kind == DEST_REPLACE)
		return probe_dir(&d, why, cap);
	return CS_OK;
}

/* 0, or the errno of the failed write(2). */
static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Pipes and FIFOs: with SIGPIPE ignored a reader that went away is EPIPE,
 * reported, instead of a silent death by signal.
 */
static void
sigpipe_ignore(struct sigaction *old)
{
	struct sigaction ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, old);
}

static enum cs_err
write_fd(int fd, const void *data, size_t len, char *why, size_t cap)
{
	struct sigaction old;
	int err;

	sigpipe_ignore(&old);
	err = write_all(fd, data, len);
	sigaction(SIGPIPE, &old, NULL);
	if (err != 0)
		return fail(why, cap, "%s", strerror(err));
	return CS_OK;
}

/*
 * Standard output or error: what stdio holds goes first, then the data
 * with write(2), so a failure is reported here and only once (nothing of
 * it is left in a stdio buffer to fail again at exit).
 */
static enum cs_err
write_std(FILE *f, int fd, const void *data, size_t len, char *why, size_t cap)
{
	if (fflush(f) != 0)
		return fail(why, cap, "%s", strerror(errno));
	return write_fd(fd, data, len, why, cap);
}

/* An existing character device or FIFO: written in place, as it is. */
static enum cs_err
write_through(const char *path, const void *data, size_t len, char *why,
    size_t cap)
{
	struct stat st;
	enum cs_err r = CS_ERR_INTERNAL;
	int fd;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		return refuse_link(path, why, cap);
	if (fd < 0)
		return fail(why, cap, "%s", strerror(errno));
	if (fstat(fd, &st) != 0 ||
	    !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return fail(why, cap, "changed while it was being opened");
	}
	r = write_fd(fd, data, len, why, cap);
	if (close(fd) != 0 && r == CS_OK)
		r = fail(why, cap, "%s", strerror(errno));
	return r;
}

static mode_t
new_mode(unsigned int flags)
{
	mode_t m = umask(077);

	umask(m);
	return (flags & OUTFILE_SECRET ? 0600 : 0644) & ~m;
}

/* The replacement keeps the replaced file's permissions and owner. */
static void
keep_attrs(int fd, const struct stat *st)
{
	if (fchown(fd, geteuid() == 0 ? st->st_uid : (uid_t)-1, st->st_gid) !=
	    0) {
		/* Not ours to give: the file keeps our owner and group. */
	}
	(void)fchmod(fd, st->st_mode & 0777);
}

/* Move tmp to path, never over anything that appeared meanwhile. */
static int
publish_new(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* The file system cannot rename exclusively: link + unlink can. */
	if (link(tmp, path) != 0)
		return -1;
	unlink(tmp);
	return 0;
}

static int
sync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

/* Put the complete temporary file tmp in place of (or as) path. */
static enum cs_err
publish(const char *tmp, const char *path, const struct dest *d,
    unsigned int flags, char *why, size_t cap)
{
	struct stat now;
	int rc;

	if (d->kind == DEST_REPLACE) {
		/*
		 * Still the regular file that was checked? A link or FIFO
		 * swapped in since must not be replaced (the window left is
		 * the rename itself).
		 */
		if (lstat(path, &now) != 0 || !S_ISREG(now.st_mode) ||
		    now.st_dev != d->st.st_dev || now.st_ino != d->st.st_ino)
			return fail(why, cap, "changed while it was being "
			    "written; nothing was replaced");
		rc = rename(tmp, path);
	} else
		rc = publish_new(tmp, path);
	if (rc == 0)
		return CS_OK;
	if (errno == EEXIST)
		return refuse_exists(flags, why, cap);
	return fail(why, cap, "%s", strerror(errno));
}

static enum cs_err
write_file(const char *path, const struct dest *d, const void *data, size_t len,
    unsigned int flags, char *why, size_t cap)
{
	char tmp[PATH_MAX];
	int fd, err, placed = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((fd = make_temp(d, tmp, sizeof(tmp))) < 0)
		return temp_fail(d, errno, why, cap);
	if (d->kind == DEST_REPLACE)
		keep_attrs(fd, &d->st);
	else if (fchmod(fd, new_mode(flags)) != 0) {
		r = fail(why, cap, "%s", strerror(errno));
		goto out;
	}
	if ((err = write_all(fd, data, len)) == 0 && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	fd = -1;
	if (err != 0) {
		r = fail(why, cap, "%s", strerror(err));
		goto out;
	}
	if ((r = publish(tmp, path, d, flags, why, cap)) != CS_OK)
		goto out;
	placed = 1;
	if (sync_dir(d->dir) != 0) {
		r = fail(why, cap,
		    "written, but directory %s could not be synced: %s", d->dir,
		    strerror(errno));
		goto out;
	}
	r = CS_OK;
out:
	if (fd >= 0)
		close(fd);
	if (!placed)
		unlink(tmp);
	return r;
}

enum cs_err
outfile_write(const char *path, const void *data, size_t len,
    unsigned int flags, char *why, size_t cap)
{
	struct dest d;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = classify(path, flags, &d, why, cap)) != CS_OK)
		return r;
	switch (d.kind) {
	case DEST_STDOUT:
		return write_std(stdout, STDOUT_FILENO, data, len, why, cap);
	case DEST_STDERR:
		return write_std(stderr, STDERR_FILENO, data, len, why, cap);
	case DEST_FD:
		return write_fd(d.fd, data, len, why, cap);
	case DEST_THROUGH:
		return write_through(path, data, len, why, cap);
	case DEST_NEW:
	case DEST_REPLACE:
		return write_file(path, &d, data, len, flags, why, cap);
	default:
		return fail(why, cap, "internal error");
	}
}

static const char *
cmd_name(const struct cli *cli)
{
	return cli->cmd != NULL ? cli->cmd->name : "cardsmith";
}

/*
 * With --json, standard output carries exactly one document: naming it as
 * --out as well would put the PEM beside the document.
 */
static int
json_clash(struct cli *cli, const char *path)
{
	if (!cli->json || path == NULL || !outfile_is_stdout(path))
		return CLI_CONTINUE;
	return out_usage(cli, "%s: --out %s with --json: standard output "
	    "carries only the JSON document; give --out a file, or leave it "
	    "out", cmd_name(cli), path);
}

int
outfile_preflight(struct cli *cli, const char *path, unsigned int flags)
{
	char why[OUTFILE_WHY_MAX];
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((code = json_clash(cli, path)) != CLI_CONTINUE)
		return code;
	if ((r = outfile_check(path, flags, why, sizeof(why))) == CS_OK)
		return CLI_CONTINUE;
	return out_failf(cli, r, "%s: %s: %s; nothing was done", cmd_name(cli),
	    outfile_name(path), why);
}

int
outfile_put(struct cli *cli, const char *path, const char *text,
    unsigned int flags)
{
	char why[OUTFILE_WHY_MAX];
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((code = json_clash(cli, path)) != CLI_CONTINUE)
		return code;
	r = outfile_write(path, text, strlen(text), flags, why, sizeof(why));
	if (r == CS_OK)
		return CLI_CONTINUE;
	return out_failf(cli, r, "%s: %s: %s", cmd_name(cli),
	    outfile_name(path), why);
}
