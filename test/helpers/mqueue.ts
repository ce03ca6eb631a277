// Python that opens a POSIX message queue (as fd 3: checked), sends it three messages and removes
// its name with mq_unlink, as a process hiding data in a queue would; the tests append what else the
// holder does, then its PID line and its sleep.
export const MQUEUE_UNLINKED = `
import ctypes, os, sys, time
rt = ctypes.CDLL('librt.so.1', use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [('flags', ctypes.c_long), ('maxmsg', ctypes.c_long), ('msgsize', ctypes.c_long), ('curmsgs', ctypes.c_long), ('pad', ctypes.c_long * 4)]
rt.mq_open.restype = ctypes.c_int
rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.POINTER(Attr)]
name = ('/unlinked-test-%d' % os.getpid()).encode()
q = rt.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(Attr(0, 10, 64, 0)))
assert q == 3, (q, ctypes.get_errno())
for message in (b'one', b'two', b'three' * 6 + b'!'):
    assert rt.mq_send(q, message, len(message), 0) == 0
assert rt.mq_unlink(name) == 0
`;
