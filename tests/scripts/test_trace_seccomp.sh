#!/bin/sh
# `bpfvm trace --seccomp FILTER -- COMMAND` against the kernel's own
# seccomp: the workload of tests/data/trace/seccomp_policy.c (system calls,
# each result and errno written to fd 3, a SIGSYS handler printing
# si_code, si_errno, si_syscall, si_arch, the rax it sees and whether
# si_call_addr is the instruction pointer) runs once with the filter
# installed by the kernel (PR_SET_NO_NEW_PRIVS, seccomp(2), then exec) and
# once under bpfvm, for filters with ERRNO (and ERRNO(5000), capped),
# ERRNO(0), TRACE and USER_NOTIF (ENOSYS: no tracer, no listener), an
# argument test, KILL_PROCESS, KILL_THREAD (the last thread), TRAP with
# and without data, LOG, an allow-list that kills, and one exported by
# libseccomp; the C-array form as well as the raw one.  What the workload
# saw and its exit status (signal, core dumped: cores may be written, in
# the test's own directory) must be equal; bpfvm's lines name the action.
# (The kernel stops only the calls the policy does not allow, through a
# copy of it in bpfvm's filter; a policy returning A makes every call stop:
# computed_action.)
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
BPFVM=$(cd "$(dirname "$BPFVM")" && pwd)/$(basename "$BPFVM")
status=0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! cc -O2 -o "$tmp/sp" tests/data/trace/seccomp_policy.c -lseccomp > "$tmp/build.log" 2>&1; then
	echo "FAIL trace_seccomp: the workload does not build:"
	head -n 5 "$tmp/build.log" | sed 's/^/     ... /'
	exit 1
fi
top=$(pwd)
cd "$tmp" || exit 1
ulimit -c unlimited 2>/dev/null || ulimit -c 0
SP=$tmp/sp

pass() { echo "PASS trace_seccomp_$1"; }
fail() { echo "FAIL trace_seccomp_$1: $2"; status=1; }

# the kernel's run: what the workload saw (k.out) and its status (k.status); $mode: run or threads
mode=run
kernel_run() {
	"$SP" status "$SP" kernel "$1" "$SP" $mode 3> k.out > k.status 2> k.err
}

# bpfvm's run: b.out, b.json, and the status of its JSON exit record in the form of k.status
# (an ASan build lowers its own core limit, which the command would inherit: not under test)
bpfvm_run() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0" \
		timeout 20 "$BPFVM" trace --json --seccomp "$1" -- "$SP" $mode 3> b.out > b.json 2> b.err
	rc=$?
	sed -n 's/.*"type":"exit".*"signal":\([0-9]*\)\(.*\)}$/signal \1 core \2/p; s/.*"type":"exit".*"status":\([0-9]*\)}$/exit \1/p' b.json |
		sed 's/core ,"core_dumped":true/core 1/; s/core $/core 0/' > b.status
}

# compare NAME FILE WANT...: equal runs (bpfvm reads $bfile when set), and each WANT (a
# regexp) among bpfvm's seccomp records
bfile=
compare() {
	name=$1 file=$2
	shift 2
	rm -f core core.*
	kernel_run "$file"
	bpfvm_run "${bfile:-$file}"
	if ! cmp -s k.out b.out; then
		fail "$name" "the workload saw other results under bpfvm (diff kernel bpfvm):"
		diff k.out b.out | head -n 8 | sed 's/^/     ... /'
		head -n 3 b.err | sed 's/^/     ... /'
		return
	fi
	if ! cmp -s k.status b.status; then
		fail "$name" "kernel: $(cat k.status), bpfvm: $(cat b.status) (bpfvm exit $rc)"
		return
	fi
	for want in "$@"; do
		if ! grep '"type":"seccomp"' b.json | grep -q -- "$want"; then
			fail "$name" "no seccomp record matching '$want' in bpfvm's output:"
			head -n 4 b.json | sed 's/^/     ... /'
			return
		fi
	done
	pass "$name"
}

for f in errno computed kill kill_thread trap log allow libseccomp; do
	"$SP" write $f $f.raw raw || fail write "cannot write filter $f"
done
"$SP" write errno errno.c c

compare errno errno.raw '"syscall":"getuid".*"action":"ERRNO(13)"' '"action":"TRACE(7)"' \
	'"syscall":"geteuid".*"action":"USER_NOTIF"' '"syscall":"uname".*"action":"ERRNO(4095)"' \
	'"syscall":"dup".*"action":"ERRNO(0)"' '"syscall":"getpriority","arch":3221225534,"ip":[0-9]*,"args":\[0,0,'
