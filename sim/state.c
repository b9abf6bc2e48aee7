/*
 * The simulator's state file: everything that survives a power cycle, in
 * one file, written atomically after every state-changing command.
 *
 * Format (version 1), all integers big-endian:
 *   "CSSIM\0"  magic (6 bytes)
 *   u16        version
 *   TLVs (BER-TLV, lib/tlv.c), each record at most 65535 bytes:
 *     01  fw(3) serial(4)                         once
 *     02  PIN(8) max(1) left(1)                   once
 *     03  PUK(8) max(1) left(1)                   once
 *     04  alg(1) touch(1) key(8..32)              once, management key
 *     20  { 80 ref, 81 alg, 82 pin touch, 83 origin, 84 PKCS#8 DER }
 *                                                 one per filled key slot
 *     30  { 5C tag(1-3), 53 value }               one per data object
 *   0E 04 crc32  CRC-32 (zlib) of every byte before this record; last.
 * Unknown versions, unknown records, duplicates, bad lengths, a bad CRC or
 * trailing bytes make the whole file invalid: it is refused, never reset.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "applet_int.h"
#include "cardsmith/file.h"
#include "fileio.h"

#include "banned.h"

static const uint8_t magic[6] = { 'C', 'S', 'S', 'I', 'M', 0 };

#define REC_IDENT 0x01
#define REC_PIN 0x02
#define REC_PUK 0x03
#define REC_MGM 0x04
#define REC_CRC 0x0E
#define REC_SLOT 0x20
#define REC_OBJ 0x30
#define CRC_REC_LEN 6

/* --- encode --- */

static enum cs_err
put_counter_rec(struct cs_buf *b, uint32_t tag, const uint8_t *v,
    uint8_t max, uint8_t left)
{
	uint8_t rec[SIM_PIN_LEN + 2];
	enum cs_err r = CS_ERR_INTERNAL;

	memcpy(rec, v, SIM_PIN_LEN);
	rec[SIM_PIN_LEN] = max;
	rec[SIM_PIN_LEN + 1] = left;
	r = cs_tlv_put(b, tag, rec, sizeof(rec));
	cs_wipe(rec, sizeof(rec));
	return r;
}

static enum cs_err
put_secrets(const struct sim_card *c, struct cs_buf *b)
{
	uint8_t ident[7], mgm[2 + SIM_MGM_KEY_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	memcpy(ident, c->fw, 3);
	ident[3] = (uint8_t)(c->serial >> 24);
	ident[4] = (uint8_t)(c->serial >> 16);
	ident[5] = (uint8_t)(c->serial >> 8);
	ident[6] = (uint8_t)c->serial;
	mgm[0] = c->mgm_alg;
	mgm[1] = c->mgm_touch;
	memcpy(mgm + 2, c->mgm_key, c->mgm_keylen);
	if ((r = cs_tlv_put(b, REC_IDENT, ident, sizeof(ident))) == CS_OK &&
	    (r = put_counter_rec(b, REC_PIN, c->pin, c->pin_max,
	    c->pin_left)) == CS_OK &&
	    (r = put_counter_rec(b, REC_PUK, c->puk, c->puk_max,
	    c->puk_left)) == CS_OK)
		r = cs_tlv_put(b, REC_MGM, mgm, 2 + c->mgm_keylen);
	cs_wipe(mgm, sizeof(mgm));
	return r;
}

static enum cs_err
put_slot(const struct sim_slot *s, struct cs_buf *b)
{
	struct cs_buf der = CS_BUF_INIT_SECRET(CS_TLV_LEN_MAX);
	uint8_t pol[2] = { s->pin_policy, s->touch_policy };
	size_t mark;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_tlv_open(b, &mark);
	if ((r = sim_key_to_der(s->key, &der)) == CS_OK &&
	    (r = cs_tlv_put_u8(b, 0x80, s->ref)) == CS_OK &&
	    (r = cs_tlv_put_u8(b, 0x81, sim_key_alg(s->key))) == CS_OK &&
	    (r = cs_tlv_put(b, 0x82, pol, sizeof(pol))) == CS_OK &&
	    (r = cs_tlv_put_u8(b, 0x83, s->origin)) == CS_OK &&
	    (r = cs_tlv_put(b, 0x84, der.data, der.len)) == CS_OK)
		r = cs_tlv_close(b, REC_SLOT, mark);
	cs_buf_release(&der);
	return r;
}

static enum cs_err
put_obj(const struct sim_obj *o, struct cs_buf *b)
{
	uint8_t tag[3];
	size_t n = o->tag > 0xFFFF ? 3 : o->tag > 0xFF ? 2 : 1, i, mark;
	enum cs_err r = CS_ERR_INTERNAL;

	for (i = 0; i < n; i++)
		tag[i] = (uint8_t)(o->tag >> (8 * (n - 1 - i)));
	cs_tlv_open(b, &mark);
	if ((r = cs_tlv_put(b, 0x5C, tag, n)) == CS_OK &&
	    (r = cs_tlv_put(b, 0x53, o->val, o->len)) == CS_OK)
		r = cs_tlv_close(b, REC_OBJ, mark);
	return r;
}

static enum cs_err
put_crc(struct cs_buf *b)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	uint8_t v[4];

	crc = crc32(crc, b->data, (uInt)b->len);
	v[0] = (uint8_t)(crc >> 24);
	v[1] = (uint8_t)(crc >> 16);
	v[2] = (uint8_t)(crc >> 8);
	v[3] = (uint8_t)crc;
	return cs_tlv_put(b, REC_CRC, v, sizeof(v));
}

