/*
 * cardsmith-ifd: one virtual reader's channel to its card.
 *
 * The reader listens on a unix stream socket (the reader.conf DEVICENAME);
 * a cardsmith-sim connecting to it is a card inserted, the connection
 * ending is the card removed. Messages use vpcd's framing (sim/vpcd.h):
 * a 2-byte big-endian length, then the payload; a 1-byte payload is a
 * control (00 power off, 01 power on, 02 reset, 04 get ATR), anything
 * longer a command APDU answered by one framed response (data + SW).
 *
 * Everything here runs inside pcscd: no printing, no exit, and a
 * misbehaving card can only ever make its own reader report no card.
 * Callers serialise calls on one struct ifd_chan (ifd.c's reader lock),
 * except ifd_chan_wait, which only reads the descriptors it is handed.
 */
#ifndef CARDSMITH_IFD_CHAN_H
#define CARDSMITH_IFD_CHAN_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest payload the 2-byte frame length can carry. */
#define IFD_FRAME_MAX 0xffffu
/* ISO 7816-3 §8.2: an ATR has at most 33 bytes (MAX_ATR_SIZE). */
#define IFD_ATR_MAX 33u
/* How long a card may take for one answer (a touch waits up to 60 s). */
#define IFD_REPLY_MS 120000

enum ifd_ctrl {
	IFD_CTRL_POWER_OFF = 0x00,
	IFD_CTRL_POWER_ON = 0x01,
	IFD_CTRL_RESET = 0x02,
	IFD_CTRL_GET_ATR = 0x04,
};

struct ifd_chan {
	int lfd; /* listening socket, O_NONBLOCK */
	int cfd; /* the card's connection, -1: no card */
	dev_t dev; /* identity of the socket file we bound, for unlink */
	ino_t ino;
	char path[108];
	uint8_t atr[IFD_ATR_MAX];
	size_t atr_len;
	bool unseen; /* a card dropped, pcscd not yet told it is gone */
	uint8_t frame[2 + IFD_FRAME_MAX]; /* one framed message */
};

/*
 * Listen on path: its directory must be a directory owned by us that no
 * one else may enter (mode 0700 or stricter), the socket gets mode 0600,
 * and a stale socket (never another kind of file) is replaced. 0 or -1.
 */
int ifd_chan_listen(struct ifd_chan *c, const char *path);

/* Drop the card, stop listening, remove the socket file if still ours. */
void ifd_chan_close(struct ifd_chan *c);

/*
 * Accept a waiting card if there is none, notice a card that went away.
 * Never blocks. Sets *changed when the card came or went, and *gone to
 * the connection of a card that went (to close as for ifd_chan_detach)
 * or -1. Returns true when a card is connected.
 */
bool ifd_chan_present(struct ifd_chan *c, bool *changed, int *gone);

/*
 * pcscd's event thread is about to wait for the next event, so it has
 * seen the last removal: from now on a waiting card may be taken.
 */
void ifd_chan_seen(struct ifd_chan *c);

/*
 * Take the card's connection out of c (the card is gone from now on) and
 * shut it down, which also wakes anyone polling it; the caller closes the
 * returned descriptor (or -1) once nobody polls it any more.
 */
int ifd_chan_detach(struct ifd_chan *c);

/*
 * Send the control byte; for POWER_ON and RESET also fetch and keep the
 * ATR. 0, or -1 with the card dropped (detached and closed: *gone gets
 * the descriptor to close, see ifd_chan_detach).
 */
int ifd_chan_ctrl(struct ifd_chan *c, enum ifd_ctrl what, int *gone);

/*
 * One command APDU (2..IFD_FRAME_MAX bytes) and its response (at least an
 * SW, at most cap bytes). 0; -1 with the card dropped as for
 * ifd_chan_ctrl; -2 when the response does not fit cap, -3 for a command
 * of a length that cannot be sent (the card is kept in both cases).
 */
int ifd_chan_apdu(struct ifd_chan *c, const uint8_t *cmd, size_t len,
    uint8_t *resp, size_t cap, size_t *resplen, int *gone);

/*
 * Block until the listening socket has a card waiting (lfd >= 0), the
 * card's connection ends (cfd >= 0), wakefd is readable, or timeout_ms
 * passes (negative: no limit). Only polls; touches no state.
 */
void ifd_chan_wait(int lfd, int cfd, int wakefd, int timeout_ms);

#endif
