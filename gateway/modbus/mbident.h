/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbident.h - the identification functions of a Modbus
 * server: FC 0x2B / MEI 0x0E (Read Device Identification) and FC 0x11
 * (Report Server ID), as the MODBUS Application Protocol Specification
 * V1.1b3 (https://modbus.org/docs/Modbus_Application_Protocol_V1_1b3.pdf)
 * defines them in sections 6.21 and 6.17.  Pure: a request PDU (function
 * code first) and the unit's identity in, the response PDU or an
 * exception code out; the server frames it (MBAP or RTU) and sends it. */
#ifndef GATEWAY_MODBUS_MBIDENT_H
#define GATEWAY_MODBUS_MBIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/mbexc.h"

#define MBID_FC_REPORT_SERVER_ID 0x11
#define MBID_FC_MEI 0x2B
#define MBID_MEI_DEVICE_ID 0x0E
/* Regular identification, stream and individual access (section 6.21);
 * a unit with extended objects (what its BMS says about itself): extended
 * identification. */
#define MBID_CONFORMITY 0x82
#define MBID_CONFORMITY_EXT 0x83
/* Extended objects 0x80.. (private, section 6.21): what the BMS says about
 * itself (bms/bms.h struct bms_ident). */
enum {
	MBID_EXT_VENDOR = 0,   /* 0x80 the BMS's maker, as it names itself */
	MBID_EXT_MODEL,        /* 0x81 its hardware / model */
	MBID_EXT_FIRMWARE,     /* 0x82 its software version */
	MBID_EXT_SERIAL,       /* 0x83 its serial number */
	MBID_EXT_PACK_SERIAL,  /* 0x84 the pack's serial number */
	MBID_EXT_COUNT
};
#define MBID_EXT_FIRST 0x80
/* The longest PDU (section 4.1), so the size of out. */
#define MBID_PDU_MAX 253
/* The longest object value: a PDU of one object (7 bytes of header, the
 * object's id and length); longer strings are cut. */
#define MBID_OBJ_MAX (MBID_PDU_MAX - 7 - 2)
/* Object 0 VendorName. */
#define MBID_VENDOR "bmsgw"

/* What one unit says about itself.  NULL reads as "". */
struct mbid_identity {
	const char *product_code;  /* object 1 ProductCode: the pack's protocol, or "bank" */
	const char *revision;      /* object 2 MajorMinorRevision: bmsgw's version */
	const char *vendor_url;    /* object 3 VendorUrl: NULL or "" = the object is absent */
	const char *product_name;  /* object 4 ProductName (e.g. "bmsgw BMS gateway") */
	const char *model_name;    /* object 5 ModelName (e.g. the protocol's description) */
	const char *app_name;      /* object 6 UserApplicationName: the pack's name, or "bank" */
	const char *ext[MBID_EXT_COUNT]; /* objects 0x80.. (MBID_EXT_*): NULL or "" = absent */
	uint8_t server_id;         /* FC 0x11 Server ID: the unit id */
	bool running;              /* FC 0x11 Run Indicator: 0xFF when fresh, 0x00 when stale */
};

/* Is function code fc one of those mbid_reply() answers? */
bool mbid_handles(uint8_t fc);

/* Answer the request PDU req[0..len) (req[0] = the function code) into
 * out[0..cap), cap >= MBID_PDU_MAX.  Returns the response PDU's length
 * (> 0), or minus an exception code:
 *   FC 0x2B: MEI type other than 0x0E -> 0x01; a PDU not of exactly
 *     function, MEI type, Read Device ID code and Object Id -> 0x03;
 *     a Read Device ID code other than 1 (basic), 2 (regular),
 *     3 (extended: the regular objects, then the extended ones the unit
 *     has; a unit without any answers it as regular) or
 *     4 (one object) -> 0x03; code 4 for an object this unit does not
 *     have -> 0x02.  A stream starting at an object it does not have
 *     starts at object 0 (section 6.21); objects that do not fit the PDU
 *     follow in the next request (More Follows 0xFF, Next Object Id).
 *   FC 0x11: a PDU other than the function code alone -> 0x03; the answer
 *     is the byte count, the server id, the run indicator, then
 *     "bmsgw VERSION NAME PROTOCOL" (revision, app_name, product_code).
 *   another function code -> 0x01; cap too small -> 0x04. */
int mbid_reply(const struct mbid_identity *id, const uint8_t *req, size_t len, uint8_t *out, size_t cap);

#endif
