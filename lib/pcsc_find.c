/*
 * Reader discovery over PC/SC: choosing one reader by a name fragment
 * (cs_pcsc_pick) and finding the PIV card to use by reader name and serial
 * (cs_card_find), with messages that list what is present. Both match
 * reader names the same way (name_matches).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piv_int.h"

#include "banned.h"

/* Empty match or NULL matches all; otherwise a case-insensitive substring. */
static bool
name_matches(const char *name, const char *match)
{
	return match == NULL || match[0] == '\0' ||
	    strcasestr(name, match) != NULL;
}

/* Append the names of matching readers holding a card, for a message. */
static void
list_candidates(char *dst, size_t cap, const struct cs_reader_info *l, size_t n,
    const char *match)
{
	size_t i, used = 0;
	int w;

	dst[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!name_matches(l[i].name, match) || !l[i].card_present)
			continue;
		w = snprintf(dst + used, cap - used, "%s\"%s\"",
		    used == 0 ? "" : ", ", l[i].name);
		if (w < 0 || (size_t)w >= cap - used)
			break;
		used += (size_t)w;
	}
}

enum cs_err
cs_pcsc_pick(struct cs_ctx *ctx, const char *match, char *name, size_t cap)
{
	struct cs_reader_info *l = NULL;
	size_t n = 0, i, nmatch = 0, ncard = 0, first = 0, firstcard = 0;
	char cands[CSI_ERRMSG_MAX / 2];
	enum cs_err r = CS_ERR_INTERNAL;

	if (cap > 0)
		name[0] = '\0';
	if ((r = cs_pcsc_list(ctx, &l, &n)) != CS_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (!name_matches(l[i].name, match))
			continue;
		if (nmatch++ == 0)
			first = i;
		if (l[i].card_present && ncard++ == 0)
			firstcard = i;
	}
	if (n == 0) {
		r = csi_fail(ctx, CS_ERR_NO_CARD, "no reader found");
		goto out;
	}
	if (nmatch == 0) {
		r = csi_fail(ctx, CS_ERR_NOT_FOUND, "no reader matches \"%s\"",
		    match);
		goto out;
	}
	if (ncard > 1) {
		list_candidates(cands, sizeof(cands), l, n, match);
		r = csi_fail(ctx, CS_ERR_ARG,
		    "%zu readers with a card match \"%s\": %s; name one", ncard,
		    match == NULL ? "" : match, cands);
		goto out;
	}
	if (ncard == 1)
		first = firstcard;
	if (strlen(l[first].name) >= cap) {
		r = csi_fail(ctx, CS_ERR_LIMIT, "reader name too long");
		goto out;
	}
	memcpy(name, l[first].name, strlen(l[first].name) + 1);
	r = CS_OK;
out:
	cs_free(l);
	return r;
}

/* --- finding a PIV card --- */

static void
add_candidate(char *list, size_t cap, const struct cs_card *card)
{
	size_t used = strlen(list);
	int w;

	if (used + 1 >= cap)
		return;
	if (card->info.has_serial)
		w = snprintf(list + used, cap - used, "%s\"%s\" (serial %u)",
		    used == 0 ? "" : ", ", card->info.reader,
		    (unsigned)card->info.serial);
	else
		w = snprintf(list + used, cap - used, "%s\"%s\"",
		    used == 0 ? "" : ", ", card->info.reader);
	if (w < 0 || (size_t)w >= cap - used)
		list[used] = '\0'; /* drop a cut-off entry */
}

/*
 * "; readers present: \"A\", \"B\" (no card)" for a --reader that found
 * nothing, so the user sees what to type. Entries that do not fit are
 * dropped whole.
 */
static void
present_readers(char *buf, size_t cap, const struct cs_reader_info *l,
    size_t n)
{
	size_t i, used;
	int w;

	w = snprintf(buf, cap, "%s", n == 0 ? "; no reader is present" :
	    "; readers present: ");
	if (w < 0 || (size_t)w >= cap)
		buf[0] = '\0';
	for (i = 0; i < n; i++) {
		used = strlen(buf);
		w = snprintf(buf + used, cap - used, "%s\"%s\"%s",
		    i == 0 ? "" : ", ", l[i].name,
		    l[i].card_present ? "" : " (no card)");
		if (w < 0 || (size_t)w >= cap - used) {
			buf[used] = '\0';
			break;
		}
	}
}

/* Open the card in reader; NULL *out (no error) when it is no PIV card. */
static enum cs_err
try_reader(struct cs_ctx *ctx, const char *reader, unsigned int flags,
    struct cs_card **out)
{
	struct cs_transport *t = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	r = cs_pcsc_open(ctx, reader,
	    (flags & CS_CARD_EXCLUSIVE) ? CS_PCSC_EXCLUSIVE : 0, &t);
	if (r == CS_OK && (r = cs_card_open(ctx, t, flags, out)) != CS_OK)
		cs_transport_close(t);
	if (r == CS_ERR_NOMEM || r == CS_ERR_INTERNAL)
		return r;
	if (r != CS_OK)
		CSI_DEBUG(ctx, "skipping reader \"%s\": %s", reader,
		    cs_ctx_errmsg(ctx));
	return CS_OK;
}

enum cs_err
cs_card_find(struct cs_ctx *ctx, const char *reader_match, uint32_t serial,
    unsigned int flags, struct cs_card **out)
{
	struct cs_reader_info *l = NULL;
	struct cs_card *chosen = NULL, *c = NULL;
	char cands[CSI_ERRMSG_MAX / 2], present[CSI_ERRMSG_MAX / 2];
	size_t n = 0, i, nfound = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	cands[0] = '\0';
	if ((r = cs_pcsc_list(ctx, &l, &n)) != CS_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (!l[i].card_present ||
		    !name_matches(l[i].name, reader_match))
			continue;
		if ((r = try_reader(ctx, l[i].name, flags, &c)) != CS_OK)
			goto out;
		if (c == NULL)
			continue;
		if (serial != 0 &&
		    (!c->info.has_serial || c->info.serial != serial)) {
			cs_card_close(c);
			c = NULL;
			continue;
		}
		nfound++;
		add_candidate(cands, sizeof(cands), c);
		if (chosen == NULL) {
			chosen = c;
			c = NULL;
		} else {
			cs_card_close(c);
			c = NULL;
		}
	}
	if (nfound == 0) {
		present[0] = '\0';
		if (reader_match != NULL)
			present_readers(present, sizeof(present), l, n);
		if (serial != 0)
			r = csi_fail(ctx, CS_ERR_NO_CARD,
			    "no PIV card with serial %u%s%s%s", (unsigned)serial,
			    reader_match != NULL ? " in readers matching " : "",
			    reader_match != NULL ? reader_match : "", present);
		else
			r = csi_fail(ctx, CS_ERR_NO_CARD,
			    "no PIV card found%s%s%s",
			    reader_match != NULL ? " in readers matching " : "",
			    reader_match != NULL ? reader_match : "", present);
		goto out;
	}
	if (nfound > 1) {
		r = csi_fail(ctx, CS_ERR_ARG,
		    "several cards match: %s; choose a reader or a serial",
		    cands);
		goto out;
	}
	cs_ctx_clear_error(ctx);
	*out = chosen;
	chosen = NULL;
	r = CS_OK;
out:
	cs_card_close(chosen);
	cs_card_close(c);
	free(l);
	return r;
}