bfile=errno.c
compare errno_c_array errno.raw '"syscall":"getuid".*"action":"ERRNO(13)"'
bfile=
compare computed_action computed.raw '"syscall":"getuid".*"action":"ERRNO(21)"'
compare kill_process kill.raw '"syscall":"getegid".*"action":"KILL_PROCESS"'
grep -q '^signal 31 core' k.status || fail kill_status "the kernel's run: $(cat k.status)"
compare kill_thread kill_thread.raw '"syscall":"getegid".*"action":"KILL_THREAD"'
mode=threads
compare kill_thread_of_several kill_thread.raw '"syscall":"getegid".*"action":"KILL_THREAD"'
grep -q '^main getuid ret 0' k.out || fail kill_thread_kernel "the kernel's run: $(cat k.out k.status)"
mode=run
compare trap trap.raw '"syscall":"getuid".*"action":"TRAP(42)"' '"syscall":"uname".*"action":"TRAP"'
# ...so that the comparisons compare something: the kernel's SIGSYS, and its kill
grep -q 'SIGSYS sig 31 code 1 errno 42 syscall 102 arch 0xc000003e rax 102 call_addr_is_ip 1' k.out ||
	fail trap_siginfo "no SIGSYS with si_errno 42 for getuid from the kernel: $(head -n 1 k.out)"
compare log log.raw '"syscall":"getuid".*"action":"LOG"' '"syscall":"getgid".*"action":"LOG"'
compare allow_list_kills allow.raw '"syscall":"getpriority".*"action":"KILL_PROCESS"'
compare libseccomp libseccomp.raw '"syscall":"getuid".*"action":"ERRNO(13)"' \
	'"syscall":"dup".*"action":"ERRNO(1)"' '"syscall":"getegid".*"action":"TRAP"'

# with programs: a denied call runs no sys_enter program and no kprobe (its function never
# runs), but its sys_exit fires with what the policy made it return (kernel/entry/common.c)
if command -v "${CLANG:-clang-19}" > /dev/null 2>&1 && [ -f /usr/include/bpf/bpf_helpers.h ] &&
   "${CLANG:-clang-19}" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/"$(uname -m)"-linux-gnu \
	-c "$top/tests/data/trace/seccomp_combo.bpf.c" -o combo.o > combo.log 2>&1; then
	"$BPFVM" trace --seccomp errno.raw combo.o -- "$SP" run 3> /dev/null > combo_errno.out 2>&1
	"$BPFVM" trace --seccomp log.raw combo.o -- "$SP" run 3> /dev/null > combo_log.out 2>&1
	if grep -q 'exit getuid -13$' combo_errno.out && ! grep -q 'enter getuid\|kretsyscall' combo_errno.out &&
	   grep -q '^seccomp ERRNO(13): pid [0-9]* tid [0-9]* getuid' combo_errno.out &&
	   grep -q 'enter getuid$' combo_log.out && grep -q 'kretsyscall getuid$' combo_log.out &&
	   grep -q 'exit getuid 0$' combo_log.out && grep -q '^seccomp LOG:' combo_log.out; then
		pass with_programs
	else
		fail with_programs "ERRNO: $(grep -v '^seccomp' combo_errno.out | head -n 3 | tr '\n' ' '); LOG: $(grep -v '^seccomp' combo_log.out | head -n 3 | tr '\n' ' ')"
	fi
else
	echo "SKIP trace_seccomp_with_programs: clang or libbpf's headers are missing"
fi

# the text form: one line per action, naming the call
"$BPFVM" trace --seccomp log.raw -- "$SP" run 3> /dev/null > text.out 2>&1
if grep -q '^seccomp LOG: pid [0-9]* tid [0-9]* getuid(0x' text.out; then
	pass text_line
else
	fail text_line "$(head -n 2 text.out)"
fi

# refused: with -p (no filter can be put into a running process), a filter that is not one
"$BPFVM" trace --seccomp log.raw -p $$ > refuse.out 2>&1
rc=$?
if [ $rc = 2 ] && grep -q 'running process' refuse.out; then
	pass refuses_pid
else
	fail refuses_pid "exit $rc: $(head -n 1 refuse.out)"
fi
printf '\x06\x00\x00\x00\x00\x00\xff\x7f\x15\x00\x05\x00\x00\x00\x00\x00' > bad.raw
"$BPFVM" trace --seccomp bad.raw -- /bin/true > bad.out 2>&1
rc=$?
if [ $rc = 1 ] && grep -q 'bad.raw' bad.out; then
	pass refuses_bad_filter
else
	fail refuses_bad_filter "exit $rc: $(head -n 2 bad.out)"
fi
exit $status
