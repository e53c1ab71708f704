#!/usr/bin/env python3
"""ONVIF test peer for vigie-checks: ipycam's real ONVIF device service on 127.0.0.1.

ipycam (PyPI, pinned in requirements-onvif.txt) is a virtual IP camera whose HTTP handler
implements the ONVIF Device service and verifies WS-Security UsernameToken digests. Its full
camera also starts video encoders and go2rtc, which a check of the device service does not
need, so this script serves only ipycam's own HTTP/ONVIF handler (IPCameraHTTPHandler with its
ONVIFService) and nothing of ours in between.

Prints "ready <port>" on stdout once listening (--port 0 lets the kernel choose).
"""

import argparse
import http.server
import sys
import types

try:
    from ipycam.config import CameraConfig
    from ipycam.http import IPCameraHTTPHandler
    from ipycam.onvif import ONVIFService
except ImportError as error:
    print(
        f"ipycam is missing ({error}): pip install -r crates/checks/tests/requirements-onvif.txt",
        file=sys.stderr,
    )
    sys.exit(3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--manufacturer", default="Vigie Test")
    parser.add_argument("--model", default="Camera-Virtuelle")
    parser.add_argument("--serial", default="SN-0001")
    parser.add_argument("--firmware", default="1.0.0")
    args = parser.parse_args()

    config = CameraConfig(
        name="vigie-checks",
        manufacturer=args.manufacturer,
        model=args.model,
        serial_number=args.serial,
        firmware_version=args.firmware,
        local_ip="127.0.0.1",
    )
    if args.username:
        config.set_credentials(args.username, args.password)
    camera = types.SimpleNamespace(config=config, onvif=ONVIFService(config))

    class Handler(IPCameraHTTPHandler):
        pass

    Handler.camera = camera
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    config.onvif_port = server.server_address[1]
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
