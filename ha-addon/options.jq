# SPDX-License-Identifier: MIT
# ha-addon/options.jq - bmsgw.ini from the add-on's options
# (/data/options.json, as the Supervisor writes it) and $mqtt, the
# Supervisor's MQTT service (its "data": host, port, ssl, username,
# password) or null.  The password is not written here: run.sh puts it in
# /data/mqtt-password (password_file).  A value that bmsgw.ini cannot hold
# as it is (a control character, a comment sign, a bracket, a quote, a
# space) is an error that names it, never written.
def value($what):
  if type == "number" then tostring
  elif type == "string" and test("^[^[:cntrl:] ;#\\[\\]\"]{1,255}$") then .
  else error("\($what): \(tojson) cannot be a value of bmsgw.ini") end;

def pack:
  . as $p
  | "[pack.\($p.name | value("a pack's name"))]",
    "protocol = \($p.protocol | value("pack \($p.name): protocol"))",
    "port = \($p.port | value("pack \($p.name): port"))",
    (if $p.address != null then "address = \($p.address | value("pack \($p.name): address"))" else empty end),
    "";

def mqtt:
  if $mqtt == null then
    "; no MQTT service offered by the Supervisor (install Mosquitto): no [mqtt]"
  else
    "[mqtt]",
    "host = \($mqtt.host | value("the MQTT service's host"))",
    "port = \($mqtt.port | value("the MQTT service's port"))",
    (if ($mqtt.username // "") != "" then "username = \($mqtt.username | value("the MQTT service's username"))"
     else empty end),
    (if ($mqtt.password // "") != "" then "password_file = /data/mqtt-password" else empty end),
    (if $mqtt.ssl == true then "tls = true" else empty end),
    "discovery = true"
  end;

"; bmsgw.ini of the add-on, made from its options at every start (a",
"; bmsgw.ini in the add-on's configuration folder is used instead)",
"[gateway]",
"listen = 0.0.0.0:502",
"log_level = \(.log_level // "info" | value("log_level"))",
"",
(.packs // [] | if length == 0 then error("no packs: add one in the add-on's configuration") else .[] end | pack),
"; the page, in Home Assistant's panel through its ingress proxy only",
"[http]",
"listen = 0.0.0.0:8099",
"ingress = true",
"clients = 172.30.32.2, 127.0.0.1",
"",
mqtt
