/*
 * Waiting for card events on several readers at once, for cardsmith
 * batch: one SCardGetStatusChange over every watched reader plus the
 * \\?PnP?\\Notification pseudo reader, so a new reader wakes the caller
 * as a card does. The call blocks on change; the caller bounds it with a
 * timeout so that a signal flag is seen (SCardCancel from a signal
 * handler is not async-signal-safe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winscard.h>

#include "cardsmith/pcsc.h"

#include "internal.h"

#include "banned.h"

enum cs_err csi_pcsc_map(struct cs_ctx *ctx, LONG rv, const char *what);

/* Readers one wait handles, the PnP pseudo reader not counted. */
#define WATCH_MAX 16

struct cs_pcsc_watch {
	struct cs_ctx *ctx;
	SCARDCONTEXT hctx;
	/* Last state seen per name; names[i][0] == 0 when unused. */
	char names[WATCH_MAX][CS_READER_NAME_MAX];
	DWORD state[WATCH_MAX];
	DWORD pnp; /* last state of the PnP pseudo reader */
	bool pnp_ok; /* pcscd supports the PnP pseudo reader */
};

enum cs_err
cs_pcsc_watch_open(struct cs_ctx *ctx, struct cs_pcsc_watch **out)
{
	struct cs_pcsc_watch *w;
	LONG rv;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return csi_fail(ctx, CS_ERR_NOMEM, "out of memory");
	w->ctx = ctx;
	w->pnp_ok = true;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &w->hctx);
	if (rv != SCARD_S_SUCCESS) {
		free(w);
		return csi_pcsc_map(ctx, rv, "pcsc");
	}
	*out = w;
	return CS_OK;
}

void
cs_pcsc_watch_close(struct cs_pcsc_watch *w)
{
	if (w == NULL)
		return;
	SCardReleaseContext(w->hctx);
	free(w);
}

/* The state last seen for name, SCARD_STATE_UNAWARE if none. */
static DWORD
known_state(const struct cs_pcsc_watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < WATCH_MAX; i++)
		if (strcmp(w->names[i], name) == 0)
			return w->state[i];
	return SCARD_STATE_UNAWARE;
}

enum cs_err
cs_pcsc_watch_wait(struct cs_pcsc_watch *w, struct cs_pcsc_watch_reader *r,
    size_t n, unsigned int timeout_ms, bool *added)
{
	SCARD_READERSTATE rs[WATCH_MAX + 1];
	DWORD cnt, ev;
	bool any = false;
	size_t i;
	LONG rv;

	if (added != NULL)
		*added = false;
	if (w == NULL || (n > 0 && r == NULL) || n > WATCH_MAX)
		return csi_fail(w != NULL ? w->ctx : NULL, CS_ERR_ARG,
		    "wait: bad arguments");
	memset(rs, 0, sizeof(rs));
	for (i = 0; i < n; i++) {
		rs[i].szReader = r[i].name;
		rs[i].dwCurrentState = known_state(w, r[i].name);
		if (rs[i].dwCurrentState == SCARD_STATE_UNAWARE)
			any = true;
		r[i].changed = false;
		r[i].gone = false;
	}
	cnt = (DWORD)n;
	if (w->pnp_ok) {
		rs[cnt].szReader = "\\\\?PnP?\\Notification";
		rs[cnt].dwCurrentState = w->pnp;
		cnt++;
	}
	/* A reader not seen before: learn its state without waiting. */
	rv = SCardGetStatusChange(w->hctx, any ? 0 : (DWORD)timeout_ms, rs,
	    cnt);
	if (rv == SCARD_E_TIMEOUT && !any)
		return csi_fail(w->ctx, CS_ERR_TIMEOUT, "wait: timed out");
	if (rv == SCARD_E_UNKNOWN_READER && w->pnp_ok) {
		/* An old pcscd without the PnP reader: watch cards only. */
		w->pnp_ok = false;
		return cs_pcsc_watch_wait(w, r, n, timeout_ms, added);
	}
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		return csi_pcsc_map(w->ctx, rv, "wait for cards");
	memset(w->names, 0, sizeof(w->names));
	for (i = 0; i < n; i++) {
		ev = rs[i].dwEventState;
		snprintf(w->names[i], sizeof(w->names[i]), "%s", r[i].name);
		w->state[i] = ev & ~SCARD_STATE_CHANGED;
		r[i].present = (ev & SCARD_STATE_PRESENT) != 0 &&
		    (ev & SCARD_STATE_MUTE) == 0;
		r[i].gone = (ev & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE)) !=
		    0;
		r[i].changed = any || (ev & SCARD_STATE_CHANGED) != 0;
	}
	if (w->pnp_ok) {
		ev = rs[n].dwEventState;
		if ((ev & SCARD_STATE_CHANGED) != 0 && added != NULL &&
		    w->pnp != SCARD_STATE_UNAWARE)
			*added = true;
		w->pnp = ev & ~SCARD_STATE_CHANGED;
	}
	return CS_OK;
}
