# clang_checks.sh - sourced by the test scripts that build BPF objects with
# clang: pass/fail lines (fail sets status), a skip when clang or libbpf's
# headers are missing, and a temporary directory $tmp removed on exit.
#   name=NAME; . tests/scripts/clang_checks.sh
BUILD=${BUILD:-build}
BPFVM=${BPFVM:-$BUILD/bpfvm}
CLANG=${CLANG:-clang-19}
status=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; status=1; }

if ! command -v "$CLANG" >/dev/null 2>&1 || [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
	echo "SKIP $name: $CLANG or libbpf-dev missing"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
