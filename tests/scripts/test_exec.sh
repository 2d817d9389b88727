#!/bin/sh
# `bpfvm exec`: Debian's unmodified libbpf-tools on bpfvm, compared with
# the same tool in the kernel on the same deterministic workload: the tool
# runs in the background (real bpf(), root), the workload starts once its
# header shows it has attached, then SIGINT; and under `bpfvm exec --trace
# WORKLOAD -- TOOL`.  Their lines must agree, pids and times masked, the
# workload picked out by its comm (a copy of cat or kill under a name of
# its own).  Also the bpf() answers of tests/data/exec/bpfcalls.c (unknown
# command, non-zero tail, map life, log too small, an mmapable array and a
# ring buffer mapped as libbpf maps them, a map pinned in a bpffs and got
# again, ...) in both, and that a
# statically linked or set-user-ID tool is refused before it runs.
BUILD=${BUILD:-build}
status=0
tmp=$(mktemp -d)
trap 'umount "$tmp/bpffs" 2> /dev/null; rm -rf "$tmp"' EXIT

. tests/scripts/exec_compare.sh

if ! cc -O2 -o "$tmp/bpfcalls" tests/data/exec/bpfcalls.c > "$tmp/build.log" 2>&1; then
	fail build "tests/data/exec/bpfcalls.c does not build: $(head -n 1 "$tmp/build.log")"
	exit 1
fi

# ---- bpf() answers: the kernel's, the library's -----------------------------------------
# a bpf file system of the test's own for BPF_OBJ_PIN/GET (root only; else no pins)
mkdir "$tmp/bpffs"
pins=
mount -t bpf bpf "$tmp/bpffs" 2> /dev/null && pins=$tmp/bpffs
bpfvm_exec --trace true -- "$tmp/bpfcalls" $pins > "$tmp/calls.bpfvm" 2> "$tmp/calls.err"
rc=$?
if ! kernel_bpf; then
	skip bpf_answers_as_kernel "no bpf() here (not root, or the kernel refuses it)"
else
	"$tmp/bpfcalls" $pins > "$tmp/calls.kernel" 2>&1
	if [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/calls.kernel")" -ge 23 ] &&
	   cmp -s "$tmp/calls.kernel" "$tmp/calls.bpfvm"; then
		pass bpf_answers_as_kernel
	else
		fail bpf_answers_as_kernel "rc $rc; kernel, then bpfvm exec:"
		diff "$tmp/calls.kernel" "$tmp/calls.bpfvm" | head -n 8 | sed 's/^/     ... /'
	fi
fi
if grep -q '^unknown command: Invalid argument$' "$tmp/calls.bpfvm" &&
   grep -q '^non-zero tail: Argument list too long$' "$tmp/calls.bpfvm"; then
	pass unknown_command_and_tail
else
	fail unknown_command_and_tail "$(head -n 2 "$tmp/calls.bpfvm" | tr '\n' ' ')"
fi
EXEC_ENV="$EXEC_ENV BPFVM_DEBUG=1" bpfvm_exec --trace true -- "$tmp/bpfcalls" > /dev/null 2> "$tmp/debug.err"
if grep -q 'bpf(999): unknown command: EINVAL' "$tmp/debug.err"; then
	pass unknown_command_named_under_debug
else
	fail unknown_command_named_under_debug "$(head -n 2 "$tmp/debug.err")"
fi

# ---- never the kernel: a static or set-user-ID tool is refused, and never started -------
# refused NAME TOOL WHY: bpfvm exec exits 1 saying WHY, and TOOL printed nothing
refused() {
	bpfvm_exec --trace true -- "$2" > "$tmp/$1.out" 2> "$tmp/$1.err"
	rc=$?
	if [ $rc -eq 1 ] && [ ! -s "$tmp/$1.out" ] && grep -q "$3" "$tmp/$1.err"; then
		pass "$1"
	else
		fail "$1" "rc $rc, $(head -c 200 "$tmp/$1.out" "$tmp/$1.err")"
	fi
}
if cc -static -O2 -o "$tmp/static" tests/data/exec/bpfcalls.c > /dev/null 2>&1; then
	refused static_tool_refused "$tmp/static" 'statically linked'
else
	skip static_tool_refused "no static libc (libc6-dev's libc.a) to link one"
fi
cp "$tmp/bpfcalls" "$tmp/suid"
if [ "$(id -u)" = 0 ] && chown nobody "$tmp/suid" 2> /dev/null && chmod 4755 "$tmp/suid"; then
	refused setuid_tool_refused "$tmp/suid" 'set-user-ID'
else
	skip setuid_tool_refused "not root: cannot make a set-user-ID program of another user"
fi
# nothing to trace: the session waits for bpfvm attach (test_exec_session.sh), and says so
bpfvm_exec -- true > /dev/null 2> "$tmp/usage.err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'nothing traced yet: the session waits for bpfvm attach' "$tmp/usage.err"; then
	pass nothing_to_trace_waits_for_attach
else
	fail nothing_to_trace_waits_for_attach "rc $rc: $(head -n 1 "$tmp/usage.err")"
fi

# ---- -p: a running process; the tool ends when it does --------------------------------
cp /bin/cat "$tmp/bpfvmcat"
if [ -x /usr/sbin/opensnoop ]; then
	sh -c "for i in 1 2 3; do sleep 1; $tmp/bpfvmcat /etc/hostname > /dev/null; done" &
	loop=$!
	bpfvm_exec -p $loop -- /usr/sbin/opensnoop -n bpfvmcat > "$tmp/pid.out" 2> "$tmp/pid.err"
	rc=$?
	seen=$(grep -c ' bpfvmcat .*/etc/hostname$' "$tmp/pid.out")
	if [ $rc -eq 0 ] && [ "$seen" -ge 1 ] && ! kill -0 $loop 2> /dev/null; then
		pass pid_traced_until_it_exits
	else
		fail pid_traced_until_it_exits "rc $rc, /etc/hostname opened $seen times: $(head -n 2 "$tmp/pid.err")"
	fi
	kill $loop 2> /dev/null
	wait $loop 2> /dev/null
