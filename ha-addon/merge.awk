# SPDX-License-Identifier: MIT
# ha-addon/merge.awk - the add-on's bmsgw.ini at a start: the options'
# changes merged into the file in use, so that what the page's Setup tab
# applied to it stays.
#   awk -f merge.awk LAST NEW CURRENT > MERGED
# LAST is the .ini made from the options at the last start, NEW the one
# made from them now, CURRENT /data/bmsgw.ini as bmsgw left it (the Setup
# tab rewrites it).  A key whose value the options changed (added, changed
# or removed: LAST and NEW differ) takes NEW's value in CURRENT, or leaves
# it; a section the options removed goes; one they added is appended.
# Everything else in CURRENT stays as it is: a pack the Setup tab added, a
# key it changed or removed, its comments and order.  The keys of `pin`
# ("section key" pairs, comma-separated: the add-on's own ports and
# ingress) are NEW's whatever CURRENT says.  Each key taken from the
# options is named on standard error.
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
function changed(s, k) {
	if ((s SUBSEP k) in pinned) return (s SUBSEP k) in nv
	if (((s SUBSEP k) in lv) != ((s SUBSEP k) in nv)) return 1
	return (s SUBSEP k) in nv && lv[s, k] != nv[s, k]
}
# the options' keys of section s that CURRENT's section did not have,
# then the comments and blank lines held since its last key
function flush(s, i, k) {
	if (s != "" && !drop) {
		for (i = 1; i <= nkeys[s]; i++) {
			k = key[s, i]
			if (!((s SUBSEP k) in seen) && changed(s, k)) {
				print k " = " nv[s, k]
				note(s, k, "set")
			}
		}
	}
	if (!drop) printf "%s", held
	held = ""
}
function note(s, k, what) { printf "[%s] %s %s from the options\n", s, k, what > "/dev/stderr" }
BEGIN {
	n = split(pin, pairs, ",")
	for (i = 1; i <= n; i++) {
		split(trim(pairs[i]), sk, " ")
		pinned[sk[1], sk[2]] = 1
	}
}
FNR == 1 { file++; sect = "" }
/^[ \t]*[;#]/ || /^[ \t]*$/ {
	if (file == 3) held = held $0 "\n"
	next
}
/^[ \t]*\[/ {
	name = trim($0)
	name = substr(name, 2, length(name) - 2)
	if (file == 1) lsect[name] = 1
	if (file == 2 && !(name in nsect)) { nsect[name] = 1; norder[++nsects] = name }
	if (file == 3) {
		# the comments before a header are the next section's
		pre = held; held = ""
		flush(sect)
		sect = name
		csect[name] = 1
		drop = (name in lsect) && !(name in nsect)
		if (drop) printf "[%s] removed by the options\n", name > "/dev/stderr"
		else printf "%s%s\n", pre, $0
		next
	}
	sect = name
	next
}
index($0, "=") {
	k = trim(substr($0, 1, index($0, "=") - 1))
	v = trim(substr($0, index($0, "=") + 1))
	if (file == 1) { lv[sect, k] = v; next }
	if (file == 2) {
		if (!((sect SUBSEP k) in nv)) key[sect, ++nkeys[sect]] = k
		nv[sect, k] = v
		next
	}
	if (drop) next
	printf "%s", held
	held = ""
	seen[sect, k] = 1
	if (!changed(sect, k)) { print; next }
	if ((sect SUBSEP k) in nv) {
		if (v != nv[sect, k]) note(sect, k, "set")
		print k " = " nv[sect, k]
	} else {
		note(sect, k, "removed")
	}
	next
}
file == 3 { printf "%s%s\n", held, $0; held = "" }
END {
	flush(sect)
	# the sections the options added, or changed where the Setup tab had
	# removed them
	for (i = 1; i <= nsects; i++) {
		s = norder[i]
		if (s in csect) continue
		add = !(s in lsect)
		for (j = 1; !add && j <= nkeys[s]; j++) add = changed(s, key[s, j])
		if (!add) continue
		printf "\n[%s]\n", s
		for (j = 1; j <= nkeys[s]; j++) print key[s, j] " = " nv[s, key[s, j]]
		printf "[%s] added from the options\n", s > "/dev/stderr"
	}
}
