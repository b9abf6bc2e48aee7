/*
 * cardsmith-ifd: a pcsc-lite reader driver (IFD handler API v3,
 * <ifdhandler.h>) for up to IFD_MAX_READERS virtual readers in one pcscd.
 *
 * Each reader.conf entry names one reader; its DEVICENAME is the path of
 * the unix socket that reader listens on (chan.h), e.g.
 *
 *   FRIENDLYNAME "cardsmith virtual reader 3"
 *   DEVICENAME   unix:/tmp/cs-harness.XXXXXX/reader3.sock
 *   LIBPATH      /path/to/build/lib/libcardsmith-ifd.so
 *   CHANNELID    3
 *
 * pcscd refuses a reader.conf whose DEVICENAME names no existing file
 * unless it contains a ':' (how vpcd's "/dev/null:PORT" passes), and the
 * socket only exists once this driver has bound it: hence the "unix:"
 * prefix. A plain path works too where a stale socket is already there.
 *
 * and `cardsmith-sim --socket PATH` is the card. Vsmartcard's vpcd keeps
 * one static table indexed by slot only, which is why it gives at most two
 * working readers per pcscd (pcsc-harness.md); here every reader has its
 * own state, found by the Lun pcscd hands to every call.
 *
 * Threads: pcscd calls each reader from its own threads (the reader's
 * event thread and client threads), and because this driver says it is
 * thread safe, different readers run at the same time. Each reader's
 * state sits behind its own lock; the table behind one more. The polling
 * function waits without holding a lock, so a descriptor it polls is
 * never closed under it: a card dropped meanwhile is shut down (which
 * wakes the poll) and closed by the poller when it returns.
 *
 * Silent: nothing is printed (pcscd's log belongs to pcscd).
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <ifdhandler.h>
#include <reader.h>

#include "chan.h"

#include "banned.h"

#define IFD_MAX_READERS 8
#define IFD_DEV_PREFIX "unix:"
#define IFD_EXPORT __attribute__((visibility("default")))
/* PC/SC part 10 §2.3: the IOCTL that answers FEATURE_GET_TLV_PROPERTIES */
#define IFD_IOCTL_TLV_PROPERTIES                                               \
	SCARD_CTL_CODE(0x330000 + FEATURE_GET_TLV_PROPERTIES)
/* Extended APDUs up to 65536 data bytes, as vpcd announces. */
#define IFD_MAX_APDU_DATA 0x10000u

struct ifd_reader {
	pthread_mutex_t lock;
	bool used;
	DWORD lun;
	int wakefd; /* eventfd: ends a wait of the polling function */
	bool polling; /* the polling function is in ifd_chan_wait */
	int polled; /* the card descriptor it waits on, or -1 */
	int zombie; /* that descriptor, dropped meanwhile: close later */
	struct ifd_chan chan;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static bool table_ready;
static struct ifd_reader readers[IFD_MAX_READERS];

static void
table_init(void)
{
	size_t i;

	if (table_ready)
		return;
	for (i = 0; i < IFD_MAX_READERS; i++) {
		(void)pthread_mutex_init(&readers[i].lock, NULL);
		readers[i].wakefd = -1;
		readers[i].polled = readers[i].zombie = -1;
		readers[i].chan.lfd = readers[i].chan.cfd = -1;
	}
	table_ready = true;
}

/* The open reader with this Lun, or NULL; the caller holds table_lock. */
static struct ifd_reader *
reader_find(DWORD lun)
{
	size_t i;

	table_init();
	for (i = 0; i < IFD_MAX_READERS; i++)
		if (readers[i].used && readers[i].lun == lun)
			return &readers[i];
	return NULL;
}

/*
 * The reader of lun, locked; NULL if there is none. Readers are never
 * freed (a fixed table), so the pointer stays valid after the table lock
 * is released; used is checked again under the reader's own lock.
 */
static struct ifd_reader *
reader_lock(DWORD lun)
{
	struct ifd_reader *r = NULL;

	(void)pthread_mutex_lock(&table_lock);
	r = reader_find(lun);
	(void)pthread_mutex_unlock(&table_lock);
	if (r == NULL)
		return NULL;
	(void)pthread_mutex_lock(&r->lock);
	if (!r->used || r->lun != lun) {
		(void)pthread_mutex_unlock(&r->lock);
		return NULL;
	}
	return r;
}

static void
reader_unlock(struct ifd_reader *r)
{
	(void)pthread_mutex_unlock(&r->lock);
}

static void
wake(struct ifd_reader *r)
{
	uint64_t one = 1;

	if (r->wakefd >= 0 && write(r->wakefd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, a wake is due */
	}
}

/* Close a dropped card's descriptor, unless the poller still has it. */
static void
bury(struct ifd_reader *r, int fd)
{
	if (fd < 0)
		return;
	if (r->polling && fd == r->polled)
		r->zombie = fd;
	else
		close(fd);
	/* The card came or went: pcscd's event thread must look again. */
	wake(r);
}

IFD_EXPORT RESPONSECODE
IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	struct ifd_reader *r = NULL;
	RESPONSECODE rc = IFD_COMMUNICATION_ERROR;
	size_t i;

	if (DeviceName == NULL)
		return IFD_COMMUNICATION_ERROR;
	if (strncmp(DeviceName, IFD_DEV_PREFIX, strlen(IFD_DEV_PREFIX)) == 0)
		DeviceName += strlen(IFD_DEV_PREFIX);
	(void)pthread_mutex_lock(&table_lock);
	table_init();
	for (i = 0; i < IFD_MAX_READERS; i++) {
		if (readers[i].used && readers[i].lun == Lun)
			goto out; /* that Lun is open already */
		if (!readers[i].used && r == NULL)
			r = &readers[i];
	}
	if (r == NULL)
		goto out;
	(void)pthread_mutex_lock(&r->lock);
	r->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wakefd >= 0 && ifd_chan_listen(&r->chan, DeviceName) == 0) {
		r->used = true;
		r->lun = Lun;
		r->polling = false;
		r->polled = r->zombie = -1;
		rc = IFD_SUCCESS;
	} else if (r->wakefd >= 0) {
		close(r->wakefd);
		r->wakefd = -1;
	}
	(void)pthread_mutex_unlock(&r->lock);
out:
	(void)pthread_mutex_unlock(&table_lock);
	return rc;
}