enum cs_err
sim_state_encode(const struct sim_card *c, struct cs_buf *out)
{
	enum cs_err r = CS_ERR_INTERNAL;
	size_t i;

	cs_buf_reset(out);
	if ((r = cs_buf_put(out, magic, sizeof(magic))) != CS_OK ||
	    (r = cs_buf_put_u16(out, SIM_STATE_VERSION)) != CS_OK ||
	    (r = put_secrets(c, out)) != CS_OK)
		return r;
	for (i = 0; i < SIM_SLOT_COUNT; i++)
		if (c->slots[i].key != NULL &&
		    (r = put_slot(&c->slots[i], out)) != CS_OK)
			return r;
	for (i = 0; i < c->nobjs; i++)
		if ((r = put_obj(&c->objs[i], out)) != CS_OK)
			return r;
	return put_crc(out);
}

/* --- decode --- */

struct dec {
	struct sim_card *card;
	const char *why;
};

static enum cs_err
dec_fail(struct dec *d, enum cs_err r, const char *why)
{
	d->why = why;
	return r;
}

static enum cs_err
get_rec(struct dec *d, const struct cs_cur *recs, uint32_t tag,
    struct cs_cur *val, const char *why)
{
	if (cs_tlv_find(recs, tag, val) != CS_OK)
		return dec_fail(d, CS_ERR_MALFORMED, why);
	return CS_OK;
}

static enum cs_err
dec_counter(struct dec *d, const struct cs_cur *v, uint8_t *val,
    uint8_t *max, uint8_t *left)
{
	struct cs_cur c = *v;

	if (cs_cur_len(&c) != SIM_PIN_LEN + 2 ||
	    cs_cur_copy(&c, val, SIM_PIN_LEN) != CS_OK ||
	    cs_cur_get_u8(&c, max) != CS_OK ||
	    cs_cur_get_u8(&c, left) != CS_OK || *left > *max)
		return dec_fail(d, CS_ERR_MALFORMED, "bad PIN/PUK record");
	return CS_OK;
}

static enum cs_err
dec_mgm(struct dec *d, const struct cs_cur *v)
{
	struct sim_card *c = d->card;
	struct cs_cur m = *v;
	size_t block, keylen;

	if (cs_cur_get_u8(&m, &c->mgm_alg) != CS_OK ||
	    cs_cur_get_u8(&m, &c->mgm_touch) != CS_OK ||
	    !sim_alg_mgm(c->mgm_alg, &block, &keylen) ||
	    keylen > SIM_MGM_KEY_MAX || cs_cur_len(&m) != keylen ||
	    c->mgm_touch < 1 || c->mgm_touch > 3)
		return dec_fail(d, CS_ERR_MALFORMED, "bad management key record");
	cs_wipe(c->mgm_key, sizeof(c->mgm_key));
	c->mgm_keylen = keylen;
	return cs_cur_copy(&m, c->mgm_key, keylen);
}

static enum cs_err
dec_card(struct dec *d, const struct cs_cur *recs)
{
	struct sim_card_config cfg;
	struct cs_cur v, pin, puk, mgm;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = get_rec(d, recs, REC_IDENT, &v, "identity record")) != CS_OK ||
	    (r = get_rec(d, recs, REC_PIN, &pin, "PIN record")) != CS_OK ||
	    (r = get_rec(d, recs, REC_PUK, &puk, "PUK record")) != CS_OK ||
	    (r = get_rec(d, recs, REC_MGM, &mgm, "management key record")) !=
	    CS_OK)
		return r;
	if (cs_cur_len(&v) != 7 || cs_cur_copy(&v, cfg.fw, 3) != CS_OK ||
	    cs_cur_get_u32(&v, &cfg.serial) != CS_OK)
		return dec_fail(d, CS_ERR_MALFORMED, "bad identity record");
	if ((r = sim_card_new(&cfg, &d->card)) != CS_OK)
		return dec_fail(d, r, "out of memory");
	if ((r = dec_counter(d, &pin, d->card->pin, &d->card->pin_max,
	    &d->card->pin_left)) != CS_OK ||
	    (r = dec_counter(d, &puk, d->card->puk, &d->card->puk_max,
	    &d->card->puk_left)) != CS_OK)
		return r;
	return dec_mgm(d, &mgm);
}

