#!/usr/bin/env python3
"""ringfanctl top at a terminal, as a user at an interactive bash drives it.

usage: top_tty.py SCENARIO RINGFANCTL SOCKET [STDERR]

bash runs in a pseudo-terminal of its own, with the prompt "PROMPT> ";
keys are typed into it, and each step waits for what shows it done: the
prompt, a request the fake master of test_ctl_replies.sh counts in
SOCKET.served, or a status the shell prints.  The scenarios:

    fg      top stopped with ^Z and resumed with fg: q alone quits it
    bg      top stopped with ^Z and sent on with bg ends in the
            background; prints its exit status
    tostop  the same with the terminal's tostop set: top stops on its
            next screen, fg brings it back to its end; prints its exit
            status (top's stderr goes to STDERR)

A step that does not come within 10 s ends the run with status 1 and the
last of the terminal's output.
"""
import os
import pty
import re
import select
import signal
import sys
import time


class Shell:
    def __init__(self):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["PS1"] = "PROMPT> "
            os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
        self.out = b""
        self.until("the prompt", self.prompted)

    def prompted(self):
        return b"PROMPT> " in self.out

    def until(self, what, test):
        end = time.time() + 10
        while not test():
            if time.time() > end:
                sys.exit("timed out waiting for " + what + ": " +
                         self.out.decode(errors="replace")[-300:])
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                self.out += os.read(self.fd, 65536)

    def type(self, keys):
        """keys typed, the output so far forgotten"""
        self.out = b""
        os.write(self.fd, keys.encode())

    def status(self, what):
        """the number of the line TOP_STATUS=N the shell prints"""
        self.until(what, lambda: re.search(rb"TOP_STATUS=\d+", self.out))
        return re.search(rb"TOP_STATUS=(\d+)", self.out).group(1).decode()

    def hang_up(self):
        """ends the shell and its jobs, a stopped one too"""
        os.kill(self.pid, signal.SIGHUP)
        os.close(self.fd)
        os.waitpid(self.pid, 0)


def served(sock):
    try:
        return os.path.getsize(sock + ".served")
    except OSError:
        return 0


def fg(sh, ctl, sock, err):
    sh.type("%s -s %s -d 0.05 top >/dev/null\n" % (ctl, sock))
    sh.until("the first screen", lambda: served(sock) > 0)
    sh.type("\x1a")
    sh.until("the prompt after ^Z", sh.prompted)
    n = served(sock)
    sh.type("fg\n")
    sh.until("a request after fg", lambda: served(sock) > n)
    sh.type("q")
    sh.until("top to quit on q", sh.prompted)
    sh.type("exit\n")
    os.waitpid(sh.pid, 0)


def bg(sh, ctl, sock, err):
    sh.type("%s -s %s -d 0.05 -n 20 top >/dev/null\n" % (ctl, sock))
    sh.until("the first screen", lambda: served(sock) > 0)
    sh.type("\x1a")
    sh.until("the prompt after ^Z", sh.prompted)
    sh.type("bg; wait %1; echo \"TOP_STATUS=$?\"\n")
    print(sh.status("top to end in the background"))
    sh.hang_up()


def tostop(sh, ctl, sock, err):
    # set -b: the shell says at once that a job stopped.
    sh.type("set -b; stty tostop\n")
    sh.until("the prompt after stty", sh.prompted)
    sh.type("%s -s %s -d 0.05 -n 20 top 2>%s\n" % (ctl, sock, err))
    sh.until("the first screen", lambda: served(sock) > 0)
    sh.type("\x1a")
    sh.until("the prompt after ^Z", sh.prompted)
    sh.type("bg\n")
    sh.until("top stopped writing in the background",
             lambda: b"Stopped" in sh.out)
    sh.type("fg; echo \"TOP_STATUS=$?\"\n")
    print(sh.status("top to end in the foreground"))
    sh.hang_up()


def main():
    scenarios = {"fg": fg, "bg": bg, "tostop": tostop}
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in scenarios:
        sys.exit(__doc__.split("\n\n")[1])
    err = sys.argv[4] if len(sys.argv) == 5 else os.devnull
    scenarios[sys.argv[1]](Shell(), sys.argv[2], sys.argv[3], err)


if __name__ == "__main__":
    main()
