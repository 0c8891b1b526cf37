/* SPDX-License-Identifier: MIT */
/* gateway/inverter/mbrtu.c - the Modbus RTU pieces the RS485 slaves share
 * (mbrtu.h): the framer without timing, the CRC, the exception. */
#include "mbrtu.h"

#include "../../bms/bms.h"

#define MB_READ_BYTES_MAX 250     /* bytes of data a read answer may carry */
#define MB_WRITE_BYTES_MAX 246    /* bytes of data FC 15/16 may carry */
#define MB_RW_BYTES_MAX 242       /* bytes FC 23 may write */
#define MB_RW_COUNT_AT 10         /* FC 23: where its write byte count is */

_Static_assert(MB_READ_BYTES_MAX + 5 < INV_485_RX_MAX && MB_WRITE_BYTES_MAX + 9 < INV_485_RX_MAX &&
	       MB_RW_BYTES_MAX + 13 < INV_485_RX_MAX, "every frame the framer waits for fits the assembly buffer");

bool inv_mb_ours(const struct conf_inverter *c, const uint8_t *req, size_t n)
{
	return n >= INV_MB_REQ_LEN && c->address > 0 && req[0] == c->address;
}

unsigned inv_mb_u16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int crc_ok(const uint8_t *f, size_t n)
{
	uint16_t c = bms_crc16_modbus(f, n - 2);
	return f[n - 2] == (c & 0xFF) && f[n - 1] == (c >> 8);
}

struct cand {
	size_t len;
	enum inv_scan kind; /* MORE: the bytes that tell a length have not come yet */
};

/* A read answer's byte count: 1..250, even for registers (FC 03, 04, 23). */
static int count_ok(unsigned nb, int regs)
{
	return nb >= 1 && nb <= MB_READ_BYTES_MAX && (!regs || !(nb & 1));
}

/* FC 23: its answer (5 + count) and its request (13 + write count, at byte
 * 10), shortest first; while byte 10 has not come, the request's length is
 * unknown but at least 15: an answer shorter than that goes first, the
 * rest waits for byte 10. */
static int rw_cands(const uint8_t *buf, size_t len, struct cand *c)
{
	unsigned nb = buf[2];
	int n = 0;
	size_t al = nb + 5u;
	int ans = count_ok(nb, 1);
	if (len <= MB_RW_COUNT_AT) {
		if (ans && al < 15)
			c[n++] = (struct cand){ al, INV_SCAN_OTHER };
		c[n++] = (struct cand){ MB_RW_COUNT_AT + 1, INV_SCAN_MORE };
		return n;
	}
	unsigned wb = buf[MB_RW_COUNT_AT];
	size_t ql = wb + 13u;
	int req = wb >= 2 && wb <= MB_RW_BYTES_MAX && !(wb & 1);
	if (ans && (!req || al < ql))
		c[n++] = (struct cand){ al, INV_SCAN_OTHER };
	if (req)
		c[n++] = (struct cand){ ql, INV_SCAN_REQUEST };
	if (ans && req && al >= ql)
		c[n++] = (struct cand){ al, INV_SCAN_OTHER };
	return n;
}

/* The frames buf may begin with, shortest first, into c[0..3): their
 * number; -1 when a byte that sets a length has not come yet. */
static int cands(const uint8_t *buf, size_t len, struct cand *c)
{
	uint8_t fc = buf[1];
	int n = 0;

	if (fc & 0x80) {
		c[n++] = (struct cand){ INV_MB_EXC_LEN, INV_SCAN_OTHER };
	} else if (fc >= 1 && fc <= 4) {
		if (len < 3)
			return -1;
		unsigned nb = buf[2];
		int ok = count_ok(nb, fc > 2);
		/* an answer as long as a request is taken for the request */
		if (ok && nb + 5u < INV_MB_REQ_LEN)
			c[n++] = (struct cand){ nb + 5u, INV_SCAN_OTHER };
		c[n++] = (struct cand){ INV_MB_REQ_LEN, INV_SCAN_REQUEST };
		if (ok && nb + 5u > INV_MB_REQ_LEN)
			c[n++] = (struct cand){ nb + 5u, INV_SCAN_OTHER };
	} else if (fc == 5 || fc == 6) {
		c[n++] = (struct cand){ INV_MB_REQ_LEN, INV_SCAN_REQUEST }; /* the answer echoes it */
	} else if (fc == 15 || fc == 16) {
		if (len < 7)
			return -1;
		c[n++] = (struct cand){ INV_MB_REQ_LEN, INV_SCAN_OTHER }; /* the answer */
		if (buf[6] >= 1 && buf[6] <= MB_WRITE_BYTES_MAX)
			c[n++] = (struct cand){ buf[6] + 9u, INV_SCAN_REQUEST };
	} else if (fc == 23) {
		if (len < 3)
			return -1;
		n = rw_cands(buf, len, c);
	}
	return n;
}

