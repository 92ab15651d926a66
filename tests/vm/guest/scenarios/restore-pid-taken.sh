# The new boot gave the application's PID to another process before the
# restore ran.  The restore does not run CRIU into "Can't fork for PID:
# File exists" buried among its feature probes' complaints: it names the
# process holding the PID, and the images wait.  Once that process is
# gone, `nvwa restore --retry` brings the application back.  Then the
# other half: nvwa update asks the next boot to move its PID counter past
# the applications' PIDs (nvwa.lastpid=), and the restore does so before
# anything else it starts.
pre_restore() {
	[ "$1" = 2 ] || return 0
	# Take the application's PID (20001) before the hook runs.
	echo 20000 > /proc/sys/kernel/ns_last_pid
	setsid sleep 1000 < /dev/null > /dev/null 2>&1 &
	echo $! > /tmp/holder.pid
	# A young boot's counter: the restore must move it past 20001.
	echo 500 > /proc/sys/kernel/ns_last_pid
}

main() {
	local pid holder
	if [ "$1" = 1 ]; then
		start_and_update app --mem 16
	fi
	pid=$(app_pid)
	holder=$(cat /tmp/holder.pid)
	check "the restore moved the PID counter past $pid before anything else" \
		sh -c "[ \$(cat /proc/sys/kernel/ns_last_pid) -ge $pid ]"
	check "the holder took the application's PID $pid" [ "$holder" = "$pid" ]
	check "the update asked the boot to keep PIDs up to $pid free" \
		grep -q "nvwa.lastpid=$pid" /proc/cmdline
	check "the restore failed" sh -c '[ "$(cat /tmp/restore.rc)" != 0 ]'
	check "it names the process holding PID $pid" \
		grep -q "PID $pid is taken in this boot by sleep" /tmp/restore.log
	check "CRIU was not run into it" sh -c '! grep -q "Can.t fork for" /tmp/restore.log'
	check "the holder is untouched" kill -0 "$holder"
	kill "$holder"
	wait_for 10 sh -c "! kill -0 $holder 2>/dev/null"
	check "nvwa restore --retry restores it" sh -c 'nvwa restore --retry > /tmp/retry.log 2>&1'
	report_file retry /tmp/retry.log
	check "PID $pid is running again" app_alive "$pid"
	check "16 MiB verified byte for byte" app_verify "$pid" app
}