/* A reader needs a socket path: the numeric channel of v2 is not one. */
IFD_EXPORT RESPONSECODE
IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	return IFD_NOT_SUPPORTED;
}

IFD_EXPORT RESPONSECODE
IFDHCloseChannel(DWORD Lun)
{
	struct ifd_reader *r = NULL;

	/* Under the table lock too: stop_polling reads wakefd under it. */
	(void)pthread_mutex_lock(&table_lock);
	r = reader_find(Lun);
	if (r == NULL) {
		(void)pthread_mutex_unlock(&table_lock);
		return IFD_COMMUNICATION_ERROR;
	}
	(void)pthread_mutex_lock(&r->lock);
	/* pcscd stops the reader's event thread first: nobody polls now. */
	ifd_chan_close(&r->chan);
	if (r->zombie >= 0)
		close(r->zombie);
	r->zombie = r->polled = -1;
	if (r->wakefd >= 0)
		close(r->wakefd);
	r->wakefd = -1;
	r->used = false;
	(void)pthread_mutex_unlock(&r->lock);
	(void)pthread_mutex_unlock(&table_lock);
	return IFD_SUCCESS;
}

/*
 * TAG_IFD_POLLING_THREAD_WITH_TIMEOUT: pcscd's event thread calls this
 * between two IFDHICCPresence calls. Returning as soon as a card connects
 * or goes away makes insertion and removal visible at once, instead of at
 * pcscd's next 400 ms poll.
 */
