# vm: -m 3G -r 640M@1536M
# CRIU with memory in pinmem, through nvwa's plugin.  A process keeps
# 512 MiB in a pinmem area mapped from /dev/pinmem (descriptor held open)
# and 64 MiB of ordinary anonymous memory.  Boot 1: criu without the
# plugin refuses it; `nvwa checkpoint --pin-memory` writes images of the
# anonymous memory only; `nvwa restore-app` brings it back in the same
# kernel, mapping the same RAM; openEuler's spelling (`nvwa criu dump
# --pin-memory`) checkpoints it again, and the machine kexecs.  Boot 2:
# the second restore, in the new kernel, lazy (CRIU's page server on
# first touch for the anonymous memory); no area leaked; then an area
# removed before a restore stops it with a clear error, the images kept.
PIN_MIB=512
PIN_BYTES=$((PIN_MIB << 20))
ANON_BYTES=$((64 << 20))

# Image bytes: the anonymous memory, and less than 1 MiB besides.
anon_only() { [ "$1" -ge "$ANON_BYTES" ] && [ $(($1 - ANON_BYTES)) -lt $((1 << 20)) ]; }
verified() { app_verify_pinned "$(app_pid)" pin "$PIN_BYTES"; }
same_memory() {
	check "$1: the area is mapped at its own region offset (the same RAM)" maps_area "$(app_pid)" app-pin
	check "$1: the process's writes land in the area (heartbeat moves)" heartbeat_moves app-pin
	check "$1: every byte verified, pinned and anonymous" verified
	check "$1: the /dev/pinmem descriptor is back" sh -c "ls -l /proc/$(app_pid)/fd | grep -q /dev/pinmem"
}

boot1() {
	local pid
	check "pinmem formatted" nvwa pinmem format
	pinmem_mount
	ckpt_mount format
	start_kept pin --mem 64 --pinmem "app-pin:$PIN_MIB"
	pid=$(app_pid)
	pinmem_counters > /disk/state/test/counters
	check "the running process writes its area" heartbeat_moves app-pin

	mkdir -p /tmp/noplugin /tmp/plain
	check "criu without the plugin refuses to dump it" \
		sh -c "! criu dump -t $pid -D /tmp/plain -L /tmp/noplugin --leave-running -o dump.log > /dev/null 2>&1"
	check "  saying why (a mapping it cannot handle)" grep -q "Can't handle non-regular mapping" /tmp/plain/dump.log
	check "  and the process runs on, intact" verified
	check "nvwa checkpoint without --pin-memory refuses, naming the option" \
		sh -c "! nvwa checkpoint $pid -D /ckpt/refused > /tmp/refused.log 2>&1 && grep -q -- --pin-memory /tmp/refused.log"

	check "nvwa checkpoint --pin-memory" \
		sh -c "nvwa checkpoint --pin-memory --no-pre-dump --json $pid -D /ckpt/c1 > /tmp/c1.json 2> /tmp/c1.log"
	check "  counts 512 MiB pinned by reference" json_is /tmp/c1.json ".pinned_bytes == $PIN_BYTES"
	check "  the process is gone (a dump ends it, as criu's does)" not app_alive "$pid"
	local bytes
	bytes=$(img_bytes /ckpt/c1)
	metric criu_pin_image_bytes "$bytes"
	check "  images hold the 64 MiB of anonymous memory and < 1 MiB for the area ($bytes bytes)" \
		anon_only "$bytes"
	check "  the plugin recorded the area by name" grep -q '^area app-pin ' /ckpt/c1/nvwa-pinmem.img

	check "nvwa restore-app in the same kernel" \
		sh -c "nvwa restore-app --json -D /ckpt/c1 > /tmp/r1.json 2> /tmp/r1.log"
	check "  with the same PID" json_is /tmp/r1.json ".pid == $pid"
	same_memory "restore 1"

	mkdir -p /ckpt/c2
	check "openEuler's spelling: nvwa criu dump --pin-memory" \
		nvwa criu dump --pin-memory -t "$pid" -D /ckpt/c2 -o dump.log
	check "  writes no page of the area" anon_only "$(img_bytes /ckpt/c2)"
	umount /ckpt
	plain_kexec
}

boot2() {
	local pid
	pid=$(app_pid)
	pinmem_mount
	ckpt_mount
	check "the checkpoint survived the kexec in preserved RAM" [ -f /ckpt/c2/nvwa-pinmem.img ]
	check "nvwa restore-app --lazy after the kexec (anonymous memory on first touch)" \
		sh -c "nvwa restore-app --lazy --json -D /ckpt/c2 > /tmp/r2.json 2> /tmp/r2.log"
	check "  lazily, not falling back to a copy" json_is /tmp/r2.json '.lazy == true'
	check "  with the same PID" app_alive "$pid"
	same_memory "restore 2"
	check "two checkpoint-restore cycles leaked no pinmem space" \
		pinmem_counters_are /disk/state/test/counters

	# An area gone before the restore: a clear error, nothing half-made.
	check "a third checkpoint" nvwa checkpoint --pin-memory "$pid" -D /ckpt/c3
	check "the area is removed behind its back" nvwa pinmem rm app-pin
	img_sums /ckpt/c3 > /tmp/c3.sums
	check "nvwa restore-app refuses" sh -c "! nvwa restore-app -D /ckpt/c3 > /tmp/r3.log 2>&1"
	check "  naming the missing area" sh -c "grep -q 'app-pin' /tmp/r3.log && grep -q 'no longer exists' /tmp/r3.log"
	check "  leaving no process behind" not app_alive "$pid"
	check "  nor any mapping of pinmem" [ "$(pinmem_stat areas_mapped)" = 0 ]
	check "  and the images untouched" sums_are /ckpt/c3 /tmp/c3.sums
	check "no kernel warning" kernel_clean
	finish
}

main() {
	case $1 in
	1) boot1 ;;
	*) boot2 ;;
	esac
}
