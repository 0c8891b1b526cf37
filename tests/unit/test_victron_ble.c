/* SPDX-License-Identifier: MIT */
/* tests/unit/test_victron_ble.c - Victron Instant Readout (bms/victron_ble.c):
 * the victron rows of tests/fixtures/vectors.tsv (two advertisements of a
 * SmartShunt 500A/50mV and its published key) as BMS_ADV records through
 * scan() + handle(), in every chunking; a wrong key, no key, truncated
 * records, other record types and other companies; the aux-input modes, NA
 * values and alarm bits on records encrypted here (synthetic).  Protocol
 * facts: bms/PROTOCOLS.md §16. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/victron_ble.h"
#include "check.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <stdint.h>

static const struct bms_driver *const drv = &bms_victron_ble_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family victron: "key -> manufacturer data"
 * (VIC_01 = row VIC-01 ...) */
#define VIC_KEY "aff4d0995b7d1e176c0c33ecb9e70dcd"
#define VIC_01 "100289a302b040af925d09a4d89aa0128bdef48c6298a9"
#define VIC_02 "100289a302bb01af129087600b9b97bc2c32867c8238da"
/* Not rows: decrypted battery-monitor records of keshavdv/victron-ble's
 * tests (aux input mid-point, starter, temperature at NA) */
#define VIC_PLAIN_MID "ffffe6040000feff010000000080fe0c"
#define VIC_PLAIN_STARTER "ffffe6040000feff000000000080feac"
#define VIC_PLAIN_TEMP_NA "ffffe6040000ffff020000000080fede"

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

static uint8_t key[16];

/* A BMS_ADV record of company `company` around data[0..n). */
static size_t mk_rec(uint8_t *out, uint16_t company, const uint8_t *data, size_t n)
{
	out[0] = BMS_ADV_MAGIC0;
	out[1] = BMS_ADV_MAGIC1;
	out[2] = (uint8_t)company;
	out[3] = (uint8_t)(company >> 8);
	out[4] = (uint8_t)n;
	memcpy(out + BMS_ADV_HDR, data, n);
	return BMS_ADV_HDR + n;
}

static size_t rec_hex(uint8_t *out, const char *hex)
{
	uint8_t d[64];
	int n = drive_hex(hex, d, (int)sizeof(d));
	return mk_rec(out, 0x02E1, d, (size_t)n);
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

/* A SmartShunt advertisement (product 0xA389, battery monitor) of plaintext
 * p[0..n) under `k` with nonce `nonce`: the manufacturer data, as a record. */
static size_t mk_adv(uint8_t *out, const uint8_t *k, uint16_t nonce, const uint8_t *p, size_t n)
{
	uint8_t d[64] = { 0x10, 0x02, 0x89, 0xA3, 0x02, (uint8_t)nonce, (uint8_t)(nonce >> 8), k[0] };
	uint8_t ctr[16] = { (uint8_t)nonce, (uint8_t)(nonce >> 8) };
	ctr_crypt128(k, ctr, p, n, d + 8);
	return mk_rec(out, 0x02E1, d, 8 + n);
}

/* n bits of v into p at bit `start`, least significant first. */
static void put_bits(uint8_t *p, unsigned start, unsigned n, uint32_t v)
{
	for (unsigned b = 0; b < n; b++) {
		unsigned i = start + b;
		if (v & (1u << b))
			p[i / 8] |= (uint8_t)(1u << (i % 8));
		else
			p[i / 8] &= (uint8_t)~(1u << (i % 8));
	}
}

static void begin(struct bms_poll *poll, struct bms_rx *rx, bool inv, bool have_key)
{
	drive_begin_link(poll, rx, 0, 0, inv, BMS_LINK_BLE, false);
	poll->have_key = have_key;
	memcpy(poll->key, key, 16);
}

/* What the poll keeps beside its snapshot (bms/victron_ble.h). */
static const struct vic_state *kept_of(const struct bms_poll *poll)
{
	return BMS_PRIV(poll, struct vic_state);
}

static void check_01(const struct bms_poll *poll, bool inv)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->voltage, 12.53, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	(void)inv;
	CHECK_NEAR(s->soc, 50.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_ALARMS);
	/* consumed -50.0 Ah; no time to go (NA); aux input none */
	CHECK_EQ_INT(kept_of(poll)->have, VIC_S_CONSUMED);
	CHECK_EQ_INT(kept_of(poll)->consumed_dah, -500);
	CHECK_EQ_INT(kept_of(poll)->aux_mode, VIC_AUX_NONE);
	CHECK_EQ_INT(kept_of(poll)->nonce, 0x40B0); /* the nonce */
}