static RESPONSECODE
poll_event(DWORD Lun, int timeout)
{
	struct ifd_reader *r = reader_lock(Lun);
	uint64_t v;
	int lfd, cfd, wfd;

	if (r == NULL)
		return IFD_NO_SUCH_DEVICE;
	ifd_chan_seen(&r->chan);
	lfd = r->chan.lfd;
	cfd = r->chan.cfd;
	wfd = r->wakefd;
	r->polling = true;
	r->polled = cfd;
	reader_unlock(r);

	ifd_chan_wait(lfd, cfd, wfd, timeout);

	if ((r = reader_lock(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	r->polling = false;
	r->polled = -1;
	if (r->zombie >= 0)
		close(r->zombie);
	r->zombie = -1;
	while (read(r->wakefd, &v, sizeof(v)) > 0)
		;
	reader_unlock(r);
	return IFD_SUCCESS;
}

/*
 * TAG_IFD_STOP_POLLING_THREAD: pcscd wants its event thread back, to
 * remove the reader or (SCardDisconnect) to power the card down.
 */
static RESPONSECODE
stop_polling(DWORD Lun)
{
	struct ifd_reader *r = NULL;

	/*
	 * Without the reader's lock, which an APDU may hold for a long
	 * time; the eventfd stays open until IFDHCloseChannel, which pcscd
	 * calls only after this thread has been joined.
	 */
	(void)pthread_mutex_lock(&table_lock);
	r = reader_find(Lun);
	if (r != NULL)
		wake(r);
	(void)pthread_mutex_unlock(&table_lock);
	return IFD_SUCCESS;
}

static RESPONSECODE
put_byte(PDWORD Length, PUCHAR Value, UCHAR b)
{
	if (*Length < 1)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	Value[0] = b;
	*Length = 1;
	return IFD_SUCCESS;
}

static RESPONSECODE
put_fn(PDWORD Length, PUCHAR Value, const void *fn, size_t fnlen)
{
	if (*Length < fnlen)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(Value, fn, fnlen);
	*Length = (DWORD)fnlen;
	return IFD_SUCCESS;
}

IFD_EXPORT RESPONSECODE
IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	RESPONSECODE (*ev)(DWORD, int) = poll_event;
	RESPONSECODE (*stop)(DWORD) = stop_polling;
	struct ifd_reader *r;
	RESPONSECODE rc = IFD_ERROR_TAG;

	if (Length == NULL || Value == NULL)
		return IFD_COMMUNICATION_ERROR;
	switch (Tag) {
	case TAG_IFD_ATR:
	case SCARD_ATTR_ATR_STRING:
		if ((r = reader_lock(Lun)) == NULL)
			return IFD_COMMUNICATION_ERROR;
		rc = IFD_COMMUNICATION_ERROR;
		if (r->chan.atr_len > 0 && *Length >= r->chan.atr_len) {
			memcpy(Value, r->chan.atr, r->chan.atr_len);
			*Length = (DWORD)r->chan.atr_len;
			rc = IFD_SUCCESS;
		}
		reader_unlock(r);
		break;
	case TAG_IFD_SLOTS_NUMBER:
		rc = put_byte(Length, Value, 1);
		break;
	case TAG_IFD_SIMULTANEOUS_ACCESS:
		rc = put_byte(Length, Value, IFD_MAX_READERS);
		break;
	case TAG_IFD_THREAD_SAFE:
		rc = put_byte(Length, Value, 1);
		break;
	case TAG_IFD_SLOT_THREAD_SAFE:
		rc = put_byte(Length, Value, 0); /* one slot per reader */
		break;
	case TAG_IFD_POLLING_THREAD_KILLABLE:
		rc = put_byte(Length, Value, 0); /* stop_polling instead */
		break;
	case TAG_IFD_POLLING_THREAD_WITH_TIMEOUT:
		rc = put_fn(Length, Value, &ev, sizeof(ev));
		break;
	case TAG_IFD_STOP_POLLING_THREAD:
		rc = put_fn(Length, Value, &stop, sizeof(stop));
		break;
	default:
		break;
	}
	if (rc != IFD_SUCCESS)
		*Length = 0;
	return rc;
}

IFD_EXPORT RESPONSECODE
IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	return IFD_NOT_SUPPORTED;
}

/* A virtual card has no PTS to negotiate; it speaks T=1 as its ATR says. */
IFD_EXPORT RESPONSECODE
IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1,
    UCHAR PTS2, UCHAR PTS3)
{
	return IFD_SUCCESS;
}

IFD_EXPORT RESPONSECODE
IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	struct ifd_reader *r;
	enum ifd_ctrl what;
	RESPONSECODE rc = IFD_ERROR_POWER_ACTION;
	int gone = -1;

	switch (Action) {
	case IFD_POWER_UP:
		what = IFD_CTRL_POWER_ON;
		break;
	case IFD_POWER_DOWN:
		what = IFD_CTRL_POWER_OFF;
		break;
	case IFD_RESET:
		what = IFD_CTRL_RESET;
		break;
	default:
		return IFD_NOT_SUPPORTED;
	}
	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	if (r->chan.cfd < 0) {
		rc = IFD_ICC_NOT_PRESENT;
	} else if (ifd_chan_ctrl(&r->chan, what, &gone) != 0) {
		bury(r, gone);
	} else if (what == IFD_CTRL_POWER_OFF) {
		rc = IFD_SUCCESS;
	} else if (Atr != NULL && AtrLength != NULL &&
	    *AtrLength >= r->chan.atr_len) {
		memcpy(Atr, r->chan.atr, r->chan.atr_len);
		*AtrLength = (DWORD)r->chan.atr_len;
		rc = IFD_SUCCESS;
	}
	reader_unlock(r);
	if (rc != IFD_SUCCESS && AtrLength != NULL)
		*AtrLength = 0;
	return rc;
}

