/* cardsmith mgmt-key set: change the management key. */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardsmith/hex.h"

#include "card.h"
#include "cardops.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"

#include "banned.h"

static int mgmt_set(struct cli *, int, const char **);

static const struct cmd mgmt_subs[] = {
	{ "mgmt-key set", mgmt_set, NEED_CARD,
	    "set a new management key (random or given)" },
	{ NULL, NULL, 0, NULL },
};

static const struct cli_usage set_usage = {
	"(--random | --new-mgmt-key-fd FD | --new-mgmt-key-file FILE | "
	"--new-mgmt-key-env NAME)\n        [--alg ALG] [--protect] [--touch] "
	"[--out-key-file FILE | --show-key]",
	"Set a new management key. --random makes one on the host (AES-192, "
	"or 3DES on\ncards without AES; --alg 3des, aes128, aes192, aes256 "
	"chooses). --protect\nstores it on the card, readable only after the "
	"PIN, as ykman does: later\ncommands then need only the PIN. Without "
	"--protect a random key is written\nonly to --out-key-file (created "
	"new, mode 0600) or, with --show-key, to\nstandard output. The "
	"current key is the default, the PIN-protected one, or\nthe one "
	"given with --mgmt-key-fd/-file/-env.\n\nThe new key is kept "
	"before the card changes, so that a pulled card never\nleaves a "
	"key nobody has: --out-key-file is written and synced first,\n"
	"--show-key prints it first (with --json it is in the document, "
	"errors too),\n--protect stores the PIN-protected copy first "
	"and keeps the old protected key\nbeside it until the card has "
	"the new one. After a failure the message says\nwhether the card "
	"still uses the old key, uses the new one or may use either,\nand "
	"where the new one is; the key file is removed only when the card "
	"certainly\nstill uses the old key.",
	"  cardsmith mgmt-key set --random --protect --pin-env PIN\n"
	"  cardsmith mgmt-key set --random --out-key-file mgm.key",
};

struct mgmt_opts {
	char *alg, *out_file;
	int random, protect, touch, show;
};

static int
pick_alg(struct cli *cli, const struct mgmt_opts *o, size_t keylen,
    uint8_t *alg)
{
	bool aes = cs_card_has(cli->card, CS_CAP_AES_MGM) ||
	    !cs_card_has(cli->card, CS_CAP_YUBIKEY);

	if (o->alg != NULL) {
		*alg = cs_piv_alg_parse(o->alg);
		if (*alg != CS_PIV_ALG_3DES && *alg != CS_PIV_ALG_AES128 &&
		    *alg != CS_PIV_ALG_AES192 && *alg != CS_PIV_ALG_AES256)
			return out_usage(cli,
			    "mgmt-key set: --alg: give 3des, "
			    "aes128, aes192 or aes256");
	} else if (keylen == 16)
		*alg = CS_PIV_ALG_AES128;
	else if (keylen == 32)
		*alg = CS_PIV_ALG_AES256;
	else
		*alg = aes ? CS_PIV_ALG_AES192 : CS_PIV_ALG_3DES;
	return CLI_CONTINUE;
}

static size_t
alg_len(uint8_t alg)
{
	return alg == CS_PIV_ALG_AES128 ? 16
	    : alg == CS_PIV_ALG_AES256  ? 32
	                                : 24;
}

/* The new key: random or from its source. */
static int
new_key(struct cli *cli, struct card_secrets *cs, const struct mgmt_opts *o,
    uint8_t *key, size_t *len, uint8_t *alg)
{
	struct secret s;
	int code;

	*len = 0;
	if (o->random) {
		if ((code = pick_alg(cli, o, 0, alg)) != CLI_CONTINUE)
			return code;
		*len = alg_len(*alg);
		if (getrandom(key, *len, 0) != (ssize_t)*len)
			return out_failf(cli, CS_ERR_CRYPTO, "no random bytes");
		return CLI_CONTINUE;
	}
	if ((code = secret_get(cli, &cs->new_mgm, true, &s)) != CLI_CONTINUE)
		return code;
	if (!secret_hex_key(&s, key, len)) {
		secret_clear(&s);
		return out_failf(cli, CS_ERR_ARG,
		    "the new management key must "
		    "be 32, 48 or 64 hex digits; nothing was changed");
	}
	secret_clear(&s);
	if ((code = pick_alg(cli, o, *len, alg)) != CLI_CONTINUE)
		return code;
	if (alg_len(*alg) != *len)
		return out_failf(cli, CS_ERR_ARG,
		    "the new management key has "
		    "%zu bytes, %s needs %zu; nothing was changed",
		    *len, cs_piv_alg_name(*alg), alg_len(*alg));
	return CLI_CONTINUE;
}

