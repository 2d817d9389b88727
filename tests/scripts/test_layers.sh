#!/bin/sh
# The layers point down only (docs/ARCHITECTURE.md), checked over every
# `#include` line of src/, tools/ and include/bpfvm/:
#  - a file of src/L includes only its own folder and folders of layers
#    below L (peers on one line include neither each other);
#  - no circle between folders;
#  - every folder of src/ has a layer;
#  - tools/ includes only include/bpfvm/ (<bpfvm/...>), system headers and
#    its own headers; include/bpfvm/ only <bpfvm/...> and system headers;
#    agent/ (the in-process agent, a top layer as tools/) as tools/, and tools/;
#  - the command line links the shared library (it can: it uses only the
#    public API), runs from the build directory, and once installed.
# A violation FAILs naming the file and line.  The checker is first run on
# a small tree with one violation of each kind, so that it is known to see them.
set -u
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# The layers, bottom up: the one statement of the allowed arrows (a line
# may include its own folder and the folders on the lines above it).
# docs/ARCHITECTURE.md shows the same list; a test below keeps them equal.
LAYERS='util
isa btf
core
maps
helpers
prog
verifier
vm
elf
hooks
events'

# check_tree ROOT: one line per violation, "KIND file:line: what".
check_tree() {
	(cd "$1" && find src tools agent preload include -type f \( -name '*.c' -o -name '*.h' -o -name '*.def' \) \
		2>/dev/null | sort | xargs grep -Hn '^[[:space:]]*#[[:space:]]*include' /dev/null) |
	DIRS=$(cd "$1" && ls -d src/*/ 2>/dev/null | tr '\n' ' ') LAYERS="$LAYERS" awk '
	function norm(p,   n, a, out, k, i) {
		n = split(p, a, "/"); k = 0
		for (i = 1; i <= n; i++) {
			if (a[i] == "." || a[i] == "") continue
			if (a[i] == ".." && k > 0 && out[k] != "..") { k--; continue }
			out[++k] = a[i]
		}
		p = ""
		for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
		return p
	}
	# The folder a path belongs to: src/L, tools, include (public API), or "".
	function folder(p,   a) {
		split(p, a, "/")
		if (a[1] == "src" && a[3] != "") return "src/" a[2]
		if (a[1] == "tools") return "tools"
		if (a[1] == "agent") return "agent"
		if (a[1] == "preload") return "preload"
		if (a[1] == "include" && a[2] == "bpfvm") return "include"
		return p
	}
	BEGIN {
		n = split(ENVIRON["LAYERS"], rows, "\n")
		for (i = 1; i <= n; i++) {
			m = split(rows[i], f, " ")
			for (j = 1; j <= m; j++) rank["src/" f[j]] = i
		}
		m = split(ENVIRON["DIRS"], d, " ")
		for (j = 1; j <= m; j++) {
			sub(/\/$/, "", d[j]); srcdir[substr(d[j], 5)] = 1
			if (!(d[j] in rank)) print "NOLAYER " d[j] ": has no layer in the table"
		}
	}
	{
		file = $0; sub(/:.*/, "", file)
		rest = substr($0, length(file) + 2); line = rest; sub(/:.*/, "", line)
		text = substr(rest, length(line) + 2)
		from = folder(file)
		where = file ":" line
		if (match(text, /<[^>]*>/)) {
			inc = substr(text, RSTART + 1, RLENGTH - 2); split(inc, c, "/")
			if ((from == "tools" || from == "agent" || from == "preload" || from == "include") &&
			    (c[1] == "src" || (c[1] in srcdir)))
				print (from != "include" ? "TOOLS " : "PUBLIC ") where ": includes <" inc \
					">: only <bpfvm/...> and system headers"
			next
		}
		if (!match(text, /"[^"]*"/)) next
		inc = substr(text, RSTART + 1, RLENGTH - 2)
		dir = file; sub(/\/[^\/]*$/, "", dir)
		to = folder(norm(dir "/" inc))
		if (to == from) next
		if (from == "tools" || from == "preload" || (from == "agent" && to != "tools")) {
			print "TOOLS " where ": includes " norm(dir "/" inc) \
				": " from "/ uses only include/bpfvm/" (from == "agent" ? " and tools/" : "")
			next
		}
		if (from == "agent")
			next
		if (from == "include") {
			print "PUBLIC " where ": includes " norm(dir "/" inc) \
				": include/bpfvm/ includes only <bpfvm/...> and system headers"
			next
		}
		if (!((from, to) in edge)) { edge[from, to] = where; nedges[from]++; out[from, nedges[from]] = to }
		if (to == "include" || !(from in rank) || (substr(to, 1, 4) == "src/" && !(to in rank)))
			next   # the public API; or a folder NOLAYER reports
		if (!(to in rank) || rank[to] >= rank[from])
			print "UP " where ": " from " includes " norm(dir "/" inc) " (" to \
				(rank[to] == rank[from] ? ", a peer" : ", a layer above") ")"
	}
	# Depth-first search over folders; a back edge closes a circle.
	function visit(v,   i, w, k, path) {
		state[v] = 1; stack[++depth] = v
		for (i = 1; i <= nedges[v]; i++) {
			w = out[v, i]
			if (state[w] == 1) {
				path = ""
				for (k = depth; stack[k] != w; k--) ;
				for (; k <= depth; k++)
					path = path stack[k] " -> "
				path = path w " ("
				for (k = depth; stack[k] != w; k--) ;
				for (; k < depth; k++) path = path edge[stack[k], stack[k + 1]] ", "
				print "CIRCLE " path edge[v, w] ")"
			} else if (!state[w])
				visit(w)
		}
		depth--; state[v] = 2
	}
	END {
		for (key in edge) { split(key, e, SUBSEP); if (!state[e[1]]) visit(e[1]) }
	}'
}

