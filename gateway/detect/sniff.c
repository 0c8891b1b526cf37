/* SPDX-License-Identifier: MIT */
/* gateway/detect/sniff.c - the traffic classifier (see sniff.h).
 *
 * Each family's frame is recognised only whole and only with its own
 * checksum (bms/PROTOCOLS.md §2, §5-§8, §18), so random bytes are noise:
 * a Modbus frame also needs a known function code and a count or byte
 * count that fits it, which leaves about one false frame in 10^7 random
 * offsets.  SML (BSI TR-03109-1, "Smart Message Language" 1.04) has no
 * checksum this classifier checks; its two 8- and 5-byte escape sequences
 * are the proof.
 */
#include "sniff.h"

#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/pylonframe.h"

#define MB_MAX_UNIT 247
#define MB_EXC 0x80
#define DALY_LEN 13
#define JBD_END 0x77
#define JK_MIN 20
#define JK_MAX 640
#define JK_END 0x68
#define JKREC_LEN 300
#define SML_MAX 4096
#define UP_OVER 10
#define UP_MAX (UP_OVER + 512)
#define PACEIC_MAX (BMS_PYLONFRAME_OVERHEAD + 4094)

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool mb_fc_known(uint8_t fc)
{
	return (fc >= 1 && fc <= 6) || fc == 15 || fc == 16;
}

/* FC 01-04: a request (8 bytes, a count that fits) or an answer. */
static size_t mb_read_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	uint8_t fc = b[1];
	unsigned cnt = len >= 8 ? be16(b + 4) : 0;
	if (len >= 8 && cnt >= 1 && cnt <= (fc <= 2 ? 2000u : 125u) && bms_crc16_modbus_ok(b, 8)) {
		*k = GW_SNIFF_MODBUS_REQ;
		return 8;
	}
	size_t n = 5u + b[2];
	if (b[2] && (fc <= 2 || !(b[2] & 1)) && n <= len && bms_crc16_modbus_ok(b, n)) {
		*k = GW_SNIFF_MODBUS_ANS;
		return n;
	}
	return 0;
}

/* FC 0F / 10: a request with its byte count, or the 8-byte answer. */
static size_t mb_multi_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len >= 9) {
		unsigned q = be16(b + 4);
		bool shape = b[1] == 16 ? q >= 1 && q <= 123 && b[6] == 2 * q : q >= 1 && q <= 1968 && b[6] == (q + 7) / 8;
		size_t n = 9u + b[6];
		if (shape && n <= len && bms_crc16_modbus_ok(b, n)) {
			*k = GW_SNIFF_MODBUS_REQ;
			return n;
		}
	}
	if (b[0] != 0 && len >= 8 && bms_crc16_modbus_ok(b, 8)) {
		*k = GW_SNIFF_MODBUS_ANS;
		return 8;
	}
	return 0;
}

static size_t modbus_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len < 5 || b[0] > MB_MAX_UNIT)
		return 0;
	uint8_t fc = b[1];
	if (fc & MB_EXC) {
		if (b[0] == 0 || !mb_fc_known(fc & (uint8_t)~MB_EXC) || b[2] == 0 || b[2] > 11 ||
		    !bms_crc16_modbus_ok(b, 5))
			return 0;
		*k = GW_SNIFF_MODBUS_ANS;
		return 5;
	}
	if (!mb_fc_known(fc))
		return 0;
	if (fc <= 4)
		return mb_read_at(b, len, k); /* address 0 too: Seplos V3 has a pack there */
	if (fc <= 6) {
		if (len < 8 || !bms_crc16_modbus_ok(b, 8))
			return 0;
		*k = GW_SNIFF_MODBUS_REQ; /* a write (its answer is the same bytes) */
		return 8;
	}
	return mb_multi_at(b, len, k);
}

