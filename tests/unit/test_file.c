/*
 * Unit tests for lib/file.c: the bounded reader cs_file_read and its
 * secret twin (limit, missing file, empty file, directory, messages).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cardsmith/cardsmith.h"

#include "banned.h"

struct T {
	struct cs_ctx *ctx;
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct T *t = calloc(1, sizeof(*t));

	if (t == NULL || cs_ctx_new(&t->ctx) != CS_OK)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/cs-test-file.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/f", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct T *t = *state;

	(void)unlink(t->path);
	(void)rmdir(t->dir);
	cs_ctx_free(t->ctx);
	free(t);
	return 0;
}

/* Write n bytes of 'a' + i % 26 to t->path. */
static void
put_file(struct T *t, size_t n)
{
	FILE *f = fopen(t->path, "wb");
	size_t i;

	assert_non_null(f);
	for (i = 0; i < n; i++)
		assert_int_equal(fputc('a' + (int)(i % 26), f), 'a' + (int)(i % 26));
	assert_int_equal(fclose(f), 0);
}

static void
test_file_reads_exactly_max(void **state)
{
	struct T *t = *state;
	uint8_t *p = NULL;
	size_t n = 0, i;

	/* several read chunks, and the buffer grows on the way */
	put_file(t, 20000);
	assert_int_equal(cs_file_read(t->ctx, t->path, 20000, &p, &n), CS_OK);
	assert_int_equal(n, 20000);
	for (i = 0; i < n; i++)
		assert_int_equal(p[i], 'a' + (int)(i % 26));
	/* one NUL after the contents, not counted */
	assert_int_equal(p[n], '\0');
	free(p);
}

static void
test_file_over_max_is_limit(void **state)
{
	struct T *t = *state;
	char want[256];
	uint8_t *p = (uint8_t *)"x";
	size_t n = 7;

	put_file(t, 20001);
	assert_int_equal(cs_file_read(t->ctx, t->path, 20000, &p, &n),
	    CS_ERR_LIMIT);
	assert_null(p);
	assert_int_equal(n, 0);
	snprintf(want, sizeof(want), "%s: larger than 20000 bytes", t->path);
	assert_string_equal(cs_ctx_errmsg(t->ctx), want);
	/* the secret reader fails the same way */
	assert_int_equal(cs_file_read_secret(t->ctx, t->path, 20000, &p, &n),
	    CS_ERR_LIMIT);
	assert_null(p);
	assert_string_equal(cs_ctx_errmsg(t->ctx), want);
	/* max 0 allows the empty file only */
	put_file(t, 1);
	assert_int_equal(cs_file_read(t->ctx, t->path, 0, &p, &n),
	    CS_ERR_LIMIT);
}

static void
test_file_missing_is_not_found(void **state)
{
	struct T *t = *state;
	char want[256];
	uint8_t *p = NULL;
	size_t n = 0;

	assert_int_equal(cs_file_read(t->ctx, t->path, 10, &p, &n),
	    CS_ERR_NOT_FOUND);
	assert_null(p);
	snprintf(want, sizeof(want), "%s: %s", t->path, strerror(ENOENT));
	assert_string_equal(cs_ctx_errmsg(t->ctx), want);
	assert_int_equal(cs_file_read_secret(t->ctx, t->path, 10, &p, &n),
	    CS_ERR_NOT_FOUND);
}

static void
test_file_empty_gives_empty_buffer(void **state)
{
	struct T *t = *state;
	uint8_t *p = NULL;
	size_t n = 9;

	put_file(t, 0);
	assert_int_equal(cs_file_read(t->ctx, t->path, 10, &p, &n), CS_OK);
	assert_non_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(p[0], '\0');
	free(p);
	assert_int_equal(cs_file_read(t->ctx, t->path, 0, &p, &n), CS_OK);
	assert_int_equal(n, 0);
	free(p);
}

static void
test_file_directory_is_io(void **state)
{
	struct T *t = *state;
	char want[256];
	uint8_t *p = NULL;
	size_t n = 0;

	assert_int_equal(cs_file_read(t->ctx, t->dir, 10, &p, &n), CS_ERR_IO);
	assert_null(p);
	snprintf(want, sizeof(want), "%s: %s", t->dir, strerror(EISDIR));
	assert_string_equal(cs_ctx_errmsg(t->ctx), want);
}

static void
test_file_secret_reads_same_bytes(void **state)
{
	struct T *t = *state;
	uint8_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;

	put_file(t, 9000);
	assert_int_equal(cs_file_read(t->ctx, t->path, 1u << 20, &a, &na),
	    CS_OK);
	assert_int_equal(cs_file_read_secret(t->ctx, t->path, 1u << 20, &b,
	    &nb), CS_OK);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_int_equal(b[nb], '\0');
	free(a);
	cs_file_free_secret(b, nb);
	cs_file_free_secret(NULL, 0);
}

static void
test_file_rejects_null_arguments(void **state)
{
	struct T *t = *state;
	uint8_t *p = NULL;
	size_t n = 0;

	assert_int_equal(cs_file_read(t->ctx, NULL, 10, &p, &n), CS_ERR_ARG);
	assert_int_equal(cs_file_read(t->ctx, t->path, 10, NULL, &n),
	    CS_ERR_ARG);
	assert_int_equal(cs_file_read(t->ctx, t->path, 10, &p, NULL),
	    CS_ERR_ARG);
}

/* The caller-opened descriptor form: bounded by the buffer's maximum. */
static void
test_file_read_fd_bounded_by_buffer(void **state)
{
	struct T *t = *state;
	struct cs_buf ok = CS_BUF_INIT_SECRET(5000), small = CS_BUF_INIT(4999);
	int fd;

	put_file(t, 5000);
	assert_true((fd = open(t->path, O_RDONLY | O_NOFOLLOW)) >= 0);
	assert_int_equal(cs_file_read_fd(t->ctx, fd, t->path, &ok), CS_OK);
	assert_int_equal(ok.len, 5000);
	assert_int_equal(ok.data[4999], 'a' + 4999 % 26);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(cs_file_read_fd(t->ctx, fd, t->path, &small),
	    CS_ERR_LIMIT);
	assert_non_null(strstr(cs_ctx_errmsg(t->ctx), "larger than 4999"));
	assert_int_equal(close(fd), 0);
	/* a read error keeps errno for the caller */
	assert_int_equal(cs_file_read_fd(t->ctx, fd, "closed", &small),
	    CS_ERR_IO);
	assert_int_equal(errno, EBADF);
	cs_buf_release(&ok);
	cs_buf_release(&small);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_file_reads_exactly_max),
		T_(test_file_over_max_is_limit),
		T_(test_file_missing_is_not_found),
		T_(test_file_empty_gives_empty_buffer),
		T_(test_file_directory_is_io),
		T_(test_file_secret_reads_same_bytes),
		T_(test_file_rejects_null_arguments),
		T_(test_file_read_fd_bounded_by_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
