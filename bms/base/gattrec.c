/* SPDX-License-Identifier: MIT */
/* bms/base/gattrec.c - the records of a Bluetooth link of channels (a GATT
 * layout with more characteristics than notify and write, struct
 * bms_gatt.more): BMS_CHR_MAGIC0 BMS_CHR_MAGIC1 k n data[n], the channel
 * k a notification came on or a write goes to.  The transports (BlueZ's,
 * the ESPHome proxy's) make them of notifications and write their data;
 * a driver of such a layout frames them with bms_chr_next() and builds its
 * requests with bms_chr_record().  Pure. */
#include "../bms.h"

#include <string.h>

size_t bms_chr_record(uint8_t *out, size_t cap, uint8_t k, const void *data, size_t n)
{
	if (n > 255 || cap < BMS_CHR_HDR + n)
		return 0;
	out[0] = BMS_CHR_MAGIC0;
	out[1] = BMS_CHR_MAGIC1;
	out[2] = k;
	out[3] = (uint8_t)n;
	if (n)
		memcpy(out + BMS_CHR_HDR, data, n);
	return BMS_CHR_HDR + n;
}

bool bms_chr_next(const uint8_t *buf, size_t len, uint8_t *k, const uint8_t **data, size_t *n, size_t *used)
{
	size_t i = 0;
	while (i < len && !(buf[i] == BMS_CHR_MAGIC0 && (i + 1 == len || buf[i + 1] == BMS_CHR_MAGIC1)))
		i++;
	if (i > 0 || len < BMS_CHR_HDR) {
		*used = i; /* the bytes before a record, or none yet */
		return false;
	}
	size_t want = BMS_CHR_HDR + (size_t)buf[3];
	if (len < want) {
		*used = 0;
		return false;
	}
	*k = buf[2];
	*data = buf + BMS_CHR_HDR;
	*n = buf[3];
	*used = want;
	return true;
}
