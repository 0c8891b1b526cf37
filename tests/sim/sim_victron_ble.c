/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_victron_ble.c - a Victron SmartShunt's Bluetooth LE
 * "Instant Readout" advertisements, as a fake BlueZ bridges them to a TCP
 * port: one record a second, unasked, in the framing the BLE transport
 * hands a listen-only driver (bms/bms.h):
 *	AD 5E E1 02 <n> <manufacturer data, n bytes>
 * bms/PROTOCOLS.md §16.  The manufacturer data is a product advertisement
 * of a SmartShunt 500A/50mV:
 *	10 02 89 A3 02 <nonce, LE16> <key[0]> <15 bytes AES-128-CTR>
 * encrypted with the pack's key (pack option key=32 hex digits; default the
 * key keshavdv/victron-ble publishes with its test vector), counter block =
 * nonce (little-endian) then zeros; the nonce counts up from a random start.
 * Plaintext, bit 0 of byte 0 first: time to go (min; NA unless
 * discharging), voltage 0.01 V (the sum of the cells), alarm reason
 * (alarm bytes 0 / 1), aux value and mode 2 (temperature, temp_c[0] in 0.01
 * K), current mA (+ = charging), consumed Ah 0.1 Ah (capacity x (1 - SOC),
 * as -raw), SOC 0.1 %, the 2 unused bits set.  Nothing is answered: bytes
 * from the gateway are ignored.  A fault's COUNT counts advertisements;
 * `echo` does nothing; `badsum` spoils the key-check byte (a record has no
 * checksum: this is what a record of another key looks like).  The view: voltage, current, SOC, the temperature,
 * the alarm reason; a shunt has no cells, MOSFETs or capacities.
 * Encrypted here with OpenSSL's EVP; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define VB_PLAIN 15

struct vb_raw {
	unsigned ttg;          /* min, 0xFFFF = NA */
	long v_cv;             /* 0.01 V */
	unsigned ar;
	unsigned temp_ck;      /* 0.01 K */
	long i_ma;
	unsigned long consumed_dah; /* 0.1 Ah, the record's raw (value = -raw) */
	unsigned soc_pm;
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void vb_quantise(const struct sim_pack *p, struct vb_raw *r)
{
	memset(r, 0, sizeof *r);
	long sum = 0;
	for (int i = 0; i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	r->v_cv = clampl(lround(sum / 10.0), 0, 0x7FFE);
	r->i_ma = clampl(lround(p->current * 1000.0), -0x1FFFFF, 0x1FFFFE);
	r->soc_pm = (unsigned)clampl(lround(p->soc * 10.0), 0, 1000);
	r->consumed_dah = (unsigned long)clampl(lround(p->capacity_ah * 10.0 * (1000 - r->soc_pm) / 1000.0), 0, 0xFFFFE);
	r->temp_ck = (unsigned)clampl(lround((p->temp_c[0] + 273.15) * 100.0), 0, 0xFFFE);
	r->ar = (unsigned)p->alarm[0] | (unsigned)p->alarm[1] << 8;
	if (r->i_ma < 0) {
		double rem_mah = p->capacity_ah * 1000.0 * r->soc_pm / 1000.0;
		r->ttg = (unsigned)clampl(lround(rem_mah / (double)-r->i_ma * 60.0), 0, 0xFFFE);
	} else {
		r->ttg = 0xFFFF;
	}
}

static void vb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct vb_raw r;
	vb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.v_cv / 100.0;
	v->current = r.i_ma / 1000.0;
	v->soc = r.soc_pm / 10.0;
	v->ntemps = 1;
	v->temp_c[0] = p->temp_c[0];
	v->nalarm = 2;
	v->alarm[0] = p->alarm[0];
	v->alarm[1] = p->alarm[1];
}

static void put_bits(uint8_t *b, unsigned start, unsigned n, unsigned long v)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned k = start + i;
		if (v & (1ul << i))
			b[k / 8] |= (uint8_t)(1u << (k % 8));
	}
}

/* AES-128-CTR (OpenSSL's EVP) of in[0..n) under k from counter block ctr */
static void ctr_crypt128(const uint8_t *k, const uint8_t ctr[16], const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len;
	if (!c || EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, k, ctr) != 1 || EVP_EncryptUpdate(c, out, &len, in, (int)n) != 1)
		abort();
	EVP_CIPHER_CTX_free(c);
}

static enum sim_resp vb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct vb_raw r;
	uint8_t plain[VB_PLAIN];
	uint8_t rec[5 + 8 + VB_PLAIN];

	if (p->counter == 0)
		p->counter = (unsigned)sim_rand_range(1, 0xFFFF);
	uint16_t nonce = (uint16_t)p->counter++;
	vb_quantise(p, &r);
	memset(plain, 0, sizeof plain);
	put_bits(plain, 0, 16, r.ttg);
	put_bits(plain, 16, 16, (unsigned long)(uint16_t)(int16_t)r.v_cv);
	put_bits(plain, 32, 16, r.ar);
	put_bits(plain, 48, 16, r.temp_ck);
	put_bits(plain, 64, 2, 2); /* aux input: temperature */
	put_bits(plain, 66, 22, (unsigned long)r.i_ma & 0x3FFFFFul);
	put_bits(plain, 88, 20, r.consumed_dah);
	put_bits(plain, 108, 10, r.soc_pm);
	put_bits(plain, 118, 2, 3); /* unused bits set */

	rec[0] = 0xAD;
	rec[1] = 0x5E;
	rec[2] = 0xE1; /* company 0x02E1, Victron Energy */
	rec[3] = 0x02;
	rec[4] = 8 + VB_PLAIN;
	uint8_t *d = rec + 5;
	d[0] = 0x10;  /* product advertisement */
	d[1] = 0x02;
	d[2] = 0x89;  /* product 0xA389, SmartShunt 500A/50mV */
	d[3] = 0xA3;
	d[4] = 0x02;  /* record type: battery monitor */
	d[5] = (uint8_t)nonce;
	d[6] = (uint8_t)(nonce >> 8);
	d[7] = p->key[0];
	uint8_t ctr[16] = { d[5], d[6] };
	ctr_crypt128(p->key, ctr, plain, VB_PLAIN, d + 8);
	sim_reply_add(reply, rec, sizeof rec);
	return SIM_RESP_OK;
}

/* Nothing is a request: every byte is skipped, uncounted. */
static enum sim_scan vb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_SKIP;
}

static int vb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return -1;
}

static enum sim_resp vb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_NONE;
}

/* badsum: a record has no checksum; its key-check byte is spoiled, as in
 * a record encrypted with another key (which a gateway can tell) */
static void vb_corrupt(uint8_t *frame, size_t n)
{
	if (n > 12)
		frame[12] ^= 0xFF;
}

const struct sim_proto sim_proto_victron_ble = {
	.name = "victron-ble",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per MAC */
	.max_cells = SIM_MAX_CELLS,
	.max_temps = 1,
	.scan = vb_scan,
	.address = vb_address,
	.respond = vb_respond,
	.view = vb_view,
	.corrupt = vb_corrupt,
	.emit = vb_emit,
	.emit_ms = 1000,
};