static size_t paceic_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len < BMS_PYLONFRAME_OVERHEAD || (b[0] != BMS_PYLONFRAME_SOI && b[0] != BMS_PYLONFRAME_SOI_KS))
		return 0;
	size_t max = len < PACEIC_MAX ? len : PACEIC_MAX;
	const uint8_t *cr = memchr(b + 1, BMS_PYLONFRAME_EOI, max - 1);
	if (!cr)
		return 0;
	size_t n = (size_t)(cr - b) + 1;
	struct bms_pylonframe f;
	uint8_t info[BMS_PYLONFRAME_MAX_INFO];
	if (n < BMS_PYLONFRAME_OVERHEAD || bms_pylonframe_parse(b, n, &f, info, sizeof(info)) != BMS_OK)
		return 0;
	*k = bms_pylonframe_is_rtn(f.cid2) ? GW_SNIFF_PACEIC_ANS : GW_SNIFF_PACEIC_REQ;
	return n;
}

static bool daly_host(uint8_t a)
{
	return (a >= 0x40 && a <= 0x4F) || a == 0x80;
}

static size_t daly_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len < DALY_LEN || b[0] != 0xA5 || b[3] != 0x08)
		return 0;
	unsigned sum = 0;
	for (int i = 0; i < DALY_LEN - 1; i++)
		sum += b[i];
	if ((uint8_t)sum != b[DALY_LEN - 1])
		return 0;
	*k = daly_host(b[1]) ? GW_SNIFF_DALY_REQ : GW_SNIFF_DALY_ANS;
	return DALY_LEN;
}

/* DD A5|5A reg len data chk 77 (request) or DD reg status len data chk 77. */
static size_t jbd_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len < 7 || b[0] != 0xDD)
		return 0;
	bool req = b[1] == 0xA5 || b[1] == 0x5A;
	if (!req && b[2] != 0x00 && b[2] != 0x80)
		return 0;
	size_t n = (size_t)b[3] + 7;
	if (n > len || b[n - 1] != JBD_END)
		return 0;
	unsigned sum = 0;
	for (size_t i = 2; i < n - 3; i++)
		sum += b[i];
	if ((uint16_t)(0x10000u - sum) != be16(b + n - 3))
		return 0;
	*k = req ? GW_SNIFF_JBD_REQ : GW_SNIFF_JBD_ANS;
	return n;
}

static size_t jk_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len < JK_MIN || b[0] != 0x4E || b[1] != 0x57)
		return 0;
	size_t n = (size_t)be16(b + 2) + 2;
	if (n < JK_MIN || n > JK_MAX || n > len || b[n - 5] != JK_END || b[10] > 2)
		return 0;
	unsigned sum = 0;
	for (size_t i = 0; i < n - 4; i++)
		sum += b[i];
	if ((uint16_t)sum != be16(b + n - 2))
		return 0;
	*k = b[10] == 0 ? GW_SNIFF_JK_REQ : GW_SNIFF_JK_ANS;
	return n;
}

static size_t jkrec_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	static const uint8_t head[4] = { 0x55, 0xAA, 0xEB, 0x90 };
	if (len < JKREC_LEN || memcmp(b, head, 4) != 0)
		return 0;
	unsigned sum = 0;
	for (size_t i = 0; i < JKREC_LEN - 1; i++)
		sum += b[i];
	if ((uint8_t)sum != b[JKREC_LEN - 1])
		return 0;
	*k = GW_SNIFF_JK_RECORD;
	return JKREC_LEN;
}

/* The LifePower family (bms/PROTOCOLS.md §29): 7E|7C addr cmd len data chk
 * 0D, chk = XOR of SOI .. the last data byte XOR their sum; len 0 is a
 * request. */
static size_t lp_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len < 6 || (b[0] != 0x7E && b[0] != 0x7C) || b[1] > 0x0F)
		return 0;
	size_t n = (size_t)b[3] + 6;
	if (n > len || b[n - 1] != 0x0D)
		return 0;
	uint8_t x = 0, s = 0;
	for (size_t i = 0; i < n - 2; i++) {
		x ^= b[i];
		s = (uint8_t)(s + b[i]);
	}
	if ((uint8_t)(x ^ s) != b[n - 2])
		return 0;
	*k = b[3] == 0 ? GW_SNIFF_LP_REQ : GW_SNIFF_LP_ANS;
	return n;
}

