/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_kostal_rs485.c - bmsgw as a BYD battery on a Kostal
 * Plenticore's or PIKO MP's RS485 (protocol kostal-rs485, 57600 8N1;
 * gateway/inverter/PROTOCOLS.md §24): the inverter asks, the battery
 * answers; four requests are known: the battery information (0x084A),
 * the cyclic data (0x044A: voltage, CVL, currents, the current limits,
 * capacity, temperatures, cells, SOC, the enable byte, all as little-endian
 * floats and bytes), the status (0x0353) and two writes (set the time 0x47,
 * set the state 0x5E), acknowledged.
 *
 * Framing: every frame ends with its only 0x00; its zeros before that are
 * stuffed, each replaced by the distance to the next, byte 0 the distance
 * to the first (COBS without its 254 limit); unstuffed, byte 0 is 0, bytes
 * 1-5 the header, the checksum at length - 2 is -(sum of bytes 1 ..
 * length - 3) & 0xFF.  The framer cuts the stream at each 0x00 and checks
 * the chain of distances, the checksum and the header.  Pure: no I/O, no
 * globals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../codec.h"
#include "../invident.h"
#include "../invscale.h"

#define KO_MAX 128              /* bytes a frame may take: the longest known is 64 */
#define KO_MIN 8                /* zero, header, checksum, end: the acknowledgement */
#define KO_REQ_LEN 10           /* a read request; a write is at least as long */
#define KO_INFO_LEN 40
#define KO_CYCLIC_LEN 64
#define KO_STATUS_LEN 9
#define KO_READ 0x62            /* 'b': the inverter asks */
#define KO_WRITE 0x63           /* 'c': the inverter sets */
#define KO_ANSWER 0xE2          /* the battery's answer */
#define KO_ACK 0xE3             /* the battery's acknowledgement */
#define KO_ASK_INFO 0x084A
#define KO_ASK_CYCLIC 0x044A
#define KO_ASK_STATUS 0x0353
#define KO_SET_TIME 0x47
#define KO_SET_STATE 0x5E
#define KO_BLOCK_V 51.2         /* V a BYD HV block of 16 LFP cells holds (5 x 51.2 = 256 V) */
#define KO_BLOCKS_MAX 20        /* blocks of 51.2 V within 1000 V */

_Static_assert(KO_MAX < INV_485_RX_MAX, "a frame the framer waits for fits the assembly buffer");

/* The header after byte 0 of every frame: its kind, then these four. */
static const uint8_t header_tail[4] = { 0xFF, 0x02, 0xFF, 0x29 };

/* f[0..n) (its last byte its only 0x00) unstuffed into u[0..n): false when
 * the chain of distances does not end exactly at its last byte. */
static bool unstuff(const uint8_t *f, size_t n, uint8_t *u)
{
	size_t at = 0;
	memcpy(u, f, n);
	for (;;) {
		size_t next = at + f[at];
		if (f[at] == 0 || next >= n)
			return false;
		u[at] = 0;
		if (next == n - 1)
			return true;
		at = next;
	}
}

static uint8_t checksum(const uint8_t *u, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 1; i + 2 < n; i++)
		sum += u[i];
	return (uint8_t)(-sum & 0xFF);
}

static enum inv_scan ko_scan(const uint8_t *buf, size_t len, size_t *n)
{
	uint8_t u[KO_MAX];
	const uint8_t *z = memchr(buf, 0, len < KO_MAX ? len : KO_MAX);

	*n = 0;
	if (!len)
		return INV_SCAN_MORE;
	if (buf[0] == 0) {
		*n = 1;
		return INV_SCAN_NOISE; /* an end with no frame */
	}
	if (!z) {
		if (len < KO_MAX)
			return INV_SCAN_MORE;
		*n = KO_MAX;
		return INV_SCAN_OVERLONG;
	}
	*n = (size_t)(z - buf) + 1;
	if (*n < KO_MIN || !unstuff(buf, *n, u))
		return INV_SCAN_BAD_FORMAT;
	if (checksum(u, *n) != u[*n - 2])
		return INV_SCAN_BAD_CHECKSUM;
	if (memcmp(u + 2, header_tail, sizeof(header_tail)) || (u[1] != KO_READ && u[1] != KO_WRITE))
		return INV_SCAN_OTHER; /* a battery's answer, an acknowledgement, another device's */
	if ((u[1] == KO_READ && *n != KO_REQ_LEN) || *n < KO_REQ_LEN)
		return INV_SCAN_BAD_LENGTH;
	return INV_SCAN_REQUEST;
}

