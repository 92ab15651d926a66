# Parked CPUs (park/kernel/): four vCPUs, nvwa.park= on the command line.
#
#   boot  kernel  how its secondary CPUs came up     then updates to
#   1     nvwa    INIT/SIPI (nothing parked yet)     nvwa
#   2     nvwa    woken from park                    nvwa, --defer-cpus,
#                                                    APIC 2's slot corrupted
#   3     nvwa    after the restore: from park,      Debian
#                 but APIC 2 by INIT/SIPI; an NMI
#                 reached the parked CPUs first
#   4     Debian  INIT/SIPI (parked CPUs reset)      nvwa
#   5     nvwa    INIT/SIPI (the slots are stale)    -
#
# Every boot: all four CPUs online and the application back, verified.
# The host answers "nmi-please" with QEMU's nmi (nvwa-kernel-park.live).
# vm: -K -c 4 -t 1800 -a nvwa.park=0x800000
# needs: nvwa-kernel

PARKED=/sys/kernel/nvwa/parked_cpus
all_online() { [ "$(cat /sys/devices/system/cpu/online)" = 0-3 ]; }
# how_many HOW: CPUs this boot brought up that way (park | init)
how_many() { awk -v h="$1" '$2 == h { n++ } END { print n + 0 }' "$PARKED"; }
# mean_us HOW: their mean time from bring-up to online
mean_us() { awk -v h="$1" '$2 == h { s += $4; n++ } END { if (n) printf "%d", s / n }' "$PARKED"; }
# line_is CPU HOW [WHY]
line_is() { awk -v c="$1" -v h="$2" -v w="${3:-}" '$1 == c && $2 == h && (w == "" || $5 == w) { f = 1 } END { exit !f }' "$PARKED"; }
# all_init [WHY]: the three secondary CPUs by INIT/SIPI (for WHY)
all_init() {
	[ "$(how_many init)" = 3 ] && [ "$(how_many park)" = 0 ] &&
		line_is 1 init "${1:-}" && line_is 2 init "${1:-}" && line_is 3 init "${1:-}"
}
both_parked() { line_is "$1" park && line_is "$2" park; }
only_init() { line_is "$1" init "$2" && [ "$(how_many init)" = 1 ]; }
nmi_seen() { dmesg | grep -q 'NMI received for unknown reason'; }

pre_restore() {
	# Boot 3 deferred CPUs 1-3: they are parked until the restore.
	if [ "$1" = 3 ]; then
		report "nmi-please"
		wait_for 60 nmi_seen
	fi
}

main() {
	local pid
	case $1 in
	1)
		check "four CPUs online" all_online
		check "nvwa status: parked-cpus yes" sh -c 'nvwa status | grep -q "parked-cpus *yes"'
		check "three CPUs by INIT/SIPI, nothing was parked" all_init none-parked
		report_file parked $PARKED
		metric init_bringup_us "$(mean_us init)"
		UPDATE_KERNEL=/boot/vmlinuz-nvwa start_and_update app --mem 64 --threads 2
		;;
	2)
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		check "four CPUs online" all_online
		report_file parked $PARKED
		check "the kernel log: three CPUs woken from park" [ "$(dmesg | grep -c 'nvwa.park: CPU[0-9]* (APIC 0x[0-9a-f]*) woken from park')" = 3 ]
		check "parked_cpus: three from park" [ "$(how_many park)" = 3 ]
		check "nvwa status: 3 woken from park" sh -c 'nvwa status | grep -q "CPU bring-up: 3 woken from park"'
		check "the timeline has the parked CPUs" report_is \
			'[.items[] | select(.kind == "cpu" and .detail == "park")] | length == 3'
		app_came_back "$pid" app
		metric park_bringup_us "$(mean_us park)"
		send_report
		UPDATE_KERNEL=/boot/vmlinuz-nvwa UPDATE_ARGS="--defer-cpus --append nvwa.park_bad_slot=2" \
			update_reboot "$pid"
		;;
	3)
		pid=$(app_pid)
		check "booted with maxcpus=1" sh -c 'grep -q "maxcpus=1" /proc/cmdline'
		check "nvwa restore succeeded" restore_ok
		check "four CPUs online after the restore" all_online
		report_file parked $PARKED
		check "an NMI reached the CPUs while parked" nmi_seen
		check "CPUs 1 and 3 woken from park after it" both_parked 1 3
		check "CPU 2 (bad magic) by INIT/SIPI, only it" only_init 2 bad-magic
		check "the kernel log names the bad slot" sh -c \
			"dmesg | grep -q 'CPU2 (APIC 0x2) started with INIT/SIPI (bad-magic)'"
		app_came_back "$pid" app
		UPDATE_KERNEL=/boot/vmlinuz update_reboot "$pid"
		;;
	4)
		pid=$(app_pid)
		check "Debian's kernel" sh -c '! uname -r | grep -q -- "-nvwa$"'
		check "nvwa restore succeeded" restore_ok
		check "four CPUs online (parked CPUs reset by INIT)" all_online
		app_came_back "$pid" app
		UPDATE_KERNEL=/boot/vmlinuz-nvwa update_reboot "$pid"
		;;
	5)
		pid=$(app_pid)
		check "the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "nvwa restore succeeded" restore_ok
		check "four CPUs online" all_online
		report_file parked $PARKED
		check "three by INIT/SIPI: Debian's kernel parked nothing" all_init
		app_came_back "$pid" app
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
