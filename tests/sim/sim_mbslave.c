/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_mbslave.c - the Modbus RTU slave of the simulated register-
 * table BMSs (see sim_mbslave.h). */
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define MB_EXCEPTION 0x80
#define MB_E_FUNCTION 0x01
#define MB_E_ADDRESS 0x02

uint16_t sim_mb_crc(const uint8_t *b, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

size_t sim_mb_put_crc(uint8_t *f, size_t n)
{
	uint16_t c = sim_mb_crc(f, n);
	f[n] = (uint8_t)c;
	f[n + 1] = (uint8_t)(c >> 8);
	return n + 2;
}

long sim_mb_clamp(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

unsigned sim_mb_cells(const struct sim_pack *p, int max, long lo, unsigned *mv, int *n)
{
	unsigned long sum = 0;
	*n = p->ncells > max ? max : p->ncells;
	for (int i = 0; i < *n; i++) {
		mv[i] = (unsigned)sim_mb_clamp(sim_pack_cell_mv(p, i), lo, 65535);
		sum += mv[i];
	}
	return (unsigned)sim_mb_clamp((long)((sum + 5) / 10), 0, 65535);
}

long sim_mb_current_ca(const struct sim_pack *p)
{
	return sim_mb_clamp(lround(p->current * 100.0), -32768, 32767);
}

void sim_mb_text(uint16_t *v, unsigned count, const char *text)
{
	size_t len = strlen(text);
	for (unsigned i = 0; i < count; i++) {
		uint8_t hi = 2 * i < len ? (uint8_t)text[2 * i] : 0;
		uint8_t lo = 2 * i + 1 < len ? (uint8_t)text[2 * i + 1] : 0;
		v[i] = (uint16_t)(hi << 8 | lo);
	}
}

enum sim_scan sim_mb_scan(const uint8_t *buf, size_t len, size_t *n, int addr_min, int addr_max)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = 1;
	if (buf[0] < addr_min || buf[0] > addr_max)
		return SIM_SCAN_SKIP;
	if (len < SIM_MB_REQ_LEN)
		return SIM_SCAN_NEED;
	uint16_t c = sim_mb_crc(buf, 6);
	if (buf[6] != (uint8_t)c || buf[7] != (uint8_t)(c >> 8))
		return SIM_SCAN_BAD;
	*n = SIM_MB_REQ_LEN;
	return SIM_SCAN_FRAME;
}

int sim_mb_address(const uint8_t *req, size_t n)
{
	return n < SIM_MB_REQ_LEN ? -1 : req[0];
}

static void mb_exception(struct sim_reply *reply, const struct sim_pack *p, uint8_t fc, uint8_t code)
{
	uint8_t f[5];
	f[0] = (uint8_t)sim_pack_reply_adr(p);
	f[1] = (uint8_t)(fc | MB_EXCEPTION);
	f[2] = code;
	sim_reply_add(reply, f, sim_mb_put_crc(f, 3));
}

/* The data of a read of count from start inside range r. */
static size_t mb_data(const struct sim_mb_slave *s, const struct sim_pack *p, int r, unsigned start,
                      unsigned count, uint8_t *d)
{
	uint16_t v[SIM_MB_RANGE_MAX];
	const struct sim_mb_range *rg = &s->ranges[r];
	memset(v, 0, sizeof v);
	s->image(p, r, v);
	unsigned off = start - rg->start;
	if (rg->fc == 0x01) {
		size_t nb = (count + 7) / 8;
		memset(d, 0, nb);
		for (unsigned i = 0; i < count; i++)
			if (v[off + i])
				d[i / 8] |= (uint8_t)(1u << (i % 8));
		return nb;
	}
	for (unsigned i = 0; i < count; i++) {
		d[2 * i] = (uint8_t)(v[off + i] >> 8);
		d[2 * i + 1] = (uint8_t)v[off + i];
	}
	return 2 * count;
}

enum sim_resp sim_mb_respond(const struct sim_mb_slave *s, struct sim_pack *p, const uint8_t *req, size_t n,
                             struct sim_reply *reply)
{
	if (n < SIM_MB_REQ_LEN)
		return SIM_RESP_BAD;
	uint8_t fc = req[1];
	unsigned start = (unsigned)req[2] << 8 | req[3], count = (unsigned)req[4] << 8 | req[5];
	if (fc != 0x01 && fc != 0x03 && fc != 0x04) {
		mb_exception(reply, p, fc, MB_E_FUNCTION);
		return SIM_RESP_OK;
	}
	if (p->refuse >= 0 && start == (unsigned)p->refuse) {
		mb_exception(reply, p, fc, MB_E_ADDRESS);
		return SIM_RESP_OK;
	}
	unsigned max = fc == 0x01 ? SIM_MB_MAX_COILS : SIM_MB_MAX_READ;
	for (int r = 0; r < s->nranges; r++) {
		const struct sim_mb_range *rg = &s->ranges[r];
		if (rg->fc != fc || rg->count > SIM_MB_RANGE_MAX || start < rg->start || count < 1 || count > max ||
		    start + count > (unsigned)rg->start + rg->count)
			continue;
		if (r + 1 == s->settings && p->nosettings)
			return SIM_RESP_NONE; /* firmware that does not know them */
		uint8_t f[5 + 2 * SIM_MB_MAX_READ];
		f[0] = (uint8_t)sim_pack_reply_adr(p);
		f[1] = fc;
		size_t nd = mb_data(s, p, r, start, count, f + 3);
		f[2] = (uint8_t)nd;
		sim_reply_add(reply, f, sim_mb_put_crc(f, 3 + nd));
		return SIM_RESP_OK;
	}
	mb_exception(reply, p, fc, MB_E_ADDRESS);
	return SIM_RESP_OK;
}

enum sim_scan sim_mb_ble_scan(const uint8_t *buf, size_t len, size_t *n)
{
	return sim_mb_scan(buf, len, n, 0, 255);
}

int sim_mb_ble_address(const uint8_t *req, size_t n)
{
	(void)req;
	return n < SIM_MB_REQ_LEN ? -1 : 1;
}

enum sim_scan sim_mb_ble_prefix_scan(const uint8_t *pr, size_t pl, const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = 1;
	if (memcmp(buf, pr, len < pl ? len : pl) != 0)
		return SIM_SCAN_SKIP;
	if (len < pl + SIM_MB_REQ_LEN)
		return SIM_SCAN_NEED;
	enum sim_scan r = sim_mb_ble_scan(buf + pl, len - pl, n);
	if (r == SIM_SCAN_FRAME)
		*n += pl;
	else
		*n = 1;
	return r;
}

/* Every frame of tmp into reply, the prefix pr[0..pl) before each. */
static void mb_prefixed(const uint8_t *pr, size_t pl, const struct sim_reply *tmp, struct sim_reply *reply)
{
	size_t off = 0;
	for (int i = 0; i < tmp->nframes; i++) {
		uint8_t f[SIM_REPLY_MAX];
		size_t fl = tmp->frame_end[i] - off;
		if (pl + fl > sizeof f)
			return;
		memcpy(f, pr, pl);
		memcpy(f + pl, tmp->buf + off, fl);
		sim_reply_add(reply, f, pl + fl);
		off = tmp->frame_end[i];
	}
}

enum sim_resp sim_mb_ble_respond(const struct sim_mb_slave *s, struct sim_pack *p, const uint8_t *req, size_t n,
                                 struct sim_reply *reply)
{
	return sim_mb_ble_prefix_respond(s, NULL, 0, p, req, n, reply);
}

enum sim_resp sim_mb_ble_prefix_respond(const struct sim_mb_slave *s, const uint8_t *pr, size_t pl,
                                        struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n < pl + SIM_MB_REQ_LEN || (pl && memcmp(req, pr, pl) != 0))
		return SIM_RESP_BAD;
	req += pl;
	n -= pl;
	int keep = p->reply_adr;
	if (keep < 0)
		p->reply_adr = req[0];
	static struct sim_reply tmp;
	memset(&tmp, 0, sizeof tmp);
	enum sim_resp r = sim_mb_respond(s, p, req, n, pl ? &tmp : reply);
	p->reply_adr = keep;
	if (pl)
		mb_prefixed(pr, pl, &tmp, reply);
	return r;
}
