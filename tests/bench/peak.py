"""Peak memory of one command as the kernel counts it for the command's own image.

`ru_maxrss` from wait4 is no use from Python: the kernel carries the resident size a process had
before exec (here a copy of the Python interpreter, ~10 MiB) into it. This runs the command under
ptrace instead, stops it as it exits and reads `VmHWM` of the image it exec'd.
"""
import ctypes, os, signal

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_TRACEME, _CONT, _SETOPTIONS, _O_TRACEEXIT, _EVENT_EXIT = 0, 7, 0x4200, 0x40, 6


def peak_kib(argv, env=None, stdin_null=False):
    """Run argv to its end; returns (exit code, peak resident KiB of its exec'd image)."""
    pid = os.fork()
    if pid == 0:
        try:
            _libc.ptrace(_TRACEME, 0, None, None)
            fd = os.open(os.devnull, os.O_RDWR)
            if stdin_null:
                os.dup2(fd, 0)
            os.dup2(fd, 1), os.dup2(fd, 2)
            os.execve(argv[0], argv, env or os.environ)
        finally:
            os._exit(127)
    os.waitpid(pid, 0)  # stopped by its exec
    _libc.ptrace(_SETOPTIONS, pid, None, _O_TRACEEXIT)
    _libc.ptrace(_CONT, pid, None, None)
    peak = 0
    while True:
        _, status = os.waitpid(pid, 0)
        if not os.WIFSTOPPED(status):
            return os.waitstatus_to_exitcode(status), peak
        sig = os.WSTOPSIG(status)
        if status >> 16 == _EVENT_EXIT:
            with open(f"/proc/{pid}/status") as f:
                peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
            sig = 0
        elif sig == signal.SIGTRAP:
            sig = 0
        _libc.ptrace(_CONT, pid, None, sig)