/* JBD UP16S (bms/PROTOCOLS.md §44): addr fc start end len data crc, the
 * CRC-16/MODBUS low byte first, len + 10 bytes; FC 0x78 reads, 0x45 reads
 * of the slaves' data, 0x79 writes (a request with data).  A read with len
 * 0 is a request. */
static size_t up_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	if (len < UP_OVER || b[0] == 0 || b[0] > MB_MAX_UNIT || (b[1] != 0x78 && b[1] != 0x79 && b[1] != 0x45) ||
	    be16(b + 2) > be16(b + 4))
		return 0;
	size_t n = (size_t)be16(b + 6) + UP_OVER;
	if (n > len || n > UP_MAX || !bms_crc16_modbus_ok(b, n))
		return 0;
	*k = b[1] == 0x79 || n == UP_OVER ? GW_SNIFF_UP_REQ : GW_SNIFF_UP_ANS;
	return n;
}

/* 1B1B1B1B 01010101 ... 1B1B1B1B 1A <pad> <crc:2> */
static size_t sml_at(const uint8_t *b, size_t len, enum gw_sniff_kind *k)
{
	static const uint8_t start[8] = { 0x1B, 0x1B, 0x1B, 0x1B, 0x01, 0x01, 0x01, 0x01 };
	static const uint8_t end[5] = { 0x1B, 0x1B, 0x1B, 0x1B, 0x1A };
	if (len < 16 || memcmp(b, start, sizeof(start)) != 0)
		return 0;
	size_t max = len < SML_MAX ? len : SML_MAX;
	for (size_t i = 8; i + 8 <= max; i++)
		if (memcmp(b + i, end, sizeof(end)) == 0) {
			*k = GW_SNIFF_SML;
			return i + 8;
		}
	return 0;
}

/* A frame of a driver that talks by itself, through its own framer. */
static size_t talker_at(const uint8_t *b, size_t len, struct gw_sniff_frame *f)
{
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *d = bms_drivers[i];
		if (!d->listen_only || bms_ble_only(d) || !d->probe || !d->scan)
			continue;
		struct bms_poll p;
		size_t n = 0;
		bms_probe_begin(d, &p, bms_probe_address(d), 0);
		if (d->scan(&p, b, len, &n) == BMS_SCAN_FRAME && n > 0 && n <= len) {
			f->kind = GW_SNIFF_TALKER;
			f->talker = d->name;
			return n;
		}
	}
	return 0;
}

bool gw_sniff_frame_at(const uint8_t *buf, size_t len, struct gw_sniff_frame *f)
{
	static size_t (*const finders[])(const uint8_t *, size_t, enum gw_sniff_kind *) = {
		paceic_at, daly_at, jbd_at, jk_at, jkrec_at, lp_at, up_at, sml_at, modbus_at,
	};
	memset(f, 0, sizeof(*f));
	if (len == 0)
		return false;
	for (size_t i = 0; i < sizeof(finders) / sizeof(finders[0]); i++) {
		f->len = finders[i](buf, len, &f->kind);
		if (f->len)
			return true;
	}
	if (buf[0] == '\r' || buf[0] == ':')
		f->len = talker_at(buf, len, f);
	return f->len > 0;
}

void gw_sniff_scan(const uint8_t *buf, size_t len, struct gw_sniff *s)
{
	size_t i = 0;
	s->bytes += len;
	while (i < len) {
		struct gw_sniff_frame f;
		if (!gw_sniff_frame_at(buf + i, len - i, &f)) {
			s->noise++;
			i++;
			continue;
		}
		if (s->count[f.kind]++ == 0)
			gw_sniff_describe(buf + i, f.len, s->first[f.kind], sizeof(s->first[f.kind]));
		if (f.kind == GW_SNIFF_TALKER && !s->talker)
			s->talker = f.talker;
		i += f.len;
	}
}

unsigned gw_sniff_foreign(const struct gw_sniff *s)
{
	unsigned n = 0;
	for (int k = 0; k < GW_SNIFF_KINDS; k++)
		if (k != GW_SNIFF_TALKER)
			n += s->count[k];
	return n;
}

