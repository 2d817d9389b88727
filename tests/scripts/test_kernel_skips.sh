#!/bin/sh
# The kernel comparisons on a host kernel that lacks a feature: each test
# runs under BPFVM_TEST_KERNEL_DENY (tests/kernel/kernel_bpf.h), which makes
# the tests' bpf() wrappers refuse a helper, map type, program type or
# instruction as such a kernel does, in its words.  The cases that need the
# feature must be skipped, with the kernel's reason and version; every
# other case must still be compared and agree; nothing may fail.
# The background: a Linux 6.18.44 that refused bpf_xdp_adjust_meta in XDP
# failed every case of skb.bpf.o, which loaded as a whole.
BUILD=${BUILD:-build}
T=$BUILD/tests
status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for b in test_kernel_objects test_kernel_verdicts test_kernel_helpers test_kernel_maps test_kernel_diff; do
	if [ ! -x "$T/$b" ]; then
		echo "FAIL kernel_skips: $T/$b is not built"
		exit 1
	fi
done
if "$T/test_kernel_helpers" 2>&1 | grep -q '^SKIP kernel_helpers:'; then
	echo "SKIP kernel_skips: bpf() is not usable here: $("$T/test_kernel_helpers" | head -1)"
	exit 0
fi

# run NAME DENY BINARY: the binary's output in $out; no FAIL line, exit 0
run() {
	name=$1 deny=$2
	shift 2
	BPFVM_TEST_KERNEL_DENY=$deny "$@" > "$out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || grep -q '^FAIL ' "$out"; then
		echo "FAIL $name: with BPFVM_TEST_KERNEL_DENY=$deny, $* exited $rc:"
		grep -E '^(FAIL|     \.\.\.) ' "$out" | head -5 | sed 's/^/     ... /'
		status=1
		return 1
	fi
	return 0
}

# expect NAME PATTERN WHAT: a line of $out matches the extended regex
expect() {
	if grep -qE "$2" "$out"; then
		echo "PASS $1: $3"
	else
		echo "FAIL $1: $3: no line matches /$2/"
		status=1
	fi
}

# expect_count NAME PATTERN N WHAT: exactly N lines match
expect_count() {
	n=$(grep -cE "$2" "$out")
	if [ "$n" -eq "$3" ]; then
		echo "PASS $1: $4"
	else
		echo "FAIL $1: $4: $n lines match /$2/, expected $3"
		status=1
	fi
}

# The object test: xdp_meta alone is skipped; the other seven cases agree.
if run objects_without_xdp_adjust_meta helper:54 "$T/test_kernel_objects"; then
	expect_count objects_without_xdp_adjust_meta \
		'^SKIP kernel_and_bpfvm_agree_on_objects: skb\.bpf\.o:xdp_meta on .*: the host kernel cannot: program of this type cannot use helper bpf_xdp_adjust_meta#54 \(Linux [0-9]' 1 \
		"skb.bpf.o:xdp_meta is skipped with the kernel's words and version"
	expect_count objects_without_xdp_adjust_meta '^SKIP ' 1 "nothing else is skipped"
	expect_count objects_without_xdp_adjust_meta '^# .*: the kernel and bpfvm agree$' 7 \
		"the other 7 cases (tc_rewrite, sock_filter, xdp_trim of the same object too) agree"
fi
# A map type the object needs: the object's cases are skipped, the others agree.
if run objects_without_hash_maps map:1 "$T/test_kernel_objects"; then
	expect objects_without_hash_maps '^SKIP .*skb\.bpf\.o:tc_rewrite.*creates no map of type 1' \
		"skb.bpf.o is skipped: its hash map cannot be created"
	expect_count objects_without_hash_maps '^# .*: the kernel and bpfvm agree$' 4 \
		"the 4 cases of the other objects agree"
