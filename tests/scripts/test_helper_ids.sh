#!/bin/sh
# Helper ids live in one place: src/helpers/helpers.def names every id and
# carries every per-helper fact (packet access, changes the packet,
# references, callbacks, ...).  Everything else in src/ says
# HELPER_ID_<name> or asks helper_has(id, HF_...).  This fails when a bare
# helper number comes back: a comparison of a helper id with a number, a
# case label of a switch over helper ids, an id list or enum of numbers,
# a BPF_FUNC_ constant (the kernel's or a local copy).
#
# SRC=dir checks another tree (e.g. an older checkout, to see it catch).
SRC=${SRC:-src}
status=0

if [ ! -f "$SRC/helpers/helpers.def" ]; then
	echo "FAIL helper_ids: $SRC/helpers/helpers.def not found"
	exit 1
fi

files=$(find "$SRC" -name '*.[ch]' | sort)
hits=$(
	# shellcheck disable=SC2086
	awk '
	function report(why) { printf "%s:%d: %s: %s\n", FILENAME, FNR, why, $0 }
	FNR == 1 { sw = 0; list = 0 }
	{ line = $0; sub(/\/\*.*\*\//, "", line); sub(/\/\/.*/, "", line) }
	line ~ /BPF_FUNC_[A-Za-z]/ { report("BPF_FUNC_ constant") }
	line ~ /(^|[^A-Za-z0-9_>.])(id|func_id|helper|helper_id)[ \t]*[=!]=[ \t]*[1-9]/ {
		report("helper id compared with a number")
	}
	line ~ /CALL_HELPER/ && line ~ /imm[ \t]*[=!]=[ \t]*[1-9]/ {
		report("helper call compared with a number")
	}
	line ~ /^[ \t]*(FUNC|H|HELPER|HELPER_ID)_[A-Za-z_0-9]+[ \t]*=[ \t]*[0-9]/ {
		report("helper id enumerated as a number")
	}
	# a switch over helper ids: its case labels up to the switch closing
	line ~ /switch[ \t]*\((id|func_id|helper|helper_id)\)/ { sw = 1; depth = 0 }
	sw && line ~ /case[ \t]+[0-9]/ { report("case label of a helper id as a number") }
	sw {
		depth += gsub(/\{/, "{", line) - gsub(/\}/, "}", line)
		if (depth <= 0 && line ~ /\}/) sw = 0
	}
	# a list of helper ids: no numbers in it but its end marker
	line ~ /(_ids|_helpers)\[\][ \t]*=[ \t]*\{/ { list = 1 }
	list {
		l = line; gsub(/0x[fF]+/, "", l); sub(/^[^{]*\{/, "", l)
		if (l ~ /(^|[^A-Za-z0-9_])[0-9]+/) report("helper id list with a number")
		if (line ~ /\}/) list = 0
	}
	' $files
)
if [ -n "$hits" ]; then
	echo "$hits" | sed 's/^/  /'
	echo "FAIL helper_ids: bare helper numbers in $SRC (use HELPER_ID_<name> or a fact of helpers.def)"
	status=1
else
	echo "PASS helper_ids: no bare helper number in $(echo "$files" | wc -l) files of $SRC"
fi

# Every fact a row of helpers.def names is one helper_ids.h defines.
undefined=$(grep -o 'HF_[A-Z][A-Z_]*' "$SRC/helpers/helpers.def" | sort -u | while read -r f; do
	grep -q "^[[:space:]]*$f = " "$SRC/helpers/helper_ids.h" || echo "$f"
done)
if [ -n "$undefined" ]; then
	echo "FAIL helper_ids_facts: helpers.def names facts helper_ids.h lacks: $undefined"
	status=1
else
	echo "PASS helper_ids_facts: every fact helpers.def names is an HF_ of helper_ids.h"
fi
exit $status