static bool ko_ours(const struct conf_inverter *c, const uint8_t *req, size_t n)
{
	uint8_t u[KO_MAX];
	(void)c; /* a Kostal has one battery: no address */
	return n >= KO_REQ_LEN && n <= KO_MAX && unstuff(req, n, u) && (u[1] == KO_READ || u[1] == KO_WRITE) &&
	       !memcmp(u + 2, header_tail, sizeof(header_tail));
}

/* ---- the answers ---- */

static void put_f32(uint8_t *p, double v)
{
	float f = isfinite(v) && fabs(v) < 1e9 ? (float)v : 0.0f;
	uint32_t x;
	memcpy(&x, &f, sizeof(x));
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}

static void put_u16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)(v >> 8);
}

/* The unstuffed frame u[0..n) (kind, the checksum left to fill) stuffed
 * into out[0..cap): its length, -1 when cap is too small. */
static int finish(uint8_t *u, size_t n, uint8_t kind, uint8_t *out, size_t cap)
{
	if (cap < n)
		return -1;
	u[0] = 0;
	u[1] = kind;
	memcpy(u + 2, header_tail, sizeof(header_tail));
	u[n - 2] = checksum(u, n);
	u[n - 1] = 0;
	memcpy(out, u, n);
	size_t last = 0;
	for (size_t i = 1; i < n; i++)
		if (u[i] == 0) {
			out[last] = (uint8_t)(i - last);
			last = i;
		}
	return (int)n;
}

/* 0x084A: nominal voltage, manufacture date, serial number, capacity,
 * firmware, vendor "YB" (BYD), blocks in series. */
static int ko_info(const struct inv_battery *b, uint8_t *out, size_t cap)
{
	static const uint8_t firmware[2] = { 0xC2, 0x18 }, vendor[2] = { 'Y', 'B' }, tail[4] = { 0xA0, 0, 0, 0 };
	uint8_t u[KO_INFO_LEN] = { 0 };
	double nominal = inv_nominal_v(b);
	unsigned long tag = b->machine_tag[0] ? strtoul(b->machine_tag, NULL, 16) : 0x00D300B5ul;
	put_f32(u + 6, nominal);
	for (int i = 0; i < 4; i++) {
		u[10 + i] = (uint8_t)(0x5C8A70E4ul >> (8 * i)); /* 2019-03-14, Battery-Emulator's */
		u[14 + i] = (uint8_t)(tag >> (8 * i));
	}
	put_f32(u + 18, inv_has(b, INV_HAS_FULL, b->full_ah) ? b->full_ah : 0);
	memcpy(u + 22, firmware, 2);
	memcpy(u + 26, vendor, 2);
	put_u16(u + 32, inv_modules(b, lround(nominal / KO_BLOCK_V), 1, KO_BLOCKS_MAX));
	memcpy(u + 34, tail, 4);
	return finish(u, sizeof(u), KO_ANSWER, out, cap);
}

/* A temperature of b (the hottest, the coldest; the mean without them), degC, 0 without any. */
static double temp(const struct inv_battery *b, int which)
{
	if (b->present & INV_HAS_TEMP_MINMAX)
		return which > 0 ? b->temp_max_c : which < 0 ? b->temp_min_c : (b->temp_max_c + b->temp_min_c) / 2.0;
	return inv_has(b, INV_HAS_TEMP, b->temp_c) ? b->temp_c : 0;
}

