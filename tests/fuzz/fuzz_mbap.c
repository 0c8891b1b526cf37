/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_mbap.c - libFuzzer target for the Modbus TCP server's own
 * MBAP framing and request screening (gateway/modbus/server.c, request.c):
 * arbitrary client bytes, in arbitrary chunks, must never read out of
 * bounds, and every complete ADU must get a decision (serve or one
 * exception code); a request screened as served is answered
 * (gw_request_answer(): the map, the SunSpec block, identification) within
 * the PDU limit, the answer's length matching its function. */
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/modbus/mbap.h"
#include "../../gateway/modbus/server.h"
#include "fuzzin.h"
#include "../unit/sections.h"

static struct gw gw;
static struct gw_answerer *ans;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A read stays in the map (290-427) or in the unit's SunSpec block (40000,
 * 136 registers a pack, 164 + 32 x 2 the bank); its answer is function,
 * byte count, the registers.  Identification answers within the PDU. */
static void check_answer(const uint8_t *adu, size_t len, const struct gw_screen *s)
{
	static uint8_t pdu[GW_PDU_MAX + 1];
	pdu[GW_PDU_MAX] = 0xA5; /* never written */
	unsigned ss_end = 40000 + (s->target.bank ? 228u : 136u);
	bool reg = s->function == 3 || s->function == 4;
	if (reg && (s->count < 1 || s->count > 125 ||
		    !((s->addr >= 290 && s->addr + s->count <= 290 + REG_MAP_SIZE) || (s->addr >= 40000 && s->addr + s->count <= ss_end))))
		abort();
	if (!reg && s->function != 0x11 && s->function != 0x2B)
		abort();
	int n = gw_request_answer(ans, s, adu + 7, len - 7, gw_mono(), pdu);
	if (n <= 0 || n > GW_PDU_MAX || pdu[GW_PDU_MAX] != 0xA5 || pdu[0] != s->function)
		abort();
	if (reg && (n != 2 + 2 * (int)s->count || pdu[1] != 2 * s->count))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		char err[256];
		install_sections(); /* the outputs' sections, [sunspec] among them */
		struct conf *conf = malloc(sizeof(*conf));
		if (!conf || conf_load_string("[gateway]\ncontrol_clients = 127.0.0.0/8\n"
				     "[pack.a]\nprotocol = daly\nport = /dev/null\ncontrol = true\n[pack.b]\nprotocol = daly\n"
				     "port = /dev/null\naddress = 2\n[bank]\n[sunspec]\n",
				     "fuzz", conf, err, sizeof(err)) < 0)
			abort();
		/* owned by gw from now on; kept for the whole run */
		if (gw_init(&gw, NULL, conf) < 0)
			abort();
		gw.packs[0]->have_data = true;
		gw.packs[0]->last_good = gw_mono();
		ans = gw_answerer_new(&gw);
		if (!ans)
			abort();
		ready = 1;
	}
	uint8_t buf[520];
	size_t len = 0, got;
	struct fz_in in = { data, size };
	while ((got = fz_read(&in, buf + len, sizeof(buf) - len)) > 0) {
		len += got;
		for (;;) {
			int al = gw_mbap_frame(buf, len);
			if (al == 0)
				break;
			if (al < 0) {
				len = 0; /* the server closes the connection */
				break;
			}
			if (al < 8 || (size_t)al > len || al > 260)
				abort();
			struct gw_screen s;
			/* the first input byte picks the client: allowed to write or not */
			struct sockaddr_in peer = { .sin_family = AF_INET };
			peer.sin_addr.s_addr = htonl((size && (data[0] & 0x80)) ? 0x7F000001u : 0x0A000001u);
			gw_screen_request(&gw, buf, (size_t)al, &peer, &s);
			if (s.exception < 0 || s.exception > 0x0B)
				abort();
			if (s.exception == 0 && !s.write)
				check_answer(buf, (size_t)al, &s);
			/* a write reaches the BMS only from an allowed client, for a pack
			 * with control, at offsets 17-18 */
			if (s.write && (s.exception || (s.function != 6 && s.function != 16) || !s.target.pack ||
					!(data[0] & 0x80) || s.addr < 307 || s.addr + s.count > 309 ||
					!(s.set[0] || s.set[1]) || !s.target.pack->cfg->control))
				abort();
			memmove(buf, buf + al, len - (size_t)al);
			len -= (size_t)al;
		}
		if (len == sizeof(buf))
			abort(); /* a complete frame always fits */
	}
	return 0;
}
