# vm: -t 1200
# A real Debian 12 machine (systemd, Debian's kernel and initrd, nvwa from
# its packages) keeps redis-server, run by Debian's own unit, across
# `nvwa update --unit`.  Boot 1: the stock unit's sandboxing is refused
# before anything is frozen, with the settings named; the drop-in nvwa asks
# for goes in, redis is filled with keys that exist only in its memory
# (persistence off), and the update runs.  Boot 2 (the kexec'd kernel): the
# same redis process (run id, PID, uptime) serves every key, systemd still
# sees it as the unit's main process, the unit was not started again, the
# filesystems and the journal came through clean, and a restart works.
# debian-redis-pinmem sets PINMEM=1: the handover record lives in pinmem.
UNIT=redis-server.service
KEYS=20000

update_args() {
	local kver
	kver=$(uname -r)
	echo "--unit $UNIT --kernel /boot/vmlinuz-$kver --initrd /boot/initrd.img-$kver"
}
info_field() { redis-cli INFO server | tr -d '\r' | sed -n "s/^$1://p"; }
unit_prop() { systemctl show -p "$1" --value "$UNIT"; }
pong() { [ "$(redis-cli PING)" = PONG ]; }
# PID's stdout (fd 1) is a unix stream whose other end journald holds:
# "u_str ESTAB 0 0 * INODE * PEER users:(...)", the peer's line has
# journald's name.
stdout_to_journal() {
	local peer
	peer=$(ss -xpnH | grep "pid=$1,fd=1)" | awk '{ print $8; exit }')
	[ -n "$peer" ] && ss -xpnH | awk -v p="$peer" '$6 == p' | grep -q systemd-journal
}
saved() { cat "$STATE/$1"; }
# redis logs this banner each time a server starts.
redis_starts() { grep -c 'Redis is starting' /var/log/redis/redis-server.log; }
# The keys the test knows by value, one line each.
known_keys() {
	redis-cli GET nvwa:greeting
	redis-cli HGETALL nvwa:hash
	redis-cli LRANGE nvwa:list 0 -1
	redis-cli GET key:12345
}
# From the kernel's start to multi-user.target, and where the time went.
boot_time() {
	wait_for 120 sh -c 'systemd-analyze time > /dev/null 2>&1'
	systemd-analyze time > /tmp/analyze.log 2>&1
	systemd-analyze blame 2>&1 | head -n 15 >> /tmp/analyze.log
	report_file analyze /tmp/analyze.log
	metric "boot${1}_multi_user_s" "$(systemctl show -p ActiveEnterTimestampMonotonic \
		--value multi-user.target | awk '{ printf "%.1f", $1 / 1e6 }')"
}
# The drop-in nvwa's refusal prints (a [Service] block of Key=Value lines);
# the test's own list when it prints none, which the results say.
write_dropin() {
	local d=/etc/systemd/system/$UNIT.d
	mkdir -p "$d"
	sed -n '/^[[:space:]]*\[Service\][[:space:]]*$/,/^[[:space:]]*$/p' "$1" |
		sed 's/^[[:space:]]*//; /^$/d' > "$d/nvwa.conf"
	if grep -q '=' "$d/nvwa.conf"; then
		report "drop-in: as nvwa printed it"
	else
		report "drop-in: nvwa printed none, the test's own list"
		cat > "$d/nvwa.conf" <<-'DROPIN'
		[Service]
		PrivateUsers=no
		ProtectHostname=no
		PrivateTmp=no
		PrivateDevices=no
		ProtectSystem=no
		ProtectHome=no
		ProtectKernelTunables=no
		ProtectKernelModules=no
		ProtectKernelLogs=no
		ProtectControlGroups=no
		ProtectProc=default
		ReadWritePaths=
		ReadWriteDirectories=
		NoExecPaths=
		ExecPaths=
		ProtectClock=no
		RestrictNamespaces=no
		DROPIN
	fi
	report_file drop-in "$d/nvwa.conf"
}
fill() {
	redis-cli CONFIG SET save "" > /dev/null &&
	redis-cli CONFIG SET appendonly no > /dev/null &&
	rm -f /var/lib/redis/dump.rdb /var/lib/redis/appendonly.aof &&
	awk -v n="$KEYS" 'BEGIN { for (i = 1; i <= n; i++) {
		k = "key:" i; v = "value:" i
		printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' |
		redis-cli --pipe > /tmp/fill.log 2>&1 &&
	redis-cli SET nvwa:greeting "kept in memory only" > /dev/null &&
	redis-cli HSET nvwa:hash a 1 b 2 > /dev/null &&
	redis-cli RPUSH nvwa:list x y z > /dev/null &&
	redis-cli SET nvwa:ttl soon EX 3600 > /dev/null
}
ttl_left() { local t; t=$(redis-cli TTL nvwa:ttl); [ "$t" -gt 0 ] && [ "$t" -le 3600 ]; }
no_dump_on_disk() { [ ! -e /var/lib/redis/dump.rdb ] && [ ! -e /var/lib/redis/appendonly.aof ]; }