static void test_table(void)
{
	CHECK_STR(drv->name, "victron-ble");
	CHECK_EQ_INT(drv->protocol_id, 12);
	CHECK(bms_find("victron-ble") == drv);
	CHECK(drv->listen_only && drv->next_request == NULL);
	CHECK(bms_ble_only(drv));
	CHECK_EQ_INT(drv->ble->company, 0x02E1);
	CHECK(drv->ble->gatt == NULL);
	CHECK(drv->listens == NULL);
	CHECK(drv->control == NULL);
	CHECK(!(drv->provides & (BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_REMAIN | BMS_HAS_FULL)));
}

/* The published vector (keshavdv/victron-ble's end-to-end test) and a
 * second advertisement of the same SmartShunt. */
static void test_vectors(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t rec[64];
	size_t n = rec_hex(rec, VIC_01);
	CHECK_EQ_INT(n, 28);

	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 3; k++)
		for (int inv = 0; inv < 2; inv++) {
			begin(&poll, &rx, inv, true);
			struct drive_res r = drive_feed_bytes(&poll, &rx, rec, n, chs[k], nchs[k]);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan, 0);
			CHECK_EQ_INT(r.done_at, n);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			check_01(&poll, inv);
		}
	/* every split into two pieces */
	for (size_t k = 1; k < n; k++) {
		const size_t two[] = { k, n - k };
		begin(&poll, &rx, false, true);
		struct drive_res r = FEED_BYTES(&poll, &rx, rec, n, two);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	check_01(&poll, false);

	/* VIC-02: 12.54 V, 0 A, SOC 100.0 %, 0.0 Ah consumed; aux input
	 * temperature but NA (0xFFFF): no temperature */
	n = rec_hex(rec, VIC_02);
	begin(&poll, &rx, false, true);
	struct drive_res r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 12.54, 1e-4);
	CHECK_NEAR(poll.snap.current, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-4);
	CHECK_EQ_INT(poll.snap.ntemps, 0);
	CHECK(!(poll.snap.present & BMS_HAS_TEMPS));
	CHECK_EQ_INT(kept_of(&poll)->aux_mode, VIC_AUX_TEMP);
	CHECK_EQ_INT(kept_of(&poll)->have, VIC_S_CONSUMED);
	CHECK_EQ_INT(kept_of(&poll)->consumed_dah, 0);
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, 0.0, 1e-6);

	/* two advertisements in one read: the first completes the poll */
	uint8_t two[128];
	size_t n1 = rec_hex(two, VIC_01);
	size_t n2 = rec_hex(two + n1, VIC_02);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, two, n1 + n2, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.done_at, n1);
	check_01(&poll, false);
}

/* A wrong key, no key: a clear error (BMS_E_KEY), never data. */
static void test_keys(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t rec[64];
	size_t n = rec_hex(rec, VIC_02);
	uint8_t good[16];
	memcpy(good, key, 16);

	/* keshavdv/victron-ble's mismatch test: key ff...ff */
	memset(key, 0xFF, 16);
	begin(&poll, &rx, false, true);
	struct drive_res r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_KEY);
	CHECK_EQ_INT(poll.snap.present, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* no key configured */
	memcpy(key, good, 16);
	begin(&poll, &rx, false, false);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_KEY);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* the right first byte, the rest wrong: decrypts, to nonsense (only
	 * key[0] can be checked) - but never to a crash */
	key[15] ^= 0x5A;
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	memcpy(key, good, 16);
}