# report KIND NAME: PASS, or FAIL with every violation of KIND.
report() {
	v=$(grep "^$1 " "$tmp/violations" | sed "s/^$1 //")
	if [ -z "$v" ]; then pass "$2"; else fail "$2" "$(echo "$v" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"; fi
}

# ---- the checker sees each kind of violation -----------------------------------

t=$tmp/tree
mkdir -p "$t/src/core" "$t/src/maps" "$t/src/isa" "$t/src/newpart" "$t/tools" "$t/include/bpfvm" \
	"$t/preload"
printf '#include <stdint.h>\n#include "../maps/m.h"\n' > "$t/src/core/a.h"
printf '#include "../core/a.h"\n' > "$t/src/maps/m.h"
printf '#include "../core/a.h"\n#include "x.h"\n' > "$t/src/isa/i.c"
printf '#include "../isa/i.h"\n' > "$t/src/newpart/n.c"
printf '#include <bpfvm/bpfvm.h>\n#include "cli.h"\n#include "../src/isa/disasm.h"\n#include <isa/opcode.h>\n' \
	> "$t/tools/t.c"
printf '#include <bpfvm/isa.h>\n#include "../../src/core/a.h"\n' > "$t/include/bpfvm/p.h"
printf '#include <bpfvm/trace.h>\n#include "preload.h"\n#include "../src/maps/m.h"\n' > "$t/preload/l.c"
check_tree "$t" > "$tmp/self"
expect() {
	if grep -qxF "$2" "$tmp/self"; then pass "$1"; else fail "$1" "no '$2' in: $(tr '\n' ';' < "$tmp/self")"; fi
}
expect detects_upward_include 'UP src/core/a.h:2: src/core includes src/maps/m.h (src/maps, a layer above)'
expect detects_upward_include_from_isa 'UP src/isa/i.c:1: src/isa includes src/core/a.h (src/core, a layer above)'
expect detects_folder_without_layer 'NOLAYER src/newpart: has no layer in the table'
expect detects_tools_reaching_into_src 'TOOLS tools/t.c:3: includes src/isa/disasm.h: tools/ uses only include/bpfvm/'
expect detects_tools_angle_include_of_src 'TOOLS tools/t.c:4: includes <isa/opcode.h>: only <bpfvm/...> and system headers'
expect detects_preload_reaching_into_src \
	'TOOLS preload/l.c:3: includes src/maps/m.h: preload/ uses only include/bpfvm/'
expect detects_public_header_reaching_into_src \
	'PUBLIC include/bpfvm/p.h:2: includes src/core/a.h: include/bpfvm/ includes only <bpfvm/...> and system headers'
if grep -q '^CIRCLE src/[a-z]* -> src/[a-z]* -> src/[a-z]* (src/.*:[0-9]*, src/.*:[0-9]*)$' "$tmp/self" &&
   grep '^CIRCLE' "$tmp/self" | grep -q 'src/core/a.h:2' && grep '^CIRCLE' "$tmp/self" | grep -q 'src/maps/m.h:1'; then
	pass detects_circle
else
	fail detects_circle "got: $(grep '^CIRCLE' "$tmp/self" | tr '\n' ';')"
fi
if [ "$(grep -c . "$tmp/self")" -eq 8 ]; then
	pass checker_reports_nothing_else
