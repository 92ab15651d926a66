# The rows of README's failure table that nothing outside nvwa can cause,
# by fault injection (nvwa-fault: the test build, never installed).
# Boot 1: kexec -l, a pre-dump, writing the record and the reboot call
# fail in turn, and nvwa is killed (SIGKILL) between the freeze and the
# reboot; each time the application runs on, nothing is left behind.  Then three applications are updated for real.  Boot 2: one's
# PID is taken before the restore, and a first restore dies right after
# CRIU brought the first application back: the boot's restore restores
# the second, refuses to restore the first twice, reports the third; a
# --retry once the PID is free restores only the third, and never
# resurrects the first after it has exited.
STORE=/run/nvwa/store
nothing_left() {
	[ "$(cat /sys/kernel/kexec_loaded)" = 0 ] &&
		[ -z "$(ls "$STORE" | grep '^gen-')" ] &&
		[ ! -e "$STORE/handover.dtb" ]
}
faulty_update() {	# faulty_update FAULT EXPECTED-STATUS EXPECTED-TEXT
	NVWA_FAULT=$1 nvwa-fault update --kernel /boot/vmlinuz --initrd /boot/initrd.img \
		--app "$a" > "/tmp/fault-$1.log" 2>&1
	local rc=$?
	cat "/tmp/fault-$1.log"
	grep -q "fault injected: $1" "/tmp/fault-$1.log" &&
		[ "$rc" = "$2" ] && grep -q "$3" "/tmp/fault-$1.log"
}
store_protected() {	# mounted read-write, nosuid, nodev, noexec
	awk -v m="$STORE" '$2 == m { print $4 }' /proc/mounts |
		tr ',' '\n' | sort > /tmp/opts
	grep -qx rw /tmp/opts && grep -qx nosuid /tmp/opts &&
		grep -qx nodev /tmp/opts && grep -qx noexec /tmp/opts
}
row() {		# row FAULT STATUS TEXT: the update failed so, and nothing changed
	check "$1 fails: exit $2, says '$3'" faulty_update "$1" "$2" "$3"
	check "$1: nothing left behind" nothing_left
	check "$1: the application is not stopped" not_stopped "$a"
	check "$1: it keeps counting" app_progresses a
}
# nvwa killed at the worst moment: the applications stopped, the record
# written, the store read-only, the new kernel loaded.  Its guard undoes it.
killed_before_reboot() {
	local u
	NVWA_FAULT=hang-before-reboot nvwa-fault update --kernel /boot/vmlinuz \
		--initrd /boot/initrd.img --app "$a" > /tmp/fault-kill.log 2>&1 &
	u=$!
	wait_for 120 grep -q 'fault injected: hang-before-reboot' /tmp/fault-kill.log || return 1
	not not_stopped "$a" || return 1
	[ -e "$STORE/handover.dtb" ] || return 1
	kill -9 "$u"
	wait "$u"
	wait_for 30 grep -q 'its guard resumed' /tmp/fault-kill.log
	local rc=$?
	cat /tmp/fault-kill.log
	return $rc
}
pid_of() { sed -n "$1p" /disk/state/test/pids; }
take_pid() {	# take_pid PID: a process that holds PID, its PID on stdout
	echo $(( $1 - 1 )) > /proc/sys/kernel/ns_last_pid
	setsid sleep 600 < /dev/null > /dev/null 2>&1 &
	echo $!
}
pre_restore() {
	[ "$1" = 2 ] || return 0
	local c s
	c=$(pid_of 3)
	s=$(take_pid "$c")
	echo "$s" > /tmp/squatter
	report "PID $c taken by $s before the restore"
	NVWA_FAULT=restore-dies nvwa-fault restore > /tmp/dies.log 2>&1
	echo "$?" > /tmp/dies.rc
	cat /tmp/dies.log
}
record_state() {	# record_state PID: the app's state in the pending record
	nvwa handover show --json "$STORE/handover.dtb" 2>/dev/null |
		jq -r --argjson p "$1" '.apps[] | select(.pid == $p) | .state'
}
main() {
	local b c
	case $1 in
	1)
		store_format
		a=$(start_app a --mem 32)
		wait_ready a 120
		row kexec-load 1 'before any application was frozen'
		row pre-dump 1 'before any application was frozen'
		row record-save 3 'resumed in the running kernel'
		row reboot 3 'resumed in the running kernel'
		check "reboot: the store is writable and still nosuid,nodev,noexec" store_protected
		check "nvwa killed between the freeze and the reboot: its guard rolls back" killed_before_reboot
		check "killed: nothing left behind" nothing_left
		check "killed: the application is not stopped" not_stopped "$a"
		check "killed: it keeps counting" app_progresses a
		check "killed: the store is writable and still nosuid,nodev,noexec" store_protected
		check "memory untouched through it all" app_verify "$a" a
		b=$(start_app b --mem 32)
		c=$(start_app c --mem 32)
		wait_ready b 120
		wait_ready c 120
		printf '%s\n' "$a" "$b" "$c" > /disk/state/test/pids
		update_reboot "$a" "$b" "$c"
		;;
	2)
		a=$(pid_of 1) b=$(pid_of 2) c=$(pid_of 3)
		check "the first restore died (status 137)" [ "$(cat /tmp/dies.rc)" = 137 ]
		check "after CRIU brought $a back" app_alive "$a"
		check "the boot's restore failed" [ "$(cat /tmp/restore.rc)" != 0 ]
		check "it did not restore $a twice, and said so" grep -q "$a (nvwa-testapp) was being restored when an earlier restore stopped" /tmp/restore.log
		check "it restored $b" app_alive "$b"
		check "$c's restore was not tried: its PID is taken, by the sleep named" grep -q "Restore of $c (nvwa-testapp) not tried: PID $c is taken in this boot by sleep" /tmp/restore.log
		check "the record still says $a was being restored" [ "$(record_state "$a")" = restoring ]
		check "and that $c failed" [ "$(record_state "$c")" = failed ]
		check "$a memory verified" app_verify "$a" a
		app_came_back "$b" b "$b: "
		# $a exits; $c's PID is freed: a retry restores $c only.
		kill -9 "$a" "$(cat /tmp/squatter)"
		wait_for 10 not app_alive "$a"
		nvwa restore --retry > /tmp/retry.log 2>&1
		echo "$?" > /tmp/retry.rc
		cat /tmp/retry.log
		check "--retry restored $c" app_alive "$c"
		app_came_back "$c" c "$c: "
		check "--retry did not resurrect $a, which had exited" not app_alive "$a"
		check "--retry did not touch $b" not grep -q "restoring $b " /tmp/retry.log
		check "$b still counting, never restored twice" app_progresses b
		check "--retry still reports $a, so the images stay" sh -c \
			"[ \"\$(cat /tmp/retry.rc)\" != 0 ] && [ -d $STORE/gen-1/$a ]"
		check "the operator restores $a by hand, as the error says" sh -c \
			"nvwa restore-app -D $STORE/gen-1/$a/dump > /tmp/by-hand.log 2>&1"
		cat /tmp/by-hand.log
		check "$a runs again" app_alive "$a"
		check "$a memory verified" app_verify "$a" a
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
