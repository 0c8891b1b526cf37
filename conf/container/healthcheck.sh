#!/bin/bash
# SPDX-License-Identifier: MIT
# conf/container/healthcheck.sh [FILE] - the image's HEALTHCHECK: every
# server the configuration FILE (/config/bmsgw.ini) turns on answers.
# The Modbus TCP server ([gateway] listen, default 0.0.0.0:502) gets a
# request, the page ([http] listen, default 0.0.0.0:8080) a HEAD /, Modbus/TCP
# Security ([modbus_tls] listen) a byte; each must answer or close the
# connection (a client it does not serve is closed at once: that is the
# event loop at work too) within 5 s.  A port that refuses, or holds the
# connection without a word, is unhealthy: exit 1, naming it.
set -u
file=${1:-/config/bmsgw.ini}

# the value of KEY in [SECTION], DEFAULT when the section has none;
# "-" when the file has no such section at all
ini() { # section key default
	awk -v sect="$1" -v key="$2" -v def="$3" '
		function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
		/^[ \t]*[;#]/ { next }
		/^[ \t]*\[/ { s = trim($0); cur = substr(s, 2, length(s) - 2); if (cur == sect) seen = 1; next }
		cur == sect && index($0, "=") {
			k = trim(substr($0, 1, index($0, "=") - 1))
			if (k != key) next
			v = substr($0, index($0, "=") + 1); sub(/[ \t][;#].*/, "", v)
			val = trim(v); found = 1
		}
		END { if (!seen) print "-"; else if (found) print val; else print def }' "$file"
}

# HOST PORT to connect to for a listen value (every address: the loopback)
target() { # listen
	local l=$1 host port
	case $l in
	\[*\]:*) host=${l%]:*}; host=${host#[}; port=${l##*]:} ;;
	*:*) host=${l%:*}; port=${l##*:} ;;
	*) host=; port=$l ;;
	esac
	case $host in
	"" | 0.0.0.0) host=127.0.0.1 ;;
	:: | "::0") host=::1 ;;
	esac
	echo "$host $port"
}

# PROBE (printf format) sent to LISTEN; an answer or a close within 5 s
probe() { # what listen probe
	local host port
	read -r host port < <(target "$2")
	if ! timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "$2" >&3 && head -c 1 <&3 >/dev/null' \
		"$host" "$port" "$3" 2>/dev/null; then
		echo "unhealthy: $1 on $host port $port does not answer"
		exit 1
	fi
}

[ -r "$file" ] || { echo "unhealthy: cannot read $file"; exit 1; }
mb=$(ini gateway listen 0.0.0.0:502)
[ "$mb" = - ] && mb=0.0.0.0:502
# read one holding register of unit 1: any answer, an exception too, will do
[ -z "$mb" ] || probe "the Modbus TCP server" "$mb" '\0\1\0\0\0\6\1\3\0\0\0\1'
http=$(ini http listen 0.0.0.0:8080)
[ "$http" = - ] || probe "the page" "$http" 'HEAD / HTTP/1.0\r\n\r\n'
tls=$(ini modbus_tls listen 0.0.0.0:802)
[ "$tls" = - ] || probe "Modbus/TCP Security" "$tls" '\0'
echo healthy
