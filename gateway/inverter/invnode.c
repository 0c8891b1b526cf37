/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invnode.c - a CAN output that is a J1939 node (codec.h
 * `claims`: rvc): its source address on the bus (j1939.h, PROTOCOLS.md
 * §25).
 *
 * When the port comes up the output claims its `address` at once, whatever
 * its source: the claim is the one frame allowed before the data.  Its
 * other frames wait until the address is held (250 ms after the claim in
 * 128-247).  A request for the claim is answered; a rival claiming the
 * address with a higher NAME gets the claim again; one with a lower NAME
 * takes it: the output claims the next free address of 128-247 and says so
 * once, or, none free, sends "cannot claim" and nothing else until its port
 * opens again, said once.  RV-C lets one node speak for a DC instance:
 * while another node broadcasts DC_SOURCE_STATUS_1 for the output's
 * instance with a higher device priority (or the same at a higher address,
 * as thomasonw's RV-C nodes decide), the output defers to it, said once
 * each way.  Its NAME: arbitrary address capable, no SAE manufacturer code
 * (2047), the identity number from the machine's tag and the output's name,
 * so that it is stable and two outputs differ. */
#include <inttypes.h>
#include <string.h>

#include "../../bms/rvcdgn.h"
#include "../core/log.h"
#include "../core/util.h"
#include "invout.h"

#define NODE_MANUFACTURER 2047u  /* none assigned to bmsgw: all ones [dec] */
#define NODE_RIVAL_HOLD 3.0      /* s a rival's DC_SOURCE_STATUS_1 holds bmsgw back (it sends every 500 ms) */

/* FNV-1a of the machine's tag and the output's name: 21 bits of identity. */
static uint32_t node_identity(const struct inv_out *o)
{
	uint32_t h = 2166136261u;
	const char *parts[2] = { o->gw->machine, o->cfg.name };
	for (int p = 0; p < 2; p++)
		for (const char *s = parts[p]; *s; s++)
			h = (h ^ (uint8_t)*s) * 16777619u;
	return h & 0x1FFFFFu;
}

static void node_send_claim(struct inv_out *o)
{
	struct gw_can_frame f;
	j1939_claim_frame(&o->can.node.j, &f);
	if (gw_can_send(o->can.port, &f) == 0)
		o->sent++;
	o->can.node.claims_sent++;
}

static void later_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct inv_out *o = container_of(w, struct inv_out, can.node.later);
	if (o->can.node.j.state == J1939_CANNOT && gw_can_is_up(o->can.port))
		node_send_claim(o);
}

/* The claim frame now; a cannot-claim one after its delay (J1939-81: many
 * nodes without an address must not answer at once). */
static void node_claim(struct inv_out *o)
{
	struct inv_node *n = &o->can.node;
	if (n->j.state != J1939_CANNOT) {
		node_send_claim(o);
		return;
	}
	if (ev_is_active(&n->later))
		return; /* one is on its way */
	ev_timer_set(&n->later, j1939_cannot_delay(&n->j), 0.);
	ev_timer_start(o->gw->loop, &n->later);
}

void inv_node_up(struct inv_out *o)
{
	struct inv_node *n = &o->can.node;
	ev_timer_stop(o->gw->loop, &n->later);
	ev_timer_init(&n->later, later_cb, 0., 0.);
	j1939_start(&n->j, j1939_name(true, 0, 0, NODE_MANUFACTURER, node_identity(o)), (uint8_t)o->cfg.address,
		    gw_mono());
	n->rival_until = 0;
	node_send_claim(o);
	gw_info("inverter %s: claims source address %u (0x%02X) with NAME 0x%016" PRIX64, o->cfg.name, n->j.sa,
		n->j.sa, n->j.name);
}

void inv_node_down(struct inv_out *o)
{
	ev_timer_stop(o->gw->loop, &o->can.node.later);
	o->can.node.j.state = J1939_IDLE;
}

