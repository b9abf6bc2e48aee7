/*
 * Shared by the ca subcommands: the CA directory, opening and unlocking
 * the CA for the runner (NEED_CA, NEED_CA_KEY), and small parsers and
 * JSON pieces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_common.h"
#include "out.h"
#include "pem.h"
#include "secret.h"

#include "banned.h"

/* --dir, else $CARDSMITH_CA_DIR, else the per-user data directory. */
static int
ca_dir(struct cli *cli, char *dst, size_t cap)
{
	const char *e;
	int n;

	if (cli->ca_dir_opt != NULL)
		n = snprintf(dst, cap, "%s", cli->ca_dir_opt);
	else if ((e = getenv("CARDSMITH_CA_DIR")) != NULL && *e != '\0')
		n = snprintf(dst, cap, "%s", e);
	else if ((e = getenv("XDG_DATA_HOME")) != NULL && *e == '/')
		n = snprintf(dst, cap, "%s/cardsmith/ca", e);
	else if ((e = getenv("HOME")) != NULL && *e == '/')
		n = snprintf(dst, cap, "%s/.local/share/cardsmith/ca", e);
	else
		return out_usage(cli, "%s: no CA directory: give --dir",
		    cli->cmd->name);
	if (n < 0 || (size_t)n >= cap)
		return out_usage(cli, "%s: CA directory path too long",
		    cli->cmd->name);
	return CLI_CONTINUE;
}

/*
 * The table lives on this frame: cli_parse_noargs and cli_parse_arg free
 * the popt context, which points at it, before they return.
 */
int
ca_parse_dir(struct cli *cli, int argc, const char **argv,
    const struct cli_usage *usage, const char *missing, char **arg)
{
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		POPT_TABLEEND,
	};

	if (arg == NULL)
		return cli_parse_noargs(cli, argc, argv, opts, usage, NULL);
	return cli_parse_arg(cli, argc, argv, opts, usage, missing, arg);
}

/* Does msg name dir itself or a file in it ("DIR/registry.db")? */
static bool
names_dir(const char *msg, const char *dir)
{
	size_t n = strlen(dir);
	const char *p;

	for (p = strstr(msg, dir); n > 0 && p != NULL; p = strstr(p + 1, dir))
		if ((p == msg || p[-1] == ' ') &&
		    (p[n] == '/' || p[n] == ':' || p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static int
open_ca(struct cli *cli)
{
	const char *dir = cli->ca_dir, *warning;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_ca_open(cli->ctx, dir, &cli->ca)) != CS_OK)
		return names_dir(cs_ctx_errmsg(cli->ctx), dir)
		    ? out_fail(cli, r, cli->cmd->name)
		    : out_failf(cli, r, "%s: %s: %s", cli->cmd->name, dir,
		          cs_ctx_errmsg(cli->ctx));
	/* Once per command: a CA from before --allow-long-oid-arcs. */
	if (cs_ca_oid_arcs(cli->ca, &warning) == CS_CA_OID_ARCS_LEGACY)
		out_notice(cli, "warning: %s: %s", dir, warning);
	return CLI_CONTINUE;
}

int
cli_ca_unlock(struct cli *cli)
{
	struct secret s;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((code = secret_get(cli, &cli->ca_pass, false, &s)) != CLI_CONTINUE)
		return code;
	r = cs_ca_unlock(cli->ca, s.s, s.len);
	secret_clear(&s);
	if (r != CS_OK)
		return out_fail(cli, r, "unlock CA");
	return CLI_CONTINUE;
}

int
ca_need_open(struct cli *cli)
{
	unsigned int needs = cli->cmd->needs;
	int code;

	if ((needs & (NEED_CA | NEED_CA_DIR)) == 0)
		return CLI_CONTINUE;
	if ((code = ca_dir(cli, cli->ca_dir, sizeof(cli->ca_dir))) !=
	    CLI_CONTINUE)
		return code;
	if ((needs & NEED_CA) == 0)
		return CLI_CONTINUE;
	if ((code = open_ca(cli)) != CLI_CONTINUE)
		return code;
	if ((needs & NEED_CA_KEY) && !cli->defer_unlock)
		return cli_ca_unlock(cli);
	return CLI_CONTINUE;
}

void
ca_need_release(struct cli *cli)
{
	cs_ca_close(cli->ca);
	cli->ca = NULL;
	free(cli->ca_dir_opt);
	cli->ca_dir_opt = NULL;
	cli->ca_dir[0] = '\0';
	cli->defer_unlock = 0;
	secret_src_release(&cli->ca_pass);
	secret_src_init(&cli->ca_pass, "CA passphrase", "pass");
}

int
ca_read_opt_file(struct cli *cli, const char *path, uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	if (path == NULL)
		return CLI_CONTINUE;
	return pem_read_file(cli, path, data, len);
}

int
ca_check_serial(struct cli *cli, const char *what, const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return out_usage(cli, "%s: %s is empty", cli->cmd->name, what);
	if (n >= CS_CA_SERIAL_MAX)
		return out_usage(cli,
		    "%s: %s '%.20s...' is too long (at most %d hex digits)",
		    cli->cmd->name, what, s, CS_CA_SERIAL_MAX - 1);
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f') ||
		        (s[i] >= 'A' && s[i] <= 'F')))
			return out_usage(cli,
			    "%s: %s '%.40s' is not hex (give it as 'cardsmith "
			    "ca list' prints it)",
			    cli->cmd->name, what, s);
	return CLI_CONTINUE;
}

json_t *
ca_oids_json(const struct cs_ca *ca)
{
	const struct cs_ca_sublevel *sub;
	json_t *o = json_object();
	size_t k;
	int i;

	if (o == NULL)
		return NULL;
	for (i = CS_CA_LEVEL_SOFTWARE; i < CS_CA_LEVEL_COUNT; i++)
		out_set(o, cs_ca_level_name((enum cs_ca_level)i),
		    out_str(cs_ca_level_oid(ca, (enum cs_ca_level)i)));
	for (k = 0; (sub = cs_ca_sublevel_at(ca, k)) != NULL; k++)
		out_set(o, sub->name, out_str(sub->oid));
	return o;
}

json_t *
ca_sublevels_json(const struct cs_ca *ca)
{
	const struct cs_ca_sublevel *sub;
	json_t *a = json_array(), *o;
	size_t k;

	for (k = 0; a != NULL && (sub = cs_ca_sublevel_at(ca, k)) != NULL;
	     k++) {
		if ((o = json_object()) == NULL)
			break;
		out_set(o, "name", out_str(sub->name));
		out_set(o, "oid", out_str(sub->oid));
		out_set(o, "parent", out_str(cs_ca_level_name(sub->parent)));
		out_set(o, "min_pin_policy",
		    sub->min_pin_policy
		        ? out_str(cs_attest_pin_policy_str(sub->min_pin_policy))
		        : NULL);
		out_set(o, "min_touch_policy",
		    sub->min_touch_policy ? out_str(cs_attest_touch_policy_str(
		                                sub->min_touch_policy))
		                          : NULL);
		out_append(a, o);
	}
	return a;
}

bool
ca_parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	*v = 0;
	if (s == NULL)
		return true;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '-' || x == 0)
		return false;
	*v = x;
	return true;
}