/*
 * The key file, written exclusively (0600, synced, published complete
 * under its name) right before the card changes. *at records what was
 * written, so that only that very file is ever removed again.
 */
static int
write_key_file(struct cli *cli, const char *path, const char *hex,
    struct stat *at)
{
	char buf[2 * SECRET_KEY_MAX + 2], why[OUTFILE_WHY_MAX];
	size_t len = strlen(hex);
	enum cs_err r = CS_ERR_INTERNAL;

	memcpy(buf, hex, len);
	buf[len] = '\n';
	r = outfile_write(path, buf, len + 1, OUTFILE_SECRET, why,
	    sizeof(why));
	cs_wipe(buf, sizeof(buf));
	if (r != CS_OK)
		return out_failf(cli, r, "mgmt-key set: %s: %s; nothing was "
		    "changed", path, why);
	if (lstat(path, at) != 0)
		memset(at, 0, sizeof(*at));
	return CLI_CONTINUE;
}

/* Remove the key file written above, if it is still that file. */
static void
remove_key_file(const char *path, const struct stat *at)
{
	struct stat now;

	if (at->st_ino == 0 || lstat(path, &now) != 0 ||
	    now.st_dev != at->st_dev || now.st_ino != at->st_ino)
		return;
	(void)unlink(path);
}

/*
 * Keep the new key before the card gets it, so that no failure (a pulled
 * card, a lost answer, a crash) can leave a key in force that nobody has:
 * --out-key-file is written and synced, --show-key prints it (text mode;
 * a document can only come at the end). --protect copies it onto the card
 * first (lib/piv_mgm.c stage_protected); a given key is the caller's.
 */
static int
persist(struct cli *cli, const struct mgmt_opts *o, const char *hex,
    struct stat *at)
{
	if (o->out_file != NULL)
		return write_key_file(cli, o->out_file, hex, at);
	if (!o->show || cli->json)
		return CLI_CONTINUE;
	printf("%s\n", hex);
	if (fflush(stdout) != 0 || ferror(stdout))
		return out_failf(cli, CS_ERR_IO,
		    "cannot print the new key on standard output: %s; nothing "
		    "was changed",
		    strerror(errno));
	return CLI_CONTINUE;
}

/* Emit doc, with management_key when hex is given (its copy wiped). */
static int
emit_doc(struct cli *cli, json_t *doc, const char *hex)
{
	if (hex == NULL)
		return out_emit(cli, doc);
	return secret_json_emit(cli, doc, "management_key", hex);
}

static int
report(struct cli *cli, const struct mgmt_opts *o, uint8_t alg, const char *hex)
{
	json_t *doc;

	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "algorithm", out_str(cs_piv_alg_name(alg)));
		out_set(doc, "protected", json_boolean(o->protect));
		out_set(doc, "touch", json_boolean(o->touch));
		out_set(doc, "key_file", out_str(o->out_file));
		return emit_doc(cli, doc, o->show ? hex : NULL);
	}
	out_notice(cli, "management key set (%s%s)", cs_piv_alg_name(alg),
	    o->protect ? ", PIN-protected on the card" : "");
	return CLI_EXIT_OK;
}

