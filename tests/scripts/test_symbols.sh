#!/bin/sh
# What an embedder links exports the bpfvm_ API and nothing else: every
# global symbol libbpfvm.so exports and every global symbol libbpfvm.a
# defines starts with bpfvm_, so no internal function (the verifier's
# explore, state_new, ...) can clash with an embedder's own symbols.
# libbpfvm.so's version node (BPFVM_0.1, an absolute symbol the version
# script defines) is not a function or object and is left aside.
BUILD=${BUILD:-build}
status=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; status=1; }

if ! command -v nm > /dev/null; then
	echo "SKIP symbols: no nm (binutils)"
	exit 0
fi

# check NAME FILE -- NM-ARGS: the defined global symbols nm lists, bpfvm_ ones aside
check() {
	name=$1 file=$2; shift 3
	if [ ! -f "$file" ]; then
		fail "$name" "$file is missing (make all)"
		return
	fi
	all=$(nm "$@" "$file" 2> /dev/null | awk 'NF == 3 && $2 != "A" { print $3 }')
	if [ -z "$all" ]; then
		fail "$name" "nm lists no global symbol in $file"
		return
	fi
	# AddressSanitizer gives a public global variable an ODR indicator named after it
	# (__odr_asan.bpfvm_cbpf_skb_layout_linux): part of that bpfvm_ symbol.
	bad=$(echo "$all" | grep -v '^bpfvm_' | grep -v '^__odr_asan[._]bpfvm_' | sort -u)
	if [ -n "$bad" ]; then
		fail "$name" "$(echo "$bad" | wc -l) global symbols of $file do not start with bpfvm_: $(echo "$bad" | head -n 20 | tr '\n' ' ')"
	else
		pass "$name ($(echo "$all" | sort -u | wc -l) global symbols, all bpfvm_)"
	fi
}

check symbols_so "$BUILD/libbpfvm.so" -- -D --defined-only
check symbols_a "$BUILD/libbpfvm.a" -- -g --defined-only

# The version node is the only absolute symbol, so the filter above hides nothing else.
abs=$(nm -D --defined-only "$BUILD/libbpfvm.so" 2> /dev/null | awk '$2 == "A" { print $3 }' | grep -v '^BPFVM_[0-9.]*$')
if [ -n "$abs" ]; then
	fail symbols_so_abs "absolute symbols other than the version node: $abs"
else
	pass symbols_so_abs
fi
# An embedder with functions of the library's internal names links the
# archive and runs: its own explore() is called, and the library's verifier
# (which has an explore of its own inside) and interpreter work.
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/embedder.c" <<'C'
#include <stdio.h>
#include <bpfvm/bpfvm.h>
int explore(void) { return 42; }
int state_new(void) { return 7; }
int main(void)
{
	struct bpfvm_insn prog[] = { BPFVM_MOV64_IMM(0, 5), BPFVM_EXIT_INSN() };
	BPFVM_OPTS(bpfvm_run_opts, ro);
	struct bpfvm *vm = bpfvm__new(NULL);
	struct bpfvm_prog *p = vm ? bpfvm_prog__new(vm, prog, 2, NULL) : NULL;
	int err = p ? bpfvm_prog__verify(p, NULL) : -1;

	err = err ? err : bpfvm_prog__run(p, NULL, 0, &ro);

	printf("%d %d %d %llu\n", explore(), state_new(), err, (unsigned long long)ro.retval);
	bpfvm__destroy(vm);
	return 0;
}
C
# the sanitized build's archive needs the sanitizers' run-time libraries
san=
[ "${SANITIZED:-}" = 1 ] && san=-fsanitize=address,undefined
if ! $CC $san -Iinclude -o "$tmp/embedder" "$tmp/embedder.c" "$BUILD/libbpfvm.a" \
	-lelf -lz -lpthread -lm -lZydis 2> "$tmp/err"; then
	fail symbols_a_embedder "an embedder defining explore() and state_new() does not link: $(head -n 3 "$tmp/err" | tr '\n' ' ')"
elif [ "$("$tmp/embedder")" != "42 7 0 5" ]; then
	fail symbols_a_embedder "printed '$("$tmp/embedder")', expected '42 7 0 5'"
else
	pass symbols_a_embedder
fi
exit $status
