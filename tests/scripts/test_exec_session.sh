#!/bin/sh
# `bpfvm exec`'s session: what a libbpf tool asks of bpf() beyond single
# elements, and how the session runs.  Batch map operations
# (tests/data/exec/batch.c, libbpf's bpf_map_*_batch on hash, per-CPU hash,
# LRU hash, array and per-CPU array maps, an LPM trie) answer under the preload library
# as in the kernel, line for line.  Several --trace commands are all
# traced, side by side, and the tool gets its SIGINT once the last has
# exited.  Closing a link's last descriptor, or a perf event's attached
# with PERF_EVENT_IOC_SET_BPF, detaches the program, before the session
# starts and while it runs (tests/data/exec/detach.c: the same counts as
# in the kernel).  bpf_printk's lines go to --trace-pipe FILE, and to a
# tool that reads /sys/kernel/tracing/trace_pipe itself
# (tests/data/exec/tracelog.c) as they come in the kernel's.  Two
# terminals: `bpfvm exec -- TOOL` with nothing to trace waits, and
# `bpfvm attach -- COMMAND` / `-p PID` join it (sockets under the test's
# own XDG_RUNTIME_DIR): the tool sees them, attach exits with COMMAND's
# status, several sessions need --session, none is a clear error.
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS exec_session_$1"; }
fail() { echo "FAIL exec_session_$1: $2"; status=1; }
skip() { echo "SKIP exec_session_$1: $2"; }

EXEC_TIMEOUT=30
. "$(dirname "$0")/exec_common.sh"

# ---- batch operations: the kernel's answers ----------------------------------------------
if ! cc -O2 -o "$tmp/batch" tests/data/exec/batch.c -lbpf > "$tmp/build.log" 2>&1; then
	skip batch_as_kernel "tests/data/exec/batch.c does not build (libbpf-dev?): $(head -n 1 "$tmp/build.log")"
else
	bpfvm_exec --trace true -- "$tmp/batch" > "$tmp/batch.bpfvm" 2> "$tmp/batch.err"
	rc=$?
	if [ "$(id -u)" != 0 ] || ! "$tmp/batch" > "$tmp/batch.kernel" 2>&1 ||
	   grep -q 'create: EPERM' "$tmp/batch.kernel"; then
		skip batch_as_kernel "no bpf() here (not root, or the kernel refuses it): $(uname -r)"
	elif [ $rc -eq 0 ] && [ "$(wc -l < "$tmp/batch.kernel")" -ge 140 ] &&
	     cmp -s "$tmp/batch.kernel" "$tmp/batch.bpfvm"; then
		pass batch_as_kernel
	else
		fail batch_as_kernel "rc $rc; kernel, then bpfvm exec:"
		diff "$tmp/batch.kernel" "$tmp/batch.bpfvm" | head -n 8 | sed 's/^/     ... /'
		head -n 3 "$tmp/batch.err" | sed 's/^/     ... /'
	fi
fi

# ---- several --trace commands --------------------------------------------------------------
start=$(date +%s)
bpfvm_exec --trace "cat /etc/hostname > /dev/null" --trace "sleep 0.5; cat /etc/passwd > /dev/null" \
	--trace "# a comment ends with its command" -- /usr/sbin/opensnoop -n cat \
	> "$tmp/several.out" 2> "$tmp/several.err"
rc=$? took=$(($(date +%s) - start))
if [ ! -x /usr/sbin/opensnoop ]; then
	skip several_traces "no /usr/sbin/opensnoop (Debian's libbpf-tools)"
elif [ $rc -eq 0 ] && grep -q ' /etc/hostname$' "$tmp/several.out" &&
     grep -q ' /etc/passwd$' "$tmp/several.out" && [ "$took" -lt 20 ]; then
	pass several_traces
else
	fail several_traces "rc $rc after ${took}s: $(grep -c . "$tmp/several.out") lines; $(head -n 2 "$tmp/several.err")"
fi

# ---- closing an attachment's descriptors detaches it ---------------------------------------
cp /bin/cat "$tmp/sesscat"
work="$tmp/sesscat /etc/hostname > /dev/null; : > $tmp/first; for i in \$(seq 250); do [ -e $tmp/flag ] && break; sleep 0.02; done; $tmp/sesscat /etc/hostname > /dev/null"
if ! cc -O2 -o "$tmp/detach" tests/data/exec/detach.c -lbpf > "$tmp/build.log" 2>&1 ||
   ! ${CLANG:-clang-19} -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c tests/data/exec/detach.bpf.c -o "$tmp/detach.bpf.o" >> "$tmp/build.log" 2>&1; then
	skip close_detaches "tests/data/exec/detach.c does not build: $(head -n 1 "$tmp/build.log")"
