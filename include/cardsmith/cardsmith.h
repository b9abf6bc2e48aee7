/* cardsmith: umbrella header. */
#ifndef CARDSMITH_H
#define CARDSMITH_H

#include "common.h"
#include "buf.h"
#include "tlv.h"
#include "transport.h"
#include "apdu.h"
#include "pcsc.h"
#include "attest.h"
#include "piv.h"
#include "csr.h"
#include "x509.h"

#endif
