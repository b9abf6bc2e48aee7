/*
 * What the `cardsmith ca` subcommand files share: the popt entries of the
 * options every one of them takes, the runner's side of NEED_CA (resolve
 * the directory, open, unlock: cli_open_needs calls these), and the small
 * parsers and JSON pieces more than one subcommand prints.
 */
#ifndef CARDSMITH_CLI_CA_COMMON_H
#define CARDSMITH_CLI_CA_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cardsmith/ca.h"

#include "cli.h"
#include "secret.h"

/* --dir of a NEED_CA / NEED_CA_DIR command, into cli->ca_dir_opt. */
#define CLI_CA_DIR_OPT(cli)                                                    \
	{                                                                      \
		"dir", '\0', POPT_ARG_STRING, &(cli)->ca_dir_opt, 0,           \
		    "CA directory (default $CARDSMITH_CA_DIR, else "           \
		    "$XDG_DATA_HOME/cardsmith/ca)",                            \
		    "DIR"                                                      \
	}

/* --pass-fd/-file/-env of a NEED_CA_KEY command, into cli->ca_pass. */
#define CLI_CA_PASS_OPTS(cli)                                                  \
	SECRET_POPT((cli)->ca_pass, "pass", "CA passphrase")

/* The ca subcommands (cmd_ca*.c), run through cmd_ca's table. */
int ca_init(struct cli *cli, int argc, const char **argv);
int ca_sign(struct cli *cli, int argc, const char **argv);
int ca_revoke(struct cli *cli, int argc, const char **argv);
int ca_crl(struct cli *cli, int argc, const char **argv);
int ca_list(struct cli *cli, int argc, const char **argv);
int ca_show(struct cli *cli, int argc, const char **argv);
int ca_reconcile(struct cli *cli, int argc, const char **argv);
int ca_trust_add(struct cli *cli, int argc, const char **argv);
int ca_trust_list(struct cli *cli, int argc, const char **argv);
int ca_trust_remove(struct cli *cli, int argc, const char **argv);

/*
 * A ca subcommand whose only option is --dir: cli_parse_noargs with that
 * table when arg is NULL, else cli_parse_arg (one argument into *arg,
 * missing as there). Returns CLI_CONTINUE or an exit code.
 */
int ca_parse_dir(struct cli *cli, int argc, const char **argv,
    const struct cli_usage *usage, const char *missing, char **arg);

/*
 * The runner's NEED_CA* step (cli_open_needs): resolve cli->ca_dir (--dir,
 * else $CARDSMITH_CA_DIR, else the per-user data directory) and, for
 * NEED_CA, open cli->ca there (and unlock it for NEED_CA_KEY unless
 * defer_unlock). Returns CLI_CONTINUE or the exit code (reported).
 */
int ca_need_open(struct cli *cli);
/* Release what ca_need_open and the options left in cli (runner). */
void ca_need_release(struct cli *cli);

/*
 * path's whole contents (pem_read_file), or *data NULL and *len 0 when
 * path is NULL (an option not given). Returns CLI_CONTINUE or exit code.
 */
int ca_read_opt_file(struct cli *cli, const char *path, uint8_t **data,
    size_t *len);

/*
 * A registry serial as 'ca list' prints it: hex digits only, at most
 * CS_CA_SERIAL_MAX - 1 of them. Anything else is a usage error (exit 2).
 */
int ca_check_serial(struct cli *cli, const char *what, const char *s);

/*
 * A decimal card serial > 0 into *v (0 when s is NULL). Returns false if s
 * is anything else.
 */
bool ca_parse_u64(const char *s, uint64_t *v);

/* {"software": OID, ..., "<sub-level>": OID} of ca. */
json_t *ca_oids_json(const struct cs_ca *ca);
/* Sub-levels: [{"name", "oid", "parent", "min_pin_policy", ...}]. */
json_t *ca_sublevels_json(const struct cs_ca *ca);

#endif