boot1() {
	local pid rc
	boot_time 1
	modprobe nd_e820 && modprobe nd_pmem
	wait_for 10 test -b /dev/pmem0 || fatal "no /dev/pmem0"
	store_format
	if [ "${PINMEM:-0}" = 1 ]; then
		# nvwa-restore.service loaded the module at boot (the command
		# line reserves its region): then load does nothing, and a
		# region fresh from power-on still needs its format.
		must pinmem-load nvwa pinmem load --format
		status_is '.pinmem.state == "valid"' ||
			must pinmem-format nvwa pinmem format
		check "pinmem holds a valid region" status_is '.pinmem.state == "valid"'
	fi

	check "$UNIT is active" [ "$(unit_prop ActiveState)" = active ]
	check "it runs under Debian's unit ($(unit_prop FragmentPath))" \
		dpkg -S "$(unit_prop FragmentPath)"
	check "with no drop-in ($(unit_prop DropInPaths))" [ -z "$(unit_prop DropInPaths)" ]
	pid=$(unit_prop MainPID)
	check "redis answers" pong

	# shellcheck disable=SC2046
	nvwa update $(update_args) --dry-run > /tmp/dry-run.log 2>&1
	rc=$?
	report_file dry-run /tmp/dry-run.log
	check "the dry run refuses the sandboxed unit before any freeze (exit 1, got $rc)" [ "$rc" = 1 ]
	check "the refusal names the unit's sandboxing (PrivateUsers)" grep -q PrivateUsers /tmp/dry-run.log
	check "redis kept running: the same main PID $pid" [ "$(unit_prop MainPID)" = "$pid" ]
	check "it was never stopped" not_stopped "$pid"
	check "it still answers" pong

	write_dropin /tmp/dry-run.log
	must daemon-reload systemctl daemon-reload
	must restart systemctl restart "$UNIT"
	wait_for 30 pong || fatal "redis does not answer after the restart"
	check "the drop-in is in force" [ -n "$(unit_prop DropInPaths)" ]

	must fill fill
	check "$KEYS keys and 4 more, in memory only" \
		[ "$(redis-cli DBSIZE)" = $((KEYS + 4)) ]
	check "no copy of them on disk" no_dump_on_disk
	pid=$(unit_prop MainPID)
	check "INFO's process_id is the unit's main PID" [ "$(info_field process_id)" = "$pid" ]
	echo "$pid" > "$STATE/pid"
	# CRIU gives each thread its ID back: the new boot keeps them free.
	ls "/proc/$pid/task" | sort -n | tail -n 1 > "$STATE/last_tid"
	info_field run_id > "$STATE/run_id"
	info_field uptime_in_seconds > "$STATE/uptime"
	redis-cli DBSIZE > "$STATE/dbsize"
	known_keys > "$STATE/known"
	redis_starts > "$STATE/starts"
	report "redis pid $pid run_id $(saved run_id) uptime $(saved uptime)s"
	sync

	# nvwa freezes the filesystems at the jump, but not one its output
	# is written to: the output goes to the host as it comes, and to
	# /run for a failure's post-mortem.
	# shellcheck disable=SC2046
	nvwa update $(update_args) 2>&1 | tee /run/nvwa-test-update.log |
		sed -u 's/^/NVWA-TEST update /' > "$RESULTS"
	rc=${PIPESTATUS[0]}
	cp /run/nvwa-test-update.log /tmp/update.log
	fatal "nvwa update returned ($rc) instead of rebooting"
}