/* The length of the request p[0..avail) would be by its function code
 * and counts; 0 when it is none or longer than avail. */
static size_t request_len(const uint8_t *p, size_t avail)
{
	uint8_t fc = p[1];
	size_t l = 0;
	if (fc >= 1 && fc <= 6)
		l = INV_MB_REQ_LEN;
	else if ((fc == 15 || fc == 16) && avail > 6 && p[6] >= 1 && p[6] <= MB_WRITE_BYTES_MAX)
		l = p[6] + 9u;
	else if (fc == 23 && avail > MB_RW_COUNT_AT && p[10] >= 2 && p[10] <= MB_RW_BYTES_MAX && !(p[10] & 1))
		l = p[10] + 13u;
	return l <= avail ? l : 0;
}

/* Is a whole request with a good CRC inside buf[1..end)?  Then a frame
 * from buf[0] would overlap it: buf[0] starts none (a byte lost on the
 * line cut that frame short), and the framer moves on at once instead of
 * waiting for the length a damaged byte count says. */
static int request_inside(const uint8_t *buf, size_t end)
{
	for (size_t k = 1; k + INV_MB_REQ_LEN <= end; k++) {
		size_t l = request_len(buf + k, end - k);
		if (l && crc_ok(buf + k, l))
			return 1;
	}
	return 0;
}

enum inv_scan inv_mb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	struct cand c[3];
	int nc;

	*n = 0;
	if (len < 2)
		return INV_SCAN_MORE;
	/* FC 23 while byte 10 has not come waits on a longer window (its
	 * request's length unknown): the verdict a read that ended there
	 * would have had stands, so that it does not depend on read sizes */
	if (buf[1] == 23 && len > MB_RW_COUNT_AT) {
		enum inv_scan v = inv_mb_scan(buf, MB_RW_COUNT_AT, n);
		if (v != INV_SCAN_MORE)
			return v;
	}
	nc = cands(buf, len, c);
	if (nc < 0)
		return INV_SCAN_MORE;
	for (int i = 0; i < nc; i++) {
		if (request_inside(buf, len < c[i].len ? len : c[i].len)) {
			*n = 1;
			return INV_SCAN_BAD_FORMAT;
		}
		if (len < c[i].len || c[i].kind == INV_SCAN_MORE)
			return INV_SCAN_MORE; /* the shorter ones failed: this one may hold */
		if (crc_ok(buf, c[i].len)) {
			*n = c[i].len;
			return c[i].kind;
		}
	}
	*n = 1;
	return nc ? INV_SCAN_BAD_CHECKSUM : INV_SCAN_NOISE;
}

int inv_mb_crc_end(uint8_t *out, size_t k)
{
	uint16_t c = bms_crc16_modbus(out, k);
	out[k] = (uint8_t)(c & 0xFF);
	out[k + 1] = (uint8_t)(c >> 8);
	return (int)k + 2;
}

int inv_mb_registers(const uint8_t *req, const uint16_t *r, unsigned qty, uint8_t *out, size_t cap)
{
	if (cap < 5 + 2 * (size_t)qty)
		return -1;
	out[0] = req[0];
	out[1] = req[1];
	out[2] = (uint8_t)(2 * qty);
	for (unsigned i = 0; i < qty; i++) {
		out[3 + 2 * i] = (uint8_t)(r[i] >> 8);
		out[4 + 2 * i] = (uint8_t)(r[i] & 0xFF);
	}
	return inv_mb_crc_end(out, 3 + 2 * (size_t)qty);
}

int inv_mb_exception(const uint8_t *req, uint8_t code, uint8_t *out, size_t cap)
{
	if (cap < INV_MB_EXC_LEN)
		return -1;
	out[0] = req[0];
	out[1] = (uint8_t)(req[1] | 0x80);
	out[2] = code;
	return inv_mb_crc_end(out, 3);
}
