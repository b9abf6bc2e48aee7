/*
 * cardsmith reset: block the PIN and the PUK on purpose (a YubiKey only
 * resets PIV when both are blocked), then reset the PIV application: all
 * keys and certificates go, PIN, PUK and management key return to their
 * factory defaults. The F9 attestation key and certificate stay.
 */
#include <stdio.h>
#include <string.h>

#include "card.h"
#include "exit.h"
#include "out.h"

#include "banned.h"

/* Bound on wrong tries sent per counter (retry counts are at most 255). */
#define BLOCK_TRIES_MAX 260

static const struct cli_usage reset_usage = {
	"[--force]",
	"Erase the PIV application of a YubiKey: keys and certificates in "
	"all slots are\ndeleted, PIN, PUK and management key go back to the "
	"factory defaults. Because\nthe card only allows this once PIN and "
	"PUK are blocked, cardsmith blocks them\nfirst by sending wrong "
	"values. Asks on the terminal, or needs --force.",
	"  cardsmith reset --force",
};

/*
 * Two dummy values that cannot both be the real one: if the first happens
 * to be right (a try succeeded), the second is wrong.
 */
static const char *const dummies[] = { "\x01\x02\x03\x04\x05\x06\x07\x08",
	"\x08\x07\x06\x05\x04\x03\x02\x01" };

static enum cs_err
block_pin(struct cli *cli)
{
	enum cs_err r = CS_ERR_INTERNAL;
	int i, tries = -1, d = 0;

	for (i = 0; i < BLOCK_TRIES_MAX; i++) {
		r = cs_piv_verify_pin(cli->card, dummies[d], 8, &tries);
		if (r == CS_ERR_BLOCKED || (r == CS_ERR_AUTH && tries == 0))
			return CS_OK;
		if (r == CS_OK)
			d = 1 - d; /* the dummy was the PIN: use the other */
		else if (r != CS_ERR_AUTH)
			return r;
	}
	return CS_ERR_INTERNAL;
}

static enum cs_err
block_puk(struct cli *cli)
{
	enum cs_err r = CS_ERR_INTERNAL;
	int i, tries = -1, d = 0;

	for (i = 0; i < BLOCK_TRIES_MAX; i++) {
		r = cs_piv_change_ref(cli->card, CS_PIV_REF_PUK, dummies[d], 8,
		    dummies[d], 8, &tries);
		if (r == CS_ERR_BLOCKED || (r == CS_ERR_AUTH && tries == 0))
			return CS_OK;
		if (r == CS_OK)
			d = 1 - d;
		else if (r != CS_ERR_AUTH)
			return r;
	}
	return CS_ERR_INTERNAL;
}

static int
do_reset(struct cli *cli, int force)
{
	struct cs_card_info info;
	json_t *doc;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	cs_card_get_info(cli->card, &info);
	if (!cs_card_has(cli->card, CS_CAP_RESET))
		return out_failf(cli, CS_ERR_UNSUPPORTED,
		    "this card has no PIV "
		    "reset (only YubiKeys do); nothing was changed");
	if ((code = secret_destructive(cli, force,
	         "reset the PIV "
	         "application, deleting all keys and certificates")) !=
	    CLI_CONTINUE)
		return code;
	out_verbose(cli, "blocking the PIN");
	if ((r = block_pin(cli)) != CS_OK)
		return cli_card_fail(cli, r, "block the PIN",
		    "card removed "
		    "before the reset: keys are still there; run reset again");
	out_verbose(cli, "blocking the PUK");
	if ((r = block_puk(cli)) != CS_OK)
		return cli_card_fail(cli, r, "block the PUK",
		    "card removed "
		    "before the reset: keys are still there; run reset again");
	out_verbose(cli, "resetting the PIV application");
	if ((r = cs_piv_reset(cli->card)) != CS_OK)
		return cli_card_fail(cli, r, "reset",
		    "card removed during the "
		    "reset: run reset again");
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "reset", json_true());
		out_set(doc, "serial",
		    info.has_serial ? json_integer(info.serial) : NULL);
		return out_emit(cli, doc);
	}
	out_notice(cli,
	    "PIV application reset: PIN, PUK and management key "
	    "are the factory defaults again; change them now");
	return CLI_EXIT_OK;
}

int
cmd_reset(struct cli *cli, int argc, const char **argv)
{
	int r, force = 0;
	struct poptOption opts[] = {
		CLI_FORCE_OPT(force, "do not ask for confirmation"),
		POPT_TABLEEND,
	};

	/* An extra argument is a usage error before the card is opened. */
	if ((r = cli_parse_noargs(cli, argc, argv, opts, &reset_usage,
	         NULL)) == CLI_CONTINUE)
		r = do_reset(cli, force);
	return r;
}
