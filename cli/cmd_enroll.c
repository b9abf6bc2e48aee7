/*
 * cardsmith enroll: one card from blank to certified, through the
 * library's cs_enroll_card (ca/enroll.c). Here: options, the secrets
 * (new PIN typed twice, the PUK's destination), the profile set's file,
 * progress lines and the receipt.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cardsmith/enroll.h"

#include "ca_common.h"
#include "card.h"
#include "certinfo.h"
#include "enroll_common.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"

#include "banned.h"

static const struct cli_usage enroll_usage = {
	"--dir DIR --subject DN [--email ADDR]\n"
	"        [--profile-set NAME] [--new-pin-env NAME | --new-pin-fd FD]\n"
	"        [--pin-env NAME] [--pass-env NAME]\n"
	"        [--secrets-out FILE | --puk-env NAME] [--reset [--force]]\n"
	"        [--re-enroll] [--pin-retries N --puk-retries N]\n"
	"        [--reader R | --serial N]",
	"Enroll one card: identify it (serial, firmware, form factor), "
	"optionally reset\nit (--reset, confirmed on the terminal or "
	"--force), set the cardholder's PIN\n(typed twice on the station, or "
	"--new-pin-fd/-file/-env), a random PUK and a\nrandom management key "
	"stored PIN-protected on the card (as ykman --protect),\nthe retry "
	"counts if given, then for each slot of the profile set: generate "
	"the\nkey on the card, attest it, build the CSR on the card with the "
	"attestation\nembedded, issue it with the built-in CA (--dir, "
	"unlocked with --pass-*) under the\nslot's profile, import it and "
	"read it back. The card's current PIN and\nmanagement key are the "
	"factory defaults unless --pin-* / --mgmt-key-* say\notherwise.\n\n"
	"Every step is recorded in the CA's registry before the card "
	"changes. Running\nenroll again on the same card continues where it "
	"stopped and never certifies a\nkey twice; an enrolled card is left "
	"alone and its receipt printed again. A card\nthat contradicts its "
	"record (reset by hand) is refused with the command to run:\n"
	"--re-enroll revokes the recorded certificates as superseded and "
	"enrolls afresh.\nA card that cannot meet the profiles is refused "
	"before anything changes: no\nattestation where a profile requires "
	"hardware-attested, firmware a profile's\nfirmware_* rule denies, "
	"no PIV application.\n\n"
	"The random PUK goes to --secrets-out FILE (created new, mode 0600) "
	"or, without\nit, to the terminal only (never to standard output or "
	"a log); with neither a\nterminal nor --secrets-out, enroll refuses "
	"before touching the card unless the\nPUK is given (--puk-fd/-file/"
	"-env).\n\n"
	"A profile set (--profile-set NAME: <dir>/profile-sets/NAME.cnf, "
	"else the\nshipped profiles/sets/NAME.cnf; a path if NAME has a '/' "
	"or ends in .cnf) maps\nslots to CA profiles, NCONF like the "
	"profiles:\n\n"
	"  [profile_set]\n  slots = 9a, 9c\n  [9a]\n  profile = piv-auth\n"
	"  alg = p256\n  pin_policy = once\n  touch_policy = never\n"
	"  [9c]\n  profile = piv-sign\n  alg = p256\n  pin_policy = always\n\n"
	"Shipped: default (9a piv-auth, 9c piv-sign, 9d piv-keymgmt, P-256) "
	"and\ndefault-9e (the same plus 9e piv-cardauth). --email fills the "
	"profiles'\n%{email}. Progress goes to standard error (step N/M); "
	"the receipt (card\nserial, slots, certificate serials, levels, "
	"expiry) to standard output, --json\nas one document.",
	"  cardsmith enroll --dir /srv/ca --subject \"CN=Jane Doe\" "
	"--email jane@example.org \\\n      --pass-env CA_PASS "
	"--secrets-out jane.puk",
};

struct enroll_opts {
	struct cli *cli; /* for the callbacks */
	char *set, *subject, *email, *secrets_out;
	int reset, force, re_enroll, pin_retries, puk_retries;
	bool tty; /* progress on a terminal */
	int last_len; /* terminal progress line length */
	bool wrote_puk; /* --secrets-out written */
	bool showed_puk;
};