/* 0x044A: the cyclic data; *e the current limits it carries. */
static int ko_cyclic(const struct inv_battery *b, uint8_t *out, size_t cap, struct inv_encoded *e)
{
	uint8_t u[KO_CYCLIC_LEN] = { 0 };
	long soc = inv_scale(b->soc, 1, INV_FLOOR, 0, 100);
	bool cells = (b->present & INV_HAS_CELL_MINMAX) != 0;
	double amps = inv_has(b, INV_HAS_CURRENT, b->current) ? b->current : 0;
	e->limits = true;
	e->ccl_a = b->charge_allowed && soc < 100 ? (float)inv_scale(b->ccl_a, 10, INV_DOWN, 0, 1000000) / 10 : 0;
	e->dcl_a = b->discharge_allowed ? (float)inv_scale(b->dcl_a, 10, INV_DOWN, 0, 1000000) / 10 : 0;
	bool enabled = !b->failsafe && (e->ccl_a > 0 || e->dcl_a > 0);
	put_f32(u + 6, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? b->voltage : 0);
	put_f32(u + 10, inv_scale(b->cvl_v, 10, INV_DOWN, 0, 100000) / 10.0);
	put_f32(u + 14, temp(b, 0));
	put_f32(u + 18, amps);
	put_f32(u + 22, amps);
	put_f32(u + 26, e->dcl_a);
	put_f32(u + 30, inv_has(b, INV_HAS_FULL, b->full_ah) ? b->full_ah : 0);
	put_f32(u + 34, e->ccl_a);
	put_f32(u + 38, temp(b, 1));
	put_f32(u + 42, temp(b, -1));
	put_f32(u + 46, cells ? b->cell_max_mv / 1000.0 : 0);
	put_f32(u + 50, cells ? b->cell_min_mv / 1000.0 : 0);
	put_u16(u + 54, b->present & INV_HAS_CYCLES ? (b->cycles > 0xFFFF ? 0xFFFF : b->cycles) : 0);
	u[56] = enabled ? 1 : 0;
	u[57] = soc == 100 ? 0x40 : 0;
	u[58] = (uint8_t)soc;
	u[59] = enabled ? 0 : 2;
	return finish(u, sizeof(u), KO_ANSWER, out, cap);
}

static int ko_answer(const struct conf_inverter *c, struct inv_485_kept *kept, const struct inv_battery *b,
		     const uint8_t *req, size_t n, uint8_t *out, size_t cap, struct inv_encoded *e)
{
	(void)kept; /* it keeps nothing the inverter writes */
	uint8_t u[KO_MAX], f[KO_CYCLIC_LEN];
	memset(e, 0, sizeof(*e));
	/* not a request; or no data (nothing is answered before the source's
	 * first data: zeros are never sent as data) */
	if (!ko_ours(c, req, n) || !(b->present & INV_HAS_LIMITS) || !(b->present & INV_HAS_SOC))
		return 0;
	unstuff(req, n, u);
	if (u[1] == KO_WRITE) {
		/* set the time, set the state: acknowledged, nothing kept; the
		 * state FF gets none (Battery-Emulator) */
		if (u[6] != KO_SET_TIME && (u[6] != KO_SET_STATE || u[7] == 0xFF))
			return 0;
		return finish(f, KO_MIN, KO_ACK, out, cap);
	}
	unsigned code = (unsigned)u[6] | (unsigned)u[7] << 8;
	if (code == KO_ASK_INFO)
		return ko_info(b, out, cap);
	if (code == KO_ASK_CYCLIC) {
		int len = ko_cyclic(b, out, cap, e);
		if (len < 0)
			memset(e, 0, sizeof(*e));
		return len;
	}
	if (code != KO_ASK_STATUS)
		return 0; /* 0x50 (reverse polarity) and the unknown ones */
	memset(f, 0, KO_STATUS_LEN);
	f[6] = 0x06;
	return finish(f, KO_STATUS_LEN, KO_ANSWER, out, cap);
}

const struct inv_codec inv_codec_kostal_rs485 = {
	.name = "kostal-rs485",
	.rs485 = {
		.scan = ko_scan,
		.ours = ko_ours,
		.answer = ko_answer,
	},
};
