#!/bin/sh
# `bpfvm run`'s ring buffer and perf buffer records, and --dump-maps'
# values, decoded with the object's BTF as `bpftool map dump` prints values:
#  - one record of every shape (ints of all sizes signed and unsigned, a
#    char array, a nested struct, an array of structs, an enum, bitfields,
#    a pointer, a bool) through bpf_ringbuf_output and bpf_perf_event_output,
#    checked field by field in text and in JSON;
#  - the choice of type: struct event, --record-type, and raw hex with the
#    reason when the choice is ambiguous, impossible, or there is no BTF;
#  - perf records are never dropped silently: past the bound they are counted;
#  - the same object loaded into the kernel and run there (bpftool prog run):
#    `bpftool map dump` of its hash map and .data section against
#    --dump-maps, line for line (skipped, with the kernel's reason, where
#    the kernel or bpftool cannot).
name=records
. tests/scripts/clang_checks.sh

# has NAME FILE TEXT...: FILE holds each TEXT (fixed strings).
has() {
	name=$1 file=$2
	shift 2
	for want in "$@"; do
		if ! grep -qF -- "$want" "$file"; then
			fail "$name" "no '$want' in: $(head -c 600 "$file" | tr '\n\t' '  ')"
			return
		fi
	done
	pass "$name"
}

cat > "$tmp/rec.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum state { ST_IDLE = 0, ST_RUN = 1, ST_DONE = 7 };
struct point { short x; unsigned short y; };
struct event {
	signed char s8; unsigned char u8; short s16; unsigned short u16;
	int s32; unsigned int u32; long long s64; unsigned long long u64;
	char comm[16];
	struct point where;
	struct point path[2];
	enum state st;
	unsigned int flag : 1, level : 3, code : 12;
	void *ptr;
	_Bool ok;
};
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4);
	 __uint(value_size, 4); } pb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, struct point);
	 __type(value, struct event); } byp SEC(".maps");
struct event last = { .s8 = -5, .comm = "init", .st = ST_RUN, .ptr = (void *)0x1234, .code = 77 };

