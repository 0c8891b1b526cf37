/* SPDX-License-Identifier: MIT */
/* gateway/detect/sniff.h - what is talking on a line: the traffic
 * classifier of `bmsgw --detect` (bms/PROTOCOLS.md §27).
 *
 * Bytes heard while listening (or that came back after a probe) are cut
 * into the frames of the families bmsgw knows, each proved by its own
 * checksum: Modbus RTU requests and answers (CRC-16), paceic ASCII frames
 * ('~' / '>' with LCHKSUM and CHKSUM), Daly 0xA5 frames (sum8), JBD 0xDD
 * frames (checksum, 0x77), JK 0x4E57 frames (sum16, 0x68), JK's 300-byte
 * 0x55AA records (sum8), the LifePower family's 0x7E / 0x7C frames (XOR
 * and sum, 0x0D), JBD UP16S FC 0x78 / 0x79 / 0x45 frames (CRC-16, a
 * 2-byte length), SML smart-meter messages (their escape
 * sequences), and the frames of the drivers that talk by themselves
 * (VE.Direct text blocks, through the driver's own framer).  Whatever forms
 * no frame is noise.  Pure: no I/O, no globals, every length checked.
 */
#ifndef GATEWAY_DETECT_SNIFF_H
#define GATEWAY_DETECT_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_sniff_kind {
	GW_SNIFF_MODBUS_REQ = 0, /* a Modbus RTU request: a master polls */
	GW_SNIFF_MODBUS_ANS,     /* a Modbus RTU answer or exception */
	GW_SNIFF_PACEIC_REQ,     /* a paceic frame whose CID2 is a command */
	GW_SNIFF_PACEIC_ANS,     /* ... whose CID2 is a return code */
	GW_SNIFF_DALY_REQ,       /* 0xA5 from a host address (0x40..0x4F, 0x80) */
	GW_SNIFF_DALY_ANS,       /* 0xA5 from a board */
	GW_SNIFF_JBD_REQ,        /* DD A5 / DD 5A */
	GW_SNIFF_JBD_ANS,
	GW_SNIFF_JK_REQ,         /* 4E 57, TYPE 0 */
	GW_SNIFF_JK_ANS,         /* 4E 57, TYPE 1 or 2 */
	GW_SNIFF_JK_RECORD,      /* 55 AA EB 90, 300 bytes (JK-PB as a bus master's slaves) */
	GW_SNIFF_LP_REQ,         /* 7E|7C addr cmd 00 chk 0D: a LifePower-family request */
	GW_SNIFF_LP_ANS,         /* ... with data: its answer */
	GW_SNIFF_UP_REQ,         /* addr 78|45 start end 00 00 crc, or a 79 write: a JBD UP16S request */
	GW_SNIFF_UP_ANS,         /* addr 78|45 start end len data crc: its answer */
	GW_SNIFF_SML,            /* an SML smart-meter message (1B 1B 1B 1B 01 01 01 01) */
	GW_SNIFF_TALKER,         /* a frame of a driver that talks by itself (VE.Direct) */
	GW_SNIFF_KINDS
};

/* One frame found at the start of a buffer. */
struct gw_sniff_frame {
	enum gw_sniff_kind kind;
	size_t len;
	const char *talker;      /* GW_SNIFF_TALKER: the driver's protocol name */
};

#define GW_SNIFF_DESC 128        /* a frame's description */

/* What a stretch of traffic held. */
struct gw_sniff {
	size_t bytes;                    /* bytes looked at */
	size_t noise;                    /* bytes in no frame */
	unsigned count[GW_SNIFF_KINDS];  /* frames of each kind */
	const char *talker;              /* the first talker's protocol name */
	char first[GW_SNIFF_KINDS][GW_SNIFF_DESC]; /* each kind's first frame (gw_sniff_describe) */
};

/* A frame at buf[0]?  false when buf[0] starts none (or more bytes are
 * needed to tell). */
bool gw_sniff_frame_at(const uint8_t *buf, size_t len, struct gw_sniff_frame *f);
/* Cut buf[0..len) into frames and noise; adds to *s (zero it first). */
void gw_sniff_scan(const uint8_t *buf, size_t len, struct gw_sniff *s);
/* Frames of another master or of a device talking on the line (any kind
 * but GW_SNIFF_TALKER, which the talker's probe judges). */
unsigned gw_sniff_foreign(const struct gw_sniff *s);
/* "Modbus RTU request" ... */
const char *gw_sniff_kind_name(enum gw_sniff_kind k);
/* One line about a frame: its kind and header, e.g. "Modbus RTU request:
 * unit 1, FC 03, 0x0000 x 39" or "paceic answer: VER 20, ADR 02, CID1 46,
 * RTN 00". */
void gw_sniff_describe(const uint8_t *f, size_t n, char *out, size_t cap);
/* Is req[0..n) exactly one read request of a protocol bmsgw knows (Modbus
 * FC 01-04, a paceic read command, Daly 0x90-0x98, JBD DD A5 03/04/05, JK
 * command 0x06 or 0x03, a Sinowealth register read, LifePower 0x01 / 0x33 /
 * 0x42, ANT's 5A 5A read-all or 7E A1 status / device information)?  The detector sends
 * nothing else. */
bool gw_sniff_is_read(const uint8_t *req, size_t n);

#endif
