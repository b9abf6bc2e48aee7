/*
 * cli/outfile.c: what each kind of destination gets (new file, existing
 * file with and without force, secret, symbolic link, directory, socket,
 * character device, FIFO, descriptor names), that a failed write leaves
 * neither a partial nor a temporary file, and that the preflight opens
 * nothing.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"

static const char text[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
                           "-----END CERTIFICATE-----\n";

struct fx {
	char dir[PATH_MAX];
	char path[PATH_MAX + 16];
	char why[OUTFILE_WHY_MAX];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/cs-outfile.XXXXXX",
	    t != NULL && *t == '/' ? t : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/out.pem", f->dir);
	umask(022);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 16];

	chmod(f->dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Entries in the fixture directory other than "." and ".." */
static int
entries(const struct fx *f)
{
	struct dirent *e;
	DIR *d = opendir(f->dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
put(const char *path, const char *s)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(s, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Whole file as a string (static buffer). */
static const char *
slurp(const char *path)
{
	static char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_outfile_new_file_0644(void **state)
{
	struct fx *f = *state;
	struct stat st;

	assert_int_equal(outfile_write(f->path, text, strlen(text), 0, f->why,
	                     sizeof(f->why)),
	    CS_OK);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_string_equal(slurp(f->path), text);
	assert_int_equal(entries(f), 1); /* no temporary file left */
}

static void
test_outfile_new_secret_0600(void **state)
{
	struct fx *f = *state;
	struct stat st;

	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_SECRET, f->why, sizeof(f->why)),
	    CS_OK);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_outfile_umask_applies(void **state)
{
	struct fx *f = *state;
	struct stat st;

	umask(077);
	assert_int_equal(outfile_write(f->path, text, strlen(text), 0, f->why,
	                     sizeof(f->why)),
	    CS_OK);
	umask(022);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_outfile_exists_refused_without_force(void **state)
{
	struct fx *f = *state;

	put(f->path, "old\n");
	assert_int_equal(outfile_check(f->path, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "remove it or choose another name"));
	assert_null(strstr(f->why, "--force"));
	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_HINT_FORCE, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_string_equal(f->why, "exists; add --force to replace it");
	assert_string_equal(slurp(f->path), "old\n");
	assert_int_equal(entries(f), 1);
}

static void
test_outfile_force_replaces_atomically(void **state)
{
	struct fx *f = *state;
	struct stat before, after;

	put(f->path, "old\n");
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(
	    outfile_check(f->path, OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_OK);
	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_OK);
	assert_int_equal(stat(f->path, &after), 0);
	assert_string_equal(slurp(f->path), text);
	/* A new inode renamed into place, with the old permissions. */
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(after.st_mode & 07777, 0640);
	assert_int_equal(entries(f), 1);
}

static void
test_outfile_secret_never_replaces(void **state)
{
	struct fx *f = *state;

	put(f->path, "old\n");
	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_SECRET | OUTFILE_FORCE, f->why,
	                     sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "exists"));
	assert_string_equal(slurp(f->path), "old\n");
	/* Nor is a device written through. */
	assert_int_equal(outfile_write("/dev/null", text, strlen(text),
	                     OUTFILE_SECRET, f->why, sizeof(f->why)),
	    CS_ERR_IO);
}

static void
test_outfile_symlink_refused(void **state)
{
	struct fx *f = *state;
	char target[PATH_MAX + 16], got[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(target, sizeof(target), "%s/target", f->dir);
	put(target, "precious\n");
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(
	    outfile_check(f->path, OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "symbolic link to"));
	assert_non_null(strstr(f->why, target));
	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(f->path, got, sizeof(got) - 1);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, target);
	assert_string_equal(slurp(target), "precious\n");
	assert_int_equal(entries(f), 2);
}

static void
test_outfile_dangling_symlink_refused(void **state)
{
	struct fx *f = *state;
	char target[PATH_MAX + 16];
	struct stat st;

	snprintf(target, sizeof(target), "%s/absent", f->dir);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(outfile_write(f->path, text, strlen(text), 0, f->why,
	                     sizeof(f->why)),
	    CS_ERR_IO);
	assert_int_equal(lstat(target, &st), -1); /* not created through it */
}

static void
test_outfile_directory_refused(void **state)
{
	struct fx *f = *state;
	char slash[PATH_MAX + 16];

	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "is a directory"));
	snprintf(slash, sizeof(slash), "%s/new/", f->dir);
	assert_int_equal(outfile_check(slash, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "names a directory"));
}

static void
test_outfile_socket_refused(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa;
	struct stat st;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(f->path) >= sizeof(sa.sun_path))
		skip();
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	assert_true((s = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "socket"));
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	close(s);
}