const char *gw_sniff_kind_name(enum gw_sniff_kind k)
{
	static const char *const names[GW_SNIFF_KINDS] = {
		[GW_SNIFF_MODBUS_REQ] = "Modbus RTU request",
		[GW_SNIFF_MODBUS_ANS] = "Modbus RTU answer",
		[GW_SNIFF_PACEIC_REQ] = "paceic (Pylontech-style) request",
		[GW_SNIFF_PACEIC_ANS] = "paceic (Pylontech-style) answer",
		[GW_SNIFF_DALY_REQ] = "Daly request",
		[GW_SNIFF_DALY_ANS] = "Daly answer",
		[GW_SNIFF_JBD_REQ] = "JBD request",
		[GW_SNIFF_JBD_ANS] = "JBD answer",
		[GW_SNIFF_JK_REQ] = "JK request",
		[GW_SNIFF_JK_ANS] = "JK answer",
		[GW_SNIFF_JK_RECORD] = "JK 0x55AA record",
		[GW_SNIFF_LP_REQ] = "LifePower request",
		[GW_SNIFF_LP_ANS] = "LifePower answer",
		[GW_SNIFF_UP_REQ] = "JBD UP16S request",
		[GW_SNIFF_UP_ANS] = "JBD UP16S answer",
		[GW_SNIFF_SML] = "SML smart-meter message",
		[GW_SNIFF_TALKER] = "text of a device that talks by itself",
	};
	return k < GW_SNIFF_KINDS ? names[k] : "?";
}

static void describe_modbus(const uint8_t *f, size_t n, enum gw_sniff_kind k, char *out, size_t cap)
{
	if (k == GW_SNIFF_MODBUS_ANS && (f[1] & MB_EXC))
		snprintf(out, cap, "Modbus RTU exception: unit %u, FC %02X, code %02X", f[0], f[1] & 0x7F, f[2]);
	else if (k == GW_SNIFF_MODBUS_ANS && f[1] <= 4)
		snprintf(out, cap, "Modbus RTU answer: unit %u, FC %02X, %u data bytes", f[0], f[1], f[2]);
	else if (k == GW_SNIFF_MODBUS_ANS)
		snprintf(out, cap, "Modbus RTU answer: unit %u, FC %02X", f[0], f[1]);
	else if (f[1] <= 4)
		snprintf(out, cap, "Modbus RTU request: unit %u, FC %02X (read), 0x%04X x %u", f[0], f[1], be16(f + 2),
			 be16(f + 4));
	else
		snprintf(out, cap, "Modbus RTU request: unit %u, FC %02X (a write), register 0x%04X (%zu bytes)", f[0],
			 f[1], be16(f + 2), n);
}

void gw_sniff_describe(const uint8_t *f, size_t n, char *out, size_t cap)
{
	struct gw_sniff_frame fr;
	if (!gw_sniff_frame_at(f, n, &fr)) {
		snprintf(out, cap, "%zu bytes that form no frame", n);
		return;
	}
	const char *name = gw_sniff_kind_name(fr.kind);
	switch (fr.kind) {
	case GW_SNIFF_MODBUS_REQ:
	case GW_SNIFF_MODBUS_ANS:
		describe_modbus(f, fr.len, fr.kind, out, cap);
		break;
	case GW_SNIFF_PACEIC_REQ:
	case GW_SNIFF_PACEIC_ANS:
		snprintf(out, cap, "%s: VER %.2s, ADR %.2s, CID1 %.2s, %s %.2s", name, (const char *)f + 1,
			 (const char *)f + 3, (const char *)f + 5, fr.kind == GW_SNIFF_PACEIC_REQ ? "CID2" : "RTN",
			 (const char *)f + 7);
		break;
	case GW_SNIFF_DALY_REQ:
	case GW_SNIFF_DALY_ANS:
		snprintf(out, cap, "%s: address %02X, command %02X", name, f[1], f[2]);
		break;
	case GW_SNIFF_JBD_REQ:
	case GW_SNIFF_JBD_ANS:
		snprintf(out, cap, "%s: %02X %02X %02X", name, f[1], f[2], f[3]);
		break;
	case GW_SNIFF_JK_REQ:
	case GW_SNIFF_JK_ANS:
		snprintf(out, cap, "%s: command %02X, source %02X, type %u", name, f[8], f[9], f[10]);
		break;
	case GW_SNIFF_LP_REQ:
	case GW_SNIFF_LP_ANS:
		snprintf(out, cap, "%s: SOI %02X, address %u, command %02X, %u data bytes", name, f[0], f[1], f[2], f[3]);
		break;
	case GW_SNIFF_UP_REQ:
	case GW_SNIFF_UP_ANS:
		snprintf(out, cap, "%s: address %u, FC %02X, 0x%04X..0x%04X, %u data bytes", name, f[0], f[1],
			 be16(f + 2), be16(f + 4), be16(f + 6));
		break;
	case GW_SNIFF_TALKER:
		snprintf(out, cap, "%s text (%zu bytes)", fr.talker, fr.len);
		break;
	default:
		snprintf(out, cap, "%s (%zu bytes)", name, fr.len);
		break;
	}
}

