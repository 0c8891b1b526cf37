/* SPDX-License-Identifier: MIT */
/* bms/vedirect.c - Victron VE.Direct TEXT protocol (SmartShunt, BMV-60x/70x).
 *
 * Victron "VE.Direct Protocol" (text mode).  19200 baud 8N1, read only: the
 * device sends a block of fields about once a second without being asked.
 * Every field is
 *	"\r\n" <label> "\t" <value>
 * and a block ends with the field "Checksum" whose value is one byte chosen
 * so that the sum of all the bytes of the block ("\r\n" of its first field
 * through the checksum byte) is 0 modulo 256.  The checksum byte may be any
 * value, ':' and '\r' included.  BMV and SmartShunt split their fields over
 * two blocks (run-time values, then the history H1..H18), each with its own
 * Checksum field.
 *
 * HEX-mode frames (":" hex digits "\n") can be interleaved with the text,
 * also in the middle of a block (Victron's reference frame handler switches
 * to HEX on ':' in every state but the checksum byte).  They are skipped and
 * are not part of the block's checksum.
 *
 * Decoded fields: V (mV), I (mA, + = into the battery), P (W), SOC (per
 * mille), T (degC), AR (alarm reason bits), Alarm / Relay (ON/OFF),
 * H4 (charge cycles), CE (consumed mAh, <= 0: kept in the driver's state,
 * struct ved_state in bms/vedirect.h; the snapshot has no field for it).  A value "---" (the BMV's "not available",
 * e.g. SOC before the first synchronisation, T without a sensor) leaves the
 * quantity absent.  A shunt has no cells, no MOSFETs, no balancing.
 *
 * A poll is complete when V, I and SOC have been received in checksum-valid
 * blocks (in one block or across the two halves) and, for a device that
 * sends the history block, H4 too, so that the cycle count does not come
 * and go from one poll to the next.  Whether H4 comes is learned: expected
 * at first; when a poll times out with V, I and SOC but without H4 the
 * device is marked as having no history block (persist bit) until H4 shows
 * up again.
 *
 * Raw alarm words: raw_alarms[0] = AR (alarm reason, as sent),
 * raw_alarms[1] = bit 0 Alarm ON, bit 1 Relay ON (when those fields came).
 *
 * Progress in struct bms_poll:
 *	seen	VED_SEEN_* of the fields received in this poll
 *	persist	VED_PERSIST_NOHIST: the device sends no H4
 *	priv	struct ved_state (bms/vedirect.h): CE (if VED_SEEN_CE)
 */
#include "bms.h"

#include <stdio.h>
#include <string.h>

#include "drivers.h"
#include "vedirect.h"

#define VED_MAX_LABEL 15    /* protocol: 8 characters ("Checksum") */
#define VED_MAX_VALUE 48    /* protocol: 32 characters */
#define VED_MAX_FIELDS 32   /* protocol: 22 per block */
#define VED_MAX_BLOCK 900   /* bytes from the block start to its checksum byte */
#define VED_MAX_HEX 160     /* one HEX-mode frame, ':' to '\n' */

enum {
	VED_SEEN_V = 1u << 0,
	VED_SEEN_I = 1u << 1,
	VED_SEEN_SOC = 1u << 2,
	VED_SEEN_H4 = 1u << 3,
	VED_SEEN_CE = 1u << 4,
};
#define VED_SEEN_REQUIRED (VED_SEEN_V | VED_SEEN_I | VED_SEEN_SOC)
#define VED_PERSIST_NOHIST 0x1u

/* AR bit n -> normalised alarms.  Bits: 0 low voltage, 1 high voltage,
 * 2 low SOC, 3 low starter voltage, 4 high starter voltage, 5 low
 * temperature, 6 high temperature, 7 mid voltage, 8 overload, 9 DC ripple,
 * 10 low V AC out, 11 high V AC out, 12 short circuit, 13 BMS lockout.
 * The battery temperature alarms are not specific to charging or
 * discharging: both are raised.  Mid-point deviation means the two halves
 * of the bank drift apart: cell difference.  Starter battery and inverter
 * (AC, overload, ripple) bits: other. */
