/*
 * PC/SC backend on pcsc-lite: reader listing, connection (a cs_transport)
 * and card-event waits. Choosing a reader and finding a card by reader
 * name or serial are in pcsc_find.c.
 *
 * Every SCard* failure goes through csi_pcsc_map, so callers see one
 * vocabulary: CS_ERR_REMOVED for a card pulled or reset under us,
 * CS_ERR_TRANSPORT for pcscd trouble, CS_ERR_TIMEOUT, and so on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <winscard.h>

#include "internal.h"

#include "banned.h"

/* Most readers one listing handles (pcsc-lite itself allows 16). */
#define PCSC_READERS_MAX 64
/* Largest reader multi-string accepted from pcscd. */
#define PCSC_LIST_MAX (PCSC_READERS_MAX * CS_READER_NAME_MAX)
/* pcsc-lite's pseudo reader used for reader add/remove notifications. */
/* Longest command APDU: header, extended Lc, 65535 data bytes, Le. */
#define PCSC_CMD_MAX (4 + 3 + 65535 + 2)
/* How long a failed transmit waits for pcscd to notice a pulled card. */
#define PCSC_SETTLE_MS 1000u

enum cs_err csi_pcsc_map(struct cs_ctx *ctx, LONG rv, const char *what);

struct pcsc_card {
	SCARDCONTEXT hctx;
	SCARDHANDLE h;
	DWORD proto;
	DWORD share; /* kept so a reconnect after reset stays exclusive */
	bool have_ctx, have_card;
	char name[CS_READER_NAME_MAX];
};

struct pcsc_err {
	LONG rv;
	enum cs_err code;
	const char *text;
};

/* clang-format off */
static const struct pcsc_err pcsc_errs[] = {
	{ SCARD_W_REMOVED_CARD, CS_ERR_REMOVED, "card removed during operation" },
	{ SCARD_E_NO_SMARTCARD, CS_ERR_NO_CARD, "no card in reader" },
	{ SCARD_W_RESET_CARD, CS_ERR_REMOVED, "card was reset by another program; state lost" },
	{ SCARD_E_NO_SERVICE, CS_ERR_TRANSPORT, "cannot reach pcscd (is the pcscd service running?)" },
	{ SCARD_E_SERVICE_STOPPED, CS_ERR_TRANSPORT, "cannot reach pcscd (is the pcscd service running?)" },
	{ SCARD_E_TIMEOUT, CS_ERR_TIMEOUT, "timed out" },
	{ SCARD_E_SHARING_VIOLATION, CS_ERR_TRANSPORT, "reader in use by another program" },
	{ SCARD_E_UNKNOWN_READER, CS_ERR_NOT_FOUND, "reader not found" },
	{ SCARD_E_READER_UNAVAILABLE, CS_ERR_NOT_FOUND, "reader not available" },
	{ SCARD_E_NO_READERS_AVAILABLE, CS_ERR_NO_CARD, "no reader found" },
	{ SCARD_W_UNRESPONSIVE_CARD, CS_ERR_NO_CARD, "card does not answer (mute)" },
	{ SCARD_W_UNPOWERED_CARD, CS_ERR_NO_CARD, "card is not powered" },
	{ SCARD_E_PROTO_MISMATCH, CS_ERR_UNSUPPORTED, "card speaks neither T=1 nor T=0" },
	{ SCARD_E_CANCELLED, CS_ERR_CANCELLED, "cancelled" },
	{ SCARD_E_NO_MEMORY, CS_ERR_NOMEM, "pcscd is out of memory" },
	{ SCARD_E_INSUFFICIENT_BUFFER, CS_ERR_LIMIT, "response too large" },
};
/* clang-format on */

/*
 * The one PC/SC error mapping: rv from an SCard* call made for what
 * ("SCardTransmit on Virtual PCD 00 00") becomes a cs_err and a message in ctx.
 */
enum cs_err
csi_pcsc_map(struct cs_ctx *ctx, LONG rv, const char *what)
{
	size_t i;

	if (rv == SCARD_S_SUCCESS)
		return CS_OK;
	for (i = 0; i < sizeof(pcsc_errs) / sizeof(pcsc_errs[0]); i++) {
		if (pcsc_errs[i].rv == rv)
			return csi_fail(ctx, pcsc_errs[i].code, "%s: %s", what,
			    pcsc_errs[i].text);
	}
	return csi_fail(ctx, CS_ERR_TRANSPORT, "%s: %s (0x%08lx)", what,
	    pcsc_stringify_error(rv), (unsigned long)rv);
}

