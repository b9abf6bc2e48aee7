/*
 * cardsmith pin change|unblock|status|verify, puk change, pin-retries set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "cardops.h"
#include "exit.h"
#include "out.h"

#include "banned.h"

static int pin_change(struct cli *, int, const char **);
static int pin_unblock(struct cli *, int, const char **);
static int pin_status(struct cli *, int, const char **);
static int pin_verify(struct cli *, int, const char **);
static int puk_change(struct cli *, int, const char **);
static int retries_set(struct cli *, int, const char **);

static const struct cmd pin_subs[] = {
	{ "pin change", pin_change, NEED_CARD, "change the PIN" },
	{ "pin unblock", pin_unblock, NEED_CARD,
	    "set a new PIN with the PUK (also unblocks it)" },
	{ "pin status", pin_status, NEED_CARD,
	    "show PIN and PUK tries left (uses no try)" },
	{ "pin verify", pin_verify, NEED_CARD,
	    "check the PIN (exit 0 right, 4 wrong)" },
	{ NULL, NULL, 0, NULL },
};

static const struct cmd puk_subs[] = {
	{ "puk change", puk_change, NEED_CARD, "change the PUK" },
	{ NULL, NULL, 0, NULL },
};

static const struct cmd retries_subs[] = {
	{ "pin-retries set", retries_set, NEED_CARD,
	    "set PIN and PUK try counts (resets both to defaults)" },
	{ NULL, NULL, 0, NULL },
};

static const struct cli_usage change_usage = {
	"[--pin-fd FD | --pin-file FILE | --pin-env NAME] [--new-pin-...] "
	"[--force]",
	"Change the PIN (6 to 8 characters). Both PINs come from the terminal "
	"(the new\none asked twice) or from --pin-* and --new-pin-* sources. "
	"A wrong PIN uses a\ntry: the message says how many are left. With "
	"only one try left it refuses\n(exit 1) unless --force.",
	"  cardsmith pin change --pin-fd 3 --new-pin-fd 3 3<pins.txt",
};

static const struct cli_usage unblock_usage = {
	"[--puk-...] [--new-pin-...] [--force]",
	"Set a new PIN with the PUK; this also unblocks a blocked PIN. A wrong "
	"PUK uses\none of its tries; a blocked PUK leaves only 'cardsmith "
	"reset'. With only one PUK\ntry left (known on YubiKey 5.3+) it "
	"refuses (exit 1) unless --force.",
	"  cardsmith pin unblock --puk-env PUK --new-pin-env NEWPIN",
};

static const struct cli_usage status_usage = {
	"[--json]",
	"Show the PIN and PUK tries left (and totals, and whether they are "
	"still the\nfactory defaults, on YubiKey 5.3+). Uses no try.",
	"  cardsmith pin status --json",
};

static const struct cli_usage verify_usage = {
	"[--pin-...] [--force]",
	"Check the PIN: exit 0 if right, 4 if wrong (one try used; the "
	"message and\nJSON tries_left say how many remain). With only one "
	"try left it refuses\n(exit 1) unless --force, so that a typo "
	"cannot block the card.",
	"  cardsmith pin verify --pin-env PIN --json",
};

static const struct cli_usage puk_usage = {
	"[--puk-...] [--new-puk-...] [--force]",
	"Change the PUK (6 to 8 characters). With only one PUK try left "
	"(known on\nYubiKey 5.3+) it refuses (exit 1) unless --force.",
	"  cardsmith puk change --puk-file puk.txt --new-puk-file newpuk.txt",
};

static const struct cli_usage retries_usage = {
	"--pin-tries N --puk-tries N [--force]",
	"Set how many wrong tries block the PIN and the PUK (YubiKey). This "
	"resets the\nPIN and PUK to their factory defaults, so it asks on the "
	"terminal or needs\n--force. Needs the PIN and the management key "
	"(with one PIN try left, --force\nor --last-try accepts spending it).",
	"  cardsmith pin-retries set --pin-tries 5 --puk-tries 5 --force",
};

static void
retries_text(const char *what, const struct cs_piv_retries *rt)
{
	printf("%s tries left: ", what);
	if (rt->remaining < 0)
		fputs("unknown", stdout);
	else
		printf("%d", rt->remaining);
	if (rt->total >= 0)
		printf("/%d", rt->total);
	if (rt->remaining == 0)
		fputs(" (blocked)", stdout);
	if (rt->known_default && rt->is_default)
		printf(" (factory default %s: change it)", what);
	fputc('\n', stdout);
}

static int
get_retries(struct cli *cli, uint8_t ref, struct cs_piv_retries *rt)
{
	enum cs_err r = cs_piv_get_retries(cli->card, ref, rt);

	if (r != CS_OK)
		return cli_card_fail(cli, r,
		    ref == CS_PIV_REF_PIN ? "PIN status" : "PUK status", NULL);
	return CLI_CONTINUE;
}

static int
ok_doc(struct cli *cli, const char *msg)
{
	if (cli->json)
		return out_emit(cli, out_doc_new());
	out_notice(cli, "%s", msg);
	return CLI_EXIT_OK;
}

/*
 * pin change, puk change, pin unblock and pin verify: which counter guards
 * the command (the secret it sends) and which secret gets a new value, so
 * that one parser and one body serve them all and the try guard, the
 * length rule and the messages cannot drift apart.
 */
