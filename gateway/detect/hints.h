/* SPDX-License-Identifier: MIT */
/* gateway/detect/hints.h - what the bytes heard while listening hint at:
 * the framing families of `bmsgw --detect` (bms/PROTOCOLS.md §27).
 *
 * A frame heard whole, with its checksum, is another master's or a
 * talker's (sniff.h), and the port is never probed then.  What is left to
 * hint at is bytes that formed no frame: the start of a frame of one of
 * the families, seen at one rate (a frame cut, a checksum that failed, a
 * device that sends a banner or a variant).  Each family's signature is
 * its start and the header that follows it, tight enough that random
 * bytes rarely make one: Modbus RTU (unit 1..247, FC 03/04, a register
 * count or byte count that fits), paceic ('~' or '>' and twelve
 * upper-case hex digits: an ASCII line), Daly (A5, a host or board
 * address, command 0x90..0x98, length 8), JBD (DD, A5/5A and register
 * 03..05, or register 03..05 and status 00/80), JK (4E 57 and a length
 * that fits), the LifePower family (7E|7C, address 0..15, command 01, 33
 * or 42).  The plan (probe_order.h) tries the probes of the families heard
 * first, at the rate they were heard at.  Pure: no I/O, no globals.
 */
#ifndef GATEWAY_DETECT_HINTS_H
#define GATEWAY_DETECT_HINTS_H

#include <stddef.h>
#include <stdint.h>

#include "sniff.h"

enum gw_family {
	GW_FAM_OTHER = 0,       /* no family the classifier knows (ANT, Sinowealth, ...) */
	GW_FAM_MODBUS,
	GW_FAM_PACEIC,
	GW_FAM_DALY,
	GW_FAM_JBD,
	GW_FAM_JK,
	GW_FAM_LP,
	GW_FAM_UP,              /* JBD UP16S FC 0x78 frames */
	GW_FAMILIES
};

/* A family counts as heard with at least this many signatures. */
#define GW_HINT_MIN 2

/* The family of a frame's kind (sniff.h). */
enum gw_family gw_family_of(enum gw_sniff_kind k);
/* The family of a request: that of the frame it forms (GW_FAM_OTHER: none). */
enum gw_family gw_family_of_request(const uint8_t *req, size_t n);
/* "Modbus RTU", "paceic", ... */
const char *gw_family_name(enum gw_family f);
/* Count the signatures of each family in buf[0..len) into sig[] (adds). */
void gw_hints_scan(const uint8_t *buf, size_t len, unsigned sig[GW_FAMILIES]);

#endif