static void
test_outfile_fifo_written_through(void **state)
{
	struct fx *f = *state;
	char buf[256];
	struct stat st;
	ssize_t n;
	int rd;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	/* No reader yet: the preflight must not open (and block on) it. */
	assert_int_equal(outfile_check(f->path, 0, f->why, sizeof(f->why)),
	    CS_OK);
	assert_true((rd = open(f->path, O_RDONLY | O_NONBLOCK)) >= 0);
	assert_int_equal(outfile_write(f->path, text, strlen(text), 0, f->why,
	                     sizeof(f->why)),
	    CS_OK);
	n = read(rd, buf, sizeof(buf) - 1);
	assert_int_equal(n, (ssize_t)strlen(text));
	buf[n] = '\0';
	assert_string_equal(buf, text);
	close(rd);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

static void
test_outfile_fifo_reader_gone_is_epipe(void **state)
{
	struct fx *f = *state;
	char name[32];
	int rd, wr;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	/* A writer whose only reader has gone: EPIPE, not death by SIGPIPE. */
	assert_true((rd = open(f->path, O_RDONLY | O_NONBLOCK)) >= 0);
	assert_true((wr = open(f->path, O_WRONLY)) >= 0);
	close(rd);
	snprintf(name, sizeof(name), "/dev/fd/%d", wr);
	assert_int_equal(
	    outfile_write(name, text, strlen(text), 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_string_equal(f->why, strerror(EPIPE));
	close(wr);
}

static void
test_outfile_dev_null_stays_a_device(void **state)
{
	struct fx *f = *state;
	struct stat st;

	assert_int_equal(outfile_check("/dev/null", 0, f->why, sizeof(f->why)),
	    CS_OK);
	assert_int_equal(outfile_write("/dev/null", text, strlen(text), 0,
	                     f->why, sizeof(f->why)),
	    CS_OK);
	assert_int_equal(outfile_write("/dev/null", text, strlen(text),
	                     OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_OK);
	assert_int_equal(lstat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

/* A private character device (root only): written, never replaced. */
static void
test_outfile_private_char_device(void **state)
{
	struct fx *f = *state;
	struct stat st;

	if (geteuid() != 0 ||
	    mknod(f->path, S_IFCHR | 0666, makedev(1, 3)) != 0)
		skip();
	assert_int_equal(outfile_write(f->path, text, strlen(text),
	                     OUTFILE_FORCE, f->why, sizeof(f->why)),
	    CS_OK);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
}

static void
test_outfile_dev_full_reports_enospc(void **state)
{
	struct fx *f = *state;

	if (access("/dev/full", W_OK) != 0)
		skip();
	assert_int_equal(outfile_write("/dev/full", text, strlen(text), 0,
	                     f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_string_equal(f->why, strerror(ENOSPC));
}

/* A write that fails part way (file size limit) leaves nothing behind. */
static void
test_outfile_write_error_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct rlimit old, lim = { 8, 8 };
	void (*oldsig)(int);
	enum cs_err r1, r2;

	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r1 = outfile_write(f->path, text, strlen(text), 0, f->why,
	    sizeof(f->why));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r1, CS_ERR_IO);
	assert_string_equal(f->why, strerror(EFBIG));
	assert_int_equal(entries(f), 0);

	put(f->path, "old\n");
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r2 = outfile_write(f->path, text, strlen(text), OUTFILE_FORCE, f->why,
	    sizeof(f->why));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(r2, CS_ERR_IO);
	assert_string_equal(slurp(f->path), "old\n");
	assert_int_equal(entries(f), 1);
}

static void
test_outfile_missing_dir_preflight(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/nodir/out.pem", f->dir);
	assert_int_equal(outfile_check(p, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "does not exist"));
	put(f->path, "x\n");
	snprintf(p, sizeof(p), "%s/out.pem/x", f->dir);
	assert_int_equal(outfile_check(p, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_int_equal(entries(f), 1);
}

static void
test_outfile_unwritable_dir_preflight(void **state)
{
	struct fx *f = *state;

	/* Root writes anywhere: only an unprivileged run can show it. */
	if (geteuid() == 0)
		skip();
	assert_int_equal(chmod(f->dir, 0500), 0);
	assert_int_equal(outfile_check(f->path, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, strerror(EACCES)));
	assert_int_equal(chmod(f->dir, 0700), 0);
}

static void
test_outfile_fd_names(void **state)
{
	struct fx *f = *state;
	char name[32], buf[256];
	int p[2], fd, d0;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	snprintf(name, sizeof(name), "/dev/fd/%d", p[1]);
	assert_int_equal(
	    outfile_write(name, text, strlen(text), 0, f->why, sizeof(f->why)),
	    CS_OK);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_int_equal(n, (ssize_t)strlen(text));
	snprintf(name, sizeof(name), "/proc/self/fd/%d", p[0]);
	assert_int_equal(outfile_check(name, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "only for reading"));
	close(p[0]);
	close(p[1]);
	assert_int_equal(outfile_check(name, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "not open"));
	/* A descriptor of the process's own (close-on-exec) is refused. */
	assert_true((d0 = open(f->dir, O_RDONLY | O_DIRECTORY)) >= 0);
	assert_true((fd = fcntl(d0, F_DUPFD_CLOEXEC, 10)) >= 10);
	close(d0);
	snprintf(name, sizeof(name), "/dev/fd/%d", fd);
	assert_int_equal(outfile_check(name, 0, f->why, sizeof(f->why)),
	    CS_ERR_IO);
	assert_non_null(strstr(f->why, "cardsmith's own"));
	close(fd);
	assert_true(outfile_is_stdout("/dev/stdout"));
	assert_true(outfile_is_stdout("-"));
	assert_true(outfile_is_stdout(NULL));
	assert_false(outfile_is_stdout("/dev/fd/10"));
	assert_string_equal(outfile_name(NULL), "standard output");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outfile_new_file_0644,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_new_secret_0600,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_umask_applies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_exists_refused_without_force, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_force_replaces_atomically, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_secret_never_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_symlink_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_dangling_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_directory_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_socket_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_fifo_written_through, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_fifo_reader_gone_is_epipe, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_dev_null_stays_a_device, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_private_char_device, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_dev_full_reports_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_write_error_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_missing_dir_preflight, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outfile_unwritable_dir_preflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outfile_fd_names, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