static bool
get_u8_tlv(struct cs_cur *c, uint32_t want, uint8_t *v)
{
	struct cs_cur val;

	return cs_tlv_expect(c, want, &val) == CS_OK &&
	    cs_cur_len(&val) == 1 && cs_cur_get_u8(&val, v) == CS_OK;
}

static enum cs_err
dec_slot(struct dec *d, const struct cs_cur *v)
{
	struct cs_cur c = *v, pol, der;
	struct sim_slot *s;
	uint8_t ref, alg, origin;

	if (!get_u8_tlv(&c, 0x80, &ref) || !get_u8_tlv(&c, 0x81, &alg) ||
	    cs_tlv_expect(&c, 0x82, &pol) != CS_OK || cs_cur_len(&pol) != 2 ||
	    !get_u8_tlv(&c, 0x83, &origin) ||
	    cs_tlv_expect(&c, 0x84, &der) != CS_OK || !cs_cur_is_empty(&c))
		return dec_fail(d, CS_ERR_MALFORMED, "bad key slot record");
	if ((s = simi_slot(d->card, ref)) == NULL || s->key != NULL)
		return dec_fail(d, CS_ERR_MALFORMED, "bad or duplicate slot");
	if (origin < 1 || origin > 2 || !sim_alg_is_asym(alg))
		return dec_fail(d, CS_ERR_MALFORMED, "bad key slot record");
	if (cs_cur_copy(&pol, &s->pin_policy, 1) != CS_OK ||
	    cs_cur_copy(&pol, &s->touch_policy, 1) != CS_OK ||
	    s->pin_policy < 1 || s->pin_policy > 3 || s->touch_policy < 1 ||
	    s->touch_policy > 3)
		return dec_fail(d, CS_ERR_MALFORMED, "bad key policy");
	s->origin = origin;
	if (sim_key_from_der(alg, cs_cur_ptr(&der), cs_cur_len(&der),
	    &s->key) != CS_OK)
		return dec_fail(d, CS_ERR_MALFORMED, "unreadable key");
	return CS_OK;
}

static enum cs_err
dec_obj(struct dec *d, const struct cs_cur *v)
{
	struct cs_cur c = *v, tagv, val;
	uint32_t tag = 0;
	uint8_t b;

	if (cs_tlv_expect(&c, 0x5C, &tagv) != CS_OK ||
	    cs_tlv_expect(&c, 0x53, &val) != CS_OK || !cs_cur_is_empty(&c) ||
	    cs_cur_len(&tagv) < 1 || cs_cur_len(&tagv) > 3)
		return dec_fail(d, CS_ERR_MALFORMED, "bad data object record");
	while (cs_cur_get_u8(&tagv, &b) == CS_OK)
		tag = (tag << 8) | b;
	if (simi_obj_find(d->card, tag) != NULL)
		return dec_fail(d, CS_ERR_MALFORMED, "duplicate data object");
	if (simi_obj_set(d->card, tag, cs_cur_ptr(&val), cs_cur_len(&val)) !=
	    CS_OK)
		return dec_fail(d, CS_ERR_MALFORMED, "data object too large");
	return CS_OK;
}

static enum cs_err
dec_records(struct dec *d, const struct cs_cur *recs)
{
	struct cs_cur c = *recs, v;
	uint32_t tag;
	enum cs_err r = CS_ERR_INTERNAL;

	while (!cs_cur_is_empty(&c)) {
		if (cs_tlv_get(&c, &tag, &v) != CS_OK)
			return dec_fail(d, CS_ERR_MALFORMED, "bad record framing");
		if (tag == REC_SLOT)
			r = dec_slot(d, &v);
		else if (tag == REC_OBJ)
			r = dec_obj(d, &v);
		else if (tag == REC_IDENT || tag == REC_PIN || tag == REC_PUK ||
		    tag == REC_MGM)
			r = CS_OK; /* read by dec_card */
		else
			return dec_fail(d, CS_ERR_MALFORMED, "unknown record");
		if (r != CS_OK)
			return r;
	}
	return CS_OK;
}

