/* SPDX-License-Identifier: MIT */
/* bms/base/canrec.c - the CAN records (bms.h: BMS_CAN_MAGIC0 ...) as the CAN
 * drivers read them: the framer every CAN driver's scan() is, and the
 * check of one record into its fields.  Pure. */
#include "../bms.h"

#include <string.h>

/* Records: magic, flags, id, DLC, data.  Anything else is skipped byte by
 * byte up to the next magic. */
enum bms_scan bms_can_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] != BMS_CAN_MAGIC0) {
		const uint8_t *p = memchr(buf, BMS_CAN_MAGIC0, len);
		*n = p ? (size_t)(p - buf) : len;
		return BMS_SCAN_SKIP;
	}
	if (len > 1 && buf[1] != BMS_CAN_MAGIC1) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < BMS_CAN_HDR)
		return BMS_SCAN_NEED;
	if ((buf[2] & ~(BMS_CAN_EXT | BMS_CAN_RTR)) || buf[7] > BMS_CAN_MAX_DLC) {
		*n = 1; /* not a record the transport writes */
		return BMS_SCAN_SKIP;
	}
	size_t total = BMS_CAN_HDR + ((buf[2] & BMS_CAN_RTR) ? 0u : buf[7]);
	if (len < total)
		return BMS_SCAN_NEED;
	*n = total;
	return BMS_SCAN_FRAME;
}

int bms_can_parse(const uint8_t *frame, size_t len, struct bms_can_msg *m)
{
	if (len < BMS_CAN_HDR || frame[0] != BMS_CAN_MAGIC0 || frame[1] != BMS_CAN_MAGIC1)
		return BMS_E_SHORT;
	uint8_t flags = frame[2], dlc = frame[7];
	if ((flags & ~(BMS_CAN_EXT | BMS_CAN_RTR)) || dlc > BMS_CAN_MAX_DLC ||
	    len != BMS_CAN_HDR + ((flags & BMS_CAN_RTR) ? 0u : dlc))
		return BMS_E_SHORT;
	memset(m, 0, sizeof(*m));
	m->id = (uint32_t)frame[3] | (uint32_t)frame[4] << 8 | (uint32_t)frame[5] << 16 | (uint32_t)frame[6] << 24;
	m->ext = (flags & BMS_CAN_EXT) != 0;
	m->rtr = (flags & BMS_CAN_RTR) != 0;
	m->dlc = dlc;
	if (!m->rtr)
		memcpy(m->data, frame + BMS_CAN_HDR, dlc);
	return BMS_OK;
}

/* ---- a listen-only CAN poll's frames (bms.h) ---- */

int bms_can_took(struct bms_poll *poll, int slot, int rc, uint32_t need)
{
	if (rc != BMS_OK) {
		poll->seen |= BMS_CAN_REFUSED;
		return rc;
	}
	poll->seen |= 1u << slot;
	poll->sub++;
	uint32_t want = need | (poll->persist & ~BMS_CAN_LEARNED);
	return (poll->persist & BMS_CAN_LEARNED) && (poll->seen & want) == want ? BMS_OK : BMS_MORE;
}

int bms_can_take(struct bms_poll *poll, int slot, const struct bms_can_msg *m, uint8_t min_dlc,
		 int (*decode)(struct bms_poll *poll, int slot, const uint8_t *data), uint32_t need)
{
	if (m->dlc < min_dlc)
		return bms_can_took(poll, slot, BMS_E_SHORT, need);
	return bms_can_took(poll, slot, decode(poll, slot, m->data), need);
}

bool bms_can_usable(const struct bms_poll *poll, uint32_t need)
{
	return (poll->seen & need) == need && !(poll->seen & BMS_CAN_REFUSED);
}

int bms_can_learn(struct bms_poll *poll, uint32_t need, uint32_t all)
{
	if (!bms_can_usable(poll, need))
		return BMS_E_INVALID;
	poll->persist = BMS_CAN_LEARNED | (poll->persist & all) | (poll->seen & all);
	return BMS_OK;
}
