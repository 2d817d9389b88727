#!/bin/sh
# `bpfvm exec`: more of Debian's unmodified libbpf-tools against the
# kernel on the same workload (tests/scripts/exec_compare.sh runs both):
# bashreadline (a uretprobe on bash's readline; an interactive bash on a
# pty, tests/data/pty_type.py), gethostlatency (uprobes and uretprobes in
# libc), mountsnoop (MNT_NS: the task's nsproxy->mnt_ns->ns.inum; a tmpfs
# mounted and unmounted in a mount namespace of the workload's own),
# syscount -c (the workload's system calls counted per call; it runs in
# a cgroup of its own), funclatency on a
# user function (its calls counted), statsnoop (Debian's
# 0.26 looks for its tracepoints under debugfs by a name no kernel has,
# so it loads no program and prints its header alone, in the kernel too);
# and that a tool needing a kernel function bpfvm cannot serve (capable's
# kprobe on cap_capable, biosnoop's fentry, runqslower's raw tracepoint
# sched_wakeup) ends with one line naming it.
BUILD=${BUILD:-build}
status=0
cg=
tmp=$(mktemp -d)
trap 'umount "$tmp/mnt" 2> /dev/null; rm -rf "$tmp"; [ -z "$cg" ] || rmdir "$cg" 2> /dev/null' EXIT

. tests/scripts/exec_compare.sh

# ---- never silent: a kernel function bpfvm cannot serve, said in one line ----------------
# one_line NAME TOOL WHAT: bpfvm exec exits 1, TOOL printed nothing, stderr is one line: TOOL WHAT
one_line() {
	if [ ! -x "$2" ]; then
		skip "$1" "$2 is not installed (libbpf-tools)"
		return
	fi
	bpfvm_exec --trace true -- "$2" > "$tmp/$1.out" 2> "$tmp/$1.err"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/$1.err")" = 1 ] && [ ! -s "$tmp/$1.out" ] &&
	   grep -q "^bpfvm exec: $(basename "$2") $3" "$tmp/$1.err"; then
		pass "$1"
	else
		fail "$1" "rc $rc: $(head -n 3 "$tmp/$1.err" | tr '\n' ' ')"
	fi
}
# capable's kprobe (through libbpf's tracefs kprobe_events here: this kernel has no kprobe PMU)
one_line kprobe_named_in_one_line /usr/sbin/capable \
	'needs kprobe cap_capable, a kernel function bpfvm cannot run in user space'
# biosnoop's fentry program, refused at load (named from the kernel's BTF by its attach_btf_id)
one_line fentry_named_in_one_line /usr/sbin/biosnoop 'needs fentry [a-z_]*blk_account_io_start, a kernel function'
# runqslower's raw tracepoints of the scheduler, refused when the session attaches them
one_line attach_refused_in_one_line /usr/sbin/runqslower \
	"cannot run: handle_sched_wa (raw_tracepoint/sched_wakeup): cannot attach: raw tracepoint 'sched_wakeup'"

if ! cc -O2 -o "$tmp/bpfcalls" tests/data/exec/bpfcalls.c > "$tmp/build.log" 2>&1; then
	fail build "tests/data/exec/bpfcalls.c does not build: $(head -n 1 "$tmp/build.log")"
	exit 1
fi
if ! kernel_bpf; then
	skip tools "no bpf() here to compare with (not root, or the kernel refuses it)"
	exit $status
fi

# bashreadline: three lines typed into an interactive bash (TIME, PID masked)
typed="'echo bpfvmtyped one' 'true bpfvmtyped two' 'exit # bpfvmtyped end'"
same_as_kernel bashreadline '^TIME' \
	"python3 tests/data/pty_type.py $typed -- /bin/bash --norc --noprofile -i > /dev/null" \
	bpfvmtyped 's/^[0-9:]* *[0-9]* */T P /' /usr/sbin/bashreadline

# gethostlatency: getaddrinfo and gethostbyname2 of localhost (TIME, PID, latency masked)
cp "$(command -v getent)" "$tmp/bpfvmgetent"
same_as_kernel gethostlatency '^TIME' \
	"$tmp/bpfvmgetent ahosts localhost > /dev/null; $tmp/bpfvmgetent hosts localhost > /dev/null" \
	bpfvmgetent 's/^[0-9:]* *[0-9]* *\([a-z]*\) *[0-9.]* */T P \1 LAT /' /usr/sbin/gethostlatency

# mountsnoop: a tmpfs mounted and unmounted in a private mount namespace (PID, TID masked;
# MNT_NS must be a namespace's inode, not 0)
mkdir "$tmp/mnt"
for t in mount umount unshare; do cp "$(command -v $t)" "$tmp/bpfvm$t"; done
same_as_kernel mountsnoop '^COMM' \
	"$tmp/bpfvmunshare -m sh -c '$tmp/bpfvmmount -t tmpfs bpfvmtmpfs $tmp/mnt && $tmp/bpfvmumount $tmp/mnt'" \
	'bpfvm(unshare|mount|umount)' 's/^\([a-z]* *\)[0-9]* *[0-9]* *[1-9][0-9]* /\1P T NS /' /usr/sbin/mountsnoop