static enum cs_err
establish(struct cs_ctx *ctx, SCARDCONTEXT *hctx)
{
	LONG rv;

	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, hctx);
	return csi_pcsc_map(ctx, rv, "PC/SC");
}

/* --- listing --- */

/*
 * Fetch the reader multi-string into *out (caller frees); *outlen 0 and
 * *out NULL when there is no reader.
 */
static enum cs_err
list_raw(struct cs_ctx *ctx, SCARDCONTEXT hctx, char **out, size_t *outlen)
{
	char *buf = NULL;
	DWORD len = 0;
	LONG rv;
	int tries;

	*out = NULL;
	*outlen = 0;
	/* Readers can come and go between the two calls: retry a little. */
	for (tries = 0; tries < 3; tries++) {
		free(buf);
		buf = NULL;
		rv = SCardListReaders(hctx, NULL, NULL, &len);
		if (rv == SCARD_E_NO_READERS_AVAILABLE)
			return CS_OK;
		if (rv != SCARD_S_SUCCESS)
			return csi_pcsc_map(ctx, rv, "list readers");
		if (len == 0 || len > PCSC_LIST_MAX)
			return csi_fail(ctx, CS_ERR_LIMIT,
			    "list readers: reader list of %lu bytes",
			    (unsigned long)len);
		if ((buf = calloc(1, (size_t)len + 1)) == NULL)
			return CS_ERR_NOMEM;
		rv = SCardListReaders(hctx, NULL, buf, &len);
		if (rv == SCARD_E_INSUFFICIENT_BUFFER)
			continue;
		if (rv == SCARD_E_NO_READERS_AVAILABLE) {
			free(buf);
			return CS_OK;
		}
		if (rv != SCARD_S_SUCCESS) {
			free(buf);
			return csi_pcsc_map(ctx, rv, "list readers");
		}
		*out = buf;
		*outlen = len;
		return CS_OK;
	}
	free(buf);
	return csi_fail(ctx, CS_ERR_TRANSPORT,
	    "list readers: reader list kept changing");
}

/*
 * Split the multi-string raw[0..len) into names; each must fit
 * CS_READER_NAME_MAX. Fills infos[0..*n).
 */
static enum cs_err
split_names(struct cs_ctx *ctx, const char *raw, size_t len,
    struct cs_reader_info *infos, size_t *n)
{
	struct cs_cur cur, name;
	size_t nlen;

	*n = 0;
	cs_cur_init(&cur, (const uint8_t *)raw, len);
	while (!cs_cur_is_empty(&cur)) {
		nlen =
		    strnlen((const char *)cs_cur_ptr(&cur), cs_cur_len(&cur));
		if (cs_cur_get_bytes(&cur, nlen, &name) != CS_OK)
			return CS_ERR_INTERNAL;
		if (!cs_cur_is_empty(&cur) && cs_cur_skip(&cur, 1) != CS_OK)
			return CS_ERR_INTERNAL;
		if (nlen == 0)
			break; /* the terminating empty string */
		if (nlen >= CS_READER_NAME_MAX)
			return csi_fail(ctx, CS_ERR_LIMIT,
			    "list readers: reader name of %zu bytes", nlen);
		if (*n == PCSC_READERS_MAX)
			return csi_fail(ctx, CS_ERR_LIMIT,
			    "list readers: more than %d readers",
			    PCSC_READERS_MAX);
		memset(&infos[*n], 0, sizeof(infos[*n]));
		if (cs_cur_copy(&name, infos[*n].name, nlen) != CS_OK)
			return CS_ERR_INTERNAL;
		(*n)++;
	}
	return CS_OK;
}

static void
fill_state(struct cs_reader_info *ri, const SCARD_READERSTATE *rs)
{
	DWORD st = rs->dwEventState;

	ri->card_present = (st & SCARD_STATE_PRESENT) != 0;
	ri->in_use = (st & SCARD_STATE_EXCLUSIVE) != 0;
	ri->mute = (st & SCARD_STATE_MUTE) != 0;
	ri->atr_len = 0;
	if (ri->card_present && rs->cbAtr <= sizeof(ri->atr) &&
	    rs->cbAtr <= sizeof(rs->rgbAtr)) {
		memcpy(ri->atr, rs->rgbAtr, rs->cbAtr);
		ri->atr_len = rs->cbAtr;
	}
}

