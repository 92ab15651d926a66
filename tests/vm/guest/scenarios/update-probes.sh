# vm: -r 192M@1536M
# Where an update's time goes, measured.  Boot 1 updates an application
# with the shutdown probes (fentry/fexit: the Debian kernel has BTF) and
# prints its progress on the console, which the host stamps; boot 2
# checks the report's timeline, then profiles a plain reboot with
# `nvwa trace reboot --probes=kprobe`; boot 3 checks that one and sends
# the dashboard to the host, which renders it in headless Chromium
# (update-probes.host).  The host also checks that freeze to application
# running, as the report says it, matches its own clock within 5 %.

# "NAME START END" per phase of the last report, TSC.
phases() { report_value '.phases[] | "\(.name) \(.start_tsc) \(.end_tsc)"'; }
# has PHASE...: every one is in the report.
has() {
	local p
	for p in "$@"; do grep -q "^$p " /tmp/phases || { echo "no phase $p"; return 1; }; done
}
# phase_rule A B RULE WHY: both phases are there and their bounds (as, ae:
# A's start and end; bs, be: B's) keep RULE, or WHY is said.
phase_rule() {
	awk -v a="$1" -v b="$2" -v why="$4" '$1 == a { as = $2; ae = $3 } $1 == b { bs = $2; be = $3 }
		END { if (as == "" || bs == "" || !('"$3"')) { print why; exit 1 } }' /tmp/phases
}
# before A B: A ends no later than B starts.
before() { phase_rule "$1" "$2" 'ae <= bs' "$1 ends after $2 starts"; }
# starts_before A B: A starts no later than B.
starts_before() { phase_rule "$1" "$2" 'as <= bs' "$1 starts after $2"; }
# inside A B: A lies within B.
inside() { phase_rule "$1" "$2" 'as >= bs && ae <= be' "$1 is not inside $2"; }
# chain A B C...: each ends before the next starts.
chain() {
	while [ $# -gt 1 ]; do before "$1" "$2" || return 1; shift; done
}
# The first-run probe is loaded within the restore, before CRIU restores PID.
probe_loads_before_criu() { inside probe-load restore && before probe-load "restore/$1"; }
items() { report_value --arg k "$1" '[.items[] | select(.kind == $k)] | length'; }
probes_are() { report_is --arg p "$1" '.probes | startswith($p)'; }

# 6.1's kexec path does not call syscore_shutdown (it is probed all the same).
SHUTDOWN="kernel-kexec restart-prepare device-shutdown machine-shutdown machine-kexec"
BOOT="kexec-jump kernel-early smp-bringup initcalls init-start"

main() {
	local pid
	case $1 in
	1)
		check "pinmem formatted" nvwa pinmem format
		store_format
		start_kept app --mem 64
		# On the console as it runs: the host stamps the freeze line.
		nvwa update --kernel /boot/vmlinuz --initrd /boot/initrd.img --app "$(app_pid)" 2>&1 |
			tee /disk/data/update.log
		fatal "nvwa update returned instead of rebooting"
		;;
	2)
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		check "PID $pid runs with every byte" app_verify "$pid" app
		check "the update loaded the probes with fentry/fexit" \
			grep -q 'shutdown probes: fentry/fexit' /disk/data/update.log
		phases > /tmp/phases
		# shellcheck disable=SC2086
		check "every phase is in the report" has freeze sync quiesce reboot $SHUTDOWN $BOOT \
			userspace-early probe-load restore app-running first-syscall
		check "the record says how the shutdown was timed" probes_are fentry/fexit
		# shellcheck disable=SC2086
		check "old kernel, jump, new kernel: in order, no overlap" \
			chain freeze sync quiesce reboot kernel-kexec machine-kexec kexec-jump kernel-early \
			smp-bringup initcalls init-start restore
		check "the shutdown's calls in kernel order" \
			chain restart-prepare machine-shutdown machine-kexec
		check "device_shutdown runs inside kernel_restart_prepare" inside device-shutdown restart-prepare
		check "kernel_kexec encloses the shutdown" inside machine-shutdown kernel-kexec
		check "the old kernel's timestamps survived the kexec: before the new kernel's first" \
			before machine-kexec kernel-early
		check "the first system call comes after CRIU's restore began" starts_before restore first-syscall
		check "the first-run probe loads inside the restore, before CRIU starts" \
			probe_loads_before_criu "$pid"
		check "the per-device shutdown list is not empty" [ "$(items device)" -gt 0 ]
		check "the virtio disk's shutdown is in it" report_is \
			'any(.items[] | select(.kind == "device") | tostring; contains("virtio"))'
		check "the first system call is named per application" [ "$(items first-syscall)" = 1 ]
		check "the pinmem area of the probes is gone" sh -c "! nvwa pinmem ls | grep -q nvwa-shutdown"
		check "no kernel warning" kernel_clean
		send_report
		nvwa trace reboot --kernel /boot/vmlinuz --initrd /boot/initrd.img --probes=kprobe \
			> /disk/data/trace.log 2>&1
		cat /disk/data/trace.log
		fatal "nvwa trace reboot returned instead of rebooting"
		;;
	3)
		check "nvwa restore succeeded" restore_ok
		check "the trace loaded kprobes as asked" grep -q 'shutdown probes: kprobe/kretprobe' /disk/data/trace.log
		phases > /tmp/phases
		# shellcheck disable=SC2086
		check "the trace has the shutdown and the boot" has reboot $SHUTDOWN $BOOT
		check "the record says kprobes" probes_are kprobe/kretprobe
		check "the per-device shutdown list is not empty (kprobes)" [ "$(items device)" -gt 0 ]
		check "initcall_debug gave the slowest initcalls" [ "$(items initcall)" -ge 5 ]
		check "the terminal report names the slowest inside the biggest phase" \
			sh -c "nvwa report | grep -q 'slowest inside'"
		send_report
		send_dashboard
		nvwa report --json > /tmp/latest.json
		report_file json /tmp/latest.json
		check "two updates in the history" [ "$(ls /var/lib/nvwa/updates | wc -l)" -ge 2 ]
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
