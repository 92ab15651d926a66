# vm: -t 1500 -R
# debian-redis, but the kernel the update goes to crashes before its
# restore: it boots with init= a script that panics it (sysrq c), panic=-1
# resets the VM with its RAM kept (QEMU, as a warm reset), and the old
# kernel boots again from its own command line, which names no update.
# Its nvwa-restore.service (`nvwa restore --if-pending`, on every boot)
# finds the update in the store, never restored; as no generator wrote
# redis's restoring drop-in on this boot, it writes one for this boot
# only (/run/systemd/system) and reloads systemd before redis's start,
# which restores the same redis, every key, as the unit's main process.
# The restore kept redis's IDs, threads included, free of the boot's
# processes (this boot has no nvwa.lastpid=: the record has the one the
# update asked for), and the drop-in goes once it is done: a restart
# starts redis afresh.
CRASH=/usr/lib/nvwa-test/crash-init
# shellcheck source=debian-redis.sh
. /usr/lib/nvwa-test/debian-redis.sh
eval "$(declare -f update_args | sed '1s/update_args/redis_update_args/')"
update_args() { echo "$(redis_update_args) --append init=$CRASH"; }
eval "$(declare -f boot1 | sed '1s/boot1/redis_boot1/')"

boot1() {
	cat > "$CRASH" <<-'EOF'
	#!/bin/sh
	echo "nvwa-test: the new kernel crashes before its restore" > /dev/console
	echo c > /proc/sysrq-trigger
	EOF
	chmod 0755 "$CRASH"
	redis_boot1
}

# The PID of the nvwa restore-unit that redis's start ran.
restore_unit_pid() {
	sed -n "s/.* nvwa\[\([0-9]*\)\]: nvwa: Restoring $UNIT: .*/\1/p" /tmp/redis-journal.log | head -n 1
}

boot2() {
	local dropin=/run/systemd/system/$UNIT.d/zz-nvwa-restore.conf
	boot_time 2
	redis_logs
	report_file restore-unit /tmp/nvwa-restore.log
	check "this boot's command line names no update (the old kernel's own)" \
		[ -z "$(cmdline_value nvwa.handover)" ]
	check "nvwa-restore.service succeeded" \
		[ "$(systemctl show -p Result --value nvwa-restore.service)" = success ]
	check "it found the update never restored, and said so" \
		grep -q 'not started by nvwa update, yet /dev/pmem0 holds update 1, never restored' \
		/tmp/nvwa-restore.log
	check "it left redis to its unit" grep -q "left to $UNIT" /tmp/nvwa-restore.log
	check "whose start restored it (nvwa restore-unit)" grep -q "Restoring $UNIT" /tmp/redis-journal.log
	check "the drop-in written for this boot is retired once restored" [ ! -e "$dropin" ]
	# No nvwa.lastpid= on this boot: the restore takes the PIDs to keep
	# free from the record, so what the boot starts later (restore-unit's
	# own nvwa, first) comes after them.
	check "the boot's next PID was moved past redis's threads ($(saved last_tid)) before its start (restore-unit ran as $(restore_unit_pid))" \
		[ "$(restore_unit_pid)" -gt "$(saved last_tid)" ]
	redis_kept
	send_report
	redis_restart
}
