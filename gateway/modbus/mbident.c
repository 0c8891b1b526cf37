/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbident.c - FC 0x2B / MEI 0x0E (Read Device
 * Identification) and FC 0x11 (Report Server ID).  See mbident.h.
 *
 * Read Device Identification response (section 6.21): function 0x2B, MEI
 * type 0x0E, the Read Device ID code asked, the conformity level, More
 * Follows (0x00 / 0xFF), Next Object Id, Number of objects, then per
 * object its id, its length and its value.  Objects 0-2 form the basic
 * stream, 3-6 the regular one; an object is never split. */
#include "mbident.h"

#include <stdio.h>
#include <string.h>

#define MBID_OBJECTS 7          /* ids 0..6: basic and regular */
#define MBID_HDR 7              /* bytes before the first object */

/* Read Device ID codes */
enum { RD_BASIC = 1, RD_REGULAR = 2, RD_EXTENDED = 3, RD_ONE = 4 };

bool mbid_handles(uint8_t fc)
{
	return fc == MBID_FC_MEI || fc == MBID_FC_REPORT_SERVER_ID;
}

/* The value of object `obj`, NULL if the unit has none. */
static const char *mbid_object(const struct mbid_identity *id, unsigned obj)
{
	const char *v;
	switch (obj) {
	case 0: return MBID_VENDOR;
	case 1: v = id->product_code; break;
	case 2: v = id->revision; break;
	case 3: return id->vendor_url && id->vendor_url[0] ? id->vendor_url : NULL;
	case 4: v = id->product_name; break;
	case 5: v = id->model_name; break;
	case 6: v = id->app_name; break;
	default:
		if (obj >= MBID_EXT_FIRST && obj < MBID_EXT_FIRST + MBID_EXT_COUNT) {
			v = id->ext[obj - MBID_EXT_FIRST];
			return v && v[0] ? v : NULL;
		}
		return NULL;
	}
	return v ? v : "";
}

/* Does the unit have extended objects? */
static bool mbid_has_ext(const struct mbid_identity *id)
{
	for (unsigned i = 0; i < MBID_EXT_COUNT; i++)
		if (mbid_object(id, MBID_EXT_FIRST + i))
			return true;
	return false;
}

/* The object after obj in a stream that ends at `last` (0x80.. follow 0x06
 * in an extended one); 256 past the end. */
static unsigned mbid_after(unsigned obj, unsigned last)
{
	if (obj == MBID_OBJECTS - 1 && last >= MBID_EXT_FIRST)
		return MBID_EXT_FIRST;
	return obj + 1 <= last ? obj + 1 : 256;
}

/* Append object obj at out[*pos] if it fits in limit; false if not. */
static bool mbid_put(const struct mbid_identity *id, unsigned obj, uint8_t *out, size_t *pos, size_t limit)
{
	const char *v = mbid_object(id, obj);
	size_t n = strlen(v);
	if (n > MBID_OBJ_MAX)
		n = MBID_OBJ_MAX;
	if (*pos + 2 + n > limit)
		return false;
	out[(*pos)++] = (uint8_t)obj;
	out[(*pos)++] = (uint8_t)n;
	memcpy(out + *pos, v, n);
	*pos += n;
	return true;
}

static int mbid_device_id(const struct mbid_identity *id, const uint8_t *req, size_t len, uint8_t *out)
{
	if (len < 2)
		return -GW_MB_ILLEGAL_VALUE;
	if (req[1] != MBID_MEI_DEVICE_ID)
		return -GW_MB_ILLEGAL_FUNCTION; /* e.g. 0x0D, CANopen: not served */
	if (len != 4)
		return -GW_MB_ILLEGAL_VALUE;
	unsigned code = req[2], obj = req[3];
	if (code < RD_BASIC || code > RD_ONE)
		return -GW_MB_ILLEGAL_VALUE;
	out[0] = MBID_FC_MEI;
	out[1] = MBID_MEI_DEVICE_ID;
	out[2] = (uint8_t)code;
	out[3] = mbid_has_ext(id) ? MBID_CONFORMITY_EXT : MBID_CONFORMITY;
	out[4] = 0x00; /* More Follows */
	out[5] = 0x00; /* Next Object Id */
	out[6] = 0;    /* Number of objects */
	size_t pos = MBID_HDR;
	if (code == RD_ONE) {
		if (!mbid_object(id, obj))
			return -GW_MB_ILLEGAL_ADDRESS;
		mbid_put(id, obj, out, &pos, MBID_PDU_MAX); /* always fits */
		out[6] = 1;
		return (int)pos;
	}
	/* a stream: basic = 0..2; regular = 0..6; extended = 0..6 and the
	 * extended objects the unit has (none: as regular) */
	unsigned last = code == RD_BASIC ? 2 : MBID_OBJECTS - 1;
	if (code == RD_EXTENDED && mbid_has_ext(id))
		last = MBID_EXT_FIRST + MBID_EXT_COUNT - 1;
	if (obj > last || (obj >= MBID_OBJECTS && obj < MBID_EXT_FIRST) || !mbid_object(id, obj))
		obj = 0;
	for (; obj <= last; obj = mbid_after(obj, last)) {
		if (!mbid_object(id, obj))
			continue;
		if (!mbid_put(id, obj, out, &pos, MBID_PDU_MAX)) {
			out[4] = 0xFF;
			out[5] = (uint8_t)obj;
			break;
		}
		out[6]++;
	}
	return (int)pos;
}

/* FC 0x11 (section 6.17): byte count, server id, run indicator, then our
 * own text, cut to the PDU. */
static int mbid_server_id(const struct mbid_identity *id, size_t len, uint8_t *out)
{
	if (len != 1)
		return -GW_MB_ILLEGAL_VALUE;
	char text[MBID_PDU_MAX];
	int n = snprintf(text, sizeof(text), "%s %s %s %s", MBID_VENDOR, id->revision ? id->revision : "",
			 id->app_name ? id->app_name : "", id->product_code ? id->product_code : "");
	size_t tn = n < 0 ? 0 : (size_t)n;
	if (tn > MBID_PDU_MAX - 4)
		tn = MBID_PDU_MAX - 4;
	out[0] = MBID_FC_REPORT_SERVER_ID;
	out[1] = (uint8_t)(2 + tn);
	out[2] = id->server_id;
	out[3] = id->running ? 0xFF : 0x00;
	memcpy(out + 4, text, tn);
	return (int)(4 + tn);
}

int mbid_reply(const struct mbid_identity *id, const uint8_t *req, size_t len, uint8_t *out, size_t cap)
{
	if (len < 1 || !mbid_handles(req[0]))
		return -GW_MB_ILLEGAL_FUNCTION;
	if (cap < MBID_PDU_MAX)
		return -GW_MB_DEVICE_FAILURE;
	if (req[0] == MBID_FC_REPORT_SERVER_ID)
		return mbid_server_id(id, len, out);
	return mbid_device_id(id, req, len, out);
}