/* Split off the records and check the trailing CRC record. */
static enum cs_err
dec_frame(struct dec *d, const uint8_t *p, size_t len, struct cs_cur *recs)
{
	struct cs_cur c;
	uint16_t ver;
	uint32_t want, tag;
	uLong crc;
	struct cs_cur v;

	cs_cur_init(&c, p, len);
	if (len < sizeof(magic) + 2 + CRC_REC_LEN)
		return dec_fail(d, CS_ERR_TRUNCATED, "file too short");
	if (!cs_memeq_public(p, magic, sizeof(magic)))
		return dec_fail(d, CS_ERR_MALFORMED, "not a cardsmith-sim state file");
	if (cs_cur_skip(&c, sizeof(magic)) != CS_OK ||
	    cs_cur_get_u16(&c, &ver) != CS_OK)
		return dec_fail(d, CS_ERR_TRUNCATED, "file too short");
	if (ver != SIM_STATE_VERSION)
		return dec_fail(d, CS_ERR_UNSUPPORTED, "unknown format version");
	if (cs_cur_get_bytes(&c, cs_cur_len(&c) - CRC_REC_LEN, recs) != CS_OK ||
	    cs_tlv_get(&c, &tag, &v) != CS_OK || tag != REC_CRC ||
	    cs_cur_len(&v) != 4 || cs_cur_get_u32(&v, &want) != CS_OK)
		return dec_fail(d, CS_ERR_TRUNCATED, "checksum record missing (truncated?)");
	crc = crc32(crc32(0L, Z_NULL, 0), p, (uInt)(len - CRC_REC_LEN));
	if ((uint32_t)crc != want)
		return dec_fail(d, CS_ERR_MALFORMED, "checksum mismatch (corrupt or truncated)");
	return CS_OK;
}

enum cs_err
sim_state_decode(const uint8_t *p, size_t len, struct sim_card **out,
    const char **why)
{
	struct dec d = { NULL, "invalid" };
	struct cs_cur recs;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	*why = "invalid";
	if (len > SIM_STATE_MAX) {
		*why = "file too large";
		return CS_ERR_LIMIT;
	}
	if ((r = dec_frame(&d, p, len, &recs)) != CS_OK ||
	    (r = dec_card(&d, &recs)) != CS_OK ||
	    (r = dec_records(&d, &recs)) != CS_OK) {
		*why = d.why;
		sim_card_free(d.card);
		return r;
	}
	*out = d.card;
	return CS_OK;
}

/* --- files --- */

/* Directory part of path ("." if none) into dir. */
static enum cs_err
dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		n = (size_t)snprintf(dir, cap, ".");
	else if (slash == path)
		n = (size_t)snprintf(dir, cap, "/");
	else
		n = (size_t)snprintf(dir, cap, "%.*s", (int)(slash - path),
		    path);
	return n < cap ? CS_OK : CS_ERR_LIMIT;
}

static enum cs_err
write_tmp(int fd, const struct cs_buf *img)
{
	if (fchmod(fd, 0600) != 0)
		return CS_ERR_IO;
	if (simi_write_all(fd, img->data, img->len) != CS_OK || fsync(fd) != 0)
		return CS_ERR_IO;
	return CS_OK;
}

enum cs_err
sim_state_save(const struct sim_card *c, const char *path)
{
	struct cs_buf img = CS_BUF_INIT_SECRET(SIM_STATE_MAX);
	char dir[4096], tmp[4200];
	int fd = -1, k;
	enum cs_err r = CS_ERR_INTERNAL;

	tmp[0] = '\0';
	if ((r = sim_state_encode(c, &img)) != CS_OK ||
	    (r = dir_of(path, dir, sizeof(dir))) != CS_OK)
		goto out;
	k = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (k < 0 || (size_t)k >= sizeof(tmp)) {
		tmp[0] = '\0';
		r = CS_ERR_LIMIT;
		goto out;
	}
	r = CS_ERR_IO;
	if ((fd = mkstemp(tmp)) < 0) {
		tmp[0] = '\0';
		goto out;
	}
	if (write_tmp(fd, &img) != CS_OK || close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	tmp[0] = '\0';
	r = simi_dir_sync(dir);
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	cs_buf_release(&img);
	return r;
}

enum cs_err
sim_state_load(const char *path, struct sim_card **out, const char **why)
{
	struct cs_buf img = CS_BUF_INIT_SECRET(SIM_STATE_MAX);
	int fd;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	*why = "cannot read file";
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT) {
			*why = "no such file";
			return CS_ERR_NOT_FOUND;
		}
		return CS_ERR_IO;
	}
	r = cs_file_read_fd(NULL, fd, path, &img);
	close(fd);
	if (r == CS_ERR_LIMIT)
		*why = "file too large";
	if (r == CS_OK)
		r = sim_state_decode(img.data, img.len, out, why);
	cs_buf_release(&img);
	return r;
}
