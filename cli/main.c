/*
 * cardsmith: command table and runner (git.c style). Global options are
 * parsed first and stop at the command noun (POPT_CONTEXT_POSIXMEHARDER);
 * the rest of argv goes to the command, which parses it with cli_parse.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <popt.h>

#include "ca_common.h"
#include "cli.h"
#include "cmd_ca.h"
#include "exit.h"
#include "out.h"

#include "banned.h"

enum opt_val {
	OPT_HELP = 'h',
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
	OPT_JSON = 0x1000,
	OPT_VERSION,
};

static int cmd_help(struct cli *, int, const char **);

static const struct cmd commands[] = {
	{ "help", cmd_help, 0, "show help for cardsmith or a command" },
	{ "readers", cmd_readers, 0,
	    "list smart card readers and the cards in them" },
	{ "inspect", cmd_inspect, NEED_CARD,
	    "show the card: retries, management key, slots, certificates" },
	{ "keygen", cmd_keygen, NEED_CARD, "generate a key pair in a slot" },
	{ "attest", cmd_attest, 0,
	    "attest a slot's key, or verify an attestation offline" },
	{ "csr", cmd_csr, NEED_CARD,
	    "make a certificate request signed by a slot's key" },
	{ "cert", cmd_cert, 0,
	    "import, export or delete a slot's certificate" },
	{ "pin", cmd_pin, 0, "change, unblock, verify the PIN; show retries" },
	{ "puk", cmd_puk, 0, "change the PUK" },
	{ "mgmt-key", cmd_mgmt_key, 0, "set the management key" },
	{ "pin-retries", cmd_pin_retries, 0,
	    "set the PIN and PUK retry counts" },
	{ "reset", cmd_reset, NEED_CARD,
	    "block PIN and PUK, then reset the PIV application" },
	{ "enroll", cmd_enroll, NEED_CARD | NEED_CA | NEED_CA_KEY,
	    "enroll a card: PIN, PUK, keys, certificates, in the registry" },
	{ "batch", cmd_batch, NEED_CA | NEED_CA_KEY, "provision the cards of a roster over several readers" },
	{ "ca", cmd_ca, 0, "the built-in certificate authority" },
	{ "verify", cmd_verify, 0,
	    "check a certificate as a relying party would" },
	{ NULL, NULL, 0, NULL },
};

/* Accepted before the command and after it. */
static struct poptOption common_opts[] = {
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON,
	    "print one JSON document on standard output", NULL },
	{ "verbose", 'v', POPT_ARG_NONE, NULL, OPT_VERBOSE,
	    "log more to standard error; repeat for debug (-vv) and APDUs "
	    "(-vvv)",
	    NULL },
	{ "quiet", 'q', POPT_ARG_NONE, NULL, OPT_QUIET, "print errors only",
	    NULL },
	{ "help", 'h', POPT_ARG_NONE, NULL, OPT_HELP, "show this help", NULL },
	POPT_TABLEEND,
};

static struct poptOption global_opts[] = {
	{ "version", '\0', POPT_ARG_NONE, NULL, OPT_VERSION,
	    "print the version and exit", NULL },
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_opts, 0,
	    "Global options:", NULL },
	POPT_TABLEEND,
};

