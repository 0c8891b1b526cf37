/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_victron_ble.c - libFuzzer target: whole polls of the
 * listen-only Victron Instant Readout driver (BMS_ADV records of company
 * 0x02E1, AES-128-CTR with the pack's key), driven the way gateway/poll/poller.c
 * drives a listen_only driver (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 0 invert_current, bits 1..2 retries, bit 3 the pack has
 *		a key, bit 4 the key is the next 16 bytes (else the published
 *		test key aff4d099...), bit 5 clear the rx buffer between polls
 *	then events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFF	a synthesised advertisement encrypted with the pack's
 *			key: the next byte K gives the plaintext length (K & 31,
 *			more than one AES block included), bit 5 another record
 *			type than 0x02, bit 6 a wrong key-check byte, bit 7 a
 *			record of another company; then the nonce (2 bytes)
 *			and the plaintext come from the input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "fuzz_drive.h"

static const uint8_t test_key[16] = {
	0xaf, 0xf4, 0xd0, 0x99, 0x5b, 0x7d, 0x1e, 0x17, 0x6c, 0x0c, 0x33, 0xec, 0xb9, 0xe7, 0x0d, 0xcd,
};

static size_t vic_config(struct fd *s, const uint8_t *data, size_t size)
{
	size_t k = 1;
	if (size < 1)
		return 0;
	s->invert = data[0] & 1;
	s->retries = (data[0] >> 1) & 3;
	s->have_key = (data[0] & 8) != 0;
	memcpy(s->key, test_key, 16);
	if (data[0] & 16) {
		if (size < 17)
			return 0;
		memcpy(s->key, data + 1, 16);
		k += 16;
	}
	s->keep_rx = (data[0] & 32) == 0;
	s->link = BMS_LINK_BLE;
	return k;
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

static size_t vic_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t rec[5 + 8 + 32], plain[32];
	size_t used = 0;

	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail < 3)
		return FD_NOT_MINE;
	uint8_t k = p[used++];
	size_t n = k & 31;
	uint8_t nonce0 = p[used++], nonce1 = p[used++];
	memset(plain, 0, sizeof(plain));
	for (size_t i = 0; i < n && used < avail; i++)
		plain[i] = p[used++];
	uint16_t company = (k & 0x80) ? 0x004C : 0x02E1;
	rec[0] = BMS_ADV_MAGIC0;
	rec[1] = BMS_ADV_MAGIC1;
	rec[2] = (uint8_t)company;
	rec[3] = (uint8_t)(company >> 8);
	rec[4] = (uint8_t)(8 + n);
	uint8_t *d = rec + 5;
	d[0] = 0x10;
	d[1] = 0x02;
	d[2] = 0x89;
	d[3] = 0xA3;
	d[4] = (k & 0x20) ? 0x01 : 0x02;
	d[5] = nonce0;
	d[6] = nonce1;
	d[7] = (uint8_t)(s->key[0] ^ ((k & 0x40) ? 0x5A : 0));
	uint8_t ctr[16] = { nonce0, nonce1 };
	ctr_crypt128(s->key, ctr, plain, n, d + 8);
	fd_bytes(s, rec, 5 + 8 + n);
	return used;
}

static void vic_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && fabsf(sn->voltage) <= 327.68f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 2097.152f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	REQUIRE(((sn->present & BMS_HAS_TEMPS) != 0) == (sn->ntemps == 1));
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -273.2f && sn->temp_c[i] <= 382.3f);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 1);
}

/* a frame is one record of Victron's company, whole */
static void vic_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 5 && f[0] == BMS_ADV_MAGIC0 && f[1] == BMS_ADV_MAGIC1 && f[2] == 0xE1 && f[3] == 0x02 &&
		n == 5u + f[4]);
}

/* data only with the right key-check byte */
static void vic_handled(const struct fd *s, int rc, size_t n)
{
	(void)n;
	if (rc == BMS_OK)
		REQUIRE(s->have_key);
	if (!s->have_key)
		REQUIRE(rc != BMS_OK && s->poll.snap.present == 0);
}

static const struct fd_target victron_ble = {
	.drv = &bms_victron_ble_driver,
	.config = vic_config,
	.event = vic_event,
	.max_cells = 0,
	.max_temps = 1,
	.max_raw = 1,
	.max_state = 0,
	/* a shunt: none of these, ever */
	.never = BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN | BMS_HAS_FULL |
		 BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_CYCLES | BMS_HAS_SETPOINT,
	.snap = vic_snap,
	.frame = vic_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_KEY) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_ANY,
	.handled = vic_handled,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(victron_ble.drv->listen_only && victron_ble.drv->next_request == NULL);
	REQUIRE(victron_ble.drv->ble->company == 0x02E1);
	return fd_run(&victron_ble, data, size);
}
