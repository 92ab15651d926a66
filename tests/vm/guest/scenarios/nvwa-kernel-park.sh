# Parked CPUs (park/kernel/): four vCPUs (or more, -c), nvwa.park= on the
# command line.
#
#   boot  kernel  how its secondary CPUs came up     then updates to
#   1     nvwa    INIT/SIPI (nothing parked yet)     nvwa, APIC 1 finds an
#                                                    interrupt pending
#   2     nvwa    woken from park, but APIC 1 by     nvwa, --defer-cpus,
#                 INIT/SIPI (irq-pending), and APIC  APIC 1 takes a debug
#                 3 by INIT/SIPI after it took an    exception in its
#                 entry that halts (no-life-after-   switch, APIC 2's slot
#                 entry)                             corrupted
#   3     nvwa    after the restore: from park,      nvwa, maxcpus=2
#                 but APIC 1 (fault-while-parked)
#                 and APIC 2 (bad-magic) by
#                 INIT/SIPI; an NMI reached the
#                 parked CPUs first
#   4     nvwa    CPU 1 from park, the others        nvwa, all CPUs: the
#                 never brought up (still parked;    kexec INITs those
#                 CPU 2 takes 100 machine checks
#                 there, nvwa-kernel-park.live)
#   5     nvwa    CPU 1 from park, the others by     Debian, not armed:
#                 INIT/SIPI (no-slot)                nothing parks
#   6     Debian  INIT/SIPI                          nvwa
#   7     nvwa    INIT/SIPI (no token: Debian's      nvwa, --park-cpus=no:
#                 nvwa could not vouch for them)     not armed
#   8     nvwa    INIT/SIPI                          -
#
# A kexec parks only when armed for the loaded image ("arm SEQ" written to
# /sys/kernel/nvwa/park, SEQ the number of that image's load), which nvwa
# update does only for a new kernel that reserves the region too
# (parked-cpus); a new image starts unarmed, a crash image changes
# nothing.  Boot 1 checks that with nvwa-kexec-seg and kexec-tools (a
# stale SEQ is refused with ESTALE; the crash image is skipped, and said
# so, if kexec -p cannot load one), boot 6 that nvwa left it unarmed for
# Debian's kernel.  crashkernel=192M leaves room for kexec -p with
# Debian's kernel (64M did not).  The CAP_SYS_BOOT check is made from a
# user namespace's root (CONFIG_USER_NS, as Debian has it).
#
# Boot 2, before its update: another tool loads an image (nvwa-fault's
# foreign-load faults) just after nvwa's load, then at the last check
# before the record: nvwa fails (1, then 3 after the freeze), boots
# nothing, leaves that image loaded; the application runs on.
#
# Every boot: all four CPUs online and the application back, verified.
# The host answers "nmi-please" with QEMU's nmi (nvwa-kernel-park.live).
# nvwa.park_test_nmi=1: each CPU woken from park gets a second NMI as soon
# as it took its entry (it must stay blocked until the new kernel's IDT).
# Boot 1 also loads an image with a segment on the region: the kernel
# says it will not park (/sys/kernel/nvwa/park).
# nvwa.park_test_irr=1 (boot 1): APIC 1 finds an interrupt pending in its
# local APIC at park and halts unparked; nvwa.park_test_stuck=3 (boot 2):
# APIC 3 is handed an entry that halts, and the kernel falls back to
# INIT/SIPI.  nvwa.park_test_db=1 (boot 2): APIC 1 takes a debug
# exception between its CR3 write and its stop-mask update at the kexec
# to boot 3; the handler completes the update, or that kexec hangs, and
# marks the slot dead: boot 3 INIT/SIPIs it.
# vm: -K -c 4 -t 1800 -a nvwa.park=0x800000 -a nvwa.park_test_nmi=1 -a nvwa.park_test_irr=1 -a crashkernel=192M
# needs: nvwa-kernel

