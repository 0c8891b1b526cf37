/* SPDX-License-Identifier: MIT */
/* bms/victron_ble.c - Victron SmartShunt / BMV battery monitors over
 * Bluetooth LE: "Instant Readout" advertisements (listen only).
 *
 * See bms/PROTOCOLS.md §16.  Nothing is connected to and nothing is sent:
 * the device advertises its readings about once a second as manufacturer
 * data of company 0x02E1 (Victron Energy), AES-128-CTR encrypted with the
 * device's 16-byte "advertisement key" (VictronConnect: Product info ->
 * Instant readout via Bluetooth -> Show; the pack's `key =`).  The BLE
 * transport hands each advertisement to scan() as a record (bms.h):
 *	AD 5E <company, LE16> <n> <manufacturer data, n bytes>
 * and the manufacturer data of a product advertisement is
 *	10 <?> <product id, LE16> <record type> <nonce, LE16> <key[0]> <ciphertext>
 * Record type 0x02 is a battery monitor.  The ciphertext is decrypted with
 * AES-128-CTR, the initial counter block being the nonce (little-endian)
 * followed by 14 zero bytes (OpenSSL's EVP_aes_128_ctr);
 * a record holds at most 16 bytes (one AES block; Victron: "at the moment
 * true for all records"), more are ignored.  The plaintext is a bit field,
 * least significant bit of byte 0 first:
 *	bits 0-15 time to go (min, NA 0xFFFF), 16-31 voltage (signed, 0.01 V,
 *	NA 0x7FFF), 32-47 alarm reason, 48-63 aux value, 64-65 aux mode (0
 *	starter voltage, signed 0.01 V, NA 0x7FFF; 1 mid-point voltage,
 *	0.01 V, NA 0xFFFF; 2 temperature, 0.01 K, NA 0xFFFF; 3 none), 66-87
 *	current (signed, mA, + = charging, NA 0x3FFFFF), 88-107 consumed Ah
 *	(0.1 Ah, value = -raw, NA 0xFFFFF), 108-117 SOC (0.1 %, NA 0x3FF).
 * A field the record is too short for, or NA, stays absent.  Voltage and
 * current must be there (11 bytes of plaintext), else the record is short.
 *
 * Checks, and what each answer means:
 *	not 0x10 (another kind of Victron manufacturer data)	ignored
 *	a record type other than 0x02 (not a battery monitor)	BMS_E_HEADER
 *	key[0] differs from the record's, or the pack has no key	BMS_E_KEY
 *	shorter than the header plus voltage and current	BMS_E_SHORT
 * A record with the right key byte but another key decrypts to nonsense:
 * only one byte of the key can be checked (Victron's design).
 *
 * Decoded into the snapshot: voltage, current, SOC, the temperature (aux
 * mode 2, as temp_c[0]), the alarm reason (mapped as VE.Direct's AR,
 * raw_alarms[0]).  The snapshot has no fields for the others: they are
 * kept in the driver's state, struct vic_state (bms/victron_ble.h): which
 * came, the aux mode, time to go, consumed Ah, the starter or mid-point
 * voltage, and the record's nonce.
 * A shunt has no cells, MOSFETs, balancing or capacities.  One record
 * completes a poll.
 */
#include "bms.h"

#include <openssl/evp.h>
#include <string.h>

#include "drivers.h"
#include "victron_ble.h"

#define VIC_COMPANY 0x02E1
#define VIC_PRODUCT_ADV 0x10        /* manufacturer data: product advertisement */
#define VIC_REC_BATTERY_MONITOR 0x02
#define VIC_HDR 8                   /* manufacturer data before the ciphertext */
#define VIC_MIN_PLAIN 11            /* bits 0..87: up to the current */
#define VIC_BLOCK 16                /* one AES block */

enum {
	VIC_O_PRODUCT = 2,
	VIC_O_TYPE = 4,
	VIC_O_NONCE = 5,
	VIC_O_KEYCHECK = 7,
};

/* Alarm reason bit n -> normalised alarms, as VE.Direct's AR (§12): 0 low
 * voltage, 1 high voltage, 2 low SOC, 3/4 low/high starter voltage, 5/6
 * low/high temperature, 7 mid-point voltage, 8 overload, 9 DC ripple,
 * 10/11 low/high AC out, 12 short circuit, 13 BMS lockout. */
