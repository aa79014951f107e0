#!/usr/bin/env python3
"""Reference for bench/mid-frame-thumbnail.ts: seed 000's WAN worker video thumbnail.

Exactly the seed's approach: cv2.VideoCapture, CAP_PROP_FRAME_COUNT, seek with
cap.set(CAP_PROP_POS_FRAMES, total // 2), read one frame, resize to 256 px on the longest
edge, cv2.imencode('.webp', quality 85) in memory.

Usage: opencv_mid_frame.py VIDEO ROUNDS
Prints one JSON object with the median milliseconds over ROUNDS (after one untimed warm-up):
  seek_read_resize_encode_ms  from cap.set(...) to the encoded WEBP (the seed's timed part)
  open_to_encode_ms           the same plus opening the file and reading the frame count
plus frame_count, mid_frame, thumbnail_bytes and the OpenCV version.
"""
import json
import statistics
import sys
import time

import cv2

MAX_EDGE = 256
QUALITY = 85


def thumbnail(path):
    started = time.perf_counter()
    cap = cv2.VideoCapture(path)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    mid = total // 2
    seek = time.perf_counter()
    cap.set(cv2.CAP_PROP_POS_FRAMES, mid)
    ok, frame = cap.read()
    if not ok:
        raise SystemExit(f"could not read frame {mid} of {path}")
    height, width = frame.shape[:2]
    scale = MAX_EDGE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".webp", frame, [cv2.IMWRITE_WEBP_QUALITY, QUALITY])
    if not ok:
        raise SystemExit("WEBP encoding failed")
    done = time.perf_counter()
    cap.release()
    return (done - seek) * 1000, (done - started) * 1000, total, mid, len(encoded)


def main():
    path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    thumbnail(path)  # warm-up, untimed, like the Node side
    runs = [thumbnail(path) for _ in range(rounds)]
    print(json.dumps({
        "seek_read_resize_encode_ms": statistics.median(r[0] for r in runs),
        "open_to_encode_ms": statistics.median(r[1] for r in runs),
        "frame_count": runs[0][2],
        "mid_frame": runs[0][3],
        "thumbnail_bytes": runs[0][4],
        "opencv": cv2.__version__,
    }))


if __name__ == "__main__":
    main()
