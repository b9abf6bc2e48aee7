/*
 * Secrets for the CLI: PIN, PUK, new PIN/PUK and management keys. They
 * never come from argv; the sources are, in this order of precedence, an
 * explicit --X-fd, --X-file or --X-env option (at most one of them), else
 * a no-echo prompt on /dev/tty. With neither, the command fails at once
 * naming the options (exit 2): nothing ever waits for input that cannot
 * come.
 */
#ifndef CARDSMITH_CLI_SECRET_H
#define CARDSMITH_CLI_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <popt.h>

#include "cli.h"

/* Longest secret text accepted: a hex AES-256 key is 64 digits. */
#define SECRET_MAX 128
/* Largest management key in bytes (AES-256). */
#define SECRET_KEY_MAX 32

/* struct secret_src (where one secret comes from) is in cli.h. */

/* A secret's text; wipe with secret_clear. */
struct secret {
	char s[SECRET_MAX + 1];
	size_t len;
};

/* The three options of src, for a poptOption table (what is a literal). */
/* clang-format off */
#define SECRET_POPT(src, stem, what) \
	{ stem "-fd", '\0', POPT_ARG_INT, &(src).fd, 0, \
	    "read the " what " from file descriptor FD (up to a newline)", \
	    "FD" }, \
	{ stem "-file", '\0', POPT_ARG_STRING, &(src).file, 0, \
	    "read the " what " from FILE (mode 0600 or stricter)", "FILE" }, \
	{ stem "-env", '\0', POPT_ARG_STRING, &(src).env, 0, \
	    "read the " what " from environment variable NAME (then unset " \
	    "it)", "NAME" }
/* clang-format on */

void secret_src_init(struct secret_src *src, const char *what, const char *opt);
/* Free the popt strings of src. */
void secret_src_release(struct secret_src *src);
/* Was an explicit source (fd, file or environment) given? */
bool secret_src_given(const struct secret_src *src);

/*
 * Read the secret from its source into *out. When confirm is true and the
 * secret is typed at a prompt, it is asked twice. Returns CLI_CONTINUE, or
 * an exit code after reporting (2: no source and no terminal, or two
 * sources; 1: unreadable source). Messages never contain the secret.
 */
int secret_get(struct cli *cli, struct secret_src *src, bool confirm,
    struct secret *out);

/*
 * Decode a hex management key (32, 48 or 64 digits) from s into
 * key[0..SECRET_KEY_MAX); *len gets 16, 24 or 32. Returns false on bad
 * input (the message must not quote it).
 */
bool secret_hex_key(const struct secret *s, uint8_t *key, size_t *len);

/* Wipe a secret. */
void secret_clear(struct secret *s);

/*
 * The terminal prompt for src into buf[0..cap): "Enter PIN: ", with the
 * tries left when known ("Enter PIN (2 tries left): "), or "Repeat new
 * PIN: " when again. Returns buf.
 */
const char *secret_prompt(const struct secret_src *src, bool again, char *buf,
    size_t cap);

/*
 * Emit doc (out_emit, which frees it) with doc[key] set to the secret
 * value, e.g. a management key for --show-key, and wipe the copy of value
 * that jansson keeps on the heap (json_decref frees it unwiped). Returns
 * out_emit's exit code.
 */
int secret_json_emit(struct cli *cli, json_t *doc, const char *key,
    const char *value);

/*
 * Whether there is a terminal to ask on (/dev/tty, in the foreground
 * process group).
 */
bool secret_have_tty(void);

/*
 * Ask a yes/no question on the terminal. Returns 1 for yes, 0 for no or
 * end of input, -1 if there is no terminal.
 */
int secret_confirm(const char *question);

/*
 * Gate for a destructive step: proceeds (CLI_CONTINUE) with force or an
 * interactive yes; otherwise reports and returns the exit code (2 without
 * a terminal, naming --force; 1 when the user says no).
 */
int secret_destructive(struct cli *cli, bool force, const char *question);

#endif
