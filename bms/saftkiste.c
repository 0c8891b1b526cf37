/* SPDX-License-Identifier: MIT */
/* bms/saftkiste.c - the Saftkiste BMS (Batterieschmiede) over Bluetooth
 * LE: its login, then two reads a poll, on the Nordic UART service.
 *
 * bms/PROTOCOLS.md §75.  Frames both ways start F0 FF <type>, values
 * little-endian, no checksum (none is known: aiobmsble checks none):
 *	login	F0 FF 10 <password, 6 ASCII> 00 E7 80 69 48	14 bytes
 *		answered F0 FF 00 ... (taken) or F0 FF 10 00 07 (refused)
 *	setup	F0 FF 43 01 01 E7 80 69 96			answered F0 FF 43 ...
 *	reads	F0 FF 02, F0 FF 03				answered 47 / 44 bytes
 * The login and the setup once a connection (again after a refusal); the
 * password is the pack's `pin`, the maker's ABC123 without one.  Decoded
 * from 0x02: design and remaining capacity (u32 mAh at 3, 7), voltage
 * (u16 mV at 13), current (s16 0.01 A at 15, + charging), four cells (u16
 * mV from 17), cycles (u16 at 25); from 0x03 the SOC (u16 0.01 % at 22).
 * The answers of the login and the setup are taken by their head alone
 * (F0 FF t: their contents are not used, their lengths not known for
 * certain); the rest of them is skipped up to the next F0 FF.
 *
 * Progress: step (SK_*; SK_BEGIN resolves to the first step the poll
 * needs); persist SK_P_AUTHED (the login was taken on this connection).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define SK_H0 0xF0
#define SK_H1 0xFF
#define SK_T_OK 0x00
#define SK_T_STATUS 0x02
#define SK_T_INFO 0x03
#define SK_T_LOGIN 0x10
#define SK_T_SETUP 0x43
#define SK_STATUS_LEN 47
#define SK_INFO_LEN 44
#define SK_HEAD 3
#define SK_CELLS 4
#define SK_PW_LEN 6
#define SK_P_AUTHED 0x1u

enum { SK_BEGIN = 0, SK_LOGIN, SK_SETUP, SK_STATUS, SK_INFO, SK_DONE };

/* The login's and the setup's bytes after the password / type, as
 * aiobmsble's saftkiste_bms sends them (§75.2). */
static const uint8_t sk_login_tail[] = { 0x00, 0xE7, 0x80, 0x69, 0x48 };
static const uint8_t sk_setup[] = { SK_H0, SK_H1, SK_T_SETUP, 0x01, 0x01, 0xE7, 0x80, 0x69, 0x96 };

static const struct bms_ble_pin sk_pin;

/* The step the poll is at: the login on a new connection (or after a
 * refusal), else the reads. */
static int sk_step(const struct bms_poll *poll)
{
	if (poll->step != SK_BEGIN)
		return poll->step;
	return poll->link_fresh || !(poll->persist & SK_P_AUTHED) ? SK_LOGIN : SK_STATUS;
}

static int sk_login(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	const char *pw = bms_pin_of(poll, &sk_pin);
	if (!pw || strlen(pw) != SK_PW_LEN)
		return BMS_E_RANGE; /* the configuration takes none other */
	if (cap < SK_HEAD + SK_PW_LEN + sizeof(sk_login_tail))
		return BMS_E_NOSPACE;
	out[0] = SK_H0;
	out[1] = SK_H1;
	out[2] = SK_T_LOGIN;
	memcpy(out + SK_HEAD, pw, SK_PW_LEN);
	memcpy(out + SK_HEAD + SK_PW_LEN, sk_login_tail, sizeof(sk_login_tail));
	poll->step = SK_LOGIN;
	poll->auth = BMS_AUTH_SENT;
	poll->secret_req = true;
	return (int)(SK_HEAD + SK_PW_LEN + sizeof(sk_login_tail));
}

static int sk_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = sk_step(poll);
	switch (step) {
	case SK_LOGIN:
		return sk_login(poll, out, cap);
	case SK_SETUP:
		return bms_request_copy(out, cap, sk_setup, sizeof(sk_setup));
	case SK_STATUS: case SK_INFO: {
		const uint8_t req[SK_HEAD] = { SK_H0, SK_H1, step == SK_STATUS ? SK_T_STATUS : SK_T_INFO };
		poll->step = step;
		return bms_request_copy(out, cap, req, sizeof(req));
	}
	case SK_DONE:
		return 0;
	default:
		return BMS_E_RANGE;
	}
}

/* ---- the framer ---------------------------------------------------------- */

/* F0 FF t: the reads' answers whole (47 / 44 bytes), the login's and the
 * setup's by their head (3 bytes; what follows is skipped up to the next
 * F0 FF), another type skipped. */