else
	bpfvm_exec --trace "$work" -- "$tmp/detach" "$tmp/detach.bpf.o" "$tmp/first" "$tmp/flag" \
		> "$tmp/detach.bpfvm" 2> "$tmp/detach.err"
	rc=$?
	rm -f "$tmp/first" "$tmp/flag"
	"$tmp/detach" "$tmp/detach.bpf.o" "$tmp/first" "$tmp/flag" > "$tmp/detach.kernel" 2>&1 &
	pid=$!
	wait_for "$tmp/detach.kernel" '^ready' 50 && sh -c "$work"
	kill -INT $pid 2> /dev/null
	wait $pid
	got=$(grep '^keep' "$tmp/detach.bpfvm")
	if ! grep -q '^keep' "$tmp/detach.kernel"; then
		skip close_detaches "the kernel does not run it: $(head -n 1 "$tmp/detach.kernel") ($(uname -r))"
	elif [ $rc -eq 0 ] && [ "$got" = "$(grep '^keep' "$tmp/detach.kernel")" ] &&
	     echo "$got" | grep -Eq '^keep ([1-9][0-9]*) early 0 late [1-9][0-9]* ioctl [1-9]' &&
	     [ "$(echo "$got" | cut -d' ' -f6)" -lt "$(echo "$got" | cut -d' ' -f2)" ]; then
		pass close_detaches
	else
		fail close_detaches "rc $rc; kernel: $(grep '^keep' "$tmp/detach.kernel"); bpfvm exec: $got $(head -n 2 "$tmp/detach.err")"
	fi
fi

# ---- two terminals: bpfvm exec -- TOOL, then bpfvm attach ---------------------------------
XDG_RUNTIME_DIR=$tmp/xdg
export XDG_RUNTIME_DIR
mkdir -p "$XDG_RUNTIME_DIR"
attach() { timeout 20 env $EXEC_ENV "$BPFVM" attach "$@"; }
# session_of ERRFILE: the session id bpfvm exec printed (bounded wait)
session_of() {
	wait_for "$1" '^bpfvm exec: session [0-9]*:' 100 &&
		sed -n 's/^bpfvm exec: session \([0-9]*\):.*/\1/p' "$1"
}
attach -- true 2> "$tmp/none.err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'no bpfvm exec session is running' "$tmp/none.err"; then
	pass attach_without_session
else
	fail attach_without_session "rc $rc: $(head -n 1 "$tmp/none.err")"
fi
if [ ! -x /usr/sbin/opensnoop ]; then
	skip attach_joins_session "no /usr/sbin/opensnoop (Debian's libbpf-tools)"
else
	# not through bpfvm_exec: $! must be the process SIGINT goes to
	# shellcheck disable=SC2086
	timeout 30 env $EXEC_ENV "$BPFVM" exec -- /usr/sbin/opensnoop -n sesscat > "$tmp/s1.out" 2> "$tmp/s1.err" &
	s1=$!
	id1=$(session_of "$tmp/s1.err")
	attach -- "$tmp/sesscat" /etc/hostname > "$tmp/a1.out" 2> "$tmp/a1.err"
	rc1=$?
	attach -- sh -c 'exit 3' 2> "$tmp/a2.err"
	rc2=$?
	sh -c "for i in \$(seq 200); do [ -e $tmp/go ] && break; sleep 0.02; done; $tmp/sesscat /etc/passwd > /dev/null" &
	p=$!
	attach -p $p 2> "$tmp/a3.err" &
	a3=$!
	sleep 0.3
	: > "$tmp/go"
	wait $a3
	rc3=$?
	# a second session: attach must be told which
	# shellcheck disable=SC2086
	timeout 30 env $EXEC_ENV "$BPFVM" exec -- /usr/sbin/opensnoop > /dev/null 2> "$tmp/s2.err" &
	s2=$!
	id2=$(session_of "$tmp/s2.err")
	attach -- true 2> "$tmp/a4.err"
	rc4=$?
	attach --session "$id1" -- true 2> "$tmp/a5.err"
	rc5=$?
	kill -INT $s1 $s2 2> /dev/null
	wait $s1
	wait $s2
	if [ -n "$id1" ] && [ $rc1 -eq 0 ] && cmp -s "$tmp/a1.out" /etc/hostname && [ $rc2 -eq 3 ] &&
	   [ $rc3 -eq 0 ] && grep -q 'sesscat .* /etc/hostname$' "$tmp/s1.out" &&
	   grep -q 'sesscat .* /etc/passwd$' "$tmp/s1.out"; then
		pass attach_joins_session
	else
		fail attach_joins_session "session '$id1', rc $rc1 $rc2 $rc3: $(grep -c sesscat "$tmp/s1.out") lines; $(cat "$tmp/a1.err" "$tmp/a2.err" "$tmp/a3.err" "$tmp/s1.err" | head -n 4)"
	fi
	if [ -n "$id2" ] && [ $rc4 -eq 1 ] && grep -q "2 sessions are running (.*$id1.*): choose one with --session ID" "$tmp/a4.err" &&
	   [ $rc5 -eq 0 ]; then
		pass attach_several_sessions_need_session
	else
		fail attach_several_sessions_need_session "sessions '$id1' '$id2', rc $rc4 $rc5: $(head -n 1 "$tmp/a4.err") $(head -n 1 "$tmp/a5.err")"
	fi
	if [ -z "$(ls "$XDG_RUNTIME_DIR/bpfvm")" ]; then
		pass attach_sockets_removed
	else
		fail attach_sockets_removed "left: $(ls "$XDG_RUNTIME_DIR/bpfvm")"
	fi