static const struct cmd *
find_cmd(const char *name)
{
	const struct cmd *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
log_line(void *arg, enum cs_log_level level, const char *line)
{
	out_line(line);
}

/* -q wins: errors only. Each -v steps INFO, DEBUG, APDU. */
static void
apply_log(struct cli *cli)
{
	enum cs_log_level max = CS_LOG_ERR;

	if (!cli->quiet && cli->verbose >= 3)
		max = CS_LOG_APDU;
	else if (!cli->quiet && cli->verbose == 2)
		max = CS_LOG_DEBUG;
	else if (!cli->quiet && cli->verbose == 1)
		max = CS_LOG_INFO;
	cs_ctx_set_log(cli->ctx, max, log_line, cli);
}

/* Returns 1 if rc was a common option (and records it). */
static int
common_opt(struct cli *cli, int rc)
{
	switch (rc) {
	case OPT_JSON:
		cli->json = 1;
		return 1;
	case OPT_VERBOSE:
		cli->verbose++;
		return 1;
	case OPT_QUIET:
		cli->quiet = 1;
		return 1;
	default:
		return 0;
	}
}

static void
print_main_help(void)
{
	const char *av[] = { "cardsmith", NULL };
	const struct cmd *c;
	poptContext con;

	con = poptGetContext("cardsmith", 1, av, global_opts, 0);
	poptSetOtherOptionHelp(con, "[OPTION...] <command> [<args>]");
	poptPrintHelp(con, stdout, 0);
	poptFreeContext(con);
	fputs("\nCommands:\n", stdout);
	for (c = commands; c->name != NULL; c++)
		printf("  %-12s %s\n", c->name, c->summary);
	fputs("\nGlobal options go before the command; --json, -v and -q "
	      "are also accepted\nafter it. 'cardsmith help <command>' or "
	      "'cardsmith <command> --help' shows a\ncommand's options with an "
	      "example. Exit status: 0 ok, 1 failed, 2 usage,\n3 no "
	      "reader/card, 4 PIN/key wrong or blocked, 5 not verified, 6 "
	      "policy\n(see cardsmith(1)).\n\nExample:\n  cardsmith readers\n",
	    stdout);
}

static void
print_cmd_help(poptContext con, const struct cli_usage *usage)
{
	poptPrintHelp(con, stdout, 0);
	if (usage != NULL && usage->about != NULL)
		printf("\n%s\n", usage->about);
	if (usage != NULL && usage->example != NULL)
		printf("\nExample:\n%s\n", usage->example);
}

static int
open_needs(struct cli *cli)
{
	unsigned int needs = cli->cmd->needs;
	uint32_t serial = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((needs & NEED_TTY) && !isatty(STDIN_FILENO))
		return out_failf(cli, CS_ERR_ARG,
		    "%s: standard input is not a terminal", cli->cmd->name);
	if (needs & NEED_CARD) {
		if (cli->serial_str != NULL) {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(cli->serial_str, &end, 10);
			if (cli->serial_str[0] < '0' ||
			    cli->serial_str[0] > '9' || *end != '\0' ||
			    errno != 0 || v == 0 || v > UINT32_MAX)
				return out_usage(cli,
				    "%s: --serial: '%s' is "
				    "not a serial number",
				    cli->cmd->name, cli->serial_str);
			serial = (uint32_t)v;
		}
		r = cs_card_find(cli->ctx, cli->reader_match, serial, 0,
		    &cli->card);
		if (r != CS_OK)
			return out_fail(cli, r, "open card");
	}
	/* The ca commands: their directory, the open (unlocked) CA. */
	return ca_need_open(cli);
}

static int parse_common(struct cli *, int, const char **, struct poptOption *,
    const struct cli_usage *, poptContext *, const struct cli_repeat *);

int
cli_parse(struct cli *cli, int argc, const char **argv, struct poptOption *opts,
    const struct cli_usage *usage, poptContext *conp)
{
	return parse_common(cli, argc, argv, opts, usage, conp, NULL);
}

int
cli_parse_repeat(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage, poptContext *conp,
    int val, char **slot, char **list, size_t max, size_t *n)
{
	struct cli_repeat rep = { val, slot, list, max, n };

	return parse_common(cli, argc, argv, opts, usage, conp, &rep);
}

/*
 * cli_parse_noargs (arg NULL: no positional argument) and cli_parse_arg
 * (exactly one, copied to *arg). The arguments are checked before any need
 * is opened, and the context is freed here: *arg must not point into it,
 * and the caller's options table need not outlive the call.
 */
static int
parse_args(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage,
    const struct cli_repeat *rep, const char *missing, char **arg)
{
	poptContext con = NULL;
	const char *a;
	int open_now = !cli->defer_needs, code;
	size_t len;

	cli->defer_needs = 1;
	if ((code = parse_common(cli, argc, argv, opts, usage, &con, rep)) !=
	    CLI_CONTINUE)
		goto out;
	if (arg != NULL) {
		if ((a = poptGetArg(con)) == NULL) {
			code = out_usage(cli, "%s: %s", cli->cmd->name,
			    missing);
			goto out;
		}
		len = strlen(a) + 1;
		*arg = xmalloc(len);
		memcpy(*arg, a, len);
	}
	if ((code = cli_no_args(cli, con)) == CLI_CONTINUE && open_now)
		code = cli_open_needs(cli);
out:
	poptFreeContext(con);
	if (open_now)
		cli->defer_needs = 0;
	if (code != CLI_CONTINUE && arg != NULL) {
		free(*arg);
		*arg = NULL;
	}
	return code;
}

int
cli_parse_noargs(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage,
    const struct cli_repeat *rep)
{
	return parse_args(cli, argc, argv, opts, usage, rep, NULL, NULL);
}

int
cli_parse_arg(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage,
    const char *missing, char **arg)
{
	*arg = NULL;
	return parse_args(cli, argc, argv, opts, usage, NULL, missing, arg);
}

static int
parse_common(struct cli *cli, int argc, const char **argv,
    struct poptOption *opts, const struct cli_usage *usage, poptContext *conp,
    const struct cli_repeat *rep)
{
	struct poptOption card_opts[] = {
		{ "reader", 'r', POPT_ARG_STRING, &cli->reader_match, 0,
		    "use the reader whose name contains NAME (default: the "
		    "one holding a card)",
		    "NAME" },
		{ "serial", '\0', POPT_ARG_STRING, &cli->serial_str, 0,
		    "use the YubiKey with this serial number", "N" },
		POPT_TABLEEND,
	};
	struct poptOption table[4];
	poptContext con;
	size_t n = 0;
	int rc, help = 0, r;

	*conp = NULL;
	if (rep != NULL)
		*rep->n = 0;
	if (opts != NULL)
		table[n++] = (struct poptOption){ NULL, '\0',
			POPT_ARG_INCLUDE_TABLE, opts, 0, "Options:", NULL };
	if (cli->cmd->needs & NEED_CARD)
		table[n++] =
		    (struct poptOption){ NULL, '\0', POPT_ARG_INCLUDE_TABLE,
			    card_opts, 0, "Card options:", NULL };
	table[n++] = (struct poptOption){ NULL, '\0', POPT_ARG_INCLUDE_TABLE,
		common_opts, 0, "Common options:", NULL };
	table[n++] = (struct poptOption)POPT_TABLEEND;

	con = poptGetContext(argv[0], argc, argv, table, 0);
	if (usage != NULL && usage->args != NULL)
		poptSetOtherOptionHelp(con, usage->args);
	while ((rc = poptGetNextOpt(con)) > 0) {
		if (rc == OPT_HELP)
			help = 1;
		else if (rep != NULL && rc == rep->val) {
			if (*rep->n >= rep->max) {
				r = out_usage(cli,
				    "%s: option given more than "
				    "%zu times",
				    cli->cmd->name, rep->max);
				goto fail;
			}
			rep->list[(*rep->n)++] = *rep->slot;
			*rep->slot = NULL;
		} else
			(void)common_opt(cli, rc);
	}
	if (rc < -1) {
		r = out_usage(cli, "%s: %s: %s", cli->cmd->name,
		    poptBadOption(con, POPT_BADOPTION_NOALIAS),
		    poptStrerror(rc));
		goto fail;
	}
	if (help) {
		print_cmd_help(con, usage);
		r = CLI_EXIT_OK;
		goto fail;
	}
	apply_log(cli);
	if (!cli->defer_needs && (r = open_needs(cli)) != CLI_CONTINUE)
		goto fail;
	*conp = con;
	return CLI_CONTINUE;
fail:
	poptFreeContext(con);
	return r;
}

int
cli_open_needs(struct cli *cli)
{
	cli->defer_needs = 0;
	return open_needs(cli);
}

int
cli_no_args(struct cli *cli, poptContext con)
{
	const char *arg = poptPeekArg(con);

	if (arg == NULL)
		return CLI_CONTINUE;
	return out_usage(cli, "%s: unexpected argument '%s'", cli->cmd->name,
	    arg);
}

/*
 * A command body's argv: "cardsmith <name>", then args[1..nargs), NULL.
 * One allocation (argv[0] lives behind the pointers): free it with free.
 */
static const char **
cmd_argv(const char *name, int nargs, const char **args)
{
	size_t ptrs = ((size_t)nargs + 1) * sizeof(const char *);
	size_t len = strlen("cardsmith ") + strlen(name) + 1;
	const char **av = xmalloc(ptrs + len);
	char *argv0 = (char *)av + ptrs;
	int i;

	snprintf(argv0, len, "cardsmith %s", name);
	av[0] = argv0;
	for (i = 1; i < nargs; i++)
		av[i] = args[i];
	av[nargs] = NULL;
	return av;
}

/* Run c with args[0..nargs); args[0] is the command noun. */
static int
run_cmd(struct cli *cli, const struct cmd *c, int nargs, const char **args)
{
	const char **av = cmd_argv(c->name, nargs, args);
	int code;

	cli->cmd = c;
	cli->defer_needs = 0;
	code = c->fn(cli, nargs, av);
	cs_card_close(cli->card);
	cli->card = NULL;
	ca_need_release(cli);
	free(cli->reader_match);
	cli->reader_match = NULL;
	free(cli->serial_str);
	cli->serial_str = NULL;
	free(av);
	return code;
}

/* The last word of a subcommand's name: "add" of "ca trust add". */
static const char *
sub_word(const struct cmd *c)
{
	const char *word = strrchr(c->name, ' ');

	return word != NULL ? word + 1 : c->name;
}

const struct cmd *
cli_find_sub(const struct cmd *subs, int argc, const char **argv)
{
	const struct cmd *c;

	if (argc < 2 || argv[1] == NULL || argv[1][0] == '-')
		return NULL;
	for (c = subs; c->name != NULL; c++)
		if (strcmp(sub_word(c), argv[1]) == 0)
			return c;
	return NULL;
}

int
cli_run_sub(struct cli *cli, const struct cmd *sub, int argc, const char **argv)
{
	const struct cmd *saved = cli->cmd;
	/* argv[1] is the subcommand's name: its argv[0] replaces it. */
	const char **av = cmd_argv(sub->name, argc - 1, argv + 1);
	int code;

	cli->cmd = sub;
	code = sub->fn(cli, argc - 1, av);
	cli->cmd = saved;
	free(av);
	return code;
}

int
cli_group_usage(struct cli *cli, const struct cmd *subs, int argc,
    const char **argv)
{
	const struct cmd *c;
	char names[256];
	size_t used = 0;
	int i, help = 0;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			help = 1;
	names[0] = '\0';
	for (c = subs; c->name != NULL; c++)
		if (used < sizeof(names))
			used +=
			    (size_t)snprintf(names + used, sizeof(names) - used,
			        "%s%s", used ? ", " : "", sub_word(c));
	if (!help) {
		if (argc >= 2 && argv[1][0] != '-')
			return out_usage(cli,
			    "%s: unknown subcommand '%s' "
			    "(one of: %s)",
			    cli->cmd->name, argv[1], names);
		return out_usage(cli, "%s: missing subcommand (one of: %s)",
		    cli->cmd->name, names);
	}
	printf("Usage: cardsmith %s <subcommand> [OPTION...]\n\n%s.\n\n"
	       "Subcommands:\n",
	    cli->cmd->name, cli->cmd->summary);
	for (c = subs; c->name != NULL; c++)
		printf("  %-20s %s\n", c->name, c->summary);
	printf("\n'cardsmith help %s <subcommand>' shows a subcommand's "
	       "options.\n",
	    cli->cmd->name);
	return CLI_EXIT_OK;
}

static int
cmd_help(struct cli *cli, int argc, const char **argv)
{
	static const struct cli_usage usage = {
		"[<command> [<subcommand>]]",
		"Without a command, list the commands. With one, show its "
		"options, what it does\nand an example; the same as "
		"'cardsmith <command> --help'.",
		"  cardsmith help readers",
	};
	/* "help ca trust add": the command, two subcommand words, --help. */
	const char *help_av[5] = { NULL };
	const struct cmd *c;
	poptContext con;
	const char *name, *sub;
	int r, n = 1;

	if ((r = cli_parse(cli, argc, argv, NULL, &usage, &con)) !=
	    CLI_CONTINUE)
		return r;
	name = poptGetArg(con);
	while (name != NULL && n < 3 && (sub = poptGetArg(con)) != NULL)
		help_av[n++] = sub;
	if (name == NULL) {
		print_main_help();
		r = CLI_EXIT_OK;
	} else if ((r = cli_no_args(cli, con)) != CLI_CONTINUE)
		;
	else if ((c = find_cmd(name)) == NULL)
		r = out_usage(cli, "help: '%s' is not a cardsmith command",
		    name);
	else {
		help_av[0] = c->name;
		help_av[n] = "--help";
		r = run_cmd(cli, c, n + 1, help_av);
	}
	poptFreeContext(con);
	return r;
}

/* Later commands read PINs and keys: no core file may hold them. */
static int
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		out_err("cannot disable core dumps: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A full disk or closed pipe must not look like success (GIT). */
static int
finish_stdout(int code)
{
	int bad = ferror(stdout), saved = 0;

	if (fflush(stdout) != 0) {
		bad = 1;
		saved = errno;
	}
	if (fclose(stdout) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (!bad)
		return code;
	if (saved != 0)
		out_err("write error on standard output: %s", strerror(saved));
	else
		out_err("write error on standard output");
	return code == CLI_EXIT_OK ? CLI_EXIT_FAIL : code;
}

static int
run(struct cli *cli, int argc, const char **argv)
{
	const struct cmd *c;
	poptContext con;
	const char **args;
	int rc, nargs = 0, help = 0, version = 0, code;
	enum cs_err r = CS_ERR_INTERNAL;

	con = poptGetContext("cardsmith", argc, argv, global_opts,
	    POPT_CONTEXT_POSIXMEHARDER);
	while ((rc = poptGetNextOpt(con)) > 0) {
		if (rc == OPT_HELP)
			help = 1;
		else if (rc == OPT_VERSION)
			version = 1;
		else
			(void)common_opt(cli, rc);
	}
	if (rc < -1) {
		code = out_usage(cli, "%s: %s",
		    poptBadOption(con, POPT_BADOPTION_NOALIAS),
		    poptStrerror(rc));
		goto out;
	}
	if ((r = cs_ctx_new(&cli->ctx)) != CS_OK) {
		code = out_fail(cli, r, NULL);
		goto out;
	}
	apply_log(cli);
	if ((args = poptGetArgs(con)) != NULL)
		while (args[nargs] != NULL)
			nargs++;
	if (version) {
		code = CLI_EXIT_OK;
		if (cli->json) {
			json_t *doc = out_doc_new();

			out_set(doc, "version", out_str(cs_version()));
			code = out_emit(cli, doc);
		} else
			printf("cardsmith %s\n", cs_version());
	} else if (nargs == 0 && help) {
		print_main_help();
		code = CLI_EXIT_OK;
	} else if (nargs == 0)
		code = out_usage(cli, "no command given");
	else if ((c = find_cmd(args[0])) == NULL)
		code =
		    out_usage(cli, "'%s' is not a cardsmith command", args[0]);
	else if (help) {
		const char *help_av[] = { c->name, "--help" };

		code = run_cmd(cli, c, 2, help_av);
	} else
		code = run_cmd(cli, c, nargs, args);
out:
	poptFreeContext(con);
	return code;
}

int
main(int argc, char *argv[])
{
	struct cli cli;
	int code;

	memset(&cli, 0, sizeof(cli));
	secret_src_init(&cli.ca_pass, "CA passphrase", "pass");
	if (no_core_dumps() != 0)
		return finish_stdout(CLI_EXIT_FAIL);
	code = run(&cli, argc, (const char **)argv);
	ca_need_release(&cli);
	cs_ctx_free(cli.ctx);
	return finish_stdout(code);
}
