/*
 * ISO 7816-4 command/response APDUs: encoding (short and extended), command
 * chaining, response chaining (61xx + GET RESPONSE), 6Cxx re-issue, and the
 * status-word → enum cs_err mapping.
 */
#ifndef CARDSMITH_APDU_H
#define CARDSMITH_APDU_H

#include "buf.h"
#include "transport.h"

/* Largest Lc of one extended APDU. */
#define CS_APDU_DATA_MAX 65535u
/* Largest Lc of one short APDU; longer data is chained in pieces this big. */
#define CS_APDU_SHORT_DATA_MAX 255u
/* Largest reassembled response (all 61xx pieces together). */
#define CS_APDU_RESP_MAX (64u * 1024u)
/* Most GET RESPONSE rounds for one command (bounds a hostile card). */
#define CS_APDU_GET_RESPONSE_MAX 300u

struct cs_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* may be NULL when lc == 0 */
	size_t lc;
	size_t le; /* 0: no Le field; 1..65536 (256 = short "00") */
};

enum cs_apdu_flags {
	/* Use extended length fields (no command chaining needed). */
	CS_APDU_EXTENDED = 1 << 0,
	/* Redact command data in the trace (automatic for VERIFY etc.). */
	CS_APDU_SECRET_CMD = 1 << 1,
	/* Redact response data in the trace. */
	CS_APDU_SECRET_RESP = 1 << 2,
	/* Do not follow 61xx; hand back the first piece and its SW. */
	CS_APDU_NO_GET_RESPONSE = 1 << 3,
};

/*
 * Encode one APDU, no chaining, appending to out. Short form unless
 * CS_APDU_EXTENDED or the lengths need the extended form. CS_ERR_ARG for
 * lc > CS_APDU_DATA_MAX or le > 65536.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_apdu_encode(const struct cs_apdu *a,
    unsigned int flags, struct cs_buf *out);

/*
 * Split a raw response into data (borrowed view) and SW. CS_ERR_TRUNCATED
 * if len < 2.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_apdu_parse_resp(const uint8_t *resp,
    size_t len, struct cs_cur *data, uint16_t *sw);

/*
 * Run one command over t: command chaining (CLA |= 0x10, 255-byte pieces)
 * when the data does not fit a short APDU and CS_APDU_EXTENDED is not set
 * (an Le over 256 then puts the last piece in extended form);
 * 61xx pieces fetched with GET RESPONSE and concatenated into resp;
 * 6Cxx answered once by re-sending with Le = xx. Each exchange is traced at
 * CS_LOG_APDU with secrets redacted.
 *
 * Returns CS_OK when the exchange completed, whatever the final SW (*sw);
 * transport failures and limits are errors. resp receives the data (it is
 * reset first); use a buffer with secret set for secret answers (ECDH
 * secrets, deciphered data): the trace then redacts them too.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_apdu_transmit(struct cs_ctx *ctx,
    struct cs_transport *t, const struct cs_apdu *a, unsigned int flags,
    struct cs_buf *resp, uint16_t *sw);

/*
 * Map a status word to a code and a message in ctx naming what ("PIN").
 * 9000 → CS_OK. 63Cx (x > 0) → CS_ERR_AUTH with *tries = x ("PIN:
 * verification failed, 2 tries left"); 63C0 and 6983 → CS_ERR_BLOCKED
 * (tries 0),
 * 6982 → CS_ERR_ACCESS, 6A82/6A88 → CS_ERR_NOT_FOUND, 6D00/6E00 →
 * CS_ERR_UNSUPPORTED, others → CS_ERR_SW. *tries (may be NULL) is set to
 * -1 when the SW carries no count.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_apdu_map_sw(struct cs_ctx *ctx,
    uint16_t sw, const char *what, int *tries);

/* Pure variant without a context. */
CS_EXPORT enum cs_err cs_apdu_sw_err(uint16_t sw, int *tries);
/* Short description of a status word ("security status not satisfied"). */
CS_EXPORT const char *cs_apdu_sw_str(uint16_t sw);

#endif