/* The paceic commands that only read (bms/PROTOCOLS.md §8-§11, §19-§21). */
static bool paceic_read(uint8_t cid2)
{
	static const uint8_t reads[] = { 0x42, 0x44, 0x47, 0x4F, 0x51, 0x61, 0x62, 0x63, 0x92, 0x93, 0x96, 0xC1, 0xC2 };
	return memchr(reads, cid2, sizeof(reads)) != NULL;
}

/* ANT legacy: 5A 5A or DB DB, 00 <hi> <lo> <sum>, the read-all (§28.3) */
static bool ant_legacy_read(const uint8_t *r)
{
	return (r[0] == 0x5A || r[0] == 0xDB) && r[1] == r[0] && r[2] == 0x00 && r[5] == (uint8_t)(r[3] + r[4]);
}

bool gw_sniff_is_read(const uint8_t *req, size_t n)
{
	struct gw_sniff_frame f;
	/* Sinowealth: 0A <register> <2|4>, no checksum (§4) */
	if (n == 3 && req[0] == 0x0A && (req[2] == 2 || req[2] == 4))
		return true;
	/* ANT legacy: one read-all, or two in one write (the probe's, §28.6) */
	if ((n == 6 || n == 12) && ant_legacy_read(req) && (n == 6 || ant_legacy_read(req + 6)))
		return true;
	/* ANT 2021+: 7E A1 01 (status) or 02 (device information) ... CRC AA 55 (§28.2) */
	if (n == 10 && req[0] == 0x7E && req[1] == 0xA1 && (req[2] == 0x01 || req[2] == 0x02) && req[8] == 0xAA &&
	    req[9] == 0x55 && bms_crc16_modbus(req + 1, 5) == (uint16_t)(req[6] | req[7] << 8))
		return true;
	if (!gw_sniff_frame_at(req, n, &f) || f.len != n)
		return false;
	switch (f.kind) {
	case GW_SNIFF_MODBUS_REQ:
		return req[1] >= 1 && req[1] <= 4;
	case GW_SNIFF_PACEIC_REQ: {
		long c = (long)bms_pylonframe_hexval(req[7]) << 4 | bms_pylonframe_hexval(req[8]);
		return paceic_read((uint8_t)c);
	}
	case GW_SNIFF_DALY_REQ:
		return req[2] >= 0x90 && req[2] <= 0x98;
	case GW_SNIFF_JBD_REQ:
		return req[1] == 0xA5 && req[2] >= 0x03 && req[2] <= 0x05;
	case GW_SNIFF_JK_REQ:
		return req[8] == 0x06 || req[8] == 0x03;
	case GW_SNIFF_LP_REQ: /* general information, model, barcode (§29.2) */
		return req[2] == 0x01 || req[2] == 0x33 || req[2] == 0x42;
	case GW_SNIFF_UP_REQ: /* FC 0x78 with no data (0x79 writes) */
		return req[1] == 0x78 && n == UP_OVER;
	default:
		return false;
	}
}