/* What a claim or a request did, said once where it changes the address. */
static void node_heard(struct inv_out *o, enum j1939_heard h, uint8_t was)
{
	const struct j1939_node *j = &o->can.node.j;
	if (h == J1939_H_MOVED)
		gw_warn("inverter %s: a node with a lower NAME (0x%016" PRIX64 ") claimed source address %u (0x%02X): "
			"bmsgw gives it up and claims %u (0x%02X)", o->cfg.name, j->rival, was, was, j->sa, j->sa);
	else if (h == J1939_H_CANNOT)
		gw_err("inverter %s: a node with a lower NAME (0x%016" PRIX64 ") claimed source address %u (0x%02X) and "
		       "no address of %u-%u is free: bmsgw cannot claim an address and sends nothing more on %s (J1939 "
		       "\"cannot claim\") until the port opens again", o->cfg.name, j->rival, was, was, J1939_DYN_FIRST,
		       J1939_DYN_LAST, o->cfg.port);
	else if (h == J1939_H_DEFEND)
		gw_debug("inverter %s: a node with a higher NAME claimed source address %u: bmsgw's claim sent again",
			 o->cfg.name, j->sa);
	if (h == J1939_H_ANSWER || h == J1939_H_DEFEND || h == J1939_H_MOVED || h == J1939_H_CANNOT)
		node_claim(o);
}

/* Another node's DC_SOURCE_STATUS_1 for the output's instance that outranks
 * it: its device priority higher, or the same at a higher address. */
static void node_rival(struct inv_out *o, const struct gw_can_frame *f, double now)
{
	struct inv_node *n = &o->can.node;
	uint8_t sa = rvc_id_sa(f->id);
	if (!f->ext || f->rtr || f->dlc < 2 || rvc_id_dgn(f->id) != RVC_DC1 || n->j.state != J1939_CLAIMED ||
	    sa == n->j.sa || sa > J1939_MAX_SA || f->data[0] != (uint8_t)o->cfg.instance)
		return;
	if (f->data[1] > RVC_PRIORITY_BATTERY || (f->data[1] == RVC_PRIORITY_BATTERY && sa > n->j.sa)) {
		n->rival_sa = sa;
		n->rival_until = now + NODE_RIVAL_HOLD;
	}
}

void inv_node_frame(struct inv_out *o, const struct gw_can_frame *f, double now)
{
	uint8_t was = o->can.node.j.sa;
	enum j1939_heard h = j1939_heard(&o->can.node.j, f, now);
	if (h != J1939_H_NONE)
		node_heard(o, h, was);
	else
		node_rival(o, f, now);
}

bool inv_node_ready(struct inv_out *o, double now, double *at)
{
	struct inv_node *n = &o->can.node;
	bool defer = n->j.state == J1939_CLAIMED && now < n->rival_until;
	if (defer != n->deferring) {
		if (defer)
			gw_warn("inverter %s: node %u (0x%02X) speaks for DC source instance %d and outranks bmsgw (RV-C: "
				"one node an instance): bmsgw's DC source frames stop while it does", o->cfg.name,
				n->rival_sa, n->rival_sa, o->cfg.instance);
		else
			gw_info("inverter %s: node %u no longer speaks for DC source instance %d: bmsgw's DC source "
				"frames go again", o->cfg.name, n->rival_sa, o->cfg.instance);
		n->deferring = defer;
	}
	if (!j1939_ready(&n->j, now, at))
		return false;
	if (defer) {
		*at = n->rival_until;
		return false;
	}
	return true;
}

uint8_t inv_node_address(const struct inv_out *o)
{
	return o->can.node.j.sa;
}

void inv_node_status(const struct inv_out *o, FILE *out)
{
	const struct inv_node *n = &o->can.node;
	fprintf(out, ",\"address\":%u,\"address_claim\":\"%s\",\"j1939_name\":\"%016" PRIX64 "\",\"claims_sent\":%lu"
		",\"addresses_lost\":%u,\"claim_requests\":%u", n->j.state == J1939_CLAIMED ? n->j.sa : J1939_NULL,
		j1939_state_name(&n->j, gw_mono()), n->j.name, n->claims_sent, n->j.lost, n->j.asked);
	if (n->deferring)
		fprintf(out, ",\"deferring_to\":%u", n->rival_sa);
}