static enum bms_scan sk_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	(void)poll;
	if (!bms_scan_start(buf, len, SK_H0, &r, n))
		return r;
	if (len < 2)
		return BMS_SCAN_NEED;
	if (buf[1] != SK_H1) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < SK_HEAD)
		return BMS_SCAN_NEED;
	size_t want;
	switch (buf[2]) {
	case SK_T_STATUS:
		want = SK_STATUS_LEN;
		break;
	case SK_T_INFO:
		want = SK_INFO_LEN;
		break;
	case SK_T_OK: case SK_T_LOGIN: case SK_T_SETUP:
		want = SK_HEAD;
		break;
	default:
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < want)
		return BMS_SCAN_NEED;
	return bms_scan_tail(true, true, want, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* 0x02 (§75.3): capacities, voltage, current, the four cells, cycles. */
static int sk_status(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t design = bms_le32(f + 3), remain = bms_le32(f + 7);
	uint16_t mv = bms_le16(f + 13);
	if (design == 0 || design > 10000000u || remain > design + design / 10 || mv == 0)
		return BMS_E_RANGE;
	for (int i = 0; i < SK_CELLS; i++) {
		s->cell_mv[i] = bms_le16(f + 17 + 2 * i);
		if (s->cell_mv[i] == 0)
			return BMS_E_RANGE;
	}
	s->ncells = SK_CELLS;
	s->voltage = (float)mv / 1000.0f;
	s->current = (float)bms_les16(f + 15) / 100.0f;
	s->full_ah = (float)design / 1000.0f;
	s->remain_ah = (float)remain / 1000.0f;
	s->cycles = bms_le16(f + 25);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_CELLS | BMS_HAS_FULL | BMS_HAS_REMAIN |
		      BMS_HAS_CYCLES;
	return BMS_OK;
}

/* 0x03 (§75.3): the SOC in 0.01 % at 22. */
static int sk_info(struct bms_poll *poll, const uint8_t *f)
{
	uint16_t soc = bms_le16(f + 22);
	if (soc > 10000)
		return BMS_E_RANGE;
	poll->snap.soc = (float)soc / 100.0f;
	poll->snap.present |= BMS_HAS_SOC;
	return BMS_OK;
}

/* The login's answer: taken (0x00) or refused (0x10). */
static int sk_login_answer(struct bms_poll *poll, uint8_t type)
{
	if (poll->step != SK_LOGIN)
		return BMS_E_UNEXPECTED;
	if (type == SK_T_LOGIN) {
		poll->persist &= ~SK_P_AUTHED;
		return BMS_E_AUTH;
	}
	poll->auth = BMS_AUTH_OK;
	poll->persist |= SK_P_AUTHED;
	poll->step = SK_SETUP;
	return BMS_OK;
}

static int sk_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < SK_HEAD || frame[0] != SK_H0 || frame[1] != SK_H1)
		return BMS_E_HEADER;
	uint8_t type = frame[2];
	if (type == SK_T_OK || type == SK_T_LOGIN)
		return len == SK_HEAD ? sk_login_answer(poll, type) : BMS_E_SHORT;
	if (type == SK_T_SETUP) {
		if (len != SK_HEAD)
			return BMS_E_SHORT;
		if (poll->step != SK_SETUP)
			return BMS_E_UNEXPECTED;
		poll->step = SK_STATUS;
		return BMS_OK;
	}
	size_t want = type == SK_T_STATUS ? SK_STATUS_LEN : type == SK_T_INFO ? SK_INFO_LEN : 0;
	if (!want)
		return BMS_E_HEADER;
	if (len != want)
		return BMS_E_SHORT;
	if (poll->step != (type == SK_T_STATUS ? SK_STATUS : SK_INFO))
		return BMS_E_UNEXPECTED;
	int rc = type == SK_T_STATUS ? sk_status(poll, frame) : sk_info(poll, frame);
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

/* The setup unanswered: its answer is not needed, the reads follow. */
static bool sk_timeout(struct bms_poll *poll)
{
	if (poll->step != SK_SETUP)
		return false;
	poll->step = SK_STATUS;
	return true;
}

static int sk_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, SK_DONE);
}

static const struct bms_gatt sk_gatt[] = {
	BMS_GATT_NUS,
	BMS_GATT_END,
};

/* --ble-scan: the company id 0x1234 of its manufacturer data (aiobmsble's
 * matcher, whose data starts 01 02 03 ... 07; names are serials). */
static const struct bms_ble_hint sk_ble_hints[] = {
	{3, BMS_BLE_COMPANY, NULL, NULL, 0x1234, false, "company 0x1234 (Saftkiste / Batterieschmiede)"},
	{0},
};

/* Its login's password (aiobmsble's saftkiste_bms): six characters, the
 * maker's ABC123 unless the pack's pin says another. */
static const struct bms_ble_pin sk_pin = {
	.name = "password",
	.min_len = SK_PW_LEN,
	.max_len = SK_PW_LEN,
	.dflt = "ABC123",
};

static const struct bms_ble sk_ble = {
	.only = true,
	.gatt = sk_gatt,
	.hints = sk_ble_hints,
	.pin = &sk_pin,
};

const struct bms_driver bms_saftkiste_driver = {
	.name = "saftkiste",
	.description = "Saftkiste (Batterieschmiede) over Bluetooth LE (F0 FF frames: its login, reads 0x02 and 0x03)",
	.vendor = "Batterieschmiede",
	.protocol_id = 65,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS,
	BMS_BLE_LINK,
	.next_request = sk_next_request,
	.scan = sk_scan,
	.handle = sk_handle,
	.timeout = sk_timeout,
	.finish = sk_finish,
	.ble = &sk_ble,
};
