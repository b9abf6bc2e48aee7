/*
 * Command plumbing the card commands share (cert, keygen, csr, attest,
 * pin, puk, pin-retries, mgmt-key): running a subcommand group, the
 * --slot intake, and putting a PEM result on --out or standard output.
 * One copy of each, so that the commands cannot drift apart in how they
 * parse their arguments or deliver what they made.
 */
#ifndef CARDSMITH_CLI_CARDOPS_H
#define CARDSMITH_CLI_CARDOPS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cli.h"

/* --slot SLOT (-s, a popt string), with the command's help text. */
#define CARDOPS_SLOT_OPT(var, help)                                            \
	{                                                                      \
		"slot", 's', POPT_ARG_STRING, &(var), 0, help, "SLOT"          \
	}

/*
 * A command group ("cert", "pin"): run the entry of subs named by argv[1]
 * (cli_run_sub), else report the group's usage (cli_group_usage).
 * Returns the exit code.
 */
int cardops_group(struct cli *cli, const struct cmd *subs, int argc,
    const char **argv);

/*
 * cli_parse with opts and usage, then no positional arguments; the popt
 * context is freed (the commands here use no poptGetArgs). Returns
 * CLI_CONTINUE, or the exit code (help, usage error, a need that did not
 * open; reported).
 */
int cardops_parse(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage);

/*
 * The intake of a command on one slot: cardops_parse with
 * cli->defer_needs set (so nothing is opened yet), then --slot: *arg is the
 * popt string opts fill, parsed into *slot (f9 only when allow_f9). Returns
 * CLI_CONTINUE, or the exit code (help, usage error; reported). The caller
 * frees the popt strings and calls cli_open_needs once its own checks pass.
 */
int cardops_slot_intake(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage, char *const *arg,
    bool allow_f9, uint8_t *slot);

/* outfile flags for a command's --out: its --force replaces a file. */
unsigned int cardops_out_flags(int force);

/*
 * Deliver a PEM result: written to out when given (cardops_out_flags),
 * then with --json doc is emitted with pem under key (appended last),
 * else pem goes to standard output unless it went to out. Takes doc
 * (freed in every case). Returns CLI_EXIT_OK or the exit code of a
 * failure (reported).
 */
int cardops_put_pem(struct cli *cli, const char *out, int force, json_t *doc,
    const char *key, const char *pem);

/*
 * cs_attest_match_key as a tristate: 1 the statement attests spki, 0 it
 * attests another key, -1 unknown (no key, or the check failed).
 */
int cardops_key_matches(struct cli *cli, const uint8_t *stmt, size_t len,
    const uint8_t *spki, size_t spki_len);

#endif
