/* SPDX-License-Identifier: MIT */
/* gateway/inverter/growatt_rs485.c - bmsgw as a battery on a Growatt
 * inverter's RS485 port (protocol growatt-rs485, EXPERIMENTAL): a Modbus
 * RTU slave (address 1 by default, 9600 8N1) answering function 03 and 04
 * over a 19-register image (gateway/inverter/PROTOCOLS.md §6a: register 0
 * the voltage in 0.1 V, 5 the SOC in %, 9 the charge and 10 the discharge
 * current limit in 0.01 A, the others 0).  Growatt's own RS485 document
 * is not public; the image is the only one reported working on a real
 * Growatt inverter.
 *
 * The framer finds Modbus RTU frames in the byte stream without timing:
 * at each byte it tries the frames a function code allows (a request, a
 * reply, an exception), shortest first, and takes the first whose
 * CRC-16/MODBUS holds; none holds: one byte is skipped (a bad CRC is
 * counted, and never answered).  Pure: no I/O, no globals. */
#include <string.h>

#include "../../bms/bms.h"
#include "codec.h"
#include "invscale.h"

#define GW485_REGS 19           /* the image: registers 0..18 */
#define GW485_REG_VOLT 0        /* 0.1 V */
#define GW485_REG_SOC 5         /* % */
#define GW485_REG_CCL 9         /* 0.01 A */
#define GW485_REG_DCL 10        /* 0.01 A */
#define GW485_QTY_MAX 125       /* registers one read may ask (Modbus) */
#define GW485_REQ_LEN 8         /* FC 01..06 requests: address, function, 2 x u16, CRC */
#define GW485_EXC_LEN 5         /* an exception reply */
#define GW485_READ_MAX 250      /* bytes of data a read reply may carry (Modbus) */
#define GW485_WRITE_MAX 246     /* bytes of data FC 15/16 may carry (Modbus) */
#define GW485_EX_FUNCTION 0x01
#define GW485_EX_ADDRESS 0x02
#define GW485_EX_VALUE 0x03

_Static_assert(GW485_READ_MAX + 5 < INV_485_RX_MAX && GW485_WRITE_MAX + 9 < INV_485_RX_MAX,
	       "every frame the framer waits for fits the assembly buffer");

/* ---- the framer ---- */

static bool gw485_crc_ok(const uint8_t *f, size_t n)
{
	uint16_t c = bms_crc16_modbus(f, n - 2);
	return f[n - 2] == (c & 0xFF) && f[n - 1] == (c >> 8);
}

struct gw485_cand {
	size_t len;
	enum inv_scan kind;
};

/* The frames buf may begin with, shortest first, into c[0..2): their
 * number; -1 when a byte that sets a length has not come yet. */
static int gw485_cands(const uint8_t *buf, size_t len, struct gw485_cand *c)
{
	uint8_t fc = buf[1];
	int n = 0;

	if (fc & 0x80) {
		c[n++] = (struct gw485_cand){ GW485_EXC_LEN, INV_SCAN_OTHER };
	} else if (fc >= 1 && fc <= 4) {
		if (len < 3)
			return -1;
		unsigned nb = buf[2];
		bool ok = nb >= 1 && nb <= GW485_READ_MAX && (fc <= 2 || !(nb & 1));
		/* a reply as long as a request is taken for the request */
		if (ok && nb + 5u < GW485_REQ_LEN)
			c[n++] = (struct gw485_cand){ nb + 5u, INV_SCAN_OTHER };
		c[n++] = (struct gw485_cand){ GW485_REQ_LEN, INV_SCAN_REQUEST };
		if (ok && nb + 5u > GW485_REQ_LEN)
			c[n++] = (struct gw485_cand){ nb + 5u, INV_SCAN_OTHER };
	} else if (fc == 5 || fc == 6) {
		c[n++] = (struct gw485_cand){ GW485_REQ_LEN, INV_SCAN_REQUEST }; /* the reply echoes it */
	} else if (fc == 15 || fc == 16) {
		if (len < 7)
			return -1;
		c[n++] = (struct gw485_cand){ GW485_REQ_LEN, INV_SCAN_OTHER }; /* the reply */
		if (buf[6] >= 1 && buf[6] <= GW485_WRITE_MAX)
			c[n++] = (struct gw485_cand){ buf[6] + 9u, INV_SCAN_REQUEST };
	}
	return n;
}

static enum inv_scan gw485_scan(const uint8_t *buf, size_t len, size_t *n)
{
	struct gw485_cand c[3];
	int nc;