/* Read the current state of infos[0..n) without waiting. */
static enum cs_err
read_states(struct cs_ctx *ctx, SCARDCONTEXT hctx, struct cs_reader_info *infos,
    size_t n)
{
	SCARD_READERSTATE *rs = NULL;
	enum cs_err r = CS_ERR_INTERNAL;
	LONG rv;
	size_t i;

	if (n == 0)
		return CS_OK;
	if ((rs = calloc(n, sizeof(*rs))) == NULL)
		return CS_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		rs[i].szReader = infos[i].name;
		rs[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	rv = SCardGetStatusChange(hctx, 0, rs, (DWORD)n);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
		r = csi_pcsc_map(ctx, rv, "read reader state");
		goto out;
	}
	for (i = 0; i < n; i++)
		fill_state(&infos[i], &rs[i]);
	r = CS_OK;
out:
	free(rs);
	return r;
}

enum cs_err
cs_pcsc_list(struct cs_ctx *ctx, struct cs_reader_info **list, size_t *n)
{
	SCARDCONTEXT hctx;
	bool have_ctx = false;
	struct cs_reader_info *infos = NULL;
	char *raw = NULL;
	size_t rawlen = 0, count = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*list = NULL;
	*n = 0;
	if ((r = establish(ctx, &hctx)) != CS_OK)
		goto out;
	have_ctx = true;
	if ((r = list_raw(ctx, hctx, &raw, &rawlen)) != CS_OK)
		goto out;
	if ((infos = calloc(PCSC_READERS_MAX, sizeof(*infos))) == NULL) {
		r = CS_ERR_NOMEM;
		goto out;
	}
	if ((r = split_names(ctx, raw, rawlen, infos, &count)) != CS_OK ||
	    (r = read_states(ctx, hctx, infos, count)) != CS_OK)
		goto out;
	*list = infos;
	infos = NULL;
	*n = count;
	r = CS_OK;
out:
	free(infos);
	free(raw);
	if (have_ctx)
		SCardReleaseContext(hctx);
	return r;
}

/* --- transport --- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * After SCARD_W_RESET_CARD the handle refuses everything until it is
 * reconnected; do that once so the caller can carry on (state is lost,
 * which the CS_ERR_REMOVED returned alongside says).
 */
static void
reconnect_after_reset(struct pcsc_card *pc)
{
	DWORD proto = 0;

	if (SCardReconnect(pc->h, pc->share,
	        SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, SCARD_LEAVE_CARD,
	        &proto) == SCARD_S_SUCCESS)
		pc->proto = proto;
}

/*
 * A transmit failed with a plain communication error. Readers such as vpcd
 * say that when the card has just gone, and pcscd's reader thread only
 * notices at its next presence poll (~400 ms for vpcd). Watch the reader
 * for up to PCSC_SETTLE_MS: gone, or removed and re-inserted (the event
 * counter in the high 16 bits moved), means the card was pulled.
 */
static bool
card_gone(struct pcsc_card *pc)
{
	SCARD_READERSTATE rs;
	uint64_t deadline, t;
	DWORD first;
	LONG rv;

	memset(&rs, 0, sizeof(rs));
	rs.szReader = pc->name;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	rv = SCardGetStatusChange(pc->hctx, 0, &rs, 1);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
		return false;
	if ((rs.dwEventState & SCARD_STATE_PRESENT) == 0)
		return true;
	first = rs.dwEventState >> 16;
	deadline = now_ms() + PCSC_SETTLE_MS;
	while ((t = now_ms()) < deadline) {
		rs.dwCurrentState = rs.dwEventState & ~SCARD_STATE_CHANGED;
		rv = SCardGetStatusChange(pc->hctx, (DWORD)(deadline - t), &rs,
		    1);
		if (rv != SCARD_S_SUCCESS)
			return false;
		if ((rs.dwEventState & SCARD_STATE_PRESENT) == 0 ||
		    rs.dwEventState >> 16 != first)
			return true;
	}
	return false;
}

/* Map a failure of an operation on an open card handle. */
static enum cs_err
card_fail(struct cs_ctx *ctx, struct pcsc_card *pc, LONG rv, const char *op)
{
	char what[CS_READER_NAME_MAX + 64];

	snprintf(what, sizeof(what), "%s on %s", op, pc->name);
	switch (rv) {
	case SCARD_W_RESET_CARD:
		reconnect_after_reset(pc);
		break;
	case SCARD_E_NO_SMARTCARD:
		/* We had a card when we connected: it went away. */
		rv = SCARD_W_REMOVED_CARD;
		break;
	case SCARD_E_NOT_TRANSACTED:
	case SCARD_F_COMM_ERROR:
		/* vpcd and some readers report a pulled card this way. */
		if (card_gone(pc))
			rv = SCARD_W_REMOVED_CARD;
		break;
	default:
		break;
	}
	return csi_pcsc_map(ctx, rv, what);
}