# syscount -c CGROUP: every system call of the workload, counted per call, the workload in a
# cgroup v2 of its own from its first call (the kernel's table and bpfvm's, sorted: equal
# counts come in a hash map's order)
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ ! -x /usr/sbin/syscount ]; then
	skip syscount_same_as_kernel "/usr/sbin/syscount is not installed (libbpf-tools)"
elif [ -z "$cg2" ] || ! mkdir "$cg2/bpfvm-exec-tools-$$" 2> /dev/null; then
	skip syscount_same_as_kernel "no cgroup v2 hierarchy to put the workload in"
else
	cg=$cg2/bpfvm-exec-tools-$$
	work="sh -c 'echo \$\$ > $cg/cgroup.procs && exec $tmp/bpfvmgetent hosts localhost > /dev/null'"
	SETTLE=0 in_kernel "$tmp/syscount.kernel" '^Tracing' "$work" /usr/sbin/syscount -T 1000 -c "$cg"
	bpfvm_exec --trace "$work" -- /usr/sbin/syscount -T 1000 -c "$cg" \
		> "$tmp/syscount.bpfvm" 2> "$tmp/syscount.bpfvm.err"
	rc=$?
	rmdir "$cg" && cg=
	sed '1,/^SYSCALL/d' "$tmp/syscount.kernel" | grep . | sort > "$tmp/syscount.k"
	sed '1,/^SYSCALL/d' "$tmp/syscount.bpfvm" | grep . | sort > "$tmp/syscount.v"
	if [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/syscount.k")" -gt 10 ] &&
	   cmp -s "$tmp/syscount.k" "$tmp/syscount.v"; then
		pass syscount_same_as_kernel
	else
		fail syscount_same_as_kernel "rc $rc, $(wc -l < "$tmp/syscount.k") calls in the kernel's table:"
		diff "$tmp/syscount.k" "$tmp/syscount.v" | head -n 6 | sed 's/^/     ... /'
	fi
fi

# funclatency on a user function (a uprobe and a uretprobe on execute_command in a copy of bash
# of the test's own): the calls counted, the sum of the histogram's counts (latencies differ)
hist_calls() { awk -F: '/ -> / { split($2, c, " "); n += c[1] } END { print n + 0 }' "$1"; }
if [ -x /usr/sbin/funclatency ]; then
	cp /bin/bash "$tmp/bpfvmbash"
	work="$tmp/bpfvmbash -c 'true; true; true; /bin/true'"
	SETTLE=0 in_kernel "$tmp/funclatency.kernel" '^Tracing' "$work" /usr/sbin/funclatency "$tmp/bpfvmbash:execute_command"
	bpfvm_exec --trace "$work" -- /usr/sbin/funclatency "$tmp/bpfvmbash:execute_command" \
		> "$tmp/funclatency.bpfvm" 2> "$tmp/funclatency.bpfvm.err"
	rc=$?
	k=$(hist_calls "$tmp/funclatency.kernel") v=$(hist_calls "$tmp/funclatency.bpfvm")
	if [ $rc -eq 0 ] && [ "$k" -gt 0 ] && [ "$k" = "$v" ]; then
		pass funclatency_calls_as_kernel
	else
		fail funclatency_calls_as_kernel "rc $rc, $k calls in the kernel, $v under bpfvm exec: $(head -n 2 "$tmp/funclatency.bpfvm.err" | tr '\n' ' ')"
	fi
fi

# statsnoop: its header alone, as in the kernel (whole output compared)
if [ -x /usr/sbin/statsnoop ]; then
	SETTLE=0 in_kernel "$tmp/statsnoop.kernel" '^PID' "stat /etc/hostname > /dev/null" /usr/sbin/statsnoop
	bpfvm_exec --trace "stat /etc/hostname > /dev/null" -- /usr/sbin/statsnoop \
		> "$tmp/statsnoop.bpfvm" 2> "$tmp/statsnoop.bpfvm.err"
	rc=$?
	if [ $rc -eq 0 ] && [ -s "$tmp/statsnoop.kernel" ] &&
	   cmp -s "$tmp/statsnoop.kernel" "$tmp/statsnoop.bpfvm"; then
		pass statsnoop_same_as_kernel
	else
		fail statsnoop_same_as_kernel "rc $rc: $(diff "$tmp/statsnoop.kernel" "$tmp/statsnoop.bpfvm" | head -n 4 | tr '\n' ' ')"
	fi
fi
exit $status