static const uint32_t vic_alarm_map[16] = {
	BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_SOC_LOW, BMS_AL_OTHER,
	BMS_AL_OTHER, BMS_AL_CHG_UT | BMS_AL_DSG_UT, BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_CELL_DIFF,
	BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER,
	BMS_AL_SHORT, BMS_AL_PROTECTION, BMS_AL_OTHER, BMS_AL_OTHER,
};

/* Records: BMS_ADV_MAGIC0 MAGIC1, company, length, data.  Another
 * company's record is skipped whole, anything else byte by byte. */
static enum bms_scan vic_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, BMS_ADV_MAGIC0, &r, n))
		return r;
	if (len > 1 && buf[1] != BMS_ADV_MAGIC1) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < BMS_ADV_HDR)
		return BMS_SCAN_NEED;
	size_t total = BMS_ADV_HDR + (size_t)buf[4];
	if (len < total)
		return BMS_SCAN_NEED;
	*n = total;
	return bms_le16(buf + 2) == VIC_COMPANY ? BMS_SCAN_FRAME : BMS_SCAN_SKIP;
}

/* n bits from bit `start` of p[0..len), least significant first; false
 * when the record is too short for them. */
static bool vic_bits(const uint8_t *p, size_t len, unsigned start, unsigned n, uint32_t *v)
{
	if ((start + n + 7) / 8 > len)
		return false;
	uint32_t x = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned b = start + i;
		x |= (uint32_t)((p[b / 8] >> (b % 8)) & 1u) << i;
	}
	*v = x;
	return true;
}

static int32_t vic_signed(uint32_t v, unsigned bits)
{
	return (v & (1u << (bits - 1))) ? (int32_t)(v - (1u << bits)) : (int32_t)v;
}

/* AES-128-CTR of in[0..n) (n at most a block) under key from the counter
 * block ctr into out: 0, or -1 (no memory for the cipher's context). */
static int vic_ctr(const uint8_t *key, const uint8_t ctr[16], const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0;
	bool ok = c && EVP_DecryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, ctr) == 1 &&
		  EVP_DecryptUpdate(c, out, &len, in, (int)n) == 1 && len == (int)n;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* The battery-monitor fields of the plaintext p[0..len) into the poll. */
static void vic_decode(struct bms_poll *poll, const uint8_t *p, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	struct vic_state *st = BMS_PRIV(poll, struct vic_state);
	uint32_t v, aux, mode;

	if (vic_bits(p, len, 0, 16, &v) && v != 0xFFFF) {
		st->have |= VIC_S_TTG;
		st->ttg_min = (uint16_t)v;
	}
	if (vic_bits(p, len, 16, 16, &v) && v != 0x7FFF) {
		s->voltage = (float)vic_signed(v, 16) / 100.0f;
		s->present |= BMS_HAS_VOLTAGE;
	}
	if (vic_bits(p, len, 32, 16, &v)) {
		s->raw_alarms[0] = (uint16_t)v;
		s->nraw = 1;
		for (unsigned bit = 0; bit < 16; bit++)
			if (v & (1u << bit))
				s->alarms |= vic_alarm_map[bit];
		s->present |= BMS_HAS_ALARMS;
	}
	if (vic_bits(p, len, 48, 16, &aux) && vic_bits(p, len, 64, 2, &mode)) {
		st->aux_mode = (uint8_t)mode;
		if (mode == VIC_AUX_TEMP && aux != 0xFFFF) {
			s->temp_c[0] = (float)aux / 100.0f - 273.15f;
			s->ntemps = 1;
			s->present |= BMS_HAS_TEMPS;
		} else if (mode == VIC_AUX_STARTER && aux != 0x7FFF) {
			st->have |= VIC_S_STARTER;
			st->aux_cv = (uint16_t)aux;
		} else if (mode == VIC_AUX_MIDPOINT && aux != 0xFFFF) {
			st->have |= VIC_S_MIDPOINT;
			st->aux_cv = (uint16_t)aux;
		}
	} else {
		st->aux_mode = VIC_AUX_NONE;
	}
	if (vic_bits(p, len, 66, 22, &v) && v != 0x3FFFFF) {
		float cur = (float)vic_signed(v, 22) / 1000.0f;
		s->current = poll->invert_current ? -cur : cur;
		s->present |= BMS_HAS_CURRENT;
	}
	if (vic_bits(p, len, 88, 20, &v) && v != 0xFFFFF) {
		st->have |= VIC_S_CONSUMED;
		st->consumed_dah = -(int32_t)v;
	}
	if (vic_bits(p, len, 108, 10, &v) && v != 0x3FF) {
		s->soc = v > 1000 ? 100.0f : (float)v / 10.0f;
		s->present |= BMS_HAS_SOC;
	}
}

