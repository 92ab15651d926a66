"""QEMU's human monitor on a Unix socket (tests/vm/run-vm puts it there:
NVWA_QEMU_MONITOR, or a scenario's .live script): what the host-side
scripts that talk to it share (tests/vm/qemu-jit, tests/vm/qemu-pc,
tests/vm/guest/scenarios/*.live)."""
import os
import re
import socket
import time


def reply(s):
    """What QEMU printed up to its next prompt (all of it if it exits)."""
    buf = b''
    while not buf.endswith(b'(qemu) '):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf.decode(errors='replace')


def connect(path, timeout):
    """Waits for QEMU to create the socket, connects and reads its banner;
    a reply slower than TIMEOUT seconds raises socket.timeout."""
    while not os.path.exists(path):
        time.sleep(0.1)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(timeout)
    reply(s)
    return s


def command(s, cmd):
    """Runs CMD; returns the lines QEMU printed for it, without its echo of
    CMD, the prompt and terminal escapes (empty when all went well)."""
    s.sendall(f'{cmd}\n'.encode())
    out = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', reply(s))
    return [ln.strip() for ln in out.replace('(qemu) ', '').splitlines()
            if ln.strip() and not ln.strip().endswith(cmd)]
