/* SPDX-License-Identifier: MIT */
/* gateway/detect/hints.c - the framing families' signatures (see hints.h).
 *
 * The odds that random bytes make one signature at one offset: Modbus
 * (a request's shape) about 1.5e-5, the LifePower family 6e-6, JBD 7e-7,
 * JK 1.4e-7, Daly 7e-8, JBD UP16S 9e-10, paceic 4e-15; and a family
 * needs GW_HINT_MIN of them, so the noise of a few hundred bytes hints at
 * nothing.
 */
#include "hints.h"

#include <stdbool.h>

#define PACEIC_HEX 12
#define JK_LEN_MIN 18
#define JK_LEN_MAX 638

static bool modbus_sig(const uint8_t *b, size_t len)
{
	/* unit, FC 03/04, start, a count of 1..125 */
	return len >= 6 && b[0] >= 1 && b[0] <= 247 && (b[1] == 3 || b[1] == 4) && b[4] == 0 && b[5] >= 1 &&
	       b[5] <= 125;
}

static bool hex_upper(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static bool paceic_sig(const uint8_t *b, size_t len)
{
	if (len < 1 + PACEIC_HEX || (b[0] != '~' && b[0] != '>'))
		return false;
	for (size_t i = 1; i <= PACEIC_HEX; i++)
		if (!hex_upper(b[i]))
			return false;
	return true;
}

static bool daly_sig(const uint8_t *b, size_t len)
{
	if (len < 4 || b[0] != 0xA5)
		return false;
	bool addr = (b[1] >= 0x40 && b[1] <= 0x4F) || b[1] == 0x80 || (b[1] >= 0x01 && b[1] <= 0x0F);
	return addr && b[2] >= 0x90 && b[2] <= 0x98 && b[3] == 0x08;
}

static bool jbd_sig(const uint8_t *b, size_t len)
{
	if (len < 4 || b[0] != 0xDD)
		return false;
	if (b[1] == 0xA5 || b[1] == 0x5A)
		return b[2] >= 0x03 && b[2] <= 0x05;
	return b[1] >= 0x03 && b[1] <= 0x05 && (b[2] == 0x00 || b[2] == 0x80);
}

static bool jk_sig(const uint8_t *b, size_t len)
{
	unsigned n = len >= 4 ? (unsigned)(b[2] << 8 | b[3]) : 0;
	return len >= 4 && b[0] == 0x4E && b[1] == 0x57 && n >= JK_LEN_MIN && n <= JK_LEN_MAX;
}

static bool lp_sig(const uint8_t *b, size_t len)
{
	if (len < 4 || (b[0] != 0x7E && b[0] != 0x7C) || b[1] > 0x0F || (b[2] != 0x01 && b[2] != 0x33 && b[2] != 0x42))
		return false;
	size_t n = (size_t)b[3] + 6;
	return n > len || b[n - 1] == 0x0D; /* its end, where it was heard */
}

static bool up_sig(const uint8_t *b, size_t len)
{
	/* addr 1..15, FC 0x78, a block start 0x1000..0x2FFF, its end after it */
	return len >= 6 && b[0] >= 1 && b[0] <= 15 && b[1] == 0x78 && b[2] >= 0x10 && b[2] <= 0x2F && b[3] == 0x00 &&
	       (b[4] == b[2] || b[4] == b[2] + 1) && b[5] > 0;
}

void gw_hints_scan(const uint8_t *buf, size_t len, unsigned sig[GW_FAMILIES])
{
	static bool (*const sigs[GW_FAMILIES])(const uint8_t *, size_t) = {
		[GW_FAM_MODBUS] = modbus_sig, [GW_FAM_PACEIC] = paceic_sig, [GW_FAM_DALY] = daly_sig,
		[GW_FAM_JBD] = jbd_sig,       [GW_FAM_JK] = jk_sig,         [GW_FAM_LP] = lp_sig,
		[GW_FAM_UP] = up_sig,
	};
	for (size_t i = 0; i < len; i++)
		for (int f = 0; f < GW_FAMILIES; f++)
			if (sigs[f] && sigs[f](buf + i, len - i)) {
				sig[f]++;
				break;
			}
}

enum gw_family gw_family_of(enum gw_sniff_kind k)
{
	switch (k) {
	case GW_SNIFF_MODBUS_REQ:
	case GW_SNIFF_MODBUS_ANS:
		return GW_FAM_MODBUS;
	case GW_SNIFF_PACEIC_REQ:
	case GW_SNIFF_PACEIC_ANS:
		return GW_FAM_PACEIC;
	case GW_SNIFF_DALY_REQ:
	case GW_SNIFF_DALY_ANS:
		return GW_FAM_DALY;
	case GW_SNIFF_JBD_REQ:
	case GW_SNIFF_JBD_ANS:
		return GW_FAM_JBD;
	case GW_SNIFF_JK_REQ:
	case GW_SNIFF_JK_ANS:
	case GW_SNIFF_JK_RECORD:
		return GW_FAM_JK;
	case GW_SNIFF_LP_REQ:
	case GW_SNIFF_LP_ANS:
		return GW_FAM_LP;
	case GW_SNIFF_UP_REQ:
	case GW_SNIFF_UP_ANS:
		return GW_FAM_UP;
	default:
		return GW_FAM_OTHER;
	}
}

enum gw_family gw_family_of_request(const uint8_t *req, size_t n)
{
	struct gw_sniff_frame f;
	return gw_sniff_frame_at(req, n, &f) && f.len == n ? gw_family_of(f.kind) : GW_FAM_OTHER;
}

const char *gw_family_name(enum gw_family f)
{
	static const char *const names[GW_FAMILIES] = {
		[GW_FAM_OTHER] = "other",   [GW_FAM_MODBUS] = "Modbus RTU", [GW_FAM_PACEIC] = "paceic",
		[GW_FAM_DALY] = "Daly",     [GW_FAM_JBD] = "JBD",           [GW_FAM_JK] = "JK",
		[GW_FAM_LP] = "LifePower",   [GW_FAM_UP] = "JBD UP16S",
	};
	return f < GW_FAMILIES ? names[f] : "?";
}