IFD_EXPORT RESPONSECODE
IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer,
    DWORD TxLength, PUCHAR RxBuffer, PDWORD RxLength, PSCARD_IO_HEADER RecvPci)
{
	struct ifd_reader *r;
	RESPONSECODE rc = IFD_COMMUNICATION_ERROR;
	size_t got = 0;
	int gone = -1, res;

	if (TxBuffer == NULL || RxBuffer == NULL || RxLength == NULL)
		return IFD_COMMUNICATION_ERROR;
	if ((r = reader_lock(Lun)) == NULL) {
		*RxLength = 0;
		return IFD_COMMUNICATION_ERROR;
	}
	if (r->chan.cfd < 0) {
		rc = IFD_ICC_NOT_PRESENT;
	} else {
		res = ifd_chan_apdu(&r->chan, TxBuffer, TxLength, RxBuffer,
		    *RxLength, &got, &gone);
		if (res == 0)
			rc = IFD_SUCCESS;
		else if (res == -1)
			bury(r, gone); /* removed, or it broke the protocol */
		else if (res == -2)
			rc = IFD_ERROR_INSUFFICIENT_BUFFER;
	}
	reader_unlock(r);
	*RxLength = rc == IFD_SUCCESS ? (DWORD)got : 0;
	if (rc == IFD_SUCCESS && RecvPci != NULL) {
		RecvPci->Protocol = SendPci.Protocol;
		RecvPci->Length = sizeof(*RecvPci);
	}
	return rc;
}

/* PC/SC part 10: announce extended APDUs the way vpcd does. */
static RESPONSECODE
control_tlv(DWORD code, PUCHAR Rx, DWORD RxLength, LPDWORD ret)
{
	uint32_t v;

	if (code == CM_IOCTL_GET_FEATURE_REQUEST) {
		/* tag, length 4, IOCTL code big-endian (part 10 §2.2) */
		if (RxLength < 6)
			return IFD_ERROR_INSUFFICIENT_BUFFER;
		v = IFD_IOCTL_TLV_PROPERTIES;
		Rx[0] = FEATURE_GET_TLV_PROPERTIES;
		Rx[1] = 4;
		Rx[2] = (UCHAR)(v >> 24);
		Rx[3] = (UCHAR)(v >> 16);
		Rx[4] = (UCHAR)(v >> 8);
		Rx[5] = (UCHAR)v;
		*ret = 6;
		return IFD_SUCCESS;
	}
	if (code == IFD_IOCTL_TLV_PROPERTIES) {
		/* TLV properties are little-endian (part 10 §2.6.14) */
		if (RxLength < 6)
			return IFD_ERROR_INSUFFICIENT_BUFFER;
		v = IFD_MAX_APDU_DATA;
		Rx[0] = PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize;
		Rx[1] = 4;
		Rx[2] = (UCHAR)v;
		Rx[3] = (UCHAR)(v >> 8);
		Rx[4] = (UCHAR)(v >> 16);
		Rx[5] = (UCHAR)(v >> 24);
		*ret = 6;
		return IFD_SUCCESS;
	}
	return IFD_ERROR_NOT_SUPPORTED;
}

IFD_EXPORT RESPONSECODE
IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength,
    PUCHAR RxBuffer, DWORD RxLength, LPDWORD pdwBytesReturned)
{
	RESPONSECODE rc;

	if (pdwBytesReturned == NULL)
		return IFD_COMMUNICATION_ERROR;
	*pdwBytesReturned = 0;
	if (RxBuffer == NULL)
		return IFD_COMMUNICATION_ERROR;
	rc = control_tlv(dwControlCode, RxBuffer, RxLength, pdwBytesReturned);
	if (rc != IFD_SUCCESS)
		*pdwBytesReturned = 0;
	return rc;
}

IFD_EXPORT RESPONSECODE
IFDHICCPresence(DWORD Lun)
{
	struct ifd_reader *r = reader_lock(Lun);
	bool present, changed = false;
	int gone = -1;

	if (r == NULL)
		return IFD_COMMUNICATION_ERROR;
	present = ifd_chan_present(&r->chan, &changed, &gone);
	if (gone >= 0)
		bury(r, gone);
	else if (changed)
		wake(r);
	reader_unlock(r);
	return present ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
}
