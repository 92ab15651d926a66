# vm: -c 2
# Deferred CPU bring-up on a two-CPU guest: the new kernel boots with one
# CPU (maxcpus=1), the application is restored, then the other CPU comes
# up.  Also a quiet boot.  Neither setting sticks to the next update.
main() {
	local pid
	case $1 in
	1)
		check "two CPUs online at first" [ "$(cat /sys/devices/system/cpu/online)" = 0-1 ]
		UPDATE_ARGS="--defer-cpus --quiet-boot"
		start_and_update app --mem 64 --threads 2
		;;
	2)
		pid=$(app_pid)
		check "booted with maxcpus=1 and quiet" sh -c "grep -q 'maxcpus=1 nvwa.cpus=defer' /proc/cmdline && grep -qw quiet /proc/cmdline"
		check "the kernel brought up one CPU" sh -c "dmesg | grep -q 'Brought up 1 node, 1 CPU'"
		check "nvwa restore succeeded" restore_ok
		check "every CPU is online after the restore" [ "$(cat /sys/devices/system/cpu/online)" = 0-1 ]
		check "the report has cpu-online" has_phase cpu-online
		app_came_back "$pid" app
		check "maxcpus= does not carry over" sh -c \
			"nvwa update --dry-run --kernel /boot/vmlinuz --initrd /boot/initrd.img --app $pid > /tmp/dry.log 2>&1 && ! grep 'command line:' /tmp/dry.log | grep -q maxcpus"
		send_report
		;;
	*)
		fatal "unexpected boot $1"
		;;
	esac
}