static const uint32_t ved_alarm_map[16] = {
	BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_SOC_LOW, BMS_AL_OTHER,
	BMS_AL_OTHER, BMS_AL_CHG_UT | BMS_AL_DSG_UT, BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_CELL_DIFF,
	BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER,
	BMS_AL_SHORT, BMS_AL_PROTECTION, BMS_AL_OTHER, BMS_AL_OTHER,
};

/* ---- the block walker ---------------------------------------------------- */

enum ved_walk_rc {
	VED_W_NEED,   /* the block is not complete yet */
	VED_W_BLOCK,  /* complete, checksum valid */
	VED_W_BADSUM, /* complete, checksum wrong */
	VED_W_BAD,    /* not a block: a byte at `at` breaks the grammar */
};

/* One field, with any HEX frame inside it already taken out. */
struct ved_field {
	char label[VED_MAX_LABEL + 1];
	char value[VED_MAX_VALUE + 1];
};

typedef void (*ved_field_fn)(void *ctx, const struct ved_field *f);

struct ved_walk {
	size_t end;     /* VED_W_BLOCK / BADSUM: block length (through the checksum byte) */
	size_t at;      /* VED_W_BAD: offset of the offending byte */
	size_t hex_end; /* end of the first HEX frame inside the block, 0 = none */
};

static bool ved_is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* A HEX frame at buf[0] == ':'.  Returns its length (through '\n'), 0 if
 * more bytes are needed, -1 if it is no HEX frame. */
static long ved_hex_len(const uint8_t *buf, size_t len)
{
	for (size_t i = 1; i < len; i++) {
		if (buf[i] == '\n')
			return i >= 2 ? (long)i + 1 : -1;
		if (!ved_is_hex(buf[i]) || i + 1 >= VED_MAX_HEX)
			return -1;
	}
	return 0;
}

static bool ved_label_is(const struct ved_field *f, const char *name)
{
	size_t i = 0;
	for (; name[i]; i++) {
		char c = f->label[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		char n = name[i];
		if (n >= 'a' && n <= 'z')
			n = (char)(n - 'a' + 'A');
		if (c != n)
			return false;
	}
	return f->label[i] == '\0';
}

/* Walk the block that starts at buf[0] ("\r\n"); each field goes to fn
 * (if not NULL) as it completes.  Pure: no state beyond the arguments. */
static enum ved_walk_rc ved_walk(const uint8_t *buf, size_t len, struct ved_walk *w,
				 ved_field_fn fn, void *ctx)
{
	enum { S_CR, S_LF, S_LABEL, S_VALUE, S_SUM } st = S_CR;
	struct ved_field f;
	size_t ll = 0, vl = 0, i = 0;
	unsigned sum = 0, fields = 0;

	memset(w, 0, sizeof(*w));
	while (i < len) {
		uint8_t c = buf[i];

		if (i >= VED_MAX_BLOCK) {
			w->at = i;
			return VED_W_BAD;
		}
		if (c == ':' && st != S_SUM) {
			long h = ved_hex_len(buf + i, len - i);
			if (h == 0)
				return VED_W_NEED;
			if (h < 0) {
				w->at = i;
				return VED_W_BAD;
			}
			i += (size_t)h;
			if (!w->hex_end)
				w->hex_end = i;
			continue;
		}
		sum += c;
		switch (st) {
		case S_CR:
			if (c != '\r')
				goto bad;
			st = S_LF;
			break;
		case S_LF:
			if (c != '\n' || ++fields > VED_MAX_FIELDS)
				goto bad;
			ll = 0;
			st = S_LABEL;
			break;
		case S_LABEL:
			if (c == '\t' && ll > 0) {
				f.label[ll] = '\0';
				vl = 0;
				st = ved_label_is(&f, "Checksum") ? S_SUM : S_VALUE;
				break;
			}
			if (c <= 0x20 || c >= 0x7F || ll >= VED_MAX_LABEL)
				goto bad;
			f.label[ll++] = (char)c;
			break;
		case S_VALUE:
			if (c == '\r') {
				f.value[vl] = '\0';
				if (fn)
					fn(ctx, &f);
				st = S_LF;
				break;
			}
			if (c < 0x20 || c >= 0x7F || vl >= VED_MAX_VALUE)
				goto bad;
			f.value[vl++] = (char)c;
			break;
		case S_SUM:
			w->end = i + 1;
			return (sum & 0xFF) == 0 ? VED_W_BLOCK : VED_W_BADSUM;
		}
		i++;
	}
	return VED_W_NEED;
bad:
	w->at = i;
	return VED_W_BAD;
}

/* ---- framer -------------------------------------------------------------- */

static enum bms_scan ved_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	struct ved_walk w;

	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] == ':') {
		/* a HEX-mode frame between blocks */
		long h = ved_hex_len(buf, len);
		if (h == 0)
			return BMS_SCAN_NEED;
		*n = h > 0 ? (size_t)h : 1;
		return BMS_SCAN_SKIP;
	}
	if (buf[0] != '\r') {
		*n = bms_scan_skip(buf, len, (const uint8_t *)"\r:", 2);
		return BMS_SCAN_SKIP;
	}
	switch (ved_walk(buf, len, &w, NULL, NULL)) {
	case VED_W_NEED:
		return BMS_SCAN_NEED;
	case VED_W_BLOCK:
		*n = w.end;
		return BMS_SCAN_FRAME;
	case VED_W_BADSUM:
		/* A block that a HEX frame interrupted may start over after it;
		 * otherwise no block can start inside this one and end validly
		 * at the same checksum field except by chance: drop it whole. */
		*n = w.hex_end ? w.hex_end : w.end;
		return BMS_SCAN_BADSUM;
	case VED_W_BAD:
	default:
		/* a block could start at the offending byte, none before it */
		*n = w.at ? w.at : 1;
		return BMS_SCAN_SKIP;
	}
}

