/* bms/drivers.h - the driver tables, one per brand file.  Only bms.c (the
 * registry) and the tests name them; the gateway uses bms_find(). */
#ifndef BMS_DRIVERS_H
#define BMS_DRIVERS_H

#include "bms.h"

extern const struct bms_driver bms_daly_driver; /* bms/daly.c */
extern const struct bms_driver bms_daly_modbus_driver; /* bms/daly_modbus.c */
extern const struct bms_driver bms_sinowealth_driver; /* bms/sinowealth.c */
extern const struct bms_driver bms_jk_driver; /* bms/jk.c */
extern const struct bms_driver bms_jk_pb_driver; /* bms/jk_pb.c */
extern const struct bms_driver bms_jbd_driver; /* bms/jbd.c */
extern const struct bms_driver bms_vedirect_driver; /* bms/vedirect.c */
extern const struct bms_driver bms_pylontech_driver; /* bms/pylontech.c */
extern const struct bms_driver bms_topbms_driver; /* bms/topbms.c */
extern const struct bms_driver bms_seplos_driver; /* bms/seplos.c */

#endif