struct ref_op {
	const struct cli_usage *usage;
	uint8_t ref; /* CS_PIV_REF_PIN or _PUK: the secret sent */
	/* the secret set: ref (change), the PIN (unblock), 0 (verify) */
	uint8_t new_ref;
	const char *force_help;
	const char *done; /* the notice on success */
};

static const struct ref_op pin_change_op = { &change_usage, CS_PIV_REF_PIN,
	CS_PIV_REF_PIN, "try even with only one try left", "PIN changed" };
static const struct ref_op puk_change_op = { &puk_usage, CS_PIV_REF_PUK,
	CS_PIV_REF_PUK, "try even with only one PUK try left", "PUK changed" };
static const struct ref_op unblock_op = { &unblock_usage, CS_PIV_REF_PUK,
	CS_PIV_REF_PIN, "try even with only one PUK try left",
	"PIN set and unblocked" };
static const struct ref_op verify_op = { &verify_usage, CS_PIV_REF_PIN, 0,
	"try even with only one try left", NULL };

static const char *
ref_name(uint8_t ref)
{
	return ref == CS_PIV_REF_PIN ? "PIN" : "PUK";
}

/* Send op->ref's secret and set op->new_ref's (change or unblock). */
static int
set_ref(struct cli *cli, struct card_secrets *cs, const struct ref_op *op)
{
	struct secret_src *old =
	    op->ref == CS_PIV_REF_PIN ? &cs->pin : &cs->puk;
	struct secret_src *new_ =
	    op->new_ref == CS_PIV_REF_PIN ? &cs->new_pin : &cs->new_puk;
	struct secret a, b;
	enum cs_err r = CS_ERR_INTERNAL;
	int code, tries = -1;

	a.len = b.len = 0;
	if ((code = cli_tries_guard(cli, cs, op->ref, old)) != CLI_CONTINUE ||
	    (code = secret_get(cli, old, false, &a)) != CLI_CONTINUE ||
	    (code = secret_get(cli, new_, true, &b)) != CLI_CONTINUE)
		goto out;
	if (b.len < 6 || b.len > 8) {
		code = out_failf(cli, CS_ERR_ARG,
		    "the new %s must be 6 to 8 "
		    "characters; nothing was changed",
		    ref_name(op->new_ref));
		goto out;
	}
	if (op->new_ref == op->ref)
		r = cs_piv_change_ref(cli->card, op->ref, a.s, a.len, b.s,
		    b.len, &tries);
	else /* RESET RETRY COUNTER: the PUK sets a new PIN */
		r = cs_piv_unblock_pin(cli->card, a.s, a.len, b.s, b.len,
		    &tries);
	if (r != CS_OK) {
		code = cli_pin_fail(cli, r, ref_name(op->ref), tries);
		goto out;
	}
	code = ok_doc(cli, op->done);
out:
	secret_clear(&a);
	secret_clear(&b);
	return code;
}