fi

# ---- bpf_printk: --trace-pipe FILE, and a tool reading trace_pipe ---------------------------
PRINTK_RE='^ *sh-[0-9]+ +\[[0-9]+\] [.]{5} [0-9]+\.[0-9]{6}: bpf_trace_printk: exit pid [0-9]+ code 77$'
if ! cc -O2 -o "$tmp/rbtool" tests/data/exec/rbtool.c -lbpf > "$tmp/build.log" 2>&1 ||
   ! cc -O2 -o "$tmp/tracelog" tests/data/exec/tracelog.c -lbpf >> "$tmp/build.log" 2>&1 ||
   ! ${CLANG:-clang-19} -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c examples/exitcodes.bpf.c -o "$tmp/exitcodes.bpf.o" >> "$tmp/build.log" 2>&1; then
	skip trace_pipe "the test tools do not build: $(head -n 1 "$tmp/build.log")"
	exit $status
fi
bpfvm_exec --trace "exit 77" --trace-pipe "$tmp/tp.txt" -- "$tmp/rbtool" "$tmp/exitcodes.bpf.o" \
	> "$tmp/tp.out" 2> "$tmp/tp.err"
rc=$?
if [ $rc -eq 0 ] && grep -Eq "$PRINTK_RE" "$tmp/tp.txt" && ! grep -q bpf_trace_printk "$tmp/tp.err"; then
	pass trace_pipe_file
else
	fail trace_pipe_file "rc $rc: file: $(head -n 1 "$tmp/tp.txt"); stderr: $(head -n 1 "$tmp/tp.err")"
fi
if bpfvm_exec --trace true --trace-pipe /nonexistent/dir/tp -- /bin/true 2> "$tmp/tp.err" ||
   ! grep -q 'trace-pipe /nonexistent/dir/tp: No such file or directory' "$tmp/tp.err"; then
	fail trace_pipe_bad_file "$(head -n 1 "$tmp/tp.err")"
else
	pass trace_pipe_bad_file
fi

# the tool's own reading of trace_pipe: the kernel's lines and bpfvm's, comm and message
mask_printk() { grep -E 'code 77$' "$1" | sed 's/^ *\([^ ]*\)-[0-9]* .*bpf_trace_printk: exit pid [0-9]* /\1 exit pid P /'; }
bpfvm_exec --trace "exit 77" -- "$tmp/tracelog" "$tmp/exitcodes.bpf.o" > "$tmp/tl.bpfvm" 2> "$tmp/tl.err"
rc=$?
"$tmp/tracelog" "$tmp/exitcodes.bpf.o" > "$tmp/tl.kernel" 2>&1 &
pid=$!
wait_for "$tmp/tl.kernel" '^ready' 50 && sh -c 'exit 77'
wait_for "$tmp/tl.kernel" 'code 77$' 20
kill -INT $pid 2> /dev/null
wait $pid
if ! grep -Eq "$PRINTK_RE" "$tmp/tl.bpfvm" || [ $rc -ne 0 ] || ! grep -q '^done$' "$tmp/tl.bpfvm"; then
	fail tool_reads_trace_pipe "rc $rc: $(grep -c . "$tmp/tl.bpfvm") lines; $(head -n 2 "$tmp/tl.err")"
elif ! grep -q 'code 77$' "$tmp/tl.kernel"; then
	skip tool_reads_trace_pipe "the kernel's trace_pipe gave no line (read elsewhere at once?): $(head -n 1 "$tmp/tl.kernel") ($(uname -r))"
elif [ "$(mask_printk "$tmp/tl.kernel" | cut -d' ' -f2-)" = "$(mask_printk "$tmp/tl.bpfvm" | cut -d' ' -f2-)" ] &&
     [ "$(mask_printk "$tmp/tl.bpfvm" | cut -d' ' -f1)" = sh ]; then
	# trace_pipe names the task by its pid when the line is read, from the
	# kernel's cache of recent commands: "<...>" once evicted, another
	# command's name once the pid is reused (a loaded machine).  So the
	# message is compared with the kernel's, and the name with the task's
	# own, sh, which is what the kernel prints while its cache holds it.
	pass tool_reads_trace_pipe
else
	fail tool_reads_trace_pipe "kernel: $(mask_printk "$tmp/tl.kernel"); bpfvm exec: $(mask_printk "$tmp/tl.bpfvm")"
fi
exit $status