/* Where the user finds the new key after a failure. */
static const char *
kept_where(struct cli *cli, const struct mgmt_opts *o, char *buf, size_t cap)
{
	if (o->out_file != NULL)
		snprintf(buf, cap, "saved in %s%s", o->out_file,
		    o->protect ? " and PIN-protected on the card" : "");
	else if (o->protect)
		snprintf(buf, cap, "PIN-protected on the card, where "
		    "cardsmith finds the right one with the PIN");
	else if (o->show)
		snprintf(buf, cap, "%s", cli->json ?
		    "in this document's management_key" :
		    "printed on standard output");
	else
		snprintf(buf, cap, "the one you gave");
	return buf;
}

/*
 * SET MANAGEMENT KEY failed: say which key the card uses now, as far as
 * anyone can know, and where the new one is.
 */
static int
set_failed(struct cli *cli, const struct mgmt_opts *o, enum cs_err r,
    const char *hex)
{
	char where[PATH_MAX + 96], msg[sizeof(where) + 512];
	const char *detail = cs_strerror(r);
	json_t *doc, *e;

	if (cs_ctx_errcode(cli->ctx) == r && *cs_ctx_errmsg(cli->ctx) != '\0')
		detail = cs_ctx_errmsg(cli->ctx);
	kept_where(cli, o, where, sizeof(where));
	switch (cs_piv_mgm_last_change(cli->card)) {
	case CS_PIV_MGM_CHANGED:
		snprintf(msg, sizeof(msg), "set management key: %s; the card "
		    "now uses the new management key: it is %s", detail,
		    where);
		break;
	case CS_PIV_MGM_MAYBE_CHANGED:
		snprintf(msg, sizeof(msg), "set management key: %s; the card "
		    "may now use the new management key or still the old "
		    "one: the new one is %s", detail, where);
		break;
	case CS_PIV_MGM_UNCHANGED:
	default:
		snprintf(msg, sizeof(msg), "set management key: %s; the card "
		    "still uses the old management key%s", detail,
		    o->protect ? " (run the command again)" :
		    "; nothing was changed");
		hex = NULL; /* the new key was never in force */
		break;
	}
	if (!cli->json || !o->show || hex == NULL)
		return out_failf(cli, r, "%s", msg);
	/* The document is the only place the key is printed: keep it. */
	doc = json_object();
	e = json_object();
	if (doc == NULL || e == NULL) {
		out_err("out of memory");
		exit(CLI_EXIT_FAIL);
	}
	out_set(doc, "ok", json_false());
	out_set(e, "code", out_str(cs_errname(r)));
	out_set(e, "message", out_str(msg));
	out_set(doc, "error", e);
	(void)emit_doc(cli, doc, hex);
	return cli_exit_code(r);
}

static int
do_set(struct cli *cli, struct card_secrets *cs, const struct mgmt_opts *o)
{
	uint8_t key[SECRET_KEY_MAX], alg = 0;
	char hex[2 * SECRET_KEY_MAX + 1];
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;
	struct stat at;
	char why[OUTFILE_WHY_MAX];
	int code;
	bool keep = false, written = false;

	memset(key, 0, sizeof(key));
	memset(hex, 0, sizeof(hex));
	memset(&at, 0, sizeof(at));
	/*
	 * Check the key file can be made before anything else: never set a
	 * key we cannot save. It is written only right before the card
	 * changes, so a kill at a prompt leaves no empty file behind.
	 */
	if (o->out_file != NULL &&
	    (r = outfile_check(o->out_file, OUTFILE_SECRET, why,
	         sizeof(why))) != CS_OK) {
		code = out_failf(cli, r, "mgmt-key set: %s: %s; nothing was "
		    "changed", o->out_file, why);
		goto out;
	}
	if ((code = cli_mgm_auth(cli, cs)) != CLI_CONTINUE)
		goto out;
	if (o->protect && (code = cli_pin_verify(cli, cs)) != CLI_CONTINUE)
		goto out;
	if ((code = new_key(cli, cs, o, key, &len, &alg)) != CLI_CONTINUE)
		goto out;
	(void)cs_hex_encode(key, len, hex, sizeof(hex), 0);
	if ((code = persist(cli, o, hex, &at)) != CLI_CONTINUE)
		goto out;
	written = o->out_file != NULL;
	r = cs_piv_set_mgm_key(cli->card, alg, key, len,
	    (o->protect ? CS_PIV_MGM_PROTECT : 0) |
	        (o->touch ? CS_PIV_MGM_TOUCH : 0));
	/* A key that may be in force is never deleted. */
	keep = cs_piv_mgm_last_change(cli->card) != CS_PIV_MGM_UNCHANGED;
	if (r != CS_OK) {
		code = set_failed(cli, o, r, hex);
		goto out;
	}
	code = report(cli, o, alg, hex);
out:
	if (written && !keep)
		remove_key_file(o->out_file, &at);
	cs_wipe(key, sizeof(key));
	cs_wipe(hex, sizeof(hex));
	return code;
}

