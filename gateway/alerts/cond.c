/* SPDX-License-Identifier: MIT */
/* gateway/alerts/cond.c - one alert condition's state machine (cond.h). */
#include "cond.h"

void al_cond_init(struct al_cond *c)
{
	c->on = false;
	c->differs = -1;
	c->sent = 0;
}

enum al_event al_cond_step(struct al_cond *c, bool known, bool truth, double now, double hold, double repeat)
{
	if (!known) {
		c->differs = -1;
		return AL_EV_NONE;
	}
	if (truth == c->on) {
		c->differs = -1;
		if (c->on && repeat > 0 && now - c->sent >= repeat) {
			c->sent = now;
			return AL_EV_REPEAT;
		}
		return AL_EV_NONE;
	}
	if (c->differs < 0)
		c->differs = now;
	if (now - c->differs < hold)
		return AL_EV_NONE;
	c->on = truth;
	c->differs = -1;
	if (!truth)
		return AL_EV_CLEAR;
	c->sent = now;
	return AL_EV_FIRE;
}
