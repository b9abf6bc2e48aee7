/*
 * Unit tests for issue 12 in cli/: the --show-key --json document wipes
 * jansson's heap copy of the management key (secret_json_emit); secret
 * prompts show the tries left (secret_prompt).
 */
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

#include "banned.h"

#define KEYHEX "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778"

/*
 * jansson allocator that looks into every block it frees: a block still
 * holding KEYHEX is a copy of the key that was never wiped.
 */
#define HDR 16
static int unwiped;

static void *
t_malloc(size_t n)
{
	unsigned char *p = malloc(n + HDR);

	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + HDR;
}

static void
t_free(void *q)
{
	unsigned char *p;
	size_t n;

	if (q == NULL)
		return;
	p = (unsigned char *)q - HDR;
	memcpy(&n, p, sizeof(n));
	if (n >= strlen(KEYHEX) &&
	    memmem(q, n, KEYHEX, strlen(KEYHEX)) != NULL)
		unwiped++;
	free(p);
}

/* Run fn with stdout sent to a temp file; returns what was written. */
static char *
capture(int (*fn)(struct cli *, json_t *), struct cli *cli, json_t *doc,
    int *code)
{
	char path[] = "/tmp/cs-guard.XXXXXX";
	static char buf[4096];
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDOUT_FILENO) >= 0);
	*code = fn(cli, doc);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
	return buf;
}

static int
emit_with_key(struct cli *cli, json_t *doc)
{
	return secret_json_emit(cli, doc, "management_key", KEYHEX);
}

static int
emit_plain(struct cli *cli, json_t *doc)
{
	out_set(doc, "management_key", json_string(KEYHEX));
	return out_emit(cli, doc);
}

/* The detector works: out_str/json_string + out_emit leaves the copy. */
static void
test_guard_plain_json_string_leaves_copy(void **state)
{
	struct cli cli;
	char *text;
	int code = -1;

	(void)state;
	memset(&cli, 0, sizeof(cli));
	cli.json = 1;
	unwiped = 0;
	text = capture(emit_plain, &cli, out_doc_new(), &code);
	assert_int_equal(code, 0);
	assert_non_null(strstr(text, KEYHEX));
	assert_int_equal(unwiped, 1);
}

/* secret_json_emit prints the key and frees no block still holding it. */
static void
test_guard_show_key_json_wipes_copy(void **state)
{
	struct cli cli;
	json_t *doc;
	char *text;
	int code = -1;

	(void)state;
	memset(&cli, 0, sizeof(cli));
	cli.json = 1;
	unwiped = 0;
	doc = out_doc_new();
	out_set(doc, "algorithm", out_str("aes192"));
	text = capture(emit_with_key, &cli, doc, &code);
	assert_int_equal(code, 0);
	assert_non_null(strstr(text, "\"management_key\": \"" KEYHEX "\""));
	assert_non_null(strstr(text, "\"algorithm\": \"aes192\""));
	assert_int_equal(unwiped, 0);
	/* a second document is refused and nothing leaks either */
	text = capture(emit_with_key, &cli, out_doc_new(), &code);
	assert_int_equal(code, 1);
	assert_null(strstr(text, KEYHEX));
	assert_int_equal(unwiped, 0);
}

/* "Enter PIN (2 tries left): ", singular at one, no count if unknown. */
static void
test_guard_prompt_shows_tries_left(void **state)
{
	struct secret_src pin, puk, newpin;
	char buf[96];

	(void)state;
	secret_src_init(&pin, "PIN", "pin");
	secret_src_init(&puk, "PUK", "puk");
	secret_src_init(&newpin, "new PIN", "new-pin");
	assert_string_equal(secret_prompt(&pin, false, buf, sizeof(buf)),
	    "Enter PIN: ");
	pin.tries = 2;
	assert_string_equal(secret_prompt(&pin, false, buf, sizeof(buf)),
	    "Enter PIN (2 tries left): ");
	pin.tries = 1;
	assert_string_equal(secret_prompt(&pin, false, buf, sizeof(buf)),
	    "Enter PIN (1 try left): ");
	puk.tries = 3;
	assert_string_equal(secret_prompt(&puk, false, buf, sizeof(buf)),
	    "Enter PUK (3 tries left): ");
	assert_string_equal(secret_prompt(&newpin, true, buf, sizeof(buf)),
	    "Repeat new PIN: ");
	/* a short buffer is cut, never overrun */
	assert_string_equal(secret_prompt(&pin, false, buf, 6), "Enter");
	secret_src_release(&pin);
	secret_src_release(&puk);
	secret_src_release(&newpin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_plain_json_string_leaves_copy),
		cmocka_unit_test(test_guard_show_key_json_wipes_copy),
		cmocka_unit_test(test_guard_prompt_shows_tries_left),
	};

	json_set_alloc_funcs(t_malloc, t_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
