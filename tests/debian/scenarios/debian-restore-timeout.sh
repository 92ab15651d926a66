# vm: -t 1500
# The restore unit cannot block the boot for ever.  Boot 1: a drop-in
# shortens nvwa-restore.service's start timeout and gives it a criu that
# never returns from restoring the second of three test applications
# (each in a scope of its own, as a login session's processes are, so
# none is a service); `nvwa update --app` keeps the three.  Boot 2: the
# unit restores the first, hangs on the second, and times out: the boot
# goes on to multi-user.target, the unit failed with result "timeout",
# the hung criu was killed, the first application runs on with its
# memory; the report, `nvwa status` and the record say which one was
# being restored, that the third was never tried, that their images are
# kept, and call "restored" only what runs.  `nvwa restore --retry`, with
# Debian's criu, then restores the other two, memory verified, and
# leaves the first alone.
TIMEOUT_S=60
APPS="a b c"
HANG=b
DROPIN=/etc/systemd/system/nvwa-restore.service.d/test.conf
CRIU_HANG=/usr/lib/nvwa-test/criu-hang
HUNG_PID=/run/nvwa-test-criu-hang.pid

pid_of() { cat "$STATE/pid-$1"; }
restore_prop() { systemctl show -p "$1" --value nvwa-restore.service; }

# A test application in a transient scope: in no service, so nvwa keeps
# it as a plain process (a service's process is restored by its unit).
start_scoped() {	# start_scoped NAME -> PID
	echo 20000 > /proc/sys/kernel/ns_last_pid
	setsid systemd-run --scope --quiet --unit="nvwa-test-app-$1" \
		nvwa-testapp --log "/disk/data/$1.log" --mem 16 \
		< /dev/null > "/disk/data/$1.out" 2>&1 &
	echo $!
}

# criu, except that restoring the process whose PID is in $STATE/hang
# never returns: the wrapper (its PID in $HUNG_PID) becomes a sleep.
write_criu_hang() {
	cat > "$CRIU_HANG" <<-EOF
	#!/bin/sh
	dir= prev=
	for a in "\$@"; do
		[ "\$prev" = -D ] && dir=\$a
		prev=\$a
	done
	if [ "\$1" = restore ] && [ -e "\$dir/core-\$(cat $STATE/hang).img" ]; then
		echo \$\$ > $HUNG_PID
		echo "criu-hang: restoring \$(cat $STATE/hang) from \$dir, for ever" >&2
		exec sleep infinity
	fi
	exec /usr/sbin/criu "\$@"
	EOF
	chmod 0755 "$CRIU_HANG"
}