/* ---- decoder ------------------------------------------------------------- */

/* Fields of one block, committed to the snapshot only if all are sane. */
struct ved_block {
	unsigned has;       /* VED_HAS_* */
	int bad;            /* a decoded field is malformed or out of range */
	long long v_mv, i_ma, p_w, soc_pm, t_c, ar, h4, ce_mah;
	bool alarm, relay;
};

enum {
	VED_HAS_V = 1u << 0,
	VED_HAS_I = 1u << 1,
	VED_HAS_P = 1u << 2,
	VED_HAS_SOC = 1u << 3,  /* SOC field came (maybe "---") */
	VED_HAS_SOCV = 1u << 4, /* ... with a value */
	VED_HAS_T = 1u << 5,
	VED_HAS_AR = 1u << 6,
	VED_HAS_H4 = 1u << 7,
	VED_HAS_CE = 1u << 8,
	VED_HAS_ALARM = 1u << 9,
	VED_HAS_RELAY = 1u << 10,
};

/* Decimal integer, optional sign, 1..10 digits, within lo..hi.  Returns
 * 1 ok, 0 for "---" (not available), -1 malformed or out of range. */
static int ved_int(const char *s, long long lo, long long hi, long long *out)
{
	long long v = 0;
	bool neg = false;
	size_t i = 0, digits = 0;

	if (strcmp(s, "---") == 0)
		return 0;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	for (; s[i]; i++, digits++) {
		if (s[i] < '0' || s[i] > '9' || digits >= 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (digits == 0)
		return -1;
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 1;
}

/* "ON" / "OFF": 1 / 0, -1 otherwise. */
static int ved_onoff(const char *s)
{
	if (strcmp(s, "ON") == 0 || strcmp(s, "On") == 0 || strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "OFF") == 0 || strcmp(s, "Off") == 0 || strcmp(s, "off") == 0)
		return 0;
	return -1;
}

/* Take one numeric field: bit `has` set when it has a value; "---" leaves
 * it absent; anything else that is not a number in range spoils the block. */
static void ved_take(struct ved_block *b, const char *value, long long lo, long long hi,
		     long long *dst, unsigned has)
{
	int rc = ved_int(value, lo, hi, dst);
	if (rc > 0)
		b->has |= has;
	else if (rc < 0)
		b->bad = 1;
}

static void ved_field(void *ctx, const struct ved_field *f)
{
	struct ved_block *b = ctx;
	int r;

	/* limits: VE.Direct devices measure up to 100 V and a few kA; the
	 * bounds only keep impossible values out */
	if (ved_label_is(f, "V")) {
		ved_take(b, f->value, 0, 1000000, &b->v_mv, VED_HAS_V);
	} else if (ved_label_is(f, "I")) {
		ved_take(b, f->value, -100000000, 100000000, &b->i_ma, VED_HAS_I);
	} else if (ved_label_is(f, "P")) {
		ved_take(b, f->value, -10000000, 10000000, &b->p_w, VED_HAS_P);
	} else if (ved_label_is(f, "SOC")) {
		b->has |= VED_HAS_SOC;
		ved_take(b, f->value, 0, 1000, &b->soc_pm, VED_HAS_SOCV);
	} else if (ved_label_is(f, "T")) {
		/* any reading: one outside -50..150 degC is served absent as a
		 * sensor fault by the gateway (bms_sensor_faults); "---" is none */
		ved_take(b, f->value, -32768, 32767, &b->t_c, VED_HAS_T);
	} else if (ved_label_is(f, "AR")) {
		ved_take(b, f->value, 0, 0xFFFF, &b->ar, VED_HAS_AR);
	} else if (ved_label_is(f, "H4")) {
		ved_take(b, f->value, 0, 0xFFFFFFFFll, &b->h4, VED_HAS_H4);
	} else if (ved_label_is(f, "CE")) {
		ved_take(b, f->value, -2000000000, 2000000000, &b->ce_mah, VED_HAS_CE);
	} else if (ved_label_is(f, "Alarm")) {
		r = ved_onoff(f->value);
		if (r >= 0) {
			b->alarm = r != 0;
			b->has |= VED_HAS_ALARM;
		}
	} else if (ved_label_is(f, "Relay")) {
		r = ved_onoff(f->value);
		if (r >= 0) {
			b->relay = r != 0;
			b->has |= VED_HAS_RELAY;
		}
	}
	/* PID, FW, BMV, TTG, VS, VM, DM, MON, H1..H18 but H4, ...: not used */
}

static void ved_commit(struct bms_poll *poll, const struct ved_block *b)
{
	struct bms_snapshot *s = &poll->snap;
	float sign = poll->invert_current ? -1.0f : 1.0f;

	if (b->has & VED_HAS_V) {
		s->voltage = (float)b->v_mv / 1000.0f;
		s->present |= BMS_HAS_VOLTAGE;
		poll->seen |= VED_SEEN_V;
	}
	if (b->has & VED_HAS_I) {
		s->current = sign * (float)b->i_ma / 1000.0f;
		s->present |= BMS_HAS_CURRENT;
		poll->seen |= VED_SEEN_I;
	}
	if (b->has & VED_HAS_P) {
		s->power = sign * (float)b->p_w;
		s->present |= BMS_HAS_POWER;
	}
	if (b->has & VED_HAS_SOC)
		poll->seen |= VED_SEEN_SOC;
	if (b->has & VED_HAS_SOCV) {
		s->soc = (float)b->soc_pm / 10.0f;
		s->present |= BMS_HAS_SOC;
	}
	if (b->has & VED_HAS_T) {
		s->ntemps = 1;
		s->temp_c[0] = (float)b->t_c;
		s->present |= BMS_HAS_TEMPS;
	}
	if (b->has & VED_HAS_AR) {
		uint16_t ar = (uint16_t)b->ar;
		s->raw_alarms[0] = ar;
		if (s->nraw < 1)
			s->nraw = 1;
		s->alarms = 0;
		for (unsigned bit = 0; bit < 16; bit++)
			if (ar & (1u << bit))
				s->alarms |= ved_alarm_map[bit];
		s->present |= BMS_HAS_ALARMS;
	}
	if (b->has & (VED_HAS_ALARM | VED_HAS_RELAY)) {
		if (b->has & VED_HAS_ALARM)
			s->raw_alarms[1] = (uint16_t)((s->raw_alarms[1] & ~1u) | (b->alarm ? 1u : 0u));
		if (b->has & VED_HAS_RELAY)
			s->raw_alarms[1] = (uint16_t)((s->raw_alarms[1] & ~2u) | (b->relay ? 2u : 0u));
		s->nraw = 2;
	}
	if (b->has & VED_HAS_H4) {
		s->cycles = (uint32_t)b->h4;
		s->present |= BMS_HAS_CYCLES;
		poll->seen |= VED_SEEN_H4;
		poll->persist &= ~VED_PERSIST_NOHIST;
	}
	if (b->has & VED_HAS_CE) {
		BMS_PRIV(poll, struct ved_state)->ce_mah = (int32_t)b->ce_mah;
		poll->seen |= VED_SEEN_CE;
	}
}

static bool ved_complete(const struct bms_poll *poll)
{
	if ((poll->seen & VED_SEEN_REQUIRED) != VED_SEEN_REQUIRED)
		return false;
	return (poll->persist & VED_PERSIST_NOHIST) || (poll->seen & VED_SEEN_H4);
}

static int ved_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct ved_walk w;
	struct ved_block b;

	if (len == 0 || frame[0] != '\r')
		return BMS_E_HEADER;
	memset(&b, 0, sizeof(b));
	switch (ved_walk(frame, len, &w, ved_field, &b)) {
	case VED_W_NEED:
		return BMS_E_SHORT;
	case VED_W_BADSUM:
		return BMS_E_CHECKSUM;
	case VED_W_BAD:
		return BMS_E_HEADER;
	case VED_W_BLOCK:
		break;
	}
	if (w.end != len)
		return BMS_E_SHORT; /* bytes after the checksum: not one block */
	if (b.bad)
		return BMS_E_RANGE;
	ved_commit(poll, &b);
	return ved_complete(poll) ? BMS_OK : BMS_MORE;
}

