# Benchmark: CRIU checkpoint and restore of a process holding nvwa.mem= MiB
# in a pinmem area (nvwa's plugin: by reference) against the same process
# with that memory anonymous, dumped by plain CRIU to a disk-backed images
# directory (the pinned process has 1 MiB of anonymous memory besides).
# Times are nvwa's own (checkpoint: the dump, process frozen;
# restore: until it runs), bytes are the images written.  No pre-dump in
# either case, so both freeze for the whole dump.
MEM=$(cmdline_value nvwa.mem)

measure() {	# measure NAME DIR APP-ARGS...: checkpoint, restore, verify
	local name=$1 dir=$2 pid
	shift 2
	pid=$(start_app "$name" --mem 1 "$@")
	wait_ready "$name" 600
	nvwa checkpoint --pin-memory --no-pre-dump --json "$pid" -D "$dir" > "/tmp/$name-ckpt.json" 2> "/tmp/$name-ckpt.log" ||
		fatal "$name: checkpoint failed: $(cat "/tmp/$name-ckpt.log")"
	sync
	metric "${name}_checkpoint_ms" "$(jq -r '.freeze_ms // empty' "/tmp/$name-ckpt.json")"
	metric "${name}_image_bytes" "$(img_bytes "$dir")"
	sync
	echo 3 > /proc/sys/vm/drop_caches
	nvwa restore-app --json -D "$dir" > "/tmp/$name-rest.json" 2> "/tmp/$name-rest.log" ||
		fatal "$name: restore failed: $(cat "/tmp/$name-rest.log")"
	metric "${name}_restore_ms" "$(jq -r '.running_ms // empty' "/tmp/$name-rest.json")"
	check "$name: restored and verified" app_verify "$pid" "$name"
	kill -9 "$pid"
	wait_for 30 not app_alive "$pid"
}

main() {
	must format nvwa pinmem format
	ckpt_mount format
	measure pinned /ckpt/pinned --pinmem "bench:$MEM"
	nvwa pinmem rm bench
	mkdir -p /disk/bench
	measure plain /disk/bench/plain --mem "$MEM"
	finish
}