static int
pin_status(struct cli *cli, int argc, const char **argv)
{
	struct cs_piv_retries pin, puk;
	json_t *doc;
	int r;

	if ((r = cardops_parse(cli, argc, argv, NULL, &status_usage)) !=
	    CLI_CONTINUE)
		return r;
	if ((r = get_retries(cli, CS_PIV_REF_PIN, &pin)) != CLI_CONTINUE ||
	    (r = get_retries(cli, CS_PIV_REF_PUK, &puk)) != CLI_CONTINUE)
		return r;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "pin", cli_retries_json(&pin, true));
		out_set(doc, "puk", cli_retries_json(&puk, false));
		return out_emit(cli, doc);
	}
	retries_text("PIN", &pin);
	retries_text("PUK", &puk);
	return CLI_EXIT_OK;
}

static int
do_verify(struct cli *cli, struct card_secrets *cs)
{
	struct cs_piv_retries rt;
	json_t *doc;
	int code;

	if ((code = cli_pin_verify(cli, cs)) != CLI_CONTINUE)
		return code;
	if ((code = get_retries(cli, CS_PIV_REF_PIN, &rt)) != CLI_CONTINUE)
		return code;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "verified", json_true());
		out_set(doc, "tries_left",
		    rt.remaining >= 0 ? json_integer(rt.remaining) : NULL);
		return out_emit(cli, doc);
	}
	out_notice(cli, "PIN verified");
	return CLI_EXIT_OK;
}

/* ref's row in ref_cmd's src table; new_: the new value's row. */
static size_t
src_row(uint8_t ref, bool new_)
{
	return (ref == CS_PIV_REF_PIN ? 0 : 1) + (new_ ? 2 : 0);
}

/* Included without a heading, so --help lists them as one table. */
#define REF_TABLE(t)                                                           \
	{                                                                      \
		NULL, '\0', POPT_ARG_INCLUDE_TABLE, (t), 0, NULL, NULL         \
	}

static int
ref_cmd(struct cli *cli, int argc, const char **argv, const struct ref_op *op)
{
	struct card_secrets cs;
	int r;

	card_secrets_init(&cs, NULL);
	cs.last_try_opt = "--force";
	/* The sources: PIN, PUK, new PIN, new PUK, none (pin verify). */
	struct poptOption src[][4] = {
		{ SECRET_POPT(cs.pin, "pin", "PIN"), POPT_TABLEEND },
		{ SECRET_POPT(cs.puk, "puk", "PUK"), POPT_TABLEEND },
		{ SECRET_POPT(cs.new_pin, "new-pin", "new PIN"),
		    POPT_TABLEEND },
		{ SECRET_POPT(cs.new_puk, "new-puk", "new PUK"),
		    POPT_TABLEEND },
		{ POPT_TABLEEND },
	};
	struct poptOption tail[] = {
		CLI_FORCE_OPT(cs.last_try, op->force_help),
		CARD_LAST_TRY_POPT(cs),
		POPT_TABLEEND,
	};
	struct poptOption opts[] = {
		REF_TABLE(src[src_row(op->ref, false)]),
		REF_TABLE(
		    src[op->new_ref != 0 ? src_row(op->new_ref, true) : 4]),
		REF_TABLE(tail),
		POPT_TABLEEND,
	};

	if ((r = cardops_parse(cli, argc, argv, opts, op->usage)) ==
	    CLI_CONTINUE)
		r = op->new_ref == 0 ? do_verify(cli, &cs)
		                     : set_ref(cli, &cs, op);
	card_secrets_release(&cs);
	return r;
}

