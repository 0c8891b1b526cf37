/* SPDX-License-Identifier: MIT */
/* gateway/modbus/image.h - the register map of a unit as the Modbus
 * servers and the upstream pushers serve it (image.c): a pack's last
 * complete snapshot, encoded when its poll completed (model/pack.c), with
 * its live status, or the bank's, the model's one state of it aggregated
 * from its fresh packs (model/bankstate.h; register-map.md). */
#ifndef GATEWAY_MODBUS_IMAGE_H
#define GATEWAY_MODBUS_IMAGE_H

#include <stdint.h>

#include "../model/gw.h"

/* The full register image of a unit as served now. */
void gw_unit_image(const struct gw *gw, const struct gw_unit *u, uint16_t regs[REG_MAP_SIZE]);
/* The images as the Modbus server sends them: big-endian, encoded again
 * only when something they show has changed, so that a request costs a
 * few comparisons.  One set per server. */
struct gw_images;
struct gw_images *gw_images_new(void);
void gw_images_free(struct gw_images *im);
/* u's registers at monotonic time now (gw_mono()), 2 * REG_MAP_SIZE bytes
 * high byte first: what gw_unit_image() gives at that instant.  Valid until
 * the next call with the same im. */
const uint8_t *gw_unit_image_wire(const struct gw *gw, const struct gw_unit *u, double now, struct gw_images *im);

#endif
