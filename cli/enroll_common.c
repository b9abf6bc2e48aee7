/*
 * Pieces cardsmith enroll and cardsmith batch share (moved out of
 * cmd_enroll.c for batch): finding and loading a profile set by name.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "card.h"
#include "enroll_common.h"
#include "out.h"

#include "banned.h"

/* --- the profile set's file --- */

/* "<a><b><c>" into dst; false if it does not fit. */
static bool
join3(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
	int n = snprintf(dst, cap, "%s%s%s", a, b, c);

	return n > 0 && (size_t)n < cap;
}

int
enroll_load_set(struct cli *cli, const char *name, struct cs_profileset *set)
{
	char path[PATH_MAX], rel[PATH_MAX];
	const char *p = NULL;
	size_t n = strlen(name);
	enum cs_err r = CS_ERR_INTERNAL;

	if (strchr(name, '/') != NULL ||
	    (n > 4 && strcmp(name + n - 4, ".cnf") == 0))
		p = name;
	else if (join3(rel, sizeof(rel), "/profile-sets/", name, ".cnf") &&
	    join3(path, sizeof(path), cli->ca_dir, rel, "") &&
	    access(path, R_OK) == 0)
		p = path;
	else if (join3(path, sizeof(path), CS_DATADIR "/profiles/sets/", name,
	             ".cnf") &&
	    access(path, R_OK) == 0)
		p = path;
	else if (join3(rel, sizeof(rel), "profiles/sets/", name, ".cnf"))
		p = cli_tree_path(rel, path, sizeof(path));
	if (p == NULL)
		return out_failf(cli, CS_ERR_NOT_FOUND,
		    "enroll: no profile set '%s' (looked in %s/profile-sets and "
		    "the shipped profiles/sets)",
		    name, cli->ca_dir);
	if ((r = cs_profileset_load(cli->ctx, p, p == name ? NULL : name,
	         set)) != CS_OK)
		return out_fail(cli, r, "enroll: profile set");
	return CLI_CONTINUE;
}