static enum cs_err
pcsc_transmit(void *self, struct cs_ctx *ctx, const uint8_t *cmd, size_t cmdlen,
    uint8_t *resp, size_t respcap, size_t *resplen)
{
	struct pcsc_card *pc = self;
	const SCARD_IO_REQUEST *pci;
	DWORD rlen;
	LONG rv;

	*resplen = 0;
	if (cmdlen < 4 || cmdlen > PCSC_CMD_MAX)
		return csi_fail(ctx, CS_ERR_ARG,
		    "transmit: command of %zu bytes", cmdlen);
	pci = pc->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	rlen = respcap > CS_TRANSPORT_RESP_MAX ? CS_TRANSPORT_RESP_MAX
	                                       : (DWORD)respcap;
	rv = SCardTransmit(pc->h, pci, cmd, (DWORD)cmdlen, NULL, resp, &rlen);
	/*
	 * Every response carries SW1 SW2. vpcd hands back an empty "success"
	 * when the card's connection closed under it: treat a response
	 * shorter than that like a communication error (maybe a pulled card).
	 */
	if (rv == SCARD_S_SUCCESS && rlen < 2) {
		if (!card_gone(pc))
			return csi_fail(ctx, CS_ERR_TRANSPORT,
			    "transmit on %s: response of %lu bytes has no "
			    "status word",
			    pc->name, (unsigned long)rlen);
		rv = SCARD_W_REMOVED_CARD;
	}
	if (rv != SCARD_S_SUCCESS)
		return card_fail(ctx, pc, rv, "transmit");
	if (rlen > respcap)
		return csi_fail(ctx, CS_ERR_INTERNAL,
		    "transmit on %s: response overran buffer", pc->name);
	*resplen = rlen;
	return CS_OK;
}

static enum cs_err
pcsc_begin(void *self, struct cs_ctx *ctx)
{
	struct pcsc_card *pc = self;
	LONG rv;

	rv = SCardBeginTransaction(pc->h);
	if (rv != SCARD_S_SUCCESS)
		return card_fail(ctx, pc, rv, "begin transaction");
	return CS_OK;
}

static void
pcsc_end(void *self)
{
	struct pcsc_card *pc = self;

	(void)SCardEndTransaction(pc->h, SCARD_LEAVE_CARD);
}

static enum cs_err
pcsc_get_atr(void *self, struct cs_ctx *ctx, uint8_t *atr, size_t cap,
    size_t *len)
{
	struct pcsc_card *pc = self;
	char name[MAX_READERNAME];
	uint8_t buf[MAX_ATR_SIZE];
	DWORD namelen = sizeof(name), atrlen = sizeof(buf), state = 0,
	      proto = 0;
	LONG rv;

	*len = 0;
	rv = SCardStatus(pc->h, name, &namelen, &state, &proto, buf, &atrlen);
	if (rv != SCARD_S_SUCCESS)
		return card_fail(ctx, pc, rv, "status");
	if (atrlen > sizeof(buf))
		return csi_fail(ctx, CS_ERR_INTERNAL,
		    "status on %s: ATR overran", pc->name);
	if (atrlen > cap)
		return csi_fail(ctx, CS_ERR_LIMIT,
		    "status on %s: ATR of %lu bytes does not fit", pc->name,
		    (unsigned long)atrlen);
	memcpy(atr, buf, atrlen);
	*len = atrlen;
	return CS_OK;
}

static void
pcsc_close(void *self)
{
	struct pcsc_card *pc = self;

	if (pc == NULL)
		return;
	if (pc->have_card)
		(void)SCardDisconnect(pc->h, SCARD_LEAVE_CARD);
	if (pc->have_ctx)
		(void)SCardReleaseContext(pc->hctx);
	free(pc);
}

static const struct cs_transport_ops pcsc_ops = {
	.transmit = pcsc_transmit,
	.begin = pcsc_begin,
	.end = pcsc_end,
	.get_atr = pcsc_get_atr,
	.close = pcsc_close,
};

/* Connect, T=1 first; a T=0-only card gets a second try. */
static LONG
connect_card(struct pcsc_card *pc, DWORD share)
{
	LONG rv;

	pc->share = share;
	rv = SCardConnect(pc->hctx, pc->name, share, SCARD_PROTOCOL_T1, &pc->h,
	    &pc->proto);
	if (rv == SCARD_E_PROTO_MISMATCH)
		rv = SCardConnect(pc->hctx, pc->name, share,
		    SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, &pc->h, &pc->proto);
	return rv;
}

