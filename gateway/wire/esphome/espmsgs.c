/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espmsgs.c - the ESPHome message ids of
 * esphome_api.proto (each message's "// id N" comment, as ESPHome's
 * api.proto gives them in its "option (id) = N") and their protobuf-c
 * descriptors.  tests/unit/test_esphome_codec.c checks the table against
 * the .proto's comments. */
#include "espcodec.h"

#include "esphome_api.pb-c.h"

static const struct esp_msg_entry esp_msgs[] = {
	{ 1, &esphome__hello_request__descriptor },
	{ 2, &esphome__hello_response__descriptor },
	{ 3, &esphome__authentication_request__descriptor },
	{ 4, &esphome__authentication_response__descriptor },
	{ 5, &esphome__disconnect_request__descriptor },
	{ 6, &esphome__disconnect_response__descriptor },
	{ 7, &esphome__ping_request__descriptor },
	{ 8, &esphome__ping_response__descriptor },
	{ 9, &esphome__device_info_request__descriptor },
	{ 10, &esphome__device_info_response__descriptor },
	{ 11, &esphome__list_entities_request__descriptor },
	{ 19, &esphome__list_entities_done_response__descriptor },
	{ 66, &esphome__subscribe_bluetooth_leadvertisements_request__descriptor },
	{ 68, &esphome__bluetooth_device_request__descriptor },
	{ 69, &esphome__bluetooth_device_connection_response__descriptor },
	{ 70, &esphome__bluetooth_gattget_services_request__descriptor },
	{ 71, &esphome__bluetooth_gattget_services_response__descriptor },
	{ 72, &esphome__bluetooth_gattget_services_done_response__descriptor },
	{ 73, &esphome__bluetooth_gattread_request__descriptor },
	{ 74, &esphome__bluetooth_gattread_response__descriptor },
	{ 75, &esphome__bluetooth_gattwrite_request__descriptor },
	{ 76, &esphome__bluetooth_gattread_descriptor_request__descriptor },
	{ 77, &esphome__bluetooth_gattwrite_descriptor_request__descriptor },
	{ 78, &esphome__bluetooth_gattnotify_request__descriptor },
	{ 79, &esphome__bluetooth_gattnotify_data_response__descriptor },
	{ 80, &esphome__subscribe_bluetooth_connections_free_request__descriptor },
	{ 81, &esphome__bluetooth_connections_free_response__descriptor },
	{ 82, &esphome__bluetooth_gatterror_response__descriptor },
	{ 83, &esphome__bluetooth_gattwrite_response__descriptor },
	{ 84, &esphome__bluetooth_gattnotify_response__descriptor },
	{ 87, &esphome__unsubscribe_bluetooth_leadvertisements_request__descriptor },
	{ 93, &esphome__bluetooth_leraw_advertisements_response__descriptor },
};

#define ESP_NMSGS (sizeof(esp_msgs) / sizeof(esp_msgs[0]))

const ProtobufCMessageDescriptor *esp_msg_descriptor(unsigned type)
{
	for (size_t i = 0; i < ESP_NMSGS; i++)
		if (esp_msgs[i].id == type)
			return esp_msgs[i].desc;
	return NULL;
}

unsigned esp_msg_id(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < ESP_NMSGS; i++)
		if (esp_msgs[i].desc == d)
			return esp_msgs[i].id;
	return 0;
}

const struct esp_msg_entry *esp_msg_table(size_t *n)
{
	*n = ESP_NMSGS;
	return esp_msgs;
}
