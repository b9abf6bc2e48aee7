/*
 * Comma-separated lists (profile keys such as slots = 9a, 9c; sub-level
 * specs pin:once,touch:always): one splitter, so that every list reads
 * its items the same way.
 */
#include <stdio.h>
#include <string.h>

#include "ca_int.h"

#include "banned.h"

enum cs_err
csa_list_each(struct cs_ctx *ctx, const char *what, const char *s,
    csa_item_fn *fn, void *arg)
{
	char buf[CSA_LIST_MAX], *it, *save = NULL, *e;
	enum cs_err r = CS_ERR_INTERNAL;

	if (strlen(s) >= sizeof(buf))
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "%s too long", what);
	snprintf(buf, sizeof(buf), "%s", s);
	for (it = strtok_r(buf, ",", &save); it != NULL;
	     it = strtok_r(NULL, ",", &save)) {
		while (*it == ' ' || *it == '\t')
			it++;
		e = it + strlen(it);
		while (e > it && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*it != '\0' && (r = fn(it, arg)) != CS_OK)
			return r;
	}
	return CS_OK;
}
