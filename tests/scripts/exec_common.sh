# shellcheck shell=sh
# What test_exec.sh and test_exec_session.sh share (sourced, not run):
# bpfvm_exec (bounded; a sanitized build's library gets the sanitizer's
# runtime first in the tool, as LD_PRELOAD must have it) and wait_for.
if [ "${SANITIZED:-}" = 1 ]; then
	asan=$(cc -print-file-name=libasan.so)
	EXEC_ENV="LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0"
else
	EXEC_ENV=
fi
# shellcheck disable=SC2086
bpfvm_exec() { timeout ${EXEC_TIMEOUT:-60} env $EXEC_ENV "$BPFVM" exec "$@"; }

# wait_for FILE PATTERN TENTHS: until FILE has a line matching PATTERN (bounded)
wait_for() {
	n=0
	while [ $n -lt "$3" ] && ! grep -q "$2" "$1" 2> /dev/null; do
		sleep 0.1
		n=$((n + 1))
	done
	grep -q "$2" "$1" 2> /dev/null
}
