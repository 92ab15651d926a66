# Helpers for the guest's scenarios (sourced by /init).
#
# The host reads ttyS1 only: every line there is ours.  `check` records an
# assertion, `finish` sends the verdict and powers the VM off.
RESULTS=/dev/ttyS1
FAILED=0

report() { echo "NVWA-TEST $*" > "$RESULTS"; echo "test: $*"; }
check() {	# check "what" command...
	local what=$1
	shift
	if "$@"; then
		report "ok $what"
	else
		report "FAIL $what"
		FAILED=$((FAILED + 1))
	fi
}
fatal() { report "FAIL $*"; FAILED=$((FAILED + 1)); finish; }
finish() {
	sync
	if [ "$FAILED" -eq 0 ]; then report "RESULT pass"; else report "RESULT fail"; fi
	# Send the guest's logs along, for a failure's post-mortem.
	for f in /tmp/*.log /disk/data/*.log; do
		[ -f "$f" ] && sed "s|^|NVWA-LOG $f: |" "$f" | tail -n 200 > "$RESULTS"
	done
	sync
	poweroff -f
}
cmdline_value() {	# cmdline_value key -> value of key= on /proc/cmdline
	local w
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1="*) echo "${w#*=}"; return 0 ;; esac
	done
	return 0
}
wait_for() {		# wait_for SECONDS command... : poll, no fixed sleeps
	local deadline=$(( $(date +%s) + $1 ))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		usleep 20000
	done
}
# rises_above VALUE COMMAND...: COMMAND prints a number greater than VALUE.
rises_above() {
	local value=$1
	shift
	[ "$("$@")" -gt "$value" ]
}
# must LOG COMMAND...: COMMAND succeeds, or the scenario stops there with
# what it printed (kept in /tmp/LOG.log for the post-mortem).
must() {
	local log="/tmp/$1.log"
	shift
	"$@" > "$log" 2>&1 || fatal "$*: $(cat "$log")"
}
# report_file TAG FILE: FILE to the host, one "TAG line" per line.
report_file() {
	local line
	while IFS= read -r line; do report "$1 $line"; done < "$2"
}
# The store: legacy pmem from memmap=nn!ss, formatted on a cold boot only.
store_format() { must store-format nvwa store format --yes /dev/pmem0; }
# Start a test application well above the PIDs early boot uses, so the
# restore in the next kernel finds its PID free.
start_app() {		# start_app NAME ARGS... -> prints the PID
	local name=$1
	shift
	echo 20000 > /proc/sys/kernel/ns_last_pid
	setsid nvwa-testapp --log "/disk/data/$name.log" "$@" \
		< /dev/null > "/disk/data/$name.out" 2>&1 &
	echo $!
}
# wait_ready NAME SECONDS: the application NAME says it is ready, or the
# scenario stops with what it printed.
wait_ready() {
	wait_for "$2" grep -q '^ready' "/disk/data/$1.log" ||
		fatal "$1 did not start: $(cat "/disk/data/$1.out")"
}
# start_kept NAME APP-ARGS...: the application of a one-application
# scenario, started and ready; its PID is kept for the next boots.
start_kept() {
	local name=$1
	start_app "$@" > /disk/state/test/pid
	wait_ready "$name" 300
}
app_pid() { cat /disk/state/test/pid; }
anon_huge_kb() { awk '$1 == "AnonHugePages:" { print $2 }' "/proc/$1/smaps_rollup"; }	# PID
app_alive() { kill -0 "$1" 2>/dev/null; }
# app_ask SIGNAL WORD PID NAME: sends the application SIGNAL and waits for
# its next "WORD ..." line in its log, which must be "WORD ok ...".
app_ask() {
	local before
	before=$(grep -c "^$2" "/disk/data/$4.log")
	kill "-$1" "$3"
	wait_for 120 rises_above "$before" grep -c "^$2" "/disk/data/$4.log" || return 1
	grep "^$2" "/disk/data/$4.log" | tail -n 1 | grep -q "^$2 ok"
}
# Asks the application to verify all of its memory; waits for the answer.
app_verify() { app_ask USR1 verify "$1" "$2"; }	# PID NAME
# app_verify for a process tree (nvwa-testapp --children N with
# --child-mem or --shared-mem): the parent passes the request on, and it
# and each of its N children log a verify line of their own.  All N + 1
# must say ok, one of them from each child.
app_verify_tree() {	# PID NAME N
	local log="/disk/data/$2.log" before
	before=$(grep -c '^verify' "$log")
	kill -USR1 "$1"
	wait_for 120 rises_above $(($3 + before)) grep -c '^verify' "$log" || return 1
	grep '^verify' "$log" | tail -n "+$((before + 1))" | awk -v n="$3" '
		$2 != "ok" { bad = 1 }
		$3 ~ /^child=/ { kids[$3] = 1; next }
		{ parent++ }
		END { for (k in kids) got++; exit !(!bad && parent == 1 && got == n) }'
}
# Asks the application whether its memory behaves as its own (SIGUSR2:
# smaps, fork's copy on write, MADV_DONTNEED, mremap, munmap).
app_anoncheck() { app_ask USR2 anoncheck "$1" "$2"; }	# PID NAME
# app_verify, and the application kept BYTES of it in pinmem.
app_verify_pinned() {	# app_verify_pinned PID NAME BYTES
	app_verify "$1" "$2" && grep -q "verify ok .* pinned=$3" "/disk/data/$2.log"
}
# Counters in the log must rise by exactly one per line: proof that the
# restored process continued from its own memory, not from a restart.
app_counter_continuous() {	# NAME
	awk '/^count / { if (n && $2 != n + 1) { print "gap after " n ": " $2; exit 1 } n = $2 }
	     END { if (n < 2) { print "no counts"; exit 1 } }' "/disk/data/$1.log"
}
app_count() { awk '/^count / { n = $2 } END { print n + 0 }' "/disk/data/$1.log"; }
# The application PID NAME came back as it was: running, every byte of its
# memory, its counter going on from where it stopped.
app_came_back() {	# app_came_back PID NAME [CHECK-PREFIX]
	check "${3:-}PID $1 runs again" app_alive "$1"
	check "${3:-}memory verified" app_verify "$1" "$2"
	check "${3:-}counter continued" app_counter_continuous "$2"
}
# The two Debian builds (tests/vm/fetch-kernel): the VM boots the older,
# /boot/vmlinuz; the newer is NEW_KERNEL.  Both use the one initramfs.
OLD_KVER=$(cat /etc/nvwa-test/kver)
NEW_KVER=$(cat /etc/nvwa-test/new-kver)
NEW_KERNEL=/boot/vmlinuz-$NEW_KVER
# The update went from the older build to the newer: this kernel is the
# newer, and the report names two different releases.
across_builds() {	# across_builds [CHECK-PREFIX]
	check "${1:-}the update changed the kernel build ($OLD_KVER -> $NEW_KVER)" \
		[ "$OLD_KVER" != "$NEW_KVER" ]
	check "${1:-}this kernel is the newer build ($NEW_KVER)" [ "$(uname -r)" = "$NEW_KVER" ]
	check "${1:-}the report goes from $OLD_KVER to $NEW_KVER" report_is \
		--arg o "$OLD_KVER" --arg n "$NEW_KVER" \
		'.old_kernel.release == $o and .new_kernel.release == $n'
}
# Runs `nvwa update` for the PIDs given, into UPDATE_KERNEL (default: the
# running build again) with UPDATE_INITRD (default: the VM's, uncompressed);
# returns only if it failed.  UPDATE_APPEND: one --append of several
# parameters (UPDATE_ARGS is split at blanks).
update_apps() {		# update_apps PID... (output in /disk/data/update.log)
	local args="" p
	for p in "$@"; do args="$args --app $p"; done
	# shellcheck disable=SC2086
	nvwa update --kernel "${UPDATE_KERNEL:-/boot/vmlinuz}" --initrd "${UPDATE_INITRD:-/boot/initrd.img}" \
		$args ${UPDATE_ARGS:-} ${UPDATE_APPEND:+--append "$UPDATE_APPEND"} \
		> /disk/data/update.log 2>&1
	echo "$?" > /tmp/update.rc
	cat /disk/data/update.log
}
# The same, when the update must reboot into the new kernel: never returns.
update_reboot() {	# update_reboot PID...
	update_apps "$@"
	fatal "nvwa update returned ($(cat /tmp/update.rc)) instead of rebooting: $(tail -n 5 /disk/data/update.log | tr "\n" " ")"
}
# update_reboot to another kernel image: update_reboot_to IMAGE PID...
update_reboot_to() {
	local image=$1 args="" p
	shift
	for p in "$@"; do args="$args --app $p"; done
	# shellcheck disable=SC2086
	nvwa update --kernel "$image" --initrd /boot/initrd.img $args ${UPDATE_ARGS:-} \
		> /disk/data/update.log 2>&1
	fatal "nvwa update returned ($?) instead of rebooting: $(tail -n 5 /disk/data/update.log | tr "\n" " ")"
}

# nvwa's JSON is read by key path (jq), never by where a key sits on a line.
# report_is [JQ-ARGS...] FILTER: FILTER holds for the last update's report.
report_is() { nvwa report --json | jq -e "$@" > /dev/null; }
status_is() { nvwa status --json | jq -e "$@" > /dev/null; }
json_is() {		# json_is FILE [JQ-ARGS...] FILTER
	local file=$1
	shift
	jq -e "$@" "$file" > /dev/null
}
# report_value [JQ-ARGS...] FILTER: values from the last update's report.
report_value() { nvwa report --json | jq -r "$@"; }
has_phase() { report_is --arg n "$1" 'any(.phases[]; .name == $n)'; }
# Sends the report and the downtime to the host.
send_report() {
	nvwa report > /tmp/report.txt 2>&1
	report_file report /tmp/report.txt
	nvwa report --json > /tmp/report.json 2>&1
	metric downtime_ms "$(jq -r '.downtime_ms // empty' /tmp/report.json)"
}
# The last update's dashboard travels to the host line by line.
send_dashboard() {
	nvwa report --html /tmp/dashboard.html > /tmp/html.log 2>&1
	report_file html /tmp/dashboard.html
}
restore_ok() { [ "$(cat /tmp/restore.rc 2>/dev/null)" = 0 ]; }
# The application keeps counting: it is running, not just present.
app_progresses() {	# NAME
	wait_for 30 rises_above "$(app_count "$1")" app_count "$1"
}
# CRIU's --leave-stopped shows as "T (stopped)" while a dump holds a task.
not_stopped() { ! grep -q '^State:.*T (stopped)' "/proc/$1/status"; }
# The start of phase NAME in the last report, in ms from the freeze.
phase_start() {
	report_value --arg n "$1" 'first(.phases[] | select(.name == $n) | .start_ms) // empty'
}
phase_duration() {
	report_value --arg n "$1" 'first(.phases[] | select(.name == $n) | .duration_ms) // empty'
}
downtime_ms() { report_value '.downtime_ms // empty'; }
# From the reboot call to the new kernel's /init, in ms.
reboot_to_init_ms() {
	awk -v a="$(phase_start reboot)" -v b="$(phase_start init-start)" 'BEGIN { print b - a }'
}
# metric NAME VALUE: a figure for the host's benchmark table.
metric() { report "metric $1 $2"; }
# Boot 1 of a one-application scenario: format the store, start the
# application NAME, update it.  Returns only by failing.
start_and_update() {	# start_and_update NAME APP-ARGS...
	store_format
	start_kept "$@"
	update_reboot "$(app_pid)"
}

# pinmem: nvwa's preserved-RAM module and its test client.
pinmem_ko() { echo "/lib/modules/$(uname -r)/extra/$1.ko"; }
# pinmem_load [format=1]: as a host does, with nvwa pinmem load (which finds
# the memmap=SIZE$START reservation and passes it as region=);
# pinmem_load region=SIZE@START [PARAM=VALUE...]: insmod itself, for the
# module's own checks.  Output and the kernel's lines in /tmp/insmod.log.
pinmem_load() {
	local r
	case $* in
	'') nvwa pinmem load --module "$(pinmem_ko pinmem)" ;;
	format=1) nvwa pinmem load --format --module "$(pinmem_ko pinmem)" ;;
	*) insmod "$(pinmem_ko pinmem)" "$@" ;;
	esac > /tmp/insmod.log 2>&1
	r=$?
	dmesg | grep 'pinmem:' | tail -n 5 >> /tmp/insmod.log
	return $r
}
pinmem_stat() { awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/pinmem/stats; }
pinmem_counters() {	# everything in the stats but the generation
	grep -v '^generation' /sys/kernel/debug/pinmem/stats
}
pinmem_counters_are() { pinmem_counters | cmp -s - "$1"; }
client() {		# client ACTION [PARAM=VALUE...]: runs the test client module
	local action=$1 r
	shift
	insmod "$(pinmem_ko pinmem_client)" "action=$action" "$@" || return 1
	r=$(cat /sys/module/pinmem_client/parameters/result)
	rmmod pinmem_client
	echo "client $action: $r" >> /tmp/client.log
	case $r in ok*) return 0 ;; *) return 1 ;; esac
}
plain_kexec() {		# the same kernel and initramfs, the same command line
	must kexec kexec -l /boot/vmlinuz --initrd=/boot/initrd.img --reuse-cmdline
	sync
	kexec -e
	fatal "kexec -e returned"
}
kernel_clean() { ! dmesg | grep -q -E 'WARNING:|BUG:|Oops'; }
# klog_s TEXT: the timestamp (s) of the kernel's first log line holding TEXT
klog_s() { dmesg | grep -m1 -F "$1" | sed 's/^\[ *\([0-9.]*\)\].*/\1/'; }
# mark TEXT: a line in the kernel's log, on the clock of its timestamps
mark() { echo "nvwa-test: $*" > /dev/kmsg; }
meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }	# meminfo_kb FIELD

