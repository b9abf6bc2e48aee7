/*
 * Card side of the vsmartcard vpcd protocol: the card is a TCP client of
 * the vpcd reader driver. Every message is framed by a 2-byte big-endian
 * length; a 1-byte message is a control (00 power off, 01 power on,
 * 02 reset, 04 get ATR), anything longer a command APDU whose reply is one
 * framed message (data + SW1 SW2).
 *
 * Used by cardsmith-sim and by the test suite's tiny card.
 */
#ifndef CARDSMITH_SIM_VPCD_H
#define CARDSMITH_SIM_VPCD_H

#include "cardsmith/common.h"

#define SIM_VPCD_MSG_MAX 65540u

enum sim_vpcd_ctrl {
	SIM_VPCD_POWER_OFF = 0x00,
	SIM_VPCD_POWER_ON = 0x01,
	SIM_VPCD_RESET = 0x02,
	SIM_VPCD_GET_ATR = 0x04,
};

/* What a card implementation provides. */
struct sim_vpcd_card {
	void *self;
	/* ATR bytes (borrowed, must stay valid). */
	const uint8_t *atr;
	size_t atr_len;
	/* Power off / on / reset notifications (may be NULL). */
	void (*power)(void *self, enum sim_vpcd_ctrl what);
	/*
	 * Process one command APDU; write the reply (data + SW) into
	 * resp[0..cap) and its length into *resplen. Must always produce at
	 * least an SW (e.g. 6F00) for any input.
	 */
	void (*apdu)(void *self, const uint8_t *cmd, size_t len, uint8_t *resp,
	    size_t cap, size_t *resplen);
};

/*
 * Connect to vpcd at host:port (host NULL = 127.0.0.1) and serve card until
 * *stop becomes non-zero (checked between messages; may be NULL) or,
 * if drop_after > 0, until drop_after APDUs have been answered, at which
 * point the connection is closed (simulates a pulled card).
 * Returns CS_OK when stopped or dropped as asked, CS_ERR_TRANSPORT when the
 * connection failed or was closed by vpcd (the caller decides whether to
 * reconnect). Sets TCP_NODELAY and TCP_QUICKACK (see pcsc-harness.md).
 */
CS_MUST_CHECK enum cs_err sim_vpcd_serve(const char *host, int port,
    const struct sim_vpcd_card *card, volatile int *stop,
    unsigned long drop_after);

/*
 * The same, as the card of a cardsmith-ifd reader: connect to the unix
 * stream socket at path (the reader's DEVICENAME) instead of vpcd's TCP
 * port. Same framing, same results; connecting is inserting the card,
 * closing the connection is removing it.
 */
CS_MUST_CHECK enum cs_err sim_vpcd_serve_socket(const char *path,
    const struct sim_vpcd_card *card, volatile int *stop,
    unsigned long drop_after);

#endif