# The record's or the report's JSON (FILE), app NAME's field KEY.
app_field() {		# app_field FILE NAME KEY
	jq -r --argjson p "$(pid_of "$2")" ".apps[] | select(.pid == \$p) | .$3" "$1"
}
# App NAME is in STATE in FILE, its error matching PATTERN; what it says
# goes to the results.
app_is() {		# app_is FILE NAME STATE PATTERN
	local state error
	state=$(app_field "$1" "$2" state)
	error=$(app_field "$1" "$2" error)
	report "$2 ($(pid_of "$2")): $state: $error"
	[ "$state" = "$3" ] && grep -q -- "$4" <<< "$error"
}
gone() { [ -n "$1" ] && ! kill -0 "$1" 2> /dev/null; }
# Every application FILE (a report's or record's JSON) calls restored runs.
restored_ones_run() {	# restored_ones_run FILE
	local p
	jq -e '.apps' "$1" > /dev/null || { echo "no applications in $1"; return 1; }
	for p in $(jq -r '.apps[] | select(.state == "restored") | .pid' "$1"); do
		kill -0 "$p" 2> /dev/null || { echo "$p is called restored and is not running"; return 1; }
	done
}
# The same for `nvwa status`'s lines "  app PID (COMM): STATE...".
status_restored_run() {
	local p
	nvwa status > /tmp/status.txt 2>&1
	for p in $(awk '$1 == "app" && $4 ~ /^restored/ { print $2 }' /tmp/status.txt); do
		kill -0 "$p" 2> /dev/null || { echo "$p is called restored and is not running"; return 1; }
	done
}
no_criu_left() { ! pgrep -x criu > /dev/null && ! pgrep -f "$CRIU_HANG" > /dev/null; }
images_kept() {		# images_kept NAME: its images are in the store
	local store images
	store=$(nvwa status --json | jq -r '.store.mountpoint')
	images=$(app_field /tmp/record.json "$1" images)
	[ -n "$images" ] && [ -d "$store/$images" ]
}
# seconds between two of nvwa-restore.service's monotonic timestamps
unit_seconds() {
	awk -v a="$(restore_prop "$1")" -v b="$(restore_prop "$2")" \
		'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

boot1() {
	local kver n rc
	modprobe nd_e820 && modprobe nd_pmem
	wait_for 10 test -b /dev/pmem0 || fatal "no /dev/pmem0"
	store_format
	mkdir -p /disk/data "$(dirname "$DROPIN")"
	write_criu_hang
	cat > "$DROPIN" <<-EOF
	[Service]
	TimeoutStartSec=${TIMEOUT_S}s
	Environment=NVWA_CRIU=$CRIU_HANG
	EOF
	must daemon-reload systemctl daemon-reload
	check "the drop-in shortens the restore unit's start timeout to ${TIMEOUT_S}s" \
		[ "$(restore_prop TimeoutStartUSec)" = 1min ]
	for n in $APPS; do
		start_scoped "$n" > "$STATE/pid-$n"
		wait_ready "$n" 120
		check "$n ($(pid_of "$n")) is in no service" \
			grep -qx "0::/system.slice/nvwa-test-app-$n.scope" "/proc/$(pid_of "$n")/cgroup"
	done
	pid_of "$HANG" > "$STATE/hang"
	report "apps: a $(pid_of a), b $(pid_of b) (its restore will hang), c $(pid_of c)"
	sync
	kver=$(uname -r)
	# shellcheck disable=SC2046
	nvwa update --kernel "/boot/vmlinuz-$kver" --initrd "/boot/initrd.img-$kver" \
		$(for n in $APPS; do echo "--app $(pid_of "$n")"; done) 2>&1 |
		tee /run/nvwa-test-update.log | sed -u 's/^/NVWA-TEST update /' > "$RESULTS"
	rc=${PIPESTATUS[0]}
	cp /run/nvwa-test-update.log /tmp/update.log
	fatal "nvwa update returned ($rc) instead of rebooting"
}

boot2() {
	local a b c hung
	a=$(pid_of a) b=$(pid_of b) c=$(pid_of c)
	journalctl -b -u nvwa-restore.service > /tmp/nvwa-restore.log 2>&1
	report_file restore-unit /tmp/nvwa-restore.log
	check "the boot went on: multi-user.target is active" \
		[ "$(systemctl show -p ActiveState --value multi-user.target)" = active ]
	check "nvwa-restore.service failed" [ "$(restore_prop ActiveState)" = failed ]
	check "with result timeout ($(restore_prop Result))" [ "$(restore_prop Result)" = timeout ]
	metric restore_unit_s "$(unit_seconds InactiveExitTimestampMonotonic InactiveEnterTimestampMonotonic)"
	check "the unit restored $a, then hung on $b" sh -c \
		"grep -q 'restoring $a ' /tmp/nvwa-restore.log && grep -q 'criu-hang: restoring $b ' /tmp/nvwa-restore.log"
	hung=$(cat "$HUNG_PID" 2> /dev/null)
	check "the hung criu ran (PID ${hung:-none})" [ -n "$hung" ]
	check "and was killed" gone "$hung"
	check "no criu is left running" no_criu_left
	check "systemd names no criu left in the unit once stopped" \
		not grep -qE '\((criu|sleep)\) remains running' /tmp/nvwa-restore.log
	report "$a's cgroup after the restore: $(cat "/proc/$a/cgroup")"

	app_came_back "$a" a "$a, restored before the hang: "
	check "$b, whose restore hung, does not run" not app_alive "$b"
	check "$c, after it, does not run" not app_alive "$c"

	nvwa handover show --json > /tmp/record.json 2>&1
	report_file record /tmp/record.json
	check "the record is still pending" status_is '.pending.state == "valid"'
	check "the record: $a restored" [ "$(app_field /tmp/record.json a state)" = restored ]
	check "the record: $b failed, its restore stopped" \
		app_is /tmp/record.json b failed 'stopped'
	check "the record: $c was never tried, and says so" \
		app_is /tmp/record.json c dumped 'not tried'
	check "$b's images are kept" images_kept b
	check "$c's images are kept" images_kept c
	check "the record calls restored only what runs" restored_ones_run /tmp/record.json
	nvwa report --json > /tmp/report.json 2>&1
	check "the update's report is kept, outcome failed" json_is /tmp/report.json '.outcome == "failed"'
	check "the report calls restored only what runs" restored_ones_run /tmp/report.json
	check "nvwa status --json: the last update failed" status_is '.last_update.outcome == "failed"'
	check "nvwa status --json names $b's state and error" status_is --argjson p "$b" \
		'any(.last_update.apps[]; .pid == $p and .state == "failed" and (.error | test("stopped")))'
	check "nvwa status calls restored only what runs" status_restored_run
	report_file status /tmp/status.txt
	send_report

	# Debian's criu (no NVWA_CRIU outside the unit): the retry.
	nvwa restore --retry > /tmp/retry.log 2>&1
	echo "$?" > /tmp/retry.rc
	report_file retry /tmp/retry.log
	check "nvwa restore --retry succeeded" [ "$(cat /tmp/retry.rc)" = 0 ]
	check "it did not restore $a again" not grep -q "restoring $a " /tmp/retry.log
	app_came_back "$b" b "$b: "
	app_came_back "$c" c "$c: "
	check "$a runs on, the same process, counting" app_progresses a
	check "$a memory verified again" app_verify "$a" a
	check "the report now says restored" report_is '.outcome == "restored"'
	nvwa report --json > /tmp/report.json 2>&1
	check "every application restored" \
		json_is /tmp/report.json '[.apps[].state] == ["restored", "restored", "restored"]'
	check "and running" restored_ones_run /tmp/report.json
	check "nothing is pending" status_is '.pending.state == "none"'
}

main() {
	case $1 in
	1) boot1 ;;
	2) boot2 ;;
	*) fatal "unexpected boot $1" ;;
	esac
}
