/* SPDX-License-Identifier: MIT */
/* gateway/inverter/codecs.c - the codec of every inverter protocol, by
 * its place in CONF_INV_PROTOCOL_LIST (dialects.h), and in its variant. */
#include <stddef.h>

#include "canframes.h"

#define INV_CODEC_ROW_(id, sym, name, kind, extras, allowed, bitrate) [CONF_INV_##id] = &inv_codec_##sym,
static const struct inv_codec *const codecs[CONF_INV_NPROTOCOLS] = { CONF_INV_PROTOCOL_LIST(INV_CODEC_ROW_) };
#undef INV_CODEC_ROW_

const struct inv_codec *inv_codec_of(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? codecs[p] : NULL;
}

const struct inv_codec *inv_codec_for(const struct conf_inverter *c)
{
	const struct inv_codec *k = inv_codec_of(c->protocol);
	if (k && k->nvariants && c->variant >= 0 && (unsigned)c->variant < k->nvariants)
		return k->variants[c->variant];
	return k;
}