static int
pin_change(struct cli *cli, int argc, const char **argv)
{
	return ref_cmd(cli, argc, argv, &pin_change_op);
}

static int
puk_change(struct cli *cli, int argc, const char **argv)
{
	return ref_cmd(cli, argc, argv, &puk_change_op);
}

static int
pin_unblock(struct cli *cli, int argc, const char **argv)
{
	return ref_cmd(cli, argc, argv, &unblock_op);
}

static int
pin_verify(struct cli *cli, int argc, const char **argv)
{
	return ref_cmd(cli, argc, argv, &verify_op);
}

static int
count_arg(struct cli *cli, const char *opt, const char *v, uint8_t *out)
{
	char *end;
	unsigned long n;

	if (v == NULL)
		return out_usage(cli, "pin-retries set: %s is required", opt);
	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < 1 ||
	    n > 255)
		return out_usage(cli, "pin-retries set: %s: give 1 to 255",
		    opt);
	*out = (uint8_t)n;
	return CLI_CONTINUE;
}

static int
do_retries(struct cli *cli, struct card_secrets *cs, uint8_t pin, uint8_t puk,
    int force)
{
	json_t *doc;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((code = secret_destructive(cli, force,
	         "setting retries resets the "
	         "PIN and PUK to their factory defaults; continue")) !=
	    CLI_CONTINUE)
		return code;
	if ((code = cli_pin_verify(cli, cs)) != CLI_CONTINUE ||
	    (code = cli_mgm_auth(cli, cs)) != CLI_CONTINUE)
		return code;
	if ((r = cs_piv_set_retries(cli->card, pin, puk)) != CS_OK)
		return cli_card_fail(cli, r, "set retries",
		    "card removed "
		    "during the operation: check with 'cardsmith pin status'");
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "pin_tries", json_integer(pin));
		out_set(doc, "puk_tries", json_integer(puk));
		out_set(doc, "pin_puk_reset_to_default", json_true());
		return out_emit(cli, doc);
	}
	out_notice(cli,
	    "PIN tries %u, PUK tries %u; PIN and PUK are back to "
	    "their factory defaults: change them with 'cardsmith pin change' "
	    "and 'cardsmith puk change'",
	    pin, puk);
	return CLI_EXIT_OK;
}

static int
retries_set(struct cli *cli, int argc, const char **argv)
{
	struct card_secrets cs;
	char *pin_s = NULL, *puk_s = NULL;
	uint8_t pin = 0, puk = 0;
	int r, force = 0;

	card_secrets_init(&cs, &force);
	struct poptOption opts[] = {
		{ "pin-tries", '\0', POPT_ARG_STRING, &pin_s, 0,
		    "wrong PINs before it blocks (1-255)", "N" },
		{ "puk-tries", '\0', POPT_ARG_STRING, &puk_s, 0,
		    "wrong PUKs before it blocks (1-255)", "N" },
		CLI_FORCE_OPT(force, "do not ask for confirmation"),
		CARD_MGM_POPTS(cs),
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	if ((r = cardops_parse(cli, argc, argv, opts, &retries_usage)) !=
	    CLI_CONTINUE)
		goto out;
	if ((r = count_arg(cli, "--pin-tries", pin_s, &pin)) != CLI_CONTINUE ||
	    (r = count_arg(cli, "--puk-tries", puk_s, &puk)) != CLI_CONTINUE)
		goto out;
	if ((r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_retries(cli, &cs, pin, puk, force);
out:
	free(pin_s);
	free(puk_s);
	card_secrets_release(&cs);
	return r;
}

int
cmd_pin(struct cli *cli, int argc, const char **argv)
{
	return cardops_group(cli, pin_subs, argc, argv);
}

int
cmd_puk(struct cli *cli, int argc, const char **argv)
{
	return cardops_group(cli, puk_subs, argc, argv);
}

int
cmd_pin_retries(struct cli *cli, int argc, const char **argv)
{
	return cardops_group(cli, retries_subs, argc, argv);
}
