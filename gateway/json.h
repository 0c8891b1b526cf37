/* gateway/json.c - one pack as one JSON object (--once). */
#ifndef GATEWAY_JSON_H
#define GATEWAY_JSON_H

#include <stdio.h>

struct gw_pack;

/* One line: {"pack":NAME,"protocol":...,"ok":true,"voltage":...} with every
 * decoded field (null where the protocol does not carry it), or ok:false
 * and the reason the pack did not answer. */
void gw_pack_json(FILE *o, const struct gw_pack *p);

#endif