/* Truncated records, other kinds of advertisement, other companies,
 * garbage between records. */
static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t d[64], rec[64], buf[256];
	int dn = drive_hex(VIC_01, d, (int)sizeof(d));
	size_t n;
	struct drive_res r;

	/* shorter than the header, than voltage and current */
	static const int cut[] = { 0, 1, 5, 7, 8, 12, 18 };
	for (size_t k = 0; k < sizeof(cut) / sizeof(cut[0]); k++) {
		n = mk_rec(rec, 0x02E1, d, (size_t)cut[k]);
		begin(&poll, &rx, false, true);
		r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
		CHECK_EQ_INT(r.ok, 0);
		if (cut[k] == 0 || (cut[k] >= 1 && d[0] != 0x10))
			CHECK_EQ_INT(r.unexpected + r.err, 1);
		else
			CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	}
	/* 19 bytes: voltage and current there, SOC and consumed not */
	n = mk_rec(rec, 0x02E1, d, 19);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 12.53, 1e-4);
	CHECK(!(poll.snap.present & BMS_HAS_SOC));
	CHECK_EQ_INT(kept_of(&poll)->have, 0);
	/* a record cut short in the stream: waits for the rest */
	n = rec_hex(rec, VIC_01);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n - 1, chunks_big);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(rx.len, n - 1);
	/* another record type (0x01 solar charger): not a battery monitor */
	uint8_t o[64];
	memcpy(o, d, (size_t)dn);
	o[4] = 0x01;
	n = mk_rec(rec, 0x02E1, o, (size_t)dn);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.last_err, BMS_E_HEADER);
	/* other Victron manufacturer data (not 0x10): ignored, keep listening */
	memcpy(o, d, (size_t)dn);
	o[0] = 0x11;
	n = mk_rec(rec, 0x02E1, o, (size_t)dn);
	size_t m = rec_hex(rec + n, VIC_01);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n + m, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);
	check_01(&poll, false);
	/* another company's record is skipped whole; garbage byte by byte */
	size_t len = mk_rec(buf, 0x004C, d, (size_t)dn);
	memcpy(buf + len, "\x01\xAD\xAD\x5F\x00", 5);
	len += 5;
	len += rec_hex(buf + len, VIC_01);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, buf, len, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err + r.bad_scan, 0);
	check_01(&poll, false);
	/* handed straight to handle(): wrong length, magic, company */
	n = rec_hex(rec, VIC_01);
	begin(&poll, &rx, false, true);
	CHECK_EQ_INT(drv->handle(&poll, rec, n - 1), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, rec, 4), BMS_E_SHORT);
	rec[1] = 0x5F;
	CHECK_EQ_INT(drv->handle(&poll, rec, n), BMS_E_HEADER);
	rec[1] = BMS_ADV_MAGIC1;
	rec[2] = 0x4C;
	CHECK_EQ_INT(drv->handle(&poll, rec, n), BMS_E_UNEXPECTED);
}

/* Records encrypted here (synthetic): the aux modes, NA values, alarms,
 * signs, a record longer than one AES block. */
