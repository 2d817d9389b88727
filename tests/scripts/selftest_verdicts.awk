# selftest_verdicts.awk - joins the kernel's per-program verdicts of one
# verifier selftest object (libbpf_list --kernel-verdicts: "verdict PROG
# accept:|reject:|host: REASON") with bpfvm's (`bpfvm verify`: a program's
# "NAME (SECTION): VERDICT" line and the reason on the line after), for
# test_verifier_selftests.sh.  A program the object's verify left without a
# verdict is verified alone (`bpfvm verify --prog`), once per object while
# that fails with the object's own error.
#
# Variables: n (the object's name), obj, tmp, bpfvm, kver, objerr (the first
# line of the object's error), bv (bpfvm verify's output).  Input: the
# kernel's verdicts.  Prints SKIP and FAIL lines, then "counts PROGS AGREE
# NEEDS HOST UNSAFE" and "differ LIST".

# The first verdict of each program in file: V[prog] is accept, reject or
# none; R[prog] the reason ("-" when there is none).
function verdicts(file, V, R,    line, w, p, v, r) {
	p = ""
	while ((getline line < file) > 0) {
		if (line ~ /^[A-Za-z0-9_]+ \(.*\): skipped: /)
			continue
		if (line ~ /^[A-Za-z0-9_]+ \(.*\): not loaded: /) {
			if (p != "")
				put(V, R, p, v, "-")
			r = line
			sub(/^[^:]*\): not loaded: /, "", r)
			split(line, w, " ")
			put(V, R, w[1], "none", r)
			p = ""
			continue
		}
		if (line ~ /^[A-Za-z0-9_]+ \(.*\): /) {
			if (p != "")
				put(V, R, p, v, "-")
			split(line, w, " ")
			p = w[1]
			v = "none"
			if (line ~ /\): refused$/)
				v = "reject"
			if (line ~ /\): (accepted|verified)/)
				v = "accept"
			continue
		}
		if (p != "") {
			put(V, R, p, v, line)
			p = ""
		}
	}
	if (p != "")
		put(V, R, p, v, "-")
	close(file)
}

function put(V, R, p, v, r) {
	if (!(p in V)) {
		V[p] = v
		R[p] = r
	}
}

function first_line(file,    line) {
	while ((getline line < file) > 0)
		if (line != "") {
			close(file)
			return line
		}
	close(file)
	return ""
}

BEGIN { verdicts(bv, BV, BR) }

{
	prog = $2
	kverdict = $3
	kreason = $0
	sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]*/, "", kreason)
	sub(/[ \t]+$/, "", kreason)
	if (kverdict == "host:") {
		host++
		print "SKIP " n "/" prog ": the host cannot load it (kernel " kver "): " kreason
		next
	}
	found = prog in BV
	if (found) {
		b = BV[prog]
		breason = BR[prog]
	} else if (!objerr_alone) {
		system(bpfvm " verify --prog '" prog "' '" obj "' > '" tmp "/bp' 2> '" tmp "/bp.err'")
		split("", PV)
		split("", PR)
		verdicts(tmp "/bp", PV, PR)
		if (prog in PV) {
			found = 1
			b = PV[prog]
			breason = PR[prog]
		} else if (first_line(tmp "/bp.err") == objerr) {
			objerr_alone = 1
		}
	}
	if (!found) {
		b = "none"
		breason = objerr
	}
	# needs the kernel: its own verdict says so, or the object's error names it
	# (another program's load error leaves this one without a verdict: counted)
	if (breason ~ /^cannot verify programs of type|exist only inside the kernel|kernel-only/ &&
	    (found || index(breason, "program " prog ":"))) {
		needs++
		next
	}
	progs++
	k = kverdict
	sub(/:$/, "", k)
	if (k == b || (k == "reject" && b == "none")) {
		agree++
		next
	}
	if (k == "reject") {
		unsafe++
		print "FAIL " n "/" prog ": the kernel refuses it (" kreason "), bpfvm accepts it"
	}
	differ = differ " " prog "(kernel " k ": " (kreason != "" ? kreason : "ok") "; bpfvm " b ": " breason ")"
}

END {
	print "counts", progs + 0, agree + 0, needs + 0, host + 0, unsafe + 0
	print "differ" differ
}