enum cs_err
cs_pcsc_open(struct cs_ctx *ctx, const char *reader, unsigned int flags,
    struct cs_transport **out)
{
	struct pcsc_card *pc = NULL;
	char what[CS_READER_NAME_MAX + 32];
	DWORD share;
	LONG rv;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (reader == NULL || reader[0] == '\0' ||
	    strlen(reader) >= CS_READER_NAME_MAX)
		return csi_fail(ctx, CS_ERR_ARG, "open: bad reader name");
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return CS_ERR_NOMEM;
	memcpy(pc->name, reader, strlen(reader) + 1);
	if ((r = establish(ctx, &pc->hctx)) != CS_OK)
		goto out;
	pc->have_ctx = true;
	share = (flags & CS_PCSC_EXCLUSIVE) ? SCARD_SHARE_EXCLUSIVE
	                                    : SCARD_SHARE_SHARED;
	rv = connect_card(pc, share);
	if (rv == SCARD_W_REMOVED_CARD)
		rv = SCARD_E_NO_SMARTCARD;
	if (rv != SCARD_S_SUCCESS) {
		snprintf(what, sizeof(what), "connect to %s", reader);
		r = csi_pcsc_map(ctx, rv, what);
		goto out;
	}
	pc->have_card = true;
	if ((r = cs_transport_new(&pcsc_ops, pc, pc->name, out)) != CS_OK)
		goto out;
	pc = NULL;
	r = CS_OK;
out:
	pcsc_close(pc);
	return r;
}

/* --- waiting --- */

static bool
state_reached(DWORD st, enum cs_pcsc_event ev)
{
	bool present = (st & SCARD_STATE_PRESENT) != 0;

	return ev == CS_PCSC_WAIT_INSERT ? present : !present;
}

/* One SCardGetStatusChange round; *rs is updated. */
static enum cs_err
wait_round(struct cs_ctx *ctx, SCARDCONTEXT hctx, SCARD_READERSTATE *rs,
    DWORD tmo)
{
	LONG rv;

	rv = SCardGetStatusChange(hctx, tmo, rs, 1);
	if (rv == SCARD_E_TIMEOUT)
		return csi_fail(ctx, CS_ERR_TIMEOUT,
		    "%s: timed out waiting for the card", rs->szReader);
	if (rv == SCARD_E_UNKNOWN_READER ||
	    (rv == SCARD_S_SUCCESS &&
	        (rs->dwEventState &
	            (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE))))
		return csi_fail(ctx, CS_ERR_NOT_FOUND, "%s: reader not found",
		    rs->szReader);
	if (rv != SCARD_S_SUCCESS)
		return csi_pcsc_map(ctx, rv, "wait for card");
	return CS_OK;
}

enum cs_err
cs_pcsc_wait(struct cs_ctx *ctx, const char *reader, enum cs_pcsc_event ev,
    unsigned int timeout_ms)
{
	SCARDCONTEXT hctx;
	SCARD_READERSTATE rs;
	bool have_ctx = false;
	uint64_t deadline, t;
	DWORD tmo;
	enum cs_err r = CS_ERR_INTERNAL;

	if (reader == NULL ||
	    (ev != CS_PCSC_WAIT_INSERT && ev != CS_PCSC_WAIT_REMOVE))
		return csi_fail(ctx, CS_ERR_ARG, "wait: bad arguments");
	if ((r = establish(ctx, &hctx)) != CS_OK)
		goto out;
	have_ctx = true;
	memset(&rs, 0, sizeof(rs));
	rs.szReader = reader;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	if ((r = wait_round(ctx, hctx, &rs, 0)) != CS_OK)
		goto out;
	deadline = now_ms() + timeout_ms;
	while (!state_reached(rs.dwEventState, ev)) {
		tmo = INFINITE;
		if (timeout_ms != 0) {
			t = now_ms();
			if (t >= deadline) {
				r = csi_fail(ctx, CS_ERR_TIMEOUT,
				    "%s: timed out waiting for the card",
				    reader);
				goto out;
			}
			tmo = (DWORD)(deadline - t);
		}
		rs.dwCurrentState = rs.dwEventState & ~SCARD_STATE_CHANGED;
		if ((r = wait_round(ctx, hctx, &rs, tmo)) != CS_OK)
			goto out;
	}
	r = CS_OK;
out:
	if (have_ctx)
		SCardReleaseContext(hctx);
	return r;
}