fi
if run objects_without_xdp prog:6 "$T/test_kernel_objects"; then
	expect_count objects_without_xdp '^# .*: the kernel and bpfvm agree$' 2 \
		"without XDP programs, the tc and socket filter cases still agree"
	expect objects_without_xdp '^SKIP .*xdp_filter\.bpf\.o.*loads no program of type 6' \
		"an XDP case says the kernel loads no XDP program"
fi

# Verifier verdicts: the two cases calling bpf_get_prandom_u32 are skipped.
if run verdicts_without_prandom helper:7 "$T/test_kernel_verdicts"; then
	expect verdicts_without_prandom '^SKIP a_read_on_a_branch_never_taken_counts: .*bpf_get_prandom_u32#7 \(Linux' \
		"a case calling the helper is skipped with the reason"
	expect verdicts_without_prandom '^SKIP a_functions_result_is_live_at_its_exit: .*bpf_get_prandom_u32#7' \
		"so is the other"
	expect_count verdicts_without_prandom '^SKIP ' 2 "nothing else is skipped"
	expect_count verdicts_without_prandom '^PASS ' "$(grep -c '^TEST(' tests/kernel/test_kernel_verdicts.c)" \
		"every test still ends"
fi
# The same verdicts on the real kernel: the refusals they expect are verdicts, not lacks.
if run verdicts_refusals_are_verdicts "" "$T/test_kernel_verdicts"; then
	expect_count verdicts_refusals_are_verdicts '^SKIP ' 0 \
		"no refusal the tests expect is taken for a missing feature"
fi
if run verdicts_without_percpu_arrays map:6 "$T/test_kernel_verdicts"; then
	expect verdicts_without_percpu_arrays '^SKIP .*per-CPU array.*creates no map of type 6' \
		"the per-CPU array case is skipped"
fi

# Helpers: the strtol cases are skipped, strtoul's, csum_diff's and printk's compared.
if run helpers_without_strtol helper:105 "$T/test_kernel_helpers"; then
	expect_count helpers_without_strtol '^SKIP strtol_and_strtoul_agree: strtol\(.*bpf_strtol#105 \(Linux' 1 \
		"strtol is skipped once, with the reason"
	expect_count helpers_without_strtol '^SKIP ' 1 "nothing else is skipped"
	expect helpers_without_strtol '^PASS csum_diff_agrees' "csum_diff is still compared"
fi

# Maps: the bloom filter runs are skipped, every other map compared.
if run maps_without_bloom_filters map:30 env BPFVM_MAPS_OPS=200 "$T/test_kernel_maps"; then
	expect maps_without_bloom_filters '^SKIP queues_stacks_and_bloom_filters_agree: map type 30.*creates no map of type 30' \
		"the bloom filter runs are skipped"
	expect_count maps_without_bloom_filters '^PASS ' "$(grep -c '^TEST(' tests/kernel/test_kernel_maps.c)" "every test still ends"
fi

# The differential test needs may_goto: without it, it says so.
if run diff_without_may_goto insn:0xe5 env BPFVM_DIFF_COUNT=100 "$T/test_kernel_diff"; then
	expect diff_without_may_goto '^SKIP kernel_diff: the host kernel cannot: may_goto .*unknown opcode e5' \
		"kernel_diff is skipped, naming may_goto"
fi

# libbpf-tools: a helper the kernel lacks skips the programs that call it.
if dpkg -L libbpf-tools >/dev/null 2>&1 && [ -f /usr/include/bpf/libbpf.h ]; then
	if run libbpf_objects_without_pid_tgid helper:14 env BPFVM_LIBBPF_ONLY="opensnoop_*" \
		sh tests/scripts/test_libbpf_objects.sh; then
		expect_count libbpf_objects_without_pid_tgid \
			'^SKIP opensnoop_0/.*: the host kernel cannot load it: program of this type cannot use helper bpf_get_current_pid_tgid#14' \
			4 "opensnoop's 4 programs are skipped with the reason"
	fi
fi
exit $status