PARKED=/sys/kernel/nvwa/parked_cpus
# The VM's CPUs (-c): run with more for the benchmark (4 and 8).
LAST=$(sed 's/.*-//' /sys/devices/system/cpu/present)
SEC=$LAST	# secondary CPUs
all_online() { [ "$(cat /sys/devices/system/cpu/online)" = "0-$LAST" ]; }
# how_many HOW: CPUs this boot brought up that way (park | init)
how_many() { awk -v h="$1" '$2 == h { n++ } END { print n + 0 }' "$PARKED"; }
# mean_us HOW FIELD: their mean time from the start of the bring-up until
# the CPU took its entry or the SIPI was sent (3), ran kernel code (4),
# was online (5)
mean_us() { awk -v h="$1" -v f="$2" '$2 == h { s += $f; n++ } END { if (n) printf "%d", s / n }' "$PARKED"; }
# line_is CPU HOW [WHY]
line_is() { awk -v c="$1" -v h="$2" -v w="${3:-}" '$1 == c && $2 == h && (w == "" || $6 == w) { f = 1 } END { exit !f }' "$PARKED"; }
# all_init [WHY]: every secondary CPU by INIT/SIPI (for WHY)
all_init() {
	local c
	[ "$(how_many init)" = "$SEC" ] && [ "$(how_many park)" = 0 ] || return 1
	for c in $(seq 1 "$LAST"); do line_is "$c" init "${1:-}" || return 1; done
}
# all_parked_but CPU...: every secondary CPU from park but those
all_parked_but() {
	local c
	for c in $(seq 1 "$LAST"); do
		case " $* " in *" $c "*) continue ;; esac
		line_is "$c" park || return 1
	done
}
# init_from CPU WHY: CPU and the ones after it all by INIT/SIPI for WHY
init_from() {
	local c
	for c in $(seq "$1" "$LAST"); do line_is "$c" init "$2" || return 1; done
}
# untrusted: every CPU by INIT/SIPI, the slots there but not vouched for
# by a token, or gone
untrusted() { all_init no-token || all_init none-parked; }
nmi_seen() { dmesg | grep -q 'NMI received for unknown reason'; }
STATE=/sys/kernel/nvwa/park
# park_state: what a kexec would do now (the third field)
park_state() { awk '{ print $3 }' "$STATE"; }
# park_seq: the number of the last kexec image load (the fourth)
park_seq() { awk '{ print $4 }' "$STATE"; }
# refused ERROR COMMAND...: COMMAND fails, saying ERROR (strerror)
refused() {
	local err=$1 out
	shift
	out=$("$@" 2>&1) && return 1
	case $out in *"$err"*) return 0 ;; esac
	echo "$out"
	return 1
}
# crash_image: a crash image (kdump reloads it on CPU hotplug) leaves the
# normal image's arming alone; skipped, and said so, if none loads
crash_image() {
	if ! kexec -p /boot/vmlinuz --append="quiet nr_cpus=1" 2> /tmp/kexec-p.err; then
		report "skip: crash image sub-check, kexec -p failed: $(tr '\n' ' ' < /tmp/kexec-p.err)"
		return
	fi
	check "a crash image loaded: still armed" [ "$(park_state)" = park ]
	check "a crash image gets no load number" [ "$(park_seq)" = "$1" ]
	check "the crash image unloaded" kexec -p -u
	check "the crash image unloaded: still armed" [ "$(park_state)" = park ]
}
# readers_leave_kexec N M: with three readers of $STATE, each reading it
# over and over through one descriptor, N loads and unloads by kexec-tools
# and M by one nvwa-kexec-seg (quicker, more of them) all succeed (reading
# took the kexec lock once: a load or unload that met a reader failed with
# EBUSY, and a panic's crash kexec was skipped)
readers_leave_kexec() {
	local i failed="" readers=""
	for i in 1 2 3; do
		nvwa-kexec-seg -r "$STATE" &
		readers="$readers $!"
	done
	for i in $(seq "$1"); do
		kexec -l /boot/vmlinuz --append=quiet && kexec -u ||
			{ failed="kexec-tools, round $i"; break; }
	done
	# In one process: hundreds of processes started anew leave QEMU's
	# TCG with pages of thousands of translations (tests/vm/kexec_seg.c).
	[ -n "$failed" ] || nvwa-kexec-seg -n "$2" 0x2000000 > /tmp/kexec-seg.log 2>&1 ||
		failed="nvwa-kexec-seg: $(cat /tmp/kexec-seg.log)"
	kill $readers
	wait $readers 2> /dev/null
	[ -z "$failed" ] || report "readers of $STATE: a load or unload failed ($failed)"
	[ -z "$failed" ]
}
# token_passed FILE: this kernel was booted with the token FILE holds
token_passed() { grep -q "nvwa.park=0x800000,$(cat "$1")\( \|$\)" /proc/cmdline; }
# second_nmis N: the test hook sent N second NMIs, and this kernel is fine
second_nmis() { [ "$(dmesg | grep -c 'a second NMI sent after it took its entry')" = "$1" ]; }