fi

# ---- the tools: kernel and bpfvm on the same workload ----------------------------------
cp /bin/kill "$tmp/bpfvmkill" 2> /dev/null || cp /usr/bin/kill "$tmp/bpfvmkill"
if ! kernel_bpf; then
	skip tools "no bpf() here to compare with (not root, or the kernel refuses it)"
	exit $status
fi

# libbpf's own account of its path (-v: its feature probes' outcomes, how it loads, creates,
# relocates and attaches) is the kernel's, descriptors aside
if [ -x /usr/sbin/opensnoop ]; then
	in_kernel "$tmp/verbose.kernel" '^PID' true /usr/sbin/opensnoop -v -n nomatch
	bpfvm_exec --trace true -- /usr/sbin/opensnoop -v -n nomatch > "$tmp/verbose.bpfvm" 2>&1
	rc=$?
	grep '^libbpf: ' "$tmp/verbose.kernel.err" | sed 's/fd=[0-9]*/fd=N/' > "$tmp/verbose.k"
	grep '^libbpf: ' "$tmp/verbose.bpfvm" | sed 's/fd=[0-9]*/fd=N/' > "$tmp/verbose.v"
	if [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/verbose.k")" -gt 50 ] && cmp -s "$tmp/verbose.k" "$tmp/verbose.v"; then
		pass libbpf_takes_the_kernels_path
	else
		fail libbpf_takes_the_kernels_path "rc $rc, $(wc -l < "$tmp/verbose.k") kernel lines:"
		diff "$tmp/verbose.k" "$tmp/verbose.v" | head -n 6 | sed 's/^/     ... /'
	fi
fi

MASK_TIME_PIDS='s/^[0-9:]* *[0-9]* *\([a-z]* *[0-9]*\) *[0-9]* */T P \1 TP /'

# opensnoop -n: every open of the workload, failed ones too (PID masked)
same_as_kernel opensnoop '^PID' "$tmp/bpfvmcat /etc/hostname /nonexistent/bpfvm-exec > /dev/null 2>&1" \
	bpfvmcat 's/^[0-9]* */PID /' /usr/sbin/opensnoop -n bpfvmcat
# killsnoop: a signal 0 that succeeds and one to no process (TIME, PID, TPID masked)
same_as_kernel killsnoop '^TIME' "$tmp/bpfvmkill -0 \$\$; $tmp/bpfvmkill -s 0 2147483000 2> /dev/null; true" \
	bpfvmkill "$MASK_TIME_PIDS" /usr/sbin/killsnoop
# sigsnoop: a SIGTERM the workload sends to its child (signal_generate)
same_as_kernel sigsnoop '^TIME' "sleep 5 & $tmp/bpfvmkill -s TERM \$!; wait" \
	bpfvmkill "$MASK_TIME_PIDS" /usr/sbin/sigsnoop

# execsnoop -n: the workload's exec (PID, PPID masked); exitsnoop: its exit and status (PIDs,
# age masked).  Both read task_struct (real_parent, exit_code, start_time): bpf_get_current_task
same_as_kernel execsnoop '^PCOMM' "$tmp/bpfvmcat /etc/hostname > /dev/null" \
	bpfvmcat 's/^\([a-z]* *\)[0-9]* *[0-9]* */\1P PP /' /usr/sbin/execsnoop -n bpfvmcat
same_as_kernel exitsnoop '^PCOMM' "$tmp/bpfvmcat /nonexistent/bpfvm-exec 2> /dev/null; true" \
	bpfvmcat 's/^\([a-z]* *\)[0-9]* *[0-9]* *[0-9]* *[0-9.]* */\1P PP T AGE /' /usr/sbin/exitsnoop

# a libbpf tool linked with the shared libbpf: examples/opensnoop.bpf.c's ring buffer read
# by ring_buffer__poll; examples/exitcodes.bpf.c's bpf_printk on bpfvm exec's stderr
if ! cc -O2 -o "$tmp/rbtool" tests/data/exec/rbtool.c -lbpf > /dev/null 2>&1 ||
   ! sh examples/build.sh "$tmp/obj" > /dev/null 2>&1; then
	skip ringbuf_tool_same_as_kernel "libbpf-dev or clang is missing to build the examples"
	exit $status
fi
same_as_kernel ringbuf_tool '^ready' "$tmp/bpfvmcat /etc/hostname /nonexistent/bpfvm-exec > /dev/null 2>&1" \
	bpfvmcat 's/^//' "$tmp/rbtool" "$tmp/obj/opensnoop.bpf.o"
bpfvm_exec --trace "sh -c 'exit 3'" -- "$tmp/rbtool" "$tmp/obj/exitcodes.bpf.o" \
	> "$tmp/printk.out" 2> "$tmp/printk.err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^done$' "$tmp/printk.out" &&
   grep -Eq '^ *sh-[0-9]+ +\[[0-9]+\] [.]{5} [0-9]+\.[0-9]{6}: bpf_trace_printk: exit pid [0-9]+ code 3$' "$tmp/printk.err"; then
	pass printk_on_stderr
else
	fail printk_on_stderr "rc $rc: $(head -n 2 "$tmp/printk.err")"
fi
exit $status
