# Benchmark: CRIU checkpoint and restore of a process holding nvwa.mem= MiB
# in a pinmem area (nvwa's plugin: by reference) against the same process
# with that memory anonymous, dumped by plain CRIU to a disk-backed images
# directory (the pinned process has 1 MiB of anonymous memory besides).
# Times are nvwa's own (checkpoint: the dump, process frozen;
# restore: until it runs), bytes are the images written.  No pre-dump in
# either case, so both freeze for the whole dump.
MEM=$(cmdline_value nvwa.mem)

main() {
	must format nvwa pinmem format
	ckpt_mount format
	ckpt_measure pinned /ckpt/pinned --pin-memory --mem 1 --pinmem "bench:$MEM"
	nvwa pinmem rm bench
	mkdir -p /disk/bench
	ckpt_measure plain /disk/bench/plain --pin-memory --mem "$MEM"
	finish
}