/* No block completed the poll in time.  With V, I and SOC in hand only the
 * history block is missing: this device does not send one (any more). */
static bool ved_timeout(struct bms_poll *poll)
{
	if ((poll->seen & VED_SEEN_REQUIRED) != VED_SEEN_REQUIRED)
		return false;
	poll->persist |= VED_PERSIST_NOHIST;
	return true;
}

static int ved_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;

	/* the shunt is powered by the battery it measures: 0 V is no data */
	if (!(s->present & BMS_HAS_VOLTAGE) || !(s->present & BMS_HAS_CURRENT) || s->voltage <= 0.0f)
		return BMS_E_INVALID;
	return BMS_OK;
}

/* Identification (§27): nothing is sent; a device talking its text
 * protocol is recognised while the port is listened to: one checksummed
 * block with a voltage and a SOC (a battery monitor; a charger has no
 * SOC). */
/* A block with a voltage: a battery monitor's only with a SOC. */
static bool ved_probe_check(const struct bms_poll *poll, char *what, size_t cap)
{
	if (!bms_probe_plausible(&poll->snap, what, cap))
		return false;
	if (poll->snap.present & BMS_HAS_SOC)
		return true;
	snprintf(what, cap, "a VE.Direct device without a SOC (not a battery monitor)");
	return false;
}

static const struct bms_probe ved_probe = {
	.bauds = { 19200 },
	.check = ved_probe_check,
	.patient = true,
};

const struct bms_driver bms_vedirect_driver = {
	.name = "vedirect",
	.description = "Victron VE.Direct text protocol (SmartShunt, BMV-60x/70x), listen only",
	.vendor = "Victron Energy",
	.protocol_id = 10,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		BMS_HAS_CYCLES | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	.default_baud = 19200,
	/* listen only: nothing is sent, so no gap applies */
	.gap_floor = 0,
	.interbyte = 0.5,
	.min_address = 0,
	.max_address = 0,
	.default_timeout = 3.0,
	.listen_only = true,
	.next_request = NULL,
	.scan = ved_scan,
	.handle = ved_handle,
	.timeout = ved_timeout,
	.finish = ved_finish,
	.probe = &ved_probe,
};
