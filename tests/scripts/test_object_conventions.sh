#!/bin/sh
# The command line on objects of the conventions beyond libbpf 1.x's
# (built here with clang): `verify` says which programs it skipped ('?'
# sections) or could not load and why, `--type` types a program whose
# section tells nothing (verify, run, prog show), `run --prog` runs a '?'
# program, `run` without --prog names on stderr each program it left out,
# iproute2's tail-call sections are filled when `run --prog` loads their
# caller, a section without FUNC symbols runs as the program named after
# it, and a tail-call section naming a missing map is refused naming it.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
status=0

if ! command -v "$CLANG" >/dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "SKIP object_conventions: $CLANG or libbpf's headers (libbpf-dev) are missing"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() { # NAME: $tmp/NAME.c (or .s) into $tmp/NAME.o
	src=$tmp/$1.c
	[ -f "$src" ] || src=$tmp/$1.s
	"$CLANG" -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "$tmp/$1.o" 2> "$tmp/cc" || {
		echo "FAIL object_conventions: $1 does not compile: $(head -1 "$tmp/cc")"
		exit 1
	}
}

# check NAME RC PATTERN... -- BPFVM-ARGS: the exit status and each pattern (grep -E) in stdout+stderr
check() {
	name=$1 want=$2; shift 2
	pats=""
	while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
	shift
	"$BPFVM" "$@" > "$tmp/out" 2>&1 < /dev/null
	rc=$?
	missing=$(echo "$pats" | while IFS= read -r p; do
		[ -n "$p" ] && ! grep -qE -- "$p" "$tmp/out" && echo "$p"; done)
	if [ "$rc" -ne "$want" ] || [ -n "$missing" ]; then
		echo "FAIL $name: exit $rc (want $want)${missing:+, missing: $missing}; output:"
		head -n 6 "$tmp/out" | sed 's/^/     ... /'
		status=1
	else
		echo "PASS $name"
	fi
}

cat > "$tmp/q.c" <<'SRC'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("?raw_tp/sys_enter") int opt(void *c) { return 5; }
SEC("xdp") int main_xdp(void *c) { return 2; }
SEC("prog") int generic(struct __sk_buff *s) { return 3; }
char LICENSE[] SEC("license") = "GPL";
SRC
cat > "$tmp/tc.c" <<'SRC'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_elf_map { __u32 type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx; };
struct bpf_elf_map SEC("maps") jmp = { .type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4,
	.size_value = 4, .max_elem = 2, .id = 7 };
SEC("7/0") int t0(struct __sk_buff *s) { return 11; }
SEC("7/1") int t1(struct __sk_buff *s) { return 12; }
SEC("classifier") int cls(struct __sk_buff *skb) { bpf_tail_call(skb, &jmp, skb->mark); return 1; }
char __license[] SEC("license") = "GPL";
SRC
cat > "$tmp/badtc.c" <<'SRC'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct bpf_elf_map { __u32 type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx; };
struct bpf_elf_map SEC("maps") jmp = { .type = BPF_MAP_TYPE_PROG_ARRAY, .size_key = 4,
	.size_value = 4, .max_elem = 2, .id = 7 };
SEC("8/0") int t0(struct __sk_buff *s) { return 11; }
SEC("classifier") int cls(struct __sk_buff *skb) { bpf_tail_call(skb, &jmp, 0); return 1; }
SRC
printf '\t.section socket,"ax",@progbits\n\tr0 = 3\n\texit\n\t.section license,"a",@progbits\n\t.asciz "GPL"\n' > "$tmp/asm.s"
for o in q tc badtc asm; do build $o; done
head -c 64 /dev/zero > "$tmp/pkt"
head -c 96 /dev/zero > "$tmp/args"
# a struct __sk_buff with mark (offset 8) 1
head -c 192 /dev/zero > "$tmp/skb"
printf '\001' | dd of="$tmp/skb" bs=1 seek=8 conv=notrunc 2> /dev/null

check verify_skips_question_mark_and_names_untyped 1 \
	"^opt \(\?raw_tp/sys_enter\): skipped: not loaded unless asked for" "^main_xdp \(xdp\): accepted" \
	"^generic \(prog\): not loaded: section name 'prog' follows no known convention.*--type" \
	-- verify "$tmp/q.o"
check verify_type_for_untyped 0 "^generic \(prog\): accepted" "^main_xdp \(xdp\): accepted" \
	-- verify --type sched_cls "$tmp/q.o"
check verify_prog_question_mark 0 "^opt \(\?raw_tp/sys_enter\): accepted" \
	-- verify --prog opt "$tmp/q.o"
check run_prog_question_mark 0 "^retval 0x5 " -- run --prog opt --ctx "$tmp/args" "$tmp/q.o"
check run_type_for_untyped 0 "^retval 0x3 \(TC_ACT_PIPE\)" \
	-- run --prog generic --type sched_cls --data "$tmp/pkt" "$tmp/q.o"
check run_untyped_without_type 1 "program generic cannot be loaded: section name 'prog'" \
	-- run --prog generic --data "$tmp/pkt" "$tmp/q.o"
check run_whole_names_left_out 0 "^retval 0x2 \(XDP_PASS\)" \
	"^bpfvm: .*q.o: left out opt \(\?raw_tp/sys_enter\): not loaded unless asked for" \
	"^bpfvm: .*q.o: left out generic \(prog\): section name 'prog' follows no known convention" \
	-- run --data "$tmp/pkt" "$tmp/q.o"
check run_unknown_type 2 "unknown program type 'sched_foo'" \
	-- run --prog generic --type sched_foo --data "$tmp/pkt" "$tmp/q.o"
check prog_show_type 0 "^prog 2: sched_act  name generic  section prog" \
	-- prog show --type sched_act "$tmp/q.o"
check run_tail_call_section_slot0 0 "^retval 0xb " -- run --prog cls --data "$tmp/pkt" "$tmp/tc.o"
check run_tail_call_section_slot1 0 "^retval 0xc " \
	-- run --prog cls --data "$tmp/pkt" --ctx "$tmp/skb" "$tmp/tc.o"
check prog_show_tail_call_types 0 "^prog 0: sched_cls  name t0  section 7/0" \
	"^prog 2: sched_cls  name cls  section classifier" -- prog show "$tmp/tc.o"
check bad_tail_call_section 1 "section 8/0: .*program array with id 8.*no map of section maps has that id" \
	-- prog show "$tmp/badtc.o"
check asm_section_without_symbols 0 "^retval 0x3 " -- run --prog socket --data "$tmp/pkt" "$tmp/asm.o"
exit $status