SEC("xdp") int emit(struct xdp_md *ctx)
{
	struct event e = {};
	struct point k = { 1, 2 };

	if (last.s32 == 12345)   /* uses .data: run loads only what the program uses */
		return XDP_DROP;
	e.s8 = -1; e.u8 = 255; e.s16 = -300; e.u16 = 65000; e.s32 = -70000; e.u32 = 4000000000u;
	e.s64 = -5000000000LL; e.u64 = 18000000000000000000ull;
	__builtin_memcpy(e.comm, "bash", 5);
	e.where.x = -3; e.where.y = 4; e.path[0].x = 10; e.path[1].y = 20;
	e.st = ST_DONE; e.flag = 1; e.level = 5; e.code = 0xabc;
	e.ptr = (void *)0xffff888012345678ull; e.ok = 1;
	bpf_ringbuf_output(&rb, &e, sizeof(e), 0);
	bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &e, sizeof(e));
	bpf_map_update_elem(&byp, &k, &e, 0);
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
EOF
# Two 8-byte structs, neither named event: the record's type is ambiguous.
cat > "$tmp/two.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct a { int x, y; };
struct b { unsigned int lo, hi; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct a keep_a;
struct b keep_b;
SEC("xdp") int emit2(struct xdp_md *ctx)
{
	struct a r = { -1, 2 };
	bpf_ringbuf_output(&rb, &r, sizeof(r), 0);
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
EOF
# No BTF at all: a legacy map definition, built without -g.
cat > "$tmp/nobtf.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct def { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct def pb SEC("maps") = { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 0, 0 };
SEC("xdp") int emit3(struct xdp_md *ctx)
{
	__u64 v = 0x1122334455667788ull;
	bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &v, sizeof(v));
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
EOF
for o in rec two; do
	"$CLANG" -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$tmp/$o.bpf.c" -o "$tmp/$o.o" ||
		{ fail "compile $o" "clang failed"; exit 1; }
done
"$CLANG" -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$tmp/nobtf.bpf.c" -o "$tmp/nobtf.o" ||
	{ fail "compile nobtf" "clang failed"; exit 1; }
head -c 60 /dev/zero > "$tmp/pkt"

# 1. Text: the perf record (printed without --dump-maps) and the ring buffer's.
event_text='	    "s8": -1,
	    "u8": 255,
	    "s16": -300,
	    "u16": 65000,
	    "s32": -70000,
	    "u32": 4000000000,
	    "s64": -5000000000,
	    "u64": 18000000000000000000,
	    "comm": "bash",
	    "where": {
	        "x": -3,
	        "y": 4
	    },
	    "path": [{
	            "x": 10,
	            "y": 0
	        },{
	            "x": 0,
	            "y": 20
	        }
	    ],
	    "st": "ST_DONE",
	    "flag": 0x1,
	    "level": 0x5,
	    "code": 0xabc,
	    "ptr": "0xffff888012345678",
	    "ok": true
	}'
"$BPFVM" run "$tmp/rec.o" --data "$tmp/pkt" > "$tmp/out" 2>&1 || fail "run" "$(cat "$tmp/out")"
has "perf record printed without --dump-maps" "$tmp/out" "perf event array pb: 1 record"
sed -n '/^	record 0 (cpu [0-9]*, struct event): {$/,/^	}$/p' "$tmp/out" | sed 1d > "$tmp/got"
printf '%s\n' "$event_text" > "$tmp/want"
if cmp -s "$tmp/want" "$tmp/got"; then pass "perf record: every field in text"
else fail "perf record: every field in text" "$(diff "$tmp/want" "$tmp/got" | head -6 | tr '\n' ' ')"; fi
"$BPFVM" run "$tmp/rec.o" --data "$tmp/pkt" --dump-maps > "$tmp/out" 2>&1
sed -n '/^map rb /,/^map /p' "$tmp/out" | sed -n '/^	record 0 (struct event): {$/,/^	}$/p' | sed 1d > "$tmp/got"
if cmp -s "$tmp/want" "$tmp/got"; then pass "ring buffer record: every field in text"
else fail "ring buffer record: every field in text" "$(diff "$tmp/want" "$tmp/got" | head -6 | tr '\n' ' ')"; fi

# 2. JSON: the same fields, as a "fields" object.
fields='"type":"struct event","fields":{"s8":-1,"u8":255,"s16":-300,"u16":65000,"s32":-70000,"u32":4000000000,"s64":-5000000000,"u64":18000000000000000000,"comm":"bash","where":{"x":-3,"y":4},"path":[{"x":10,"y":0},{"x":0,"y":20}],"st":"ST_DONE","flag":"0x1","level":"0x5","code":"0xabc","ptr":"0xffff888012345678","ok":true}'
"$BPFVM" run "$tmp/rec.o" --data "$tmp/pkt" --json --dump-maps > "$tmp/out" 2>&1
has "perf record: every field in JSON" "$tmp/out" '"perf":[{"map":"pb","cpu":' "$fields}],\"perf_dropped\":0"
has "ring buffer record: every field in JSON" "$tmp/out" \
	'{"name":"rb","type":"ringbuf","entries":[{"record":"ffffd4fee8fd0000' "$fields}]}"
has "hash map: key and value formatted in JSON" "$tmp/out" \
	'"formatted":{"key":{"x":1,"y":2},"value":{"s8":-1,"u8":255,'
has ".data: by variable in JSON" "$tmp/out" \
	'"formatted":{"value":{".data":[{"last":{"s8":-5,"u8":0,' '"comm":"init"' '"st":"ST_RUN"' '"code":"0x4d","ptr":"0x1234","ok":false}}]}}'

# 3. Choosing the type.
"$BPFVM" run "$tmp/rec.o" --data "$tmp/pkt" --record-type point > "$tmp/out" 2>&1
has "--record-type: a smaller struct, with the rest in hex" "$tmp/out" \
	'record 0 (cpu ' ', struct point): {' '"x": -1,' '"y": 65236' '} + 84 bytes e8fd0000'
"$BPFVM" run "$tmp/rec.o" --data "$tmp/pkt" --record-type "struct nosuch" > "$tmp/out" 2>&1
[ $? -eq 1 ] && has "--record-type: no such type" "$tmp/out" \
	"--record-type struct nosuch: no struct, union, enum or typedef of that name" ||
	fail "--record-type: no such type" "exit status not 1: $(cat "$tmp/out")"
"$BPFVM" run "$tmp/two.o" --data "$tmp/pkt" --dump-maps > "$tmp/out" 2>&1
has "ambiguous: raw hex and why" "$tmp/out" "	record 0: ffffffff02000000" \
	"(records in hex: 2 structs in the object's BTF are 8 bytes: struct a, struct b; decode them with --record-type STRUCT)"
"$BPFVM" run "$tmp/two.o" --data "$tmp/pkt" --dump-maps --json > "$tmp/out" 2>&1
has "ambiguous: JSON says why" "$tmp/out" \
	'{"record":"ffffffff02000000","undecoded":"2 structs in the object'"'"'s BTF are 8 bytes: struct a, struct b"}'
"$BPFVM" run "$tmp/two.o" --data "$tmp/pkt" --dump-maps --record-type a --json > "$tmp/out" 2>&1
has "ambiguous: --record-type decides" "$tmp/out" '"type":"struct a","fields":{"x":-1,"y":2}'
"$BPFVM" run "$tmp/two.o" --data "$tmp/pkt" --dump-maps --record-type "struct b" > "$tmp/out" 2>&1
has "ambiguous: --record-type decides, text" "$tmp/out" 'record 0 (struct b): {' '"lo": 4294967295,' '"hi": 2'
"$BPFVM" run "$tmp/nobtf.o" --data "$tmp/pkt" > "$tmp/out" 2>&1
has "no BTF: raw hex and why" "$tmp/out" "perf event array pb: 1 record" ": 8877665544332211" \
	"(records in hex: the object has no BTF; decode them with --record-type STRUCT)"
"$BPFVM" run "$tmp/nobtf.o" --data "$tmp/pkt" --record-type event > "$tmp/out" 2>&1
[ $? -eq 1 ] && has "no BTF: --record-type refused" "$tmp/out" "the object has no BTF" ||
	fail "no BTF: --record-type refused" "exit status not 1: $(cat "$tmp/out")"

# 4. Never dropped silently: 5000 runs, 4096 records kept, the rest counted.
"$BPFVM" run "$tmp/nobtf.o" --data "$tmp/pkt" --repeat 5000 > "$tmp/out" 2>&1
has "perf records past the bound are counted" "$tmp/out" "perf event array pb: 4096 records" \
	"perf event arrays: 904 more records not kept (only the first 4096 are)"
"$BPFVM" run "$tmp/nobtf.o" --data "$tmp/pkt" --repeat 5000 --json > "$tmp/out" 2>&1
has "perf records past the bound are counted in JSON" "$tmp/out" '"perf_dropped":904'

# 5. Against the kernel: bpftool map dump of the same maps after the same run.
kv=$(uname -r)
if ! command -v bpftool >/dev/null 2>&1 || ! command -v unshare >/dev/null 2>&1; then
	echo "SKIP records bpftool: bpftool or unshare missing"
	exit $status
fi
# bpffs in a mount namespace of our own, gone when it exits.
unshare -m sh -c 'mount -t bpf bpf /sys/fs/bpf &&
	bpftool prog loadall "$1" /sys/fs/bpf/p pinmaps /sys/fs/bpf/m &&
	bpftool prog run pinned /sys/fs/bpf/p/emit data_in "$2" > /dev/null &&
	bpftool map dump pinned /sys/fs/bpf/m/byp > "$3/k_byp" &&
	bpftool map dump pinned /sys/fs/bpf/m/rec_data > "$3/k_data"' sh "$tmp/rec.o" "$tmp/pkt" "$tmp" \
	> "$tmp/kout" 2>&1
if [ ! -s "$tmp/k_data" ]; then
	echo "SKIP records bpftool: Linux $kv: the kernel or bpftool cannot load and run the object: $(grep -v '^Warning\|^If it used' "$tmp/kout" | head -2 | tr '\n' ' ')"
	exit $status
fi
"$BPFVM" run "$tmp/rec.o" --data "$tmp/pkt" --dump-maps > "$tmp/out" 2>&1
# bpftool before 7.2 prints a pointer unquoted (not JSON); later ones as we do.
unquote() {
	if grep -q '"ptr": 0x' "$tmp/k_byp"; then
		sed 's/"ptr": "\(0x[0-9a-f]*\)"/"ptr": \1/'
	else
		cat
	fi
}
for m in byp:k_byp rec.data:k_data; do
	name=${m%%:*} file=${m##*:}
	sed -n "/^map $name (/,/^map /p" "$tmp/out" | sed -n '/^	by BTF:$/,/^map /p' |
		sed -e '1d' -e '/^map /d' -e 's/^\t//' |
		unquote > "$tmp/mine"
	grep -v '^Found ' "$tmp/$file" > "$tmp/theirs"
	if cmp -s "$tmp/theirs" "$tmp/mine"; then pass "bpftool map dump $name: same text"
	else fail "bpftool map dump $name: same text" "$(diff "$tmp/theirs" "$tmp/mine" | head -6 | tr '\n' ' ')"; fi
done
exit $status
