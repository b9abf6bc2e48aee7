/*
 * cardsmith CLI internals shared by the cli/ files: the per-run state, the
 * command table entry and the option parser every command goes through.
 */
#ifndef CARDSMITH_CLI_H
#define CARDSMITH_CLI_H

#include <popt.h>

#include "cardsmith/cardsmith.h"

struct cs_ca; /* cardsmith/ca.h */

/* What the runner sets up before a command body runs (struct cmd.needs). */
enum cli_need {
	/* a card: --reader and --serial are added, cli->card opened */
	NEED_CARD = 1 << 0,
	/* an existing CA: cli->ca opened in cli->ca_dir (CLI_CA_DIR_OPT) */
	NEED_CA = 1 << 1,
	NEED_TTY = 1 << 2, /* standard input must be a terminal */
	/* the CA directory only, resolved into cli->ca_dir (ca init) */
	NEED_CA_DIR = 1 << 3,
	/*
	 * the CA key: with NEED_CA, cli->ca is unlocked with the passphrase
	 * from cli->ca_pass (CLI_CA_PASS_OPTS) unless defer_unlock is set
	 */
	NEED_CA_KEY = 1 << 4,
};

/* Longest CA directory path (cli->ca_dir). */
#define CLI_CA_DIR_MAX 4096

/*
 * Where one secret comes from; the popt options fill it (SECRET_POPT and
 * the functions in secret.h). Here so that struct cli can hold the CA
 * passphrase source the runner unlocks the CA with.
 */
struct secret_src {
	const char *what; /* "PIN", "new PIN", "management key" */
	const char *opt; /* option stem: "pin" for --pin-fd/-file/-env */
	int fd; /* --X-fd; -1 if not given */
	char *file; /* --X-file (popt string), NULL if not given */
	char *env; /* --X-env (popt string), NULL if not given */
	int tries; /* tries left, for the prompt; -1 unknown */
};

struct cli {
	struct cs_ctx *ctx;
	const struct cmd *cmd; /* the command being run */
	int verbose; /* -v count */
	int quiet; /* -q: errors only */
	int json; /* --json: one document on stdout */
	int emitted; /* a JSON document went to stdout */
	char *reader_match; /* NEED_CARD: --reader (popt string) */
	char *serial_str; /* NEED_CARD: --serial (popt string) */
	struct cs_card *card; /* NEED_CARD: open card (cs_card_find) */
	/* NEED_CA, NEED_CA_DIR, NEED_CA_KEY (ca_common.h has the options) */
	char *ca_dir_opt; /* --dir (popt string) */
	struct secret_src ca_pass; /* --pass-fd/-file/-env */
	char ca_dir[CLI_CA_DIR_MAX]; /* the CA directory in use */
	struct cs_ca *ca; /* NEED_CA: the open CA (cs_ca_open) */
	/* Set before cli_parse to validate arguments before opening needs. */
	int defer_needs;
	/* NEED_CA_KEY: leave the unlock to the command (cli_ca_unlock) */
	int defer_unlock;
};

struct cmd {
	const char *name;
	/* argv[0] is "cardsmith <name>"; returns an exit code (exit.h). */
	int (*fn)(struct cli *, int, const char **);
	unsigned int needs; /* enum cli_need */
	const char *summary;
};

/* What `cardsmith help <cmd>` prints besides popt's option list. */
struct cli_usage {
	const char *args; /* after "Usage: cardsmith <cmd> " */
	const char *about; /* a paragraph: what it does, what it prints */
	const char *example; /* one or more example lines */
};

#define CLI_CONTINUE (-1)

/*
 * The popt entries several commands share, each with the command's own
 * help text: --out FILE (-o, a popt string) and --force (-f, a flag).
 */
#define CLI_OUT_OPT(var, help)                                                 \
	{                                                                      \
		"out", 'o', POPT_ARG_STRING, &(var), 0, help, "FILE"           \
	}
#define CLI_FORCE_OPT(var, help)                                               \
	{                                                                      \
		"force", 'f', POPT_ARG_NONE, &(var), 0, help, NULL             \
	}