static int
check_opts(struct cli *cli, struct card_secrets *cs, const struct mgmt_opts *o)
{
	if (o->random && secret_src_given(&cs->new_mgm))
		return out_usage(cli,
		    "mgmt-key set: --random or a "
		    "--new-mgmt-key-* source, not both");
	if (o->out_file != NULL && o->show)
		return out_usage(cli,
		    "mgmt-key set: --out-key-file or "
		    "--show-key, not both");
	if (o->random && !o->protect && o->out_file == NULL && !o->show)
		return out_usage(cli,
		    "mgmt-key set: a random key must be kept "
		    "somewhere: add --protect (on the card, behind the PIN), "
		    "--out-key-file FILE, or --show-key (standard output)");
	/*
	 * A JSON document is written once the card has changed: if that
	 * write fails, or the process dies first, nobody has the key.
	 */
	if (o->random && o->show && cli->json && !o->protect)
		return out_usage(cli,
		    "mgmt-key set: with --json, --show-key alone cannot keep a "
		    "random key before the card takes it (the document comes "
		    "last); add --protect, or use --out-key-file FILE");
	return CLI_CONTINUE;
}

static int
mgmt_set(struct cli *cli, int argc, const char **argv)
{
	struct card_secrets cs;
	struct mgmt_opts o;
	int r;

	memset(&o, 0, sizeof(o));
	card_secrets_init(&cs, NULL);
	struct poptOption opts[] = {
		{ "random", '\0', POPT_ARG_NONE, &o.random, 0,
		    "generate a random key", NULL },
		{ "alg", 'a', POPT_ARG_STRING, &o.alg, 0,
		    "3des, aes128, aes192 (default where supported), aes256",
		    "ALG" },
		{ "protect", '\0', POPT_ARG_NONE, &o.protect, 0,
		    "store the key on the card behind the PIN (ykman "
		    "compatible)",
		    NULL },
		{ "touch", '\0', POPT_ARG_NONE, &o.touch, 0,
		    "require touch to use the key", NULL },
		{ "out-key-file", '\0', POPT_ARG_STRING, &o.out_file, 0,
		    "write the new key (hex) to FILE, created with mode 0600",
		    "FILE" },
		{ "show-key", '\0', POPT_ARG_NONE, &o.show, 0,
		    "print the new key on standard output", NULL },
		SECRET_POPT(cs.pin, "pin", "PIN"),
		CARD_LAST_TRY_POPT(cs),
		SECRET_POPT(cs.mgm, "mgmt-key", "current management key (hex)"),
		SECRET_POPT(cs.new_mgm, "new-mgmt-key",
		    "new management key "
		    "(hex)"),
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	if ((r = cardops_parse(cli, argc, argv, opts, &set_usage)) ==
	        CLI_CONTINUE &&
	    (r = check_opts(cli, &cs, &o)) == CLI_CONTINUE &&
	    (r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_set(cli, &cs, &o);
	card_secrets_release(&cs);
	free(o.alg);
	free(o.out_file);
	return r;
}

int
cmd_mgmt_key(struct cli *cli, int argc, const char **argv)
{
	return cardops_group(cli, mgmt_subs, argc, argv);
}