static void test_fields(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t p[32], rec[64];
	size_t n;
	struct drive_res r;

	/* victron-ble's decrypted mid-point record: 655.34 V mid-point */
	int pn = drive_hex(VIC_PLAIN_MID, p, (int)sizeof(p));
	n = mk_adv(rec, key, 0x1234, p, (size_t)pn);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(kept_of(&poll)->aux_mode, VIC_AUX_MIDPOINT);
	CHECK(kept_of(&poll)->have & VIC_S_MIDPOINT);
	CHECK_EQ_INT(kept_of(&poll)->aux_cv, 65534);
	CHECK_NEAR(poll.snap.voltage, 12.54, 1e-4);
	CHECK_EQ_INT(kept_of(&poll)->nonce, 0x1234);
	/* starter voltage -0.02 V (signed) */
	pn = drive_hex(VIC_PLAIN_STARTER, p, (int)sizeof(p));
	n = mk_adv(rec, key, 0xFFFF, p, (size_t)pn);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(kept_of(&poll)->aux_mode, VIC_AUX_STARTER);
	CHECK(kept_of(&poll)->have & VIC_S_STARTER);
	CHECK_EQ_INT((int16_t)kept_of(&poll)->aux_cv, -2);
	/* temperature 0xFFFF: NA (victron-ble would say 382.2 degC) */
	pn = drive_hex(VIC_PLAIN_TEMP_NA, p, (int)sizeof(p));
	n = mk_adv(rec, key, 7, p, (size_t)pn);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ntemps, 0);

	/* a full record: TTG 123 min, 25.60 V, alarm low SOC + BMS lockout,
	 * 25.0 degC (29815 = 298.15 K), -4.321 A, -12.5 Ah consumed, SOC
	 * 87.6 %; the unused bits set */
	memset(p, 0, sizeof(p));
	uint32_t fields[][3] = {
		{ 0, 16, 123 }, { 16, 16, 2560 }, { 32, 16, (1u << 2) | (1u << 13) }, { 48, 16, 29815 },
		{ 64, 2, 2 }, { 66, 22, (uint32_t)(-4321) & 0x3FFFFF }, { 88, 20, 125 }, { 108, 10, 876 },
		{ 118, 2, 3 },
	};
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		put_bits(p, fields[k][0], fields[k][1], fields[k][2]);
	for (int inv = 0; inv < 2; inv++) {
		n = mk_adv(rec, key, 0x0102, p, 15);
		begin(&poll, &rx, inv, true);
		r = FEED_BYTES(&poll, &rx, rec, n, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_NEAR(s->voltage, 25.60, 1e-4);
		CHECK_NEAR(s->current, inv ? 4.321 : -4.321, 1e-4);
		CHECK_NEAR(s->soc, 87.6, 1e-4);
		CHECK_EQ_INT(s->ntemps, 1);
		CHECK_NEAR(s->temp_c[0], 25.0, 1e-3);
		CHECK_EQ_INT(s->raw_alarms[0], 0x2004);
		CHECK_EQ_INT(s->alarms, BMS_AL_SOC_LOW | BMS_AL_PROTECTION);
		CHECK_EQ_INT(kept_of(&poll)->have, VIC_S_TTG | VIC_S_CONSUMED);
		CHECK_EQ_INT(kept_of(&poll)->ttg_min, 123);
		CHECK_EQ_INT(kept_of(&poll)->consumed_dah, -125);
	}
	/* longer than one AES block: only the first 16 bytes count */
	p[15] = 0xAA;
	p[16] = 0x55;
	n = mk_adv(rec, key, 0x0102, p, 18);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.voltage, 25.60, 1e-4);
	/* every field NA: absent, and the sample unusable */
	memset(p, 0xFF, sizeof(p));
	put_bits(p, 16, 16, 0x7FFF);
	put_bits(p, 64, 2, 2); /* a temperature, NA */
	n = mk_adv(rec, key, 3, p, 15);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(!(poll.snap.present & (BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_TEMPS)));
	CHECK_EQ_INT(kept_of(&poll)->have, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* SOC beyond 100.0 %: read as 100; 0 V: no data */
	memset(p, 0, sizeof(p));
	put_bits(p, 108, 10, 1008);
	n = mk_adv(rec, key, 4, p, 15);
	begin(&poll, &rx, false, true);
	r = FEED_BYTES(&poll, &rx, rec, n, chunks_big);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	CHECK_EQ_INT(check_hex(VIC_KEY, key, 16), 16);
	test_table();
	test_vectors();
	test_keys();
	test_broken();
	test_fields();
	return check_report();
}