static int vic_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < BMS_ADV_HDR || len != BMS_ADV_HDR + (size_t)frame[4])
		return BMS_E_SHORT;
	if (frame[0] != BMS_ADV_MAGIC0 || frame[1] != BMS_ADV_MAGIC1)
		return BMS_E_HEADER;
	if (bms_le16(frame + 2) != VIC_COMPANY)
		return BMS_E_UNEXPECTED; /* another company's */

	const uint8_t *d = frame + BMS_ADV_HDR;
	size_t n = frame[4];
	if (n < 1 || d[0] != VIC_PRODUCT_ADV)
		return BMS_E_UNEXPECTED; /* not a product advertisement */
	if (n <= VIC_O_KEYCHECK)
		return BMS_E_SHORT;
	if (d[VIC_O_TYPE] != VIC_REC_BATTERY_MONITOR)
		return BMS_E_HEADER; /* the device is not a battery monitor */
	if (!poll->have_key || d[VIC_O_KEYCHECK] != poll->key[0])
		return BMS_E_KEY; /* encrypted with another key (or none configured) */
	size_t cl = n - VIC_HDR;
	if (cl < VIC_MIN_PLAIN)
		return BMS_E_SHORT;
	if (cl > VIC_BLOCK)
		cl = VIC_BLOCK;

	uint8_t ctr[16] = { d[VIC_O_NONCE], d[VIC_O_NONCE + 1] };
	uint8_t plain[VIC_BLOCK];
	if (vic_ctr(poll->key, ctr, d + VIC_HDR, cl, plain) < 0)
		return BMS_E_KEY;

	memset(&poll->snap, 0, sizeof(poll->snap));
	struct vic_state *st = BMS_PRIV(poll, struct vic_state);
	memset(st, 0, sizeof(*st));
	vic_decode(poll, plain, cl);
	st->nonce = bms_le16(d + VIC_O_NONCE);
	memset(plain, 0, sizeof(plain));
	return BMS_OK;
}

static int vic_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;

	/* the shunt is powered by the battery it measures: 0 V is no data */
	if (!(s->present & BMS_HAS_VOLTAGE) || !(s->present & BMS_HAS_CURRENT) || !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	return BMS_OK;
}

/* --ble-scan: Victron's company id in the manufacturer data ("Extra
 * manufacturer data", github.com/keshavdv/victron-ble). */
static const struct bms_ble_hint vic_ble_hints[] = {
	{0, BMS_BLE_COMPANY, NULL, NULL, VIC_COMPANY, false,
	 "Victron Instant Readout advertisements (key: VictronConnect, Product info)"},
	{0},
};

static const struct bms_ble vic_ble = {
	.only = true,
	.company = VIC_COMPANY,
	.hints = vic_ble_hints,
};

const struct bms_driver bms_victron_ble_driver = {
	.name = "victron-ble",
	.description = "Victron SmartShunt / BMV Instant Readout (Bluetooth LE advertisements, AES-CTR with the pack's key)",
	.vendor = "Victron Energy",
	.protocol_id = 12,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_TEMPS |
		BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 1.0,
	/* a SmartShunt advertises about once a second; scans lose some */
	.default_timeout = 5.0,
	.listen_only = true,
	.next_request = NULL,
	.scan = vic_scan,
	.handle = vic_handle,
	.timeout = NULL,
	.finish = vic_finish,
	.ble = &vic_ble,
};
