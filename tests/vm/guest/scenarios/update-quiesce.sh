# Filesystems are consistent at the jump.  Boot 1: a process appends to a
# file on the VM's ext4 disk (/disk) while an application is updated;
# first a reboot call that fails (fault injection) must leave /disk
# writable, then the real update.  Boot 2: the kernel mounted /disk
# without replaying its journal, every line written before the freeze is
# there, and the report names the quiesce and what it froze.

# The writer's lines: 0, 1, 2, ... one each, none torn or missing.
lines_continuous() {
	awk '{ if ($1 != NR - 1) { print "line " NR ": " $0; exit 1 } } END { if (NR < 2) exit 1 }' \
		/disk/data/writer.txt
}
writer_progresses() {
	local before
	before=$(wc -l < /disk/data/writer.txt)
	wait_for 30 rises_above "$before" sh -c 'wc -l < /disk/data/writer.txt'
}
# Writing and syncing a file on /disk finishes: the fs is not left frozen.
disk_writable() {
	timeout 20 sh -c 'echo after-roll-back > /disk/data/after && sync /disk/data/after'
}
journal_replayed() { dmesg | grep -q 'EXT4-fs (vda).*recovery'; }

main() {
	local pid rc
	case $1 in
	1)
		store_format
		start_kept app --mem 32
		pid=$(app_pid)
		setsid sh -c 'i=0; while :; do echo $i >> /disk/data/writer.txt; i=$((i + 1)); usleep 5000; done' \
			< /dev/null > /dev/null 2>&1 &
		wait_for 30 test -s /disk/data/writer.txt || fatal "the writer did not start"
		# The reboot call fails after the freeze: the update rolls back.
		NVWA_FAULT=reboot nvwa-fault update --kernel /boot/vmlinuz --initrd /boot/initrd.img \
			--app "$pid" > /tmp/fault-reboot.log 2>&1
		rc=$?
		cat /tmp/fault-reboot.log
		check "a failed reboot call rolls back (status 3)" [ "$rc" = 3 ]
		# What nvwa did after its last timeline mark is in the kernel's
		# log, on its clock, next to the kernel's own kexec lines.
		check "the kernel log has nvwa's last steps before the kexec" sh -c \
			'dmesg | grep -q "nvwa: update: the last mark; the handover record next" &&
			 dmesg | grep -q "nvwa: update: record written, store read-only: kexec now"'
		check "the fs is not left frozen: writing to /disk works" disk_writable
		check "the writer keeps writing" writer_progresses
		check "the application keeps counting" app_progresses app
		echo written-before-the-update > /disk/data/before
		# nvwa's output through a pipe: a file on /disk would keep /disk
		# from being frozen (nvwa still writes its log after the freeze).
		nvwa update --kernel /boot/vmlinuz --initrd /boot/initrd.img --app "$pid" 2>&1 |
			tee /tmp/update.log
		fatal "nvwa update returned instead of rebooting"
		;;
	2)
		pid=$(app_pid)
		check "nvwa restore succeeded" restore_ok
		check "PID $pid runs again" app_alive "$pid"
		check "no journal replay on /disk in the new kernel" not journal_replayed
		check "no ext4 error" sh -c "! dmesg | grep -q 'EXT4-fs error'"
		check "the line written before the update is there" \
			grep -qx written-before-the-update /disk/data/before
		check "every line the writer wrote is there, in order" lines_continuous
		check "the report has the quiesce phase" has_phase quiesce
		check "the report names /disk as frozen" report_is \
			'any(.items[]; .kind == "quiesce" and .name == "/disk" and (.detail | startswith("frozen")))'
		check "the quiesce lies inside the downtime, before the reboot" report_is \
			'[.phases[] | select(.name == "quiesce" or .name == "freeze" or .name == "reboot")] | length == 3'
		metric quiesce_ms "$(phase_duration quiesce)"
		metric disk_freeze_ms "$(report_value \
			'first(.items[] | select(.kind == "quiesce" and .name == "/disk") | .duration_ms)')"
		dmesg | grep 'EXT4-fs (vda)' > /tmp/vda.txt
		report_file dmesg /tmp/vda.txt
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
