# libbpf_tools_objs.sh - sourced by the test scripts that take the BPF
# objects embedded in Debian's libbpf-tools: a skip when the package is
# missing, a temporary directory $tmp removed on exit, and every object
# extracted into $tmp/objs by $BUILD/tests/extract_bpf_objs (on the library).
#   name=NAME; . tests/scripts/libbpf_tools_objs.sh
if ! dpkg -L libbpf-tools >/dev/null 2>&1; then
	echo "SKIP $name: the libbpf-tools package is not installed"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
extract=$BUILD/tests/extract_bpf_objs
[ -x "$extract" ] || { echo "FAIL $name: $extract is not built (make $extract)"; exit 1; }
mkdir "$tmp/objs"
"$extract" "$tmp/objs" $(dpkg -L libbpf-tools | grep '^/usr/sbin/.') > /dev/null || exit 1