/*
 * Parse a command's argv with its own options opts (POPT_TABLEEND
 * terminated; may be NULL) plus the common ones (--json, -v, -q, -h), then
 * open what cli->cmd->needs asks for. Returns CLI_CONTINUE with *conp set
 * (caller frees it with poptFreeContext, after using poptGetArgs), or an
 * exit code with *conp NULL: 0 after --help, 2 on a usage error, or the
 * code of a failure to open a need (already reported).
 */
int cli_parse(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage, poptContext *conp);

/*
 * A repeatable string option: each time the option with val is seen, the
 * string popt stored in *slot moves to list[*n] (at most max; caller frees
 * each with free). The parse sets *n to 0 first.
 */
struct cli_repeat {
	int val;
	char **slot, **list;
	size_t max, *n;
};

/*
 * As cli_parse, for a command with a repeatable string option (see struct
 * cli_repeat for val, slot, list, max and n).
 */
int cli_parse_repeat(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage, poptContext *conp,
    int val, char **slot, char **list, size_t max, size_t *n);

/*
 * As cli_parse, for a command that takes no positional argument: one is a
 * usage error, reported before any need is opened (a card or CA that is
 * missing must not hide it). rep is the repeatable option or NULL. The popt
 * context is freed before the return, so opts need only outlive the call.
 * Needs are opened after the check unless cli->defer_needs is set (then
 * the caller calls cli_open_needs after checks of its own). Returns
 * CLI_CONTINUE or an exit code (reported; 0 after --help).
 */
int cli_parse_noargs(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage,
    const struct cli_repeat *rep);

/*
 * As cli_parse_noargs, for a command with exactly one positional argument:
 * *arg is a copy of it (caller frees with free; NULL on failure). Without
 * one, the usage error is "<command>: <missing>".
 */
int cli_parse_arg(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage,
    const char *missing, char **arg);

/*
 * Open what cli->cmd->needs asks for, after cli_parse with defer_needs set
 * (so that usage errors are reported as such, without a card). Returns
 * CLI_CONTINUE or the exit code of the failure (reported).
 */
int cli_open_needs(struct cli *cli);

/*
 * Unlock cli->ca (NEED_CA) with the passphrase from cli->ca_pass, once: a
 * command that set defer_unlock calls it when it needs the key. Returns
 * CLI_CONTINUE or the exit code of the failure (reported).
 */
int cli_ca_unlock(struct cli *cli);

/* Report leftover positional arguments as a usage error (returns 2). */
int cli_no_args(struct cli *cli, poptContext con);

/*
 * Subcommands of a group ("cert import"): the entry of subs named by
 * argv[1], or NULL when argv[1] is absent, an option, or unknown.
 */
const struct cmd *cli_find_sub(const struct cmd *subs, int argc,
    const char **argv);
/*
 * Run sub with argv[1..argc) (argv[1] is its name); cli->cmd becomes sub
 * for the run, so its needs and messages apply. Returns its exit code.
 */
int cli_run_sub(struct cli *cli, const struct cmd *sub, int argc,
    const char **argv);
/*
 * A group called without a known subcommand: --help/-h lists subs (exit
 * 0); anything else is a usage error naming them (exit 2).
 */
int cli_group_usage(struct cli *cli, const struct cmd *subs, int argc,
    const char **argv);

int cmd_readers(struct cli *cli, int argc, const char **argv);
int cmd_inspect(struct cli *cli, int argc, const char **argv);
int cmd_keygen(struct cli *cli, int argc, const char **argv);
int cmd_attest(struct cli *cli, int argc, const char **argv);
int cmd_csr(struct cli *cli, int argc, const char **argv);
int cmd_cert(struct cli *cli, int argc, const char **argv);
int cmd_pin(struct cli *cli, int argc, const char **argv);
int cmd_puk(struct cli *cli, int argc, const char **argv);
int cmd_pin_retries(struct cli *cli, int argc, const char **argv);
int cmd_mgmt_key(struct cli *cli, int argc, const char **argv);
int cmd_reset(struct cli *cli, int argc, const char **argv);
int cmd_enroll(struct cli *cli, int argc, const char **argv);
int cmd_batch(struct cli *cli, int argc, const char **argv);

#endif
