/*
 * cli/secret.c secret_json_emit: the management key that 'mgmt-key set
 * --show-key --json' (and --random --protect --show-key --json, and the
 * failure document that still names the new key) prints must not stay on
 * the heap. jansson's allocator is replaced by one that, at every free,
 * looks for the key's hex digits in the block: none may be found.
 */
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
#include <jansson.h>

#include "cli.h"
#include "out.h"
#include "secret.h"

/* 64 hex digits: an AES-256 management key. */
static const char key[] =
    "7a3f09c1e5d2b8a4f6e1c3d5b7a90812c4e6f8a0b2d4f6e8a1c3e5f7b9d0e2f4";

struct hdr {
	size_t n;
	max_align_t pad;
};

static size_t unwiped; /* freed blocks that still held (part of) the key */
static size_t frees;

static void *
t_malloc(size_t n)
{
	struct hdr *h = malloc(sizeof(*h) + n);

	if (h == NULL)
		return NULL;
	h->n = n;
	return h + 1;
}

static void
t_free(void *p)
{
	struct hdr *h;

	if (p == NULL)
		return;
	h = (struct hdr *)p - 1;
	frees++;
	/* 16 digits: any piece of the key, not only a whole copy. */
	if (h->n >= 16 && memmem(p, h->n, key + 24, 16) != NULL)
		unwiped++;
	free(h);
}

static int
setup(void **state)
{
	json_set_alloc_funcs(t_malloc, t_free);
	unwiped = frees = 0;
	return 0;
}

static void
emit_with_key(void **state, bool error_doc)
{
	struct cli cli;
	json_t *doc, *e;
	int code, saved, null;

	memset(&cli, 0, sizeof(cli));
	cli.json = 1;
	assert_int_equal(cs_ctx_new(&cli.ctx), CS_OK);
	doc = out_doc_new();
	out_set(doc, "algorithm", out_str("aes256"));
	if (error_doc) {
		e = json_object();
		out_set(e, "code", out_str("CS_ERR_IO"));
		out_set(doc, "error", e);
	}
	/* The document goes to stdout: to /dev/null, away from TAP. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && null >= 0);
	assert_int_equal(dup2(null, STDOUT_FILENO), STDOUT_FILENO);
	code = secret_json_emit(&cli, doc, "management_key", key);
	fflush(stdout);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	close(null);
	assert_int_equal(code, 0);
	assert_int_equal(cli.emitted, 1);
	cs_ctx_free(cli.ctx);
	assert_true(frees > 0); /* the allocator was in use */
	assert_int_equal(unwiped, 0);
}

static void
test_cli_secret_json_report_wipes_key(void **state)
{
	emit_with_key(state, false);
}

static void
test_cli_secret_json_failure_doc_wipes_key(void **state)
{
	emit_with_key(state, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cli_secret_json_report_wipes_key,
		    setup),
		cmocka_unit_test_setup(
		    test_cli_secret_json_failure_doc_wipes_key, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