	*n = 0;
	if (len < 2)
		return INV_SCAN_MORE;
	nc = gw485_cands(buf, len, c);
	if (nc < 0)
		return INV_SCAN_MORE;
	for (int i = 0; i < nc; i++) {
		if (len < c[i].len)
			return INV_SCAN_MORE; /* the shorter ones failed: this one may hold */
		if (gw485_crc_ok(buf, c[i].len)) {
			*n = c[i].len;
			return c[i].kind;
		}
	}
	*n = 1;
	return nc ? INV_SCAN_BAD_CHECKSUM : INV_SCAN_NOISE;
}

/* ---- the answer ---- */

/* The 19 registers from b. */
static void gw485_image(const struct inv_battery *b, uint16_t *r, struct inv_encoded *e)
{
	memset(r, 0, GW485_REGS * sizeof(*r));
	if (inv_has(b, INV_HAS_VOLTAGE, b->voltage))
		r[GW485_REG_VOLT] = (uint16_t)inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF);
	if (inv_has(b, INV_HAS_SOC, b->soc))
		r[GW485_REG_SOC] = (uint16_t)inv_scale(b->soc, 1, INV_FLOOR, 0, 100);
	if (b->present & INV_HAS_LIMITS) {
		/* a direction not allowed (and every current while stale) is 0 */
		r[GW485_REG_CCL] = (uint16_t)(b->charge_allowed ? inv_scale(b->ccl_a, 100, INV_DOWN, 0, 0xFFFF) : 0);
		r[GW485_REG_DCL] = (uint16_t)(b->discharge_allowed ? inv_scale(b->dcl_a, 100, INV_DOWN, 0, 0xFFFF) : 0);
	}
	e->ccl_a = r[GW485_REG_CCL] / 100.0f;
	e->dcl_a = r[GW485_REG_DCL] / 100.0f;
}

static int gw485_crc_end(uint8_t *out, size_t k)
{
	uint16_t c = bms_crc16_modbus(out, k);
	out[k] = (uint8_t)(c & 0xFF);
	out[k + 1] = (uint8_t)(c >> 8);
	return (int)k + 2;
}

static int gw485_exception(const uint8_t *req, uint8_t code, uint8_t *out, size_t cap)
{
	if (cap < GW485_EXC_LEN)
		return -1;
	out[0] = req[0];
	out[1] = (uint8_t)(req[1] | 0x80);
	out[2] = code;
	return gw485_crc_end(out, 3);
}

static bool gw485_ours(const struct conf_inverter *c, const uint8_t *req, size_t n)
{
	return n >= GW485_REQ_LEN && req[0] == c->address;
}

static int gw485_answer(const struct conf_inverter *c, const struct inv_battery *b, const uint8_t *req, size_t n,
			uint8_t *out, size_t cap, struct inv_encoded *e)
{
	uint16_t r[GW485_REGS];

	memset(e, 0, sizeof(*e));
	/* not ours; or no data (the output answers nothing before the
	 * source's first data: zeros are never sent as data) */
	if (!gw485_ours(c, req, n) || !(b->present & INV_HAS_LIMITS) || !(b->present & INV_HAS_SOC))
		return 0;
	if (req[1] != 3 && req[1] != 4)
		return gw485_exception(req, GW485_EX_FUNCTION, out, cap);
	unsigned start = (unsigned)req[2] << 8 | req[3], qty = (unsigned)req[4] << 8 | req[5];
	if (qty < 1 || qty > GW485_QTY_MAX)
		return gw485_exception(req, GW485_EX_VALUE, out, cap);
	if (start + qty > GW485_REGS)
		return gw485_exception(req, GW485_EX_ADDRESS, out, cap);
	if (cap < 5 + 2 * (size_t)qty)
		return -1;
	struct inv_encoded got;
	gw485_image(b, r, &got);
	out[0] = req[0];
	out[1] = req[1];
	out[2] = (uint8_t)(2 * qty);
	for (unsigned i = 0; i < qty; i++) {
		out[3 + 2 * i] = (uint8_t)(r[start + i] >> 8);
		out[4 + 2 * i] = (uint8_t)(r[start + i] & 0xFF);
	}
	/* the limits it told: only an answer with both current registers */
	if (start <= GW485_REG_CCL && start + qty > GW485_REG_DCL) {
		*e = got;
		e->limits = true;
	}
	return gw485_crc_end(out, 3 + 2 * (size_t)qty);
}

const struct inv_codec inv_codec_growatt_rs485 = {
	.name = "growatt-rs485",
	.rs485 = {
		.scan = gw485_scan,
		.ours = gw485_ours,
		.answer = gw485_answer,
	},
};
