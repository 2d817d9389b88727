#!/bin/sh
# Compile the example BPF programs: examples/*.bpf.c -> OUTDIR/*.bpf.o, as
# one would for the kernel (clang -O2 -g -target bpf, libbpf's headers).
# Usage: sh examples/build.sh OUTDIR      (CLANG overrides clang-19)
out=${1:?usage: build.sh OUTDIR}
CLANG=${CLANG:-clang-19}
dir=$(dirname "$0")
arch=$(uname -m)
mkdir -p "$out" || exit 1
status=0
for src in "$dir"/*.bpf.c; do
	obj="$out/$(basename "$src" .c).o"
	[ "$obj" -nt "$src" ] && continue
	# -mcpu=v3: atomics whose fetched value is used (ringbuf_events)
	"$CLANG" -O2 -g -mcpu=v3 -target bpf -D__TARGET_ARCH_x86 \
		-I/usr/include/"$arch"-linux-gnu -c "$src" -o "$obj" || status=1
done
exit $status
