#!/usr/bin/env python3
"""Reference for bench/media-pipeline.ts: seed 003's create_thumbnail, applied to every output.

For each output (thumbnail and each delivery variant) the source is opened again and shrunk
with Image.thumbnail(size, LANCZOS), exactly as seed 003 does for its thumbnail, then encoded
in memory (io.BytesIO, so no disk writes are timed — Atelier's side encodes to buffers too).

Usage: pillow_thumbnail.py OUTPUTS_JSON ROUNDS FILE...
  OUTPUTS_JSON  [[width, height, "WEBP"|"JPEG", quality], ...]
Prints one JSON object: images, seconds, images_per_second, cpu_seconds, peak_rss_bytes, idle_rss_bytes
(the interpreter with PIL imported, before any image), pillow.
"""
import io
import json
import resource
import sys
import time

import PIL
from PIL import Image


def derive(path, width, height, fmt, quality):
    # Seed 003: `with Image.open(path) as img: img.thumbnail(SIZE, LANCZOS); img.save(..., optimize=True, quality=...)`
    with Image.open(path) as img:
        img.thumbnail((width, height), Image.Resampling.LANCZOS)
        if fmt == "JPEG" and img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        out = io.BytesIO()
        img.save(out, fmt, optimize=True, quality=quality)
        return out.tell()


def process(path, outputs):
    return sum(derive(path, *output) for output in outputs)


def max_rss_bytes():
    # Linux: this address space's high-water mark. ru_maxrss would not do: it carries over the
    # RSS of the process that spawned us (the fork's copy of the bench, before exec).
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main():
    idle = max_rss_bytes()
    outputs = json.loads(sys.argv[1])
    rounds = int(sys.argv[2])
    files = sys.argv[3:]
    for path in files:  # warm-up, untimed, like the Node side
        process(path, outputs)
    started = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(rounds):
        for path in files:
            process(path, outputs)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    images = rounds * len(files)
    print(json.dumps({
        "images": images,
        "seconds": seconds,
        "images_per_second": images / seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_bytes": max_rss_bytes(),
        "idle_rss_bytes": idle,
        "pillow": PIL.__version__,
    }))


if __name__ == "__main__":
    main()
