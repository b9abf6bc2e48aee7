/*
 * The public registry calls (cs_ca_list, cs_ca_show, cs_ca_mark_delivered,
 * cs_ca_revoke, cs_ca_reconcile), serial normalisation and the status and
 * CRLReason names; they reach the backend through ca->store->ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

#include "banned.h"

/* --- public registry calls --- */

static const char *const status_names[] = {
	"pending",
	"issued",
	"delivered",
	"revoked",
	"void",
};

const char *
cs_ca_status_name(enum cs_ca_status st)
{
	if ((unsigned int)st >= sizeof(status_names) / sizeof(*status_names))
		return "unknown";
	return status_names[st];
}

/* Upper-case hex, no leading zeros beyond what BN_bn2hex writes. */
static enum cs_err
norm_serial(struct cs_ctx *ctx, const char *in, char *dst, size_t cap)
{
	size_t i, n;

	if (in == NULL || (n = strlen(in)) == 0 || n >= cap)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "bad serial");
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (c >= 'a' && c <= 'f')
			c = (char)(c - 'a' + 'A');
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return cs_ctx_fail(ctx, CS_ERR_ARG,
			    "serial '%.40s' is not hex", in);
		dst[i] = c;
	}
	dst[n] = '\0';
	return CS_OK;
}

enum cs_err
cs_ca_list(struct cs_ca *ca, const struct cs_ca_list_filter *f,
    cs_ca_list_fn *fn, void *arg)
{
	return ca->store->ops->list(ca->store, f, fn, arg);
}

enum cs_err
cs_ca_show(struct cs_ca *ca, const char *serial, struct cs_ca_cert_info *in,
    uint8_t **der, size_t *derlen)
{
	char s[CS_CA_SERIAL_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	memset(in, 0, sizeof(*in));
	if (der != NULL) {
		*der = NULL;
		*derlen = 0;
	}
	if ((r = norm_serial(ca->ctx, serial, s, sizeof(s))) != CS_OK)
		return r;
	return ca->store->ops->get(ca->store, s, in, der, derlen);
}

enum cs_err
cs_ca_mark_delivered(struct cs_ca *ca, const char *serial)
{
	char s[CS_CA_SERIAL_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = norm_serial(ca->ctx, serial, s, sizeof(s))) != CS_OK)
		return r;
	return ca->store->ops->delivered(ca->store, s, (int64_t)time(NULL));
}

static const char *const reasons[] = {
	"unspecified",
	"keyCompromise",
	"cACompromise",
	"affiliationChanged",
	"superseded",
	"cessationOfOperation",
	"certificateHold",
	NULL,
	"removeFromCRL",
	"privilegeWithdrawn",
	"aACompromise",
};

const char *
csa_store_reason_name(int reason)
{
	if (reason < 0 ||
	    (size_t)reason >= sizeof(reasons) / sizeof(*reasons) ||
	    reasons[reason] == NULL)
		return "an unknown reason";
	return reasons[reason];
}

enum cs_err
cs_ca_reason_parse(const char *name, int *reason)
{
	size_t i;

	*reason = 0;
	if (name == NULL)
		return CS_ERR_ARG;
	for (i = 0; i < sizeof(reasons) / sizeof(*reasons); i++)
		if (reasons[i] != NULL && strcasecmp(name, reasons[i]) == 0 &&
		    i != 8) {
			*reason = (int)i;
			return CS_OK;
		}
	return CS_ERR_ARG;
}

enum cs_err
cs_ca_revoke(struct cs_ca *ca, const char *serial, uint64_t card_serial,
    int reason, int64_t at, size_t *n)
{
	char s[CS_CA_SERIAL_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	*n = 0;
	if (reason < 0 || reason > 10 || reason == 7 || reason == 8)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "bad revocation reason %d",
		    reason);
	if (serial == NULL && card_serial == 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "revoke: serial or card serial needed");
	if (serial != NULL &&
	    (r = norm_serial(ca->ctx, serial, s, sizeof(s))) != CS_OK)
		return r;
	if ((r = ca->store->ops->revoke(ca->store, serial != NULL ? s : NULL,
	         card_serial, reason, at != 0 ? at : (int64_t)time(NULL), n)) !=
	    CS_OK)
		return r;
	if (*n == 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    serial != NULL
		        ? "serial %s: no issued certificate to revoke"
		        : "card %s: no issued certificate to revoke",
		    serial != NULL ? s : "given");
	return CS_OK;
}

enum cs_err
cs_ca_reconcile(struct cs_ca *ca, struct cs_ca_reconcile_stats *stats)
{
	return ca->store->ops->reconcile(ca->store, stats, (int64_t)time(NULL));
}
