# The nvwa kernel keeps the restored PIDs free from its first fork
# (pid-reserve).  Boot 1, Debian's kernel: the application starts on the
# lowest free PID, one the next boot's kernel threads and early processes
# are after, and is updated to the nvwa kernel, which nvwa passes its PIDs
# (nvwa.reserve_pids=).  Boot 2, the nvwa kernel: before the restore,
# ordinary forks counted from just below the PID pass over it; the
# application comes back on it; nvwa status says pid-reserve yes.  Then
# an update back to Debian's kernel, which gets nvwa.lastpid= only: the
# same forks take the PID there, and the restore names who holds it.
# vm: -t 900
# needs: nvwa-kernel

# Starts the application, two threads besides its main one, on the
# lowest PID no process or thread holds; the threads take the next free.
start_low() {
	local n=2
	store_format
	while [ -e "/proc/$n" ]; do n=$((n + 1)); done
	echo $((n - 1)) > /proc/sys/kernel/ns_last_pid
	setsid nvwa-testapp --log /disk/data/app.log --mem 16 --threads 2 \
		< /dev/null > /disk/data/app.out 2>&1 &
	echo $! > /disk/state/test/pid
	wait_ready app 300
}

# Forks as any process does, counting from two below the application's
# PID, until one lands above it: the holders' PIDs in /tmp/holders.
# (Writing PID - 1 would ask for the PID itself, which a reservation
# grants.)
fork_over() {
	local pid=$1 i
	echo $((pid - 2)) > /proc/sys/kernel/ns_last_pid
	: > /tmp/holders
	for i in 1 2 3 4; do
		setsid sleep 1000 < /dev/null > /dev/null 2>&1 &
		echo $! >> /tmp/holders
		[ "$!" -lt "$pid" ] || break
	done
}

# in_list LIST PID: PID is in an nvwa.reserve_pids= list (A,B-C,...).
in_list() {
	echo "$1" | tr ',' '\n' |
		awk -F- -v p="$2" '{ hi = NF > 1 ? $2 : $1 } p >= $1 && p <= hi { f = 1 } END { exit !f }'
}

all_reserved() {	# all_reserved LIST PID: PID's threads are all in LIST
	local t
	[ -n "$1" ] || return 1
	for t in $(ls "/proc/$2/task"); do
		in_list "$1" "$t" || return 1
	done
}

pre_restore() {
	[ "$1" = 1 ] || fork_over "$(app_pid)"
}

main() {
	local pid list
	pid=$(app_pid)
	case $1 in
	1)
		start_low
		pid=$(app_pid)
		report "application on PID $pid, threads $(ls /proc/"$pid"/task | tr '\n' ' ')"
		nvwa update --kernel /boot/vmlinuz-nvwa --initrd /boot/initrd.img --app "$pid" \
			> /disk/data/update.log 2>&1
		fatal "nvwa update returned ($?) instead of rebooting: $(tail -n 5 /disk/data/update.log)"
		;;
	2)
		report_file update /disk/data/update.log
		check "this is the nvwa kernel" sh -c 'uname -r | grep -q -- "-nvwa$"'
		check "nvwa status: pid-reserve yes" sh -c 'nvwa status | grep -q "pid-reserve *yes"'
		list=$(cmdline_value nvwa.reserve_pids)
		report "nvwa.reserve_pids=$list, holders $(tr '\n' ' ' < /tmp/holders)"
		check "the update reserved PID $pid and its threads" all_reserved "$list" "$pid"
		check "the kernel held them from its first fork" sh -c 'dmesg | grep -q "nvwa.reserve_pids: [0-9]* PIDs reserved"'
		check "ordinary forks passed over PID $pid" sh -c \
			"! grep -qx $pid /tmp/holders && [ \$(tail -n 1 /tmp/holders) -gt $pid ]"
		check "nvwa restore succeeded" restore_ok
		check "PID $pid is running again" app_alive "$pid"
		check "16 MiB verified byte for byte" app_verify "$pid" app
		check "the record says the PIDs were reserved" report_is '.apps[0].pids == "reserved"'
		report_file restore /tmp/restore.log
		# Back to Debian's kernel, which reserves nothing.
		update_reboot "$pid"
		;;
	3)
		check "back on Debian's kernel" sh -c '! uname -r | grep -q -- "-nvwa$"'
		check "no reservation was asked of it" sh -c '! grep -q nvwa.reserve_pids /proc/cmdline'
		check "the record says nvwa.lastpid only" report_is '.apps[0].pids == "lastpid"'
		report "holders $(tr '\n' ' ' < /tmp/holders)"
		check "without the reservation, PID $pid was taken before the restore" \
			grep -q "PID $pid is taken in this boot by" /tmp/restore.log
		check "the restore failed, naming the holder" sh -c '[ "$(cat /tmp/restore.rc)" != 0 ]'
		report_file restore /tmp/restore.log
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