# foreign_load FAULT STATUS TEXT PID: another tool loads an image during
# nvwa's update of PID (nvwa-fault: kexec-tools loads one), just after
# nvwa's load (foreign-load-early) or at the last check before the record
# (foreign-load, after the freeze).  nvwa fails with STATUS saying TEXT,
# boots nothing, leaves the other image loaded (unarmed, nvwa armed only
# its own) and nothing of its own behind; the application runs on with
# its memory (given back by the roll-back on this kept path).
foreign_load() {
	local rc
	NVWA_FAULT=$1 nvwa-fault update --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img \
		--app "$4" > "/tmp/foreign-$1.log" 2>&1
	rc=$?
	cat "/tmp/foreign-$1.log"
	if [ "$rc" != "$2" ] || ! grep -q "fault injected: $1" "/tmp/foreign-$1.log" ||
		! grep -q "Another kexec image was $3" "/tmp/foreign-$1.log"; then
		report "$1: exit $rc: $(grep -i 'error\|another' "/tmp/foreign-$1.log" | tail -n 2 | tr '\n' ' ')"
		return 1
	fi
	[ "$(cat /sys/kernel/kexec_loaded)" = 1 ] && [ "$(park_state)" = unarmed ] &&
		[ -z "$(ls /run/nvwa/store | grep '^gen-')" ] && not_stopped "$4" &&
		app_progresses app && app_verify "$4" app && kexec -u
}

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
		check "all CPUs online" all_online
		check "nvwa status: parked-cpus yes" sh -c 'nvwa status | grep -q "parked-cpus *yes"'
		check "every secondary CPU by INIT/SIPI, nothing was parked" all_init none-parked
		report_file parked $PARKED
		report_file park $STATE
		check "no image loaded: park says no-image" [ "$(park_state)" = no-image ]
		check "an image with a segment on the region loads" nvwa-kexec-seg 0x800000
		check "the kernel says it will not park over it" [ "$(park_state)" = image-over-region ]
		seq=$(park_seq)
		check "an image beside the region loads" nvwa-kexec-seg 0x2000000
		check "that load got the next number" [ "$(park_seq)" = $((seq + 1)) ]
		check "loaded, not armed: the kernel says unarmed" [ "$(park_state)" = unarmed ]
		check "anything but arm SEQ or disarm is refused" sh -c "! echo park 2>/dev/null > $STATE"
		check "arm without the load's number is refused" sh -c "! echo arm 2>/dev/null > $STATE"
		check "a user namespace's root (CONFIG_USER_NS)" unshare -U -r true
		check "arming needs CAP_SYS_BOOT (root of a user namespace: EPERM)" \
			refused "Operation not permitted" unshare -U -r sh -c "echo arm $((seq + 1)) > $STATE"
		check "still unarmed after it" [ "$(park_state)" = unarmed ]
		check "armed for that load" sh -c "echo arm $((seq + 1)) > $STATE"
		check "armed: the kernel says it will park" [ "$(park_state)" = park ]
		crash_image $((seq + 1))
		check "disarmed" sh -c "echo disarm > $STATE"
		check "disarmed: unarmed" [ "$(park_state)" = unarmed ]
		# As nvwa: SEQ read, its load, then another tool's load: the
		# arm for its load is stale.
		seq=$(park_seq)
		check "kexec-tools loads Debian's kernel" kexec -l /boot/vmlinuz --append=quiet
		check "another image loaded after it" nvwa-kexec-seg 0x2000000
		check "arming the replaced image's load is refused (ESTALE)" \
			refused "Stale file handle" sh -c "echo arm $((seq + 1)) > $STATE"
		check "still unarmed" [ "$(park_state)" = unarmed ]
		check "the loaded image's number arms it" sh -c "echo arm $((seq + 2)) > $STATE"
		check "kexec-tools loads Debian's kernel over it" kexec -l /boot/vmlinuz --append=quiet
		check "the new image starts unarmed" [ "$(park_state)" = unarmed ]
		check "unloaded" kexec -u
		check "arming with no image loaded is refused" \
			sh -c "! echo arm $(park_seq) 2>/dev/null > $STATE"
		check "disarming with no image loaded does nothing" sh -c "echo disarm > $STATE"
		check "no image loaded again: no-image" [ "$(park_state)" = no-image ]
		check "readers of $STATE leave 5 + 300 loads and unloads alone" readers_leave_kexec 5 300
		awk '{ print $2 }' $STATE > /disk/data/park-token
		metric init_handover_us "$(mean_us init 3)"
		metric init_running_us "$(mean_us init 4)"
		metric init_online_us "$(mean_us init 5)"
		UPDATE_KERNEL=/boot/vmlinuz-nvwa \
			UPDATE_APPEND="nvwa.park_test_irr=-1 nvwa.park_test_stuck=3 nvwa.park_test_db=1" \
			start_and_update app --mem 64 --threads 2
		;;
	2)
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		check "nvwa update said the CPUs park at the jump" \
			grep -q "CPUs: parked at the jump in nvwa.park=0x800000" /disk/data/update.log
		check "nvwa update armed parking for the loaded image" \
			grep -q "CPUs: parking armed; the loaded image leaves the park region at 0x800000 alone" /disk/data/update.log
		check "the load covered the holes between the vmlinux's segments (memory is kept)" \
			grep -q "KiB of holes between the vmlinux's segments loaded as zeros" /disk/data/update.log
		check "booted with the token of the kernel that parked the CPUs" token_passed /disk/data/park-token
		check "all CPUs online" all_online
		# APIC 1 did not park; APIC 3 took its entry, then INIT/SIPI.
		check "each CPU woken got a second NMI on the heels of the first" second_nmis "$((SEC - 1))"
		report_file parked $PARKED
		check "CPU 1 (interrupt pending at park) by INIT/SIPI" line_is 1 init irq-pending
		check "CPU 3 (entry taken, never ran) by INIT/SIPI after all" line_is 3 init no-life-after-entry
		check "the kernel log: CPU 3's fallback" sh -c \
			"dmesg | grep -q 'CPU3 took its entry but did not run it within'"
		check "no kernel warning (the fallback's INIT comes first)" kernel_clean
		check "the kernel log: $((SEC - 2)) CPUs woken from park" [ "$(dmesg | grep -c 'nvwa.park: CPU[0-9]* (APIC 0x[0-9a-f]*) woken from park')" = "$((SEC - 2))" ]
		check "parked_cpus: $((SEC - 2)) from park" [ "$(how_many park)" = "$((SEC - 2))" ]
		check "nvwa status: $((SEC - 2)) woken from park" sh -c "nvwa status | grep -q 'CPU bring-up: $((SEC - 2)) woken from park'"
		check "the timeline has the parked CPUs" report_is --argjson n "$((SEC - 2))" \
			'[.items[] | select(.kind == "cpu" and .detail == "park")] | length == $n'
		app_came_back "$pid" app
		metric park_handover_us "$(mean_us park 3)"
		metric park_running_us "$(mean_us park 4)"
		metric park_online_us "$(mean_us park 5)"
		send_report
		check "a load by another tool after nvwa's: refused before the freeze (1), not unloaded, the app runs on" \
			foreign_load foreign-load-early 1 "loaded while nvwa loaded its own" "$pid"
		check "a load by another tool at the last moment: rolled back (3), not unloaded, the app runs on" \
			foreign_load foreign-load 3 "loaded after nvwa's" "$pid"
		UPDATE_KERNEL=/boot/vmlinuz-nvwa UPDATE_ARGS="--defer-cpus" \
			UPDATE_APPEND="nvwa.park_bad_slot=2 nvwa.park_test_stuck=-1 nvwa.park_test_db=-1" \
			update_reboot "$pid"
		;;
	3)
		pid=$(app_pid)
		check "booted with maxcpus=1" sh -c 'grep -q "maxcpus=1" /proc/cmdline'
		check "nvwa restore succeeded" restore_ok
		check "all CPUs online after the restore" all_online
		report_file parked $PARKED
		check "an NMI reached the CPUs while parked" nmi_seen
		check "the others woken from park after it" all_parked_but 1 2
		check "CPU 1 (debug exception in its switch) by INIT/SIPI" \
			line_is 1 init fault-while-parked
		check "CPU 2 (bad magic) by INIT/SIPI" line_is 2 init bad-magic
		check "only those two by INIT/SIPI" [ "$(how_many init)" = 2 ]
		check "the kernel log names the bad slot" sh -c \
			"dmesg | grep -q 'CPU2 (APIC 0x2) started with INIT/SIPI (bad-magic)'"
		check "the kernel log names the dead slot" sh -c \
			"dmesg | grep -q 'CPU1 (APIC 0x1) started with INIT/SIPI (fault-while-parked)'"
		check "the deferred CPUs woken got a second NMI each too" second_nmis "$((SEC - 2))"
		app_came_back "$pid" app
		UPDATE_KERNEL=/boot/vmlinuz-nvwa UPDATE_APPEND="maxcpus=2 nvwa.park_bad_slot=-1" \
			update_reboot "$pid"
		;;
	4)
		# CPUs 2 and up stay parked, never brought up.
		pid=$(app_pid)
		check "booted with maxcpus=2" sh -c 'grep -q "maxcpus=2" /proc/cmdline'
		check "nvwa restore succeeded" restore_ok
		check "only CPUs 0-1 online" [ "$(cat /sys/devices/system/cpu/online)" = 0-1 ]
		report_file parked $PARKED
		report_file park $STATE
		check "CPU 1 from park" line_is 1 park
		check "no other CPU brought up" [ "$(wc -l < $PARKED)" = 1 ]
		# CPU 2, parked and never woken, takes 100 machine checks: each
		# must find its stack reset, or the 84th frame lands on the
		# slot's IDT and the next one resets the machine.  The host
		# sends an NMI to every CPU once they are sent.
		report "mce-please 2 100"
		check "100 machine checks on a CPU never woken, and the machine runs" \
			wait_for 120 nmi_seen
		app_came_back "$pid" app
		UPDATE_KERNEL=/boot/vmlinuz-nvwa UPDATE_APPEND="maxcpus=$((LAST + 1))" \
			update_reboot "$pid"
		;;
	5)
		# Boot 4's kexec sent INIT to the CPUs it never brought up and
		# parked CPU 1 all the same.
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		check "nvwa update armed parking with CPUs still parked" \
			grep -q "CPUs: parking armed; the loaded image leaves the park region at 0x800000 alone" /disk/data/update.log
		check "all CPUs online" all_online
		report_file parked $PARKED
		check "CPU 1 from park" line_is 1 park
		check "the CPUs boot 4 never brought up: INIT at its kexec, no slot" \
			init_from 2 no-slot
		check "no kernel warning" kernel_clean
		# Boot 4's machine checks, if the banks kept them across INIT.
		dmesg | grep 'Hardware Error' > /tmp/mce.log
		report_file mce /tmp/mce.log
		app_came_back "$pid" app
		awk '{ print $2 }' $STATE > /disk/data/park-token
		UPDATE_KERNEL=/boot/vmlinuz update_reboot "$pid"
		;;
	6)
		pid=$(app_pid)
		check "Debian's kernel" sh -c '! uname -r | grep -q -- "-nvwa$"'
		check "nvwa restore succeeded" restore_ok
		check "nvwa update said Debian's kernel does not reserve the region" \
			grep -q "CPUs: halted at the jump, the new kernel INIT/SIPIs them: .* does not reserve the park region" \
			/disk/data/update.log
		check "nvwa update left parking unarmed for it (the kernel's state)" \
			grep -q "CPUs: parking not armed (unarmed)" /disk/data/update.log
		check "all CPUs online" all_online
		check "booted with the nvwa kernel's token (it ignores it)" token_passed /disk/data/park-token
		app_came_back "$pid" app
		UPDATE_KERNEL=/boot/vmlinuz-nvwa update_reboot "$pid"
		;;
	7)
		pid=$(app_pid)
		check "the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "nvwa restore succeeded" restore_ok
		check "nvwa update said Debian's kernel cannot park" \
			grep -q "CPUs: halted at the jump.*cannot park them" /disk/data/update.log
		check "all CPUs online" all_online
		report_file parked $PARKED
		check "Debian's nvwa passed the region without a token" sh -c \
			'grep -q "nvwa.park=0x800000\( \|$\)" /proc/cmdline'
		check "all by INIT/SIPI: Debian's kernel parked nothing" all_init
		# The slots boot 5 left are there unless Debian reused the memory.
		check "none trusted without the token" untrusted
		app_came_back "$pid" app
		UPDATE_KERNEL=/boot/vmlinuz-nvwa UPDATE_ARGS="--park-cpus=no" update_reboot "$pid"
		;;
	8)
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		check "nvwa update said the CPUs halt (--park-cpus=no)" \
			grep -q "CPUs: halted at the jump, INIT/SIPI in the new kernel (--park-cpus=no)" \
			/disk/data/update.log
		check "nvwa update left parking unarmed (--park-cpus=no)" \
			grep -q "CPUs: parking not armed (unarmed, --park-cpus=no)" /disk/data/update.log
		check "all CPUs online" all_online
		report_file parked $PARKED
		check "the region carried over and reserved" sh -c "grep -q '^0x0*800000 ' $STATE"
		check "all by INIT/SIPI: nothing parked" all_init none-parked
		app_came_back "$pid" app
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
