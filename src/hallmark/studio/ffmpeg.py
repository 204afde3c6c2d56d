"""Running the ffmpeg and ffprobe CLIs: an argument list (never a shell), a timeout, and a
failure turned into a UserError with the tool's last line of stderr.

``run_tool`` runs a tool to the end and returns its stdout; ``run_streaming`` hands stdout to
a consumer as it comes (frames, ``-progress`` lines) and kills the tool when the consumer
raises or the timeout passes; ``decode_mono`` is the audio decode that speech work shares.
A missing tool is a HallmarkError (the install is at fault, not the input).
"""

from __future__ import annotations

import collections
import subprocess
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from hallmark.errors import HallmarkError, UserError

STDERR_TAIL = 20  # lines of stderr kept while streaming


def _not_installed(tool: str) -> HallmarkError:
    return HallmarkError(f"{tool} is not installed; the studio needs ffmpeg (apt install ffmpeg)")


def _timed_out(what: str, tool: str, timeout: float) -> UserError:
    return UserError(f"{what}: {tool} took longer than {timeout:.0f} s and was stopped")


def _failed(what: str, tool: str, stderr: Iterable[bytes]) -> UserError:
    lines = [line.decode("utf-8", "replace").strip() for line in stderr]
    last = next((line for line in reversed(lines) if line), "no message")
    return UserError(f"{what}: {tool}: {last}")


def run_tool(args: Sequence[str], *, what: str, timeout: float) -> bytes:
    """The stdout of ffmpeg or ffprobe (``args[0]``). ``what`` starts the message of the
    UserError raised when the tool fails or runs past ``timeout`` seconds."""
    try:
        done = subprocess.run(list(args), capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise _not_installed(args[0]) from exc
    except subprocess.TimeoutExpired:
        raise _timed_out(what, args[0], timeout) from None
    if done.returncode != 0:
        raise _failed(what, args[0], done.stderr.splitlines())
    return done.stdout


def run_streaming(
    args: Sequence[str], *, timeout: float, what: str, consume: Callable[[IO[bytes]], None]
) -> None:
    """Run ffmpeg or ffprobe, handing its stdout to ``consume`` as it comes. The tool is
    killed after ``timeout`` seconds, or when ``consume`` raises (which then propagates);
    errors are worded as ``run_tool``'s."""
    try:
        process = subprocess.Popen(
            list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError as exc:
        raise _not_installed(args[0]) from exc
    assert process.stdout is not None and process.stderr is not None
    # stderr is drained while stdout is read: a full stderr pipe would stall the tool.
    tail: collections.deque[bytes] = collections.deque(maxlen=STDERR_TAIL)
    drain = threading.Thread(target=tail.extend, args=(process.stderr,), daemon=True)
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    drain.start()
    timer.start()
    try:
        consume(process.stdout)
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        drain.join(timeout=5)
        process.stderr.close()
    if expired.is_set():
        raise _timed_out(what, args[0], timeout)
    if process.returncode != 0:
        raise _failed(what, args[0], tail)


def decode_mono(path: Path, rate: int, *, timeout: float) -> npt.NDArray[np.float32]:
    """The first audio stream of ``path``, mono float32 at ``rate`` Hz; empty when the file
    has no audio stream. A file ffmpeg cannot read is a UserError naming it."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-i", str(path), "-map", "0:a:0?", "-vn", "-ac", "1", "-ar", str(rate),
            "-f", "f32le", "-"]  # fmt: skip
    try:
        raw = run_tool(args, what=f"cannot read {path.name}", timeout=timeout)
    except UserError as exc:
        if "does not contain any stream" in exc.message:  # the optional map found no audio
            return np.zeros(0, np.float32)
        raise
    return np.frombuffer(raw, "<f4").astype(np.float32)
