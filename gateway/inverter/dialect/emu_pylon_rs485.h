/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_pylon_rs485.h - bmsgw as a Pylontech LV RS485 battery
 * (V3.3/V3.5 ASCII protocol) on an inverter's RS485 port: the inverter is
 * the master and polls
 *	~ VER ADR CID1 CID2 LENGTH INFO CHKSUM \r	(ASCII hex, 9600 8N1)
 * The framer finds and checks the requests (LCHKSUM, CHKSUM: bad ones are
 * counted, never answered); the reply encoders answer them from a struct
 * inv_battery.  The codec (codec.h, inv_codec_pylon_rs485) is these with
 * the options taken from the [inverter] section.  Frame helpers are the
 * BMS side's (bms/base/pylonframe.c).  Layouts, units, sources and dialects:
 * gateway/inverter/PROTOCOLS.md §6.
 *
 * Pure: no I/O, no globals, no allocation. */
#ifndef GATEWAY_INVERTER_PYLON_RS485_H
#define GATEWAY_INVERTER_PYLON_RS485_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../../conf/conf.h"
#include "../battery.h"
#include "../codec.h"

/* Longest request accepted, '~' to '\r' (18 characters of frame and up to
 * 55 bytes of INFO); a longer one is dropped as overlong. */
#define PYLON485_REQ_MAX 128
#define PYLON485_INFO_MAX ((PYLON485_REQ_MAX - 18) / 2)
/* Room a reply needs at most (0x60 with 64 modules: 33 + 16 x 64 bytes of
 * INFO, hex). */
#define PYLON485_REPLY_MAX 2200

/* A checked request. */
struct pylon485_req {
	uint8_t ver, adr, cid1, cid2;
	uint8_t ninfo;                 /* INFO bytes */
	uint8_t info[PYLON485_INFO_MAX];
};

/* The framer (codec.h, `scan`): '~' starts a frame, CR ends it; a frame
 * cut by a new '~', too short, with a character that is not hex, with a
 * wrong LCHKSUM or LENGTH or CHKSUM, longer than PYLON485_REQ_MAX, or
 * that is an answer (a return code for CID2) is no request. */
enum inv_scan pylon485_scan(const uint8_t *buf, size_t len, size_t *n);

/* The request in f[0..n) (a REQUEST of pylon485_scan): true, with *req
 * (INFO bytes past ninfo 0). */
bool pylon485_parse(const uint8_t *f, size_t n, struct pylon485_req *req);

/* Options for the inverters' dialects. */
enum {
	/* 0x42, 0x47 and 0x63 currents in 10 mA (Fahmula's component before
	 * v1.2.2, bms-to-inverter) instead of 100 mA */
	PYLON485_CUR_10MA = 1u << 0,
};
#define PYLON485_VER_ECHO (-1)         /* reply with the request's VER */

struct pylon485_cfg {
	uint8_t address;               /* the ADR we are (inverters poll 2) */
	int reply_address;             /* -1: reply from the polled ADR; else answer every
	                                * poll, from this ADR (SRNE: 2) */
	int ver;                       /* VER of the replies (0 = 0x20), PYLON485_VER_ECHO */
	unsigned flags;                /* PYLON485_* */
	const char *battery_name;      /* 0x51 and 0x60, <= 10 characters (NULL = "bmsgw") */
	uint16_t sw_version;           /* 0x51 and 0x60 software version (2 bytes) */
};

/* The return codes (CID2 of a reply). */
enum {
	PYLON485_RTN_OK = 0x00,
	PYLON485_RTN_CID2 = 0x04,      /* "CID2 invalid": a command we do not know */
};

/* The reply to req into out[0..cap): its length; 0 when req gets no answer
 * (not for us: another ADR unless reply_address, or a device type other
 * than CID1 0x46); -1 when cap is too small; *e the limits it carried.  Known
 * commands:
 *	0x4F protocol version, 0x51 manufacturer, 0x42 analog values,
 *	0x44 alarm info, 0x47 system parameters, 0x92 charge/discharge
 *	management, 0x60 system basic information, 0x61 system analog,
 *	0x62 system alarms, 0x63 system charge/discharge management;
 * any other command is answered with RTN 0x04. */
int pylon485_reply(const struct pylon485_cfg *c, const struct pylon485_req *req,
		   const struct inv_battery *b, uint8_t *out, size_t cap, struct inv_encoded *e);

#endif