/* --- progress and the PUK --- */

static void
progress(void *arg, int step, int nsteps, const char *name)
{
	struct enroll_opts *o = arg;
	struct cli *cli = o->cli;

	if (cli->quiet)
		return;
	if (o->tty) {
		/* One line redrawn in place; the receipt follows below. */
		fprintf(stderr, "\r\033[K[%d/%d] %s", step, nsteps, name);
		o->last_len = 1;
	} else
		fprintf(stderr, "cardsmith: step %d/%d: %s\n", step, nsteps,
		    name);
	fflush(stderr);
}

static void
progress_end(struct cli *cli, struct enroll_opts *o)
{
	if (o->tty && o->last_len > 0 && !cli->quiet) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	o->last_len = 0;
}

/* The PUK on the terminal only: never stdout, never a log. */
static enum cs_err
puk_to_tty(struct cli *cli, const char *value, size_t len)
{
	char line[128];
	int fd, n;
	bool ok;

	if ((fd = open("/dev/tty", O_WRONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return cs_ctx_fail(cli->ctx, CS_ERR_IO,
		    "no terminal for the new PUK (use --secrets-out FILE)");
	n = snprintf(line, sizeof(line),
	    "\r\nNew PUK (write it down; it is not shown again): %.*s\r\n",
	    (int)len, value);
	ok = n > 0 && write(fd, line, (size_t)n) == (ssize_t)n;
	cs_wipe(line, sizeof(line));
	close(fd);
	if (!ok)
		return cs_ctx_fail(cli->ctx, CS_ERR_IO,
		    "cannot show the new PUK on the terminal");
	return CS_OK;
}

static enum cs_err
keep_secret(void *arg, const char *what, const char *value, size_t len)
{
	struct enroll_opts *o = arg;
	struct cli *cli = o->cli;
	char buf[64], why[OUTFILE_WHY_MAX];
	int n;
	enum cs_err r = CS_ERR_INTERNAL;

	if (o->secrets_out == NULL) {
		progress_end(cli, o);
		if ((r = puk_to_tty(cli, value, len)) == CS_OK)
			o->showed_puk = true;
		return r;
	}
	n = snprintf(buf, sizeof(buf), "%s=%.*s\n", what, (int)len, value);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		cs_wipe(buf, sizeof(buf));
		return cs_ctx_fail(cli->ctx, CS_ERR_INTERNAL, "secret too long");
	}
	r = outfile_write(o->secrets_out, buf, (size_t)n, OUTFILE_SECRET, why,
	    sizeof(why));
	cs_wipe(buf, sizeof(buf));
	if (r != CS_OK)
		return cs_ctx_fail(cli->ctx, r,
		    "--secrets-out %s: %s; the card's PUK was not changed",
		    o->secrets_out, why);
	o->wrote_puk = true;
	return CS_OK;
}

/* --- the receipt --- */

static const char *
fw_str(const struct cs_enroll_result *res, char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u.%u", res->firmware[0], res->firmware[1],
	    res->firmware[2]);
	return buf;
}

static int
receipt_json(struct cli *cli, const struct cs_profileset *set,
    const struct enroll_opts *o, const struct cs_enroll_result *res)
{
	json_t *doc = out_doc_new(), *arr = json_array(), *e;
	char buf[64], s[3];
	size_t i;

	if (arr == NULL) {
		out_err("out of memory");
		exit(CLI_EXIT_FAIL);
	}
	out_set(doc, "card_serial", json_integer((json_int_t)res->card_serial));
	out_set(doc, "firmware", out_str(fw_str(res, buf, sizeof(buf))));
	out_set(doc, "form_factor",
	    res->form_factor != 0
	        ? out_str(cs_attest_form_factor_str(res->form_factor))
	        : NULL);
	out_set(doc, "attestation", json_boolean(res->attestation));
	out_set(doc, "profile_set", out_str(set->name));
	out_set(doc, "record", json_integer((json_int_t)res->record));
	out_set(doc, "resumed", json_boolean(res->resumed));
	out_set(doc, "already_enrolled", json_boolean(res->already));
	out_set(doc, "revoked", json_integer((json_int_t)res->revoked));
	out_set(doc, "secrets_out",
	    o->wrote_puk ? out_str(o->secrets_out) : NULL);
	for (i = 0; i < res->nslots; i++) {
		const struct cs_enroll_slot_result *sl = &res->slots[i];

		e = json_object();
		if (e == NULL) {
			out_err("out of memory");
			exit(CLI_EXIT_FAIL);
		}
		out_set(e, "slot", out_str(cli_slot_str(sl->slot, s)));
		out_set(e, "profile", out_str(sl->profile));
		out_set(e, "serial", out_str(sl->serial));
		out_set(e, "level", out_str(cs_ca_level_name(sl->level)));
		out_set(e, "sublevel",
		    sl->sublevel[0] != '\0' ? out_str(sl->sublevel) : NULL);
		certinfo_time(sl->not_after, buf, sizeof(buf));
		out_set(e, "not_after", out_str(buf));
		out_set(e, "reused", json_boolean(sl->reused));
		out_set(e, "notes",
		    sl->notes[0] != '\0' ? out_str(sl->notes) : NULL);
		out_append(arr, e);
	}
	out_set(doc, "slots", arr);
	return out_emit(cli, doc);
}

static int
receipt_text(const struct cs_profileset *set, const struct enroll_opts *o,
    const struct cs_enroll_result *res)
{
	char fw[16], when[32], s[3];
	size_t i;

	printf("card %llu (firmware %s%s%s): %s with profile set %s\n",
	    (unsigned long long)res->card_serial, fw_str(res, fw, sizeof(fw)),
	    res->form_factor != 0 ? ", " : "",
	    res->form_factor != 0
	        ? cs_attest_form_factor_str(res->form_factor)
	        : "",
	    res->already ? "already enrolled"
	                 : res->resumed ? "enrollment completed (resumed)"
	                                : "enrolled",
	    set->name);
	printf("%-4s  %-14s  %-18s  %-20s  %s\n", "slot", "profile", "level",
	    "expires", "certificate serial");
	for (i = 0; i < res->nslots; i++) {
		const struct cs_enroll_slot_result *sl = &res->slots[i];

		certinfo_time(sl->not_after, when, sizeof(when));
		printf("%-4s  %-14s  %-18s  %-20s  %s%s\n",
		    cli_slot_str(sl->slot, s), sl->profile,
		    sl->sublevel[0] != '\0' ? sl->sublevel
		                            : cs_ca_level_name(sl->level),
		    when, sl->serial, sl->reused ? " (earlier)" : "");
	}
	if (res->revoked > 0)
		printf("revoked as superseded: %zu earlier certificate(s)\n",
		    res->revoked);
	if (o->wrote_puk)
		printf("PUK written to %s\n", o->secrets_out);
	return CLI_EXIT_OK;
}

/* --- the run --- */

/* Why a card was refused, with the exact command where one resolves it. */
static int
enroll_failed(struct cli *cli, const struct cs_profileset *set,
    const struct enroll_opts *o, const struct cs_enroll_result *res,
    enum cs_err r)
{
	const char *msg = cs_ctx_errmsg(cli->ctx);

	progress_end(cli, (struct enroll_opts *)o);
	if (res->mismatch)
		return out_failf(cli, r,
		    "enroll: %s\nto enroll this card afresh run: cardsmith "
		    "enroll --dir '%s' --serial %llu --profile-set %s --subject "
		    "'%s' --re-enroll (with your PIN and passphrase options)",
		    msg, cli->ca_dir, (unsigned long long)res->card_serial,
		    set->name, o->subject);
	return out_fail(cli, r, "enroll");
}

static int
get_secret(struct cli *cli, struct secret_src *src, bool confirm,
    struct secret *out, bool *given)
{
	*given = false;
	if (!secret_src_given(src) && !confirm)
		return CLI_CONTINUE;
	*given = true;
	return secret_get(cli, src, confirm, out);
}

static int
run_enroll(struct cli *cli, struct card_secrets *cs, struct enroll_opts *o)
{
	struct cs_profileset set;
	struct cs_enroll_req req;
	struct cs_enroll_result res;
	struct secret new_pin, pin, puk, mgm;
	uint8_t key[SECRET_KEY_MAX];
	size_t keylen = 0, i;
	char s[3];
	bool have_pin = false, have_puk = false, have_mgm = false, dummy;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	memset(&new_pin, 0, sizeof(new_pin));
	memset(&pin, 0, sizeof(pin));
	memset(&puk, 0, sizeof(puk));
	memset(&mgm, 0, sizeof(mgm));
	memset(&res, 0, sizeof(res));
	memset(key, 0, sizeof(key));
	/* Every secret before the card: a prompt that cannot come fails now. */
	if ((code = get_secret(cli, &cs->new_pin, true, &new_pin, &dummy)) !=
	        CLI_CONTINUE ||
	    (code = get_secret(cli, &cs->pin, false, &pin, &have_pin)) !=
	        CLI_CONTINUE ||
	    (code = get_secret(cli, &cs->new_puk, false, &puk, &have_puk)) !=
	        CLI_CONTINUE ||
	    (code = get_secret(cli, &cs->mgm, false, &mgm, &have_mgm)) !=
	        CLI_CONTINUE)
		goto out;
	if (have_mgm && !secret_hex_key(&mgm, key, &keylen)) {
		code = out_failf(cli, CS_ERR_ARG,
		    "enroll: the management key must be 32, 48 or 64 hex "
		    "digits; nothing was changed");
		goto out;
	}
	if ((code = cli_open_needs(cli)) != CLI_CONTINUE ||
	    (code = enroll_load_set(cli, o->set != NULL ? o->set : "default", &set)) !=
	        CLI_CONTINUE)
		goto out;
	if (o->reset &&
	    (code = secret_destructive(cli, o->force,
	         "reset the PIV application (all keys and certificates are "
	         "deleted) and enroll the card")) != CLI_CONTINUE)
		goto out;
	memset(&req, 0, sizeof(req));
	req.set = &set;
	req.subject = o->subject;
	req.email = o->email;
	req.new_pin = new_pin.s;
	req.new_pin_len = new_pin.len;
	if (have_pin) {
		req.pin = pin.s;
		req.pin_len = pin.len;
	}
	if (have_puk) {
		req.puk = puk.s;
		req.puk_len = puk.len;
	}
	if (have_mgm) {
		req.mgm_key = key;
		req.mgm_key_len = keylen;
	}
	req.pin_tries = (uint8_t)o->pin_retries;
	req.puk_tries = (uint8_t)o->puk_retries;
	req.flags = (o->reset ? CS_ENROLL_RESET : 0) |
	    (o->re_enroll ? CS_ENROLL_RE_ENROLL : 0);
	req.progress = progress;
	req.progress_arg = o;
	req.secret = keep_secret;
	req.secret_arg = o;
	o->tty = isatty(STDERR_FILENO) == 1;
	cli_card_watch_touch(cli);
	r = cs_enroll_card(cli->ctx, cli->ca, cli->card, &req, &res);
	if (r != CS_OK) {
		code = enroll_failed(cli, &set, o, &res, r);
		goto out;
	}
	progress_end(cli, o);
	for (i = 0; i < res.nslots; i++)
		if (res.slots[i].notes[0] != '\0')
			out_notice(cli, "warning: slot %s: %s",
			    cli_slot_str(res.slots[i].slot, s), res.slots[i].notes);
	code = cli->json ? receipt_json(cli, &set, o, &res)
	                 : receipt_text(&set, o, &res);
out:
	secret_clear(&new_pin);
	secret_clear(&pin);
	secret_clear(&puk);
	secret_clear(&mgm);
	cs_wipe(key, sizeof(key));
	return code;
}

/* Usage and the PUK's destination, before any card or CA is opened. */
static int
check_opts(struct cli *cli, const struct card_secrets *cs,
    const struct enroll_opts *o)
{
	char why[OUTFILE_WHY_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	if (o->subject == NULL)
		return out_usage(cli, "enroll: --subject is required");
	if (o->pin_retries < 0 || o->pin_retries > 255 || o->puk_retries < 0 ||
	    o->puk_retries > 255 || (o->pin_retries == 0) != (o->puk_retries == 0))
		return out_usage(cli,
		    "enroll: give --pin-retries and --puk-retries together, "
		    "each 1..255");
	if (o->secrets_out != NULL && secret_src_given(&cs->new_puk))
		return out_usage(cli,
		    "enroll: --secrets-out holds a random PUK; with "
		    "--puk-fd/-file/-env there is none to write");
	if (o->secrets_out != NULL &&
	    (r = outfile_check(o->secrets_out, OUTFILE_SECRET, why,
	         sizeof(why))) != CS_OK)
		return out_failf(cli, r, "enroll: --secrets-out %s: %s",
		    o->secrets_out, why);
	if (o->secrets_out == NULL && !secret_src_given(&cs->new_puk) &&
	    !secret_have_tty())
		return out_usage(cli,
		    "enroll: no terminal to show the random PUK on: give "
		    "--secrets-out FILE (created new, mode 0600) or the PUK "
		    "with --puk-fd/-file/-env; nothing was changed");
	return CLI_CONTINUE;
}

int
cmd_enroll(struct cli *cli, int argc, const char **argv)
{
	struct card_secrets cs;
	struct enroll_opts o;
	poptContext con = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	card_secrets_init(&cs, NULL);
	/* The PUK option sets the new PUK: "--puk-env NAME" reads "PUK". */
	secret_src_init(&cs.new_puk, "PUK", "puk");
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		{ "profile-set", '\0', POPT_ARG_STRING, &o.set, 0,
		    "the slots to enroll and their profiles (default: "
		    "default)",
		    "NAME" },
		{ "subject", '\0', POPT_ARG_STRING, &o.subject, 0,
		    "the cardholder's subject name, \"CN=...\"", "DN" },
		{ "email", '\0', POPT_ARG_STRING, &o.email, 0,
		    "the cardholder's e-mail address (CSR SAN, %{email})",
		    "ADDR" },
		{ "secrets-out", '\0', POPT_ARG_STRING, &o.secrets_out, 0,
		    "write the random PUK to FILE (created new, mode 0600)",
		    "FILE" },
		{ "reset", '\0', POPT_ARG_NONE, &o.reset, 0,
		    "erase the PIV application first (asks, or --force)",
		    NULL },
		CLI_FORCE_OPT(o.force, "reset without asking"),
		{ "re-enroll", '\0', POPT_ARG_NONE, &o.re_enroll, 0,
		    "revoke the card's recorded certificates (superseded) and "
		    "enroll afresh",
		    NULL },
		{ "pin-retries", '\0', POPT_ARG_INT, &o.pin_retries, 0,
		    "PIN tries before it blocks (with --puk-retries)", "N" },
		{ "puk-retries", '\0', POPT_ARG_INT, &o.puk_retries, 0,
		    "PUK tries before it blocks", "N" },
		SECRET_POPT(cs.new_pin, "new-pin", "new PIN"),
		SECRET_POPT(cs.pin, "pin", "current PIN (default 123456)"),
		SECRET_POPT(cs.new_puk, "puk", "PUK to set instead of a random one"),
		SECRET_POPT(cs.mgm, "mgmt-key",
		    "current management key (default: PIN-protected or factory)"),
		CLI_CA_PASS_OPTS(cli),
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	o.cli = cli;
	if ((r = cli_parse(cli, argc, argv, opts, &enroll_usage, &con)) ==
	        CLI_CONTINUE &&
	    (r = cli_no_args(cli, con)) == CLI_CONTINUE &&
	    (r = check_opts(cli, &cs, &o)) == CLI_CONTINUE)
		r = run_enroll(cli, &cs, &o);
	poptFreeContext(con);
	card_secrets_release(&cs);
	free(o.set);
	free(o.subject);
	free(o.email);
	free(o.secrets_out);
	return r;
}