# The journals of this boot's restore and of the unit, for the checks.
redis_logs() {
	journalctl -b -u nvwa-restore.service > /tmp/nvwa-restore.log 2>&1
	journalctl -b -u "$UNIT" > /tmp/redis-journal.log 2>&1
}
# The same redis came back, as systemd's service, with every key.
redis_kept() {
	local pid
	pid=$(saved pid)
	check "nvwa status --json says the update was restored" status_is \
		'.last_update.outcome == "restored"'
	check "redis PID $pid runs again" kill -0 "$pid"
	check "it answers" pong
	check "the same server: run_id $(saved run_id)" [ "$(info_field run_id)" = "$(saved run_id)" ]
	check "the same process_id" [ "$(info_field process_id)" = "$pid" ]
	check "its uptime went on (was $(saved uptime)s)" \
		[ "$(info_field uptime_in_seconds)" -ge "$(saved uptime)" ]
	check "every key is there: DBSIZE $(saved dbsize)" [ "$(redis-cli DBSIZE)" = "$(saved dbsize)" ]
	check "the known keys hold their values" sh -c "$(declare -f known_keys); known_keys | cmp -s - $STATE/known"
	check "the key with a TTL still has one" ttl_left
	check "systemd: $UNIT active" [ "$(unit_prop ActiveState)" = active ]
	check "systemd: running" [ "$(unit_prop SubState)" = running ]
	check "systemd: its MainPID is $pid" [ "$(unit_prop MainPID)" = "$pid" ]
	check "systemd: no restart counted" [ "$(unit_prop NRestarts)" = 0 ]
	check "the process is in the unit's cgroup" \
		grep -qx "0::/system.slice/$UNIT" "/proc/$pid/cgroup"
	check "its stdout goes to the journal again (journald holds the other end)" \
		stdout_to_journal "$pid"
	check "redis was not started again (its log has no new start)" \
		[ "$(redis_starts)" = "$(saved starts)" ]
	check "the unit's journal has no failure in this boot" \
		not grep -qiE 'failed|main process exited|scheduled restart' /tmp/redis-journal.log
}
# After the restore, the unit starts afresh like any other.
redis_restart() {
	local pid newpid
	pid=$(saved pid)
	must restart systemctl restart "$UNIT"
	wait_for 30 pong
	newpid=$(unit_prop MainPID)
	check "systemctl restart gives a new main PID ($newpid)" [ "$newpid" != "$pid" -a "$newpid" != 0 ]
	check "the new server answers" pong
	check "it is active" [ "$(unit_prop ActiveState)" = active ]
}

boot2() {
	boot_time 2
	redis_logs
	check "the update asked this boot to keep redis's thread IDs free (up to $(saved last_tid))" \
		[ "$(cmdline_value nvwa.lastpid)" -ge "$(saved last_tid)" ]
	redis_kept
	# The kernel's and journald's own lines only: the scenario's output
	# reaches both logs too.
	check "no ext4 journal replay or orphan cleanup at mount" \
		not sh -c "dmesg | grep 'EXT4-fs' | grep -qiE 'recovery complete|orphan'"
	check "journald found no uncleanly closed or corrupt file" \
		not sh -c "journalctl -b -t systemd-journald | grep -qiE 'uncleanly|corrupt'"
	send_report
	redis_restart
}

main() {
	case $1 in
	1) boot1 ;;
	2) boot2 ;;
	*) fatal "unexpected boot $1" ;;
	esac
}
