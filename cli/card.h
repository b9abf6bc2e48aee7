/*
 * Card-side helpers shared by the commands: PIN verification and
 * management-key authentication with the CLI's secret sources, failure
 * messages that say what happened and what to do, slot names.
 */
#ifndef CARDSMITH_CLI_CARD_H
#define CARDSMITH_CLI_CARD_H

#include "cli.h"
#include "secret.h"

/* The secrets a command may take; unused ones stay unset. */
struct card_secrets {
	struct secret_src pin, puk, new_pin, new_puk, mgm, new_mgm;
	bool pin_verified; /* cli_pin_verify succeeded this run */
	int last_try; /* popt: the user accepts spending a last try */
	const char *last_try_opt; /* the option that sets it, for messages */
	/* The command's own --force, which accepts it too; may be NULL. */
	const int *force;
};

/*
 * Unset sources; force is the command's --force flag when it also accepts
 * a last try (cs->force), else NULL.
 */
void card_secrets_init(struct card_secrets *cs, const int *force);
void card_secrets_release(struct card_secrets *cs);

/* --last-try, for every command that sends the PIN or PUK. */
/* clang-format off */
#define CARD_LAST_TRY_POPT(cs) \
	{ "last-try", '\0', POPT_ARG_NONE, &(cs).last_try, 0, \
	    "send the PIN or PUK even with one try left (a wrong one blocks " \
	    "it)", NULL }

/*
 * --pin-*, --last-try and --mgmt-key-*: a command that authenticates with
 * the management key (cli_mgm_auth, which needs the PIN for a
 * PIN-protected key).
 */
#define CARD_MGM_POPTS(cs) \
	SECRET_POPT((cs).pin, "pin", "PIN"), \
	CARD_LAST_TRY_POPT(cs), \
	SECRET_POPT((cs).mgm, "mgmt-key", "management key (hex)")
/* clang-format on */

/*
 * The one rule before a PIN or PUK (ref CS_PIV_REF_PIN or _PUK) from src
 * is sent: read its counter without using a try; a blocked one is
 * reported (exit 4) and one try left is refused (exit 1: nothing was sent)
 * unless cs->last_try or the command's --force (*cs->force), naming the
 * options. The count goes to
 * src->tries for the prompt. An unknown count (the PUK before YubiKey
 * 5.3) passes. Returns CLI_CONTINUE or the exit code.
 */
int cli_tries_guard(struct cli *cli, struct card_secrets *cs, uint8_t ref,
    struct secret_src *src);

/*
 * Get the PIN (cs->pin), VERIFY it and cache it in the card handle for
 * PIN-always keys and protected data; cli_tries_guard first. Reports
 * "wrong PIN, N tries left" (exit 4) or a blocked PIN. Returns
 * CLI_CONTINUE or the exit code. A second call is a no-op.
 */
int cli_pin_verify(struct cli *cli, struct card_secrets *cs);

/*
 * Report a failed PIN/PUK operation (what: "PIN", "PUK") as "wrong PIN,
 * 2 tries left", "the PIN is blocked: ..." etc. Returns the exit code.
 */
int cli_pin_fail(struct cli *cli, enum cs_err r, const char *what, int tries);

/*
 * Authenticate with the management key: the one given (cs->mgm), else the
 * PIN-protected one when the card stores it (gets and verifies the PIN),
 * else the factory default. Returns CLI_CONTINUE or the exit code (4 for
 * a wrong key, naming the options to give the right one). Also starts
 * cli_card_watch_touch, for a management key with touch.
 */
int cli_mgm_auth(struct cli *cli, struct card_secrets *cs);

/*
 * From now on, print "touch the card's button now (slot 9a)" on stderr
 * (not with -q) right before the card waits for a touch: an operation on
 * a key with touch policy always or cached, known from its metadata
 * (YubiKey 5.3+).
 */
void cli_card_watch_touch(struct cli *cli);

/*
 * Report a failed card operation what (e.g. "generate key in slot 9a").
 * A removed card or lost reader gets "; <removed>" appended when removed
 * is not NULL (say whether anything was written). Returns the exit code.
 */
int cli_card_fail(struct cli *cli, enum cs_err r, const char *what,
    const char *removed);

/* Parse --slot; reports a usage error (returns 2) or CLI_CONTINUE. */
int cli_slot_arg(struct cli *cli, const char *arg, bool allow_f9,
    uint8_t *slot);
/* "9a" for 0x9A into buf[3]. */
const char *cli_slot_str(uint8_t slot, char buf[3]);
/* "authentication", "signature", ... ; "retired 3"; never NULL. */
const char *cli_slot_name(uint8_t slot, char *buf, size_t cap);

/*
 * A file shipped in the source tree, found relative to the running
 * executable (<exe dir>/../../REL or ../../../REL: build/bin and
 * build/asan/bin), so an uninstalled build never depends on the working
 * directory. Returns buf, or NULL if absent.
 */
const char *cli_tree_path(const char *rel, char *buf, size_t cap);

/*
 * Trust store for attestation: the file path if given (self-signed CA
 * certificates become anchors, the rest intermediates), else
 * $CARDSMITH_TRUST, else the shipped Yubico roots (CS_DATADIR, or in a
 * source tree <exe dir>/../../share or ../../../share). *src gets the
 * file used (borrowed or static). Returns CLI_CONTINUE or an exit code.
 */
int cli_trust_load(struct cli *cli, const char *path, struct cs_trust **out,
    const char **src);

/* Names for key metadata values; never NULL. */
const char *cli_pin_policy_str(uint8_t v);
const char *cli_touch_policy_str(uint8_t v);
const char *cli_origin_str(uint8_t v);

/*
 * {"tries_left", "tries_total", "blocked", "default"[, "verified"]} of a
 * PIN or PUK counter, as inspect and pin retries print it; "verified"
 * when with_verified (the PUK is never verified on its own).
 */
json_t *cli_retries_json(const struct cs_piv_retries *rt, bool with_verified);

#endif