else
	fail checker_reports_nothing_else "$(tr '\n' ';' < "$tmp/self")"
fi

# ---- this repository -------------------------------------------------------------

check_tree . > "$tmp/violations"
report UP layers_point_down
report CIRCLE no_circle_between_folders
report NOLAYER every_folder_has_a_layer
report TOOLS tools_use_only_the_public_api
report PUBLIC public_headers_include_only_public_headers
if grep -q '^[A-Z]' "$tmp/violations" && ! grep -q '^\(UP\|CIRCLE\|NOLAYER\|TOOLS\|PUBLIC\) ' "$tmp/violations"; then
	fail checker_output "unexpected: $(tr '\n' ';' < "$tmp/violations")"
fi

# docs/ARCHITECTURE.md shows the table between its "layers:" fences.
doc=$(awk '/^```layers$/ { on = 1; next } /^```$/ { on = 0 } on' docs/ARCHITECTURE.md 2>/dev/null)
if [ -n "$doc" ] && [ "$doc" = "$LAYERS" ]; then
	pass architecture_doc_shows_these_layers
else
	fail architecture_doc_shows_these_layers "docs/ARCHITECTURE.md's \`\`\`layers block: '$(echo "$doc" | tr '\n' '|')', the test's: '$(echo "$LAYERS" | tr '\n' '|')'"
fi

# ---- the command line on the shared library ---------------------------------------

if ! [ -x "$BUILD/bpfvm" ]; then
	fail bpfvm_links_libbpfvm_so "no $BUILD/bpfvm"
elif ! readelf -d "$BUILD/bpfvm" | grep -q 'NEEDED.*\[libbpfvm\.so\.0\]'; then
	fail bpfvm_links_libbpfvm_so "$BUILD/bpfvm does not need libbpfvm.so.0"
elif nm --defined-only "$BUILD/bpfvm" | grep -q ' [TtDdBb] bpfvm_\| [TtDdBb] verifier_\| [TtDd] disasm_insn$'; then
	fail bpfvm_links_libbpfvm_so "$BUILD/bpfvm defines library symbols: $(nm --defined-only "$BUILD/bpfvm" | grep ' bpfvm_' | head -n 3 | tr '\n' ' ')"
else
	pass bpfvm_links_libbpfvm_so
fi
# bpfvm exec's library too: the public API from libbpfvm.so, none of it inside.
pre=$BUILD/libbpfvm-preload.so
if ! [ -f "$pre" ]; then
	fail preload_links_libbpfvm_so "no $pre"
elif ! readelf -d "$pre" | grep -q 'NEEDED.*\[libbpfvm\.so\.0\]' ||
     nm --defined-only "$pre" | grep -q ' [TtDdBb] bpfvm_\| [TtDdBb] verifier_'; then
	fail preload_links_libbpfvm_so "$pre does not need libbpfvm.so.0, or defines library symbols"
else
	pass preload_links_libbpfvm_so
fi
# From the build directory, whatever the current directory and LD_LIBRARY_PATH.
bin=$(cd "$BUILD" 2>/dev/null && pwd)/bpfvm
out=$(cd / && env -u LD_LIBRARY_PATH "$bin" disasm --help 2>&1 | head -n 1)
case $out in
"usage: bpfvm disasm"*) pass bpfvm_runs_from_build_dir ;;
*) fail bpfvm_runs_from_build_dir "got: $out" ;;
esac
# Installed: bin/ finds lib/ through $ORIGIN/../lib (never building a BUILD that is not there).
if ! [ -x "$BUILD/bpfvm" ]; then
	fail installed_bpfvm_finds_its_library "no $BUILD/bpfvm"
elif make -s install DESTDIR="$tmp/inst" PREFIX=/opt/bpfvm BUILD="$BUILD" > "$tmp/inst.log" 2>&1; then
	out=$(env -u LD_LIBRARY_PATH "$tmp/inst/opt/bpfvm/bin/bpfvm" disasm --help 2>&1 | head -n 1)
	lib=$(LD_TRACE_LOADED_OBJECTS=1 "$tmp/inst/opt/bpfvm/bin/bpfvm" 2>&1 | grep libbpfvm)
	case $out:$lib in
	"usage: bpfvm disasm"*:*"$tmp/inst/opt/bpfvm/bin/../lib/libbpfvm.so.0"*) pass installed_bpfvm_finds_its_library ;;
	*) fail installed_bpfvm_finds_its_library "got: $out; loader: $lib" ;;
	esac
else
	fail installed_bpfvm_finds_its_library "make install: $(tail -n 2 "$tmp/inst.log" | tr '\n' '|')"
fi