# CRIU with pinmem: checkpoints on the store's device, kept across kexec.
ckpt_mount() {		# ckpt_mount [format]
	mkdir -p /ckpt
	if [ "$1" = format ]; then
		must mke2fs /usr/sbin/mke2fs -q -t ext4 -F /dev/pmem0
	fi
	must ckpt-mount mount -t ext4 /dev/pmem0 /ckpt
}
pinmem_mount() { must mount nvwa pinmem mount; }
# ckpt_measure NAME DIR CKPT-FLAGS APP-ARGS...: starts an application,
# `nvwa checkpoint CKPT-FLAGS` (no pre-dump) and `nvwa restore-app`, then
# verifies it; metrics NAME_checkpoint_ms, NAME_image_bytes and
# NAME_restore_ms (the benchmarks).
ckpt_measure() {
	local name=$1 dir=$2 flags=$3 pid
	shift 3
	pid=$(start_app "$name" "$@")
	wait_ready "$name" 600
	# shellcheck disable=SC2086
	nvwa checkpoint $flags --no-pre-dump --json "$pid" -D "$dir" > "/tmp/$name-ckpt.json" 2> "/tmp/$name-ckpt.log" ||
		fatal "$name: checkpoint failed: $(cat "/tmp/$name-ckpt.log")"
	sync
	metric "${name}_checkpoint_ms" "$(jq -r '.freeze_ms // empty' "/tmp/$name-ckpt.json")"
	metric "${name}_image_bytes" "$(img_bytes "$dir")"
	echo 3 > /proc/sys/vm/drop_caches
	nvwa restore-app --json -D "$dir" > "/tmp/$name-rest.json" 2> "/tmp/$name-rest.log" ||
		fatal "$name: restore failed: $(cat "/tmp/$name-rest.log")"
	metric "${name}_restore_ms" "$(jq -r '.running_ms // empty' "/tmp/$name-rest.json")"
	check "$name: restored and verified" app_verify "$pid" "$name"
	kill -9 "$pid"
	wait_for 30 not app_alive "$pid"
}
img_bytes() { find "$1" -name '*.img' -type f -exec cat {} + | wc -c; }	# CRIU's images under DIR
img_sums() { find "$1" -name '*.img' -type f | sort | xargs md5sum; }
sums_are() { img_sums "$1" | cmp -s - "$2"; }	# DIR SUMS-FILE
not() { ! "$@"; }
heartbeat() { od -An -tu8 -N8 "/run/pinmem/$1" | tr -d ' '; }
# The process writing the area is the area: its heartbeat moves.
heartbeat_moves() {	# AREA
	local before
	before=$(heartbeat "$1")
	wait_for 30 heartbeat_is_not "$1" "$before"
}
heartbeat_is_not() { [ "$(heartbeat "$1")" != "$2" ]; }	# AREA VALUE
# PID maps AREA from /dev/pinmem at the area's own region offset: the same RAM.
maps_area() {		# PID AREA
	local m a
	m=$(awk '$6 == "/dev/pinmem" { print $3; exit }' "/proc/$1/maps")
	a=$(nvwa pinmem ls | awk -v n="$2" '$1 == n { print $4 }')
	[ -n "$m" ] && [ -n "$a" ] && [ $((0x$m)) = $((a)) ]
}
