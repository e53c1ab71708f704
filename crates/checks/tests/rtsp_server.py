#!/usr/bin/python3
"""RTSP test peer for vigie-checks: a real GStreamer RTSP server on 127.0.0.1.

Mounts, without authentication:
  /cam         JPEG video test pattern (videotestsrc ! jpegenc ! rtpjpegpay)
  /audio-only  A-law audio tone only, no video track
With --auth basic|digest, a single mount /secure (video) that requires --user/--password.

Prints "ready <port>" on stdout once listening (--port 0 lets the kernel choose).
Run with Debian's /usr/bin/python3: it needs python3-gi, gir1.2-gst-rtsp-server-1.0,
gstreamer1.0-plugins-base and gstreamer1.0-plugins-good.
"""

import argparse
import sys

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
except (ImportError, ValueError) as error:
    print(
        f"missing GStreamer RTSP server bindings ({error}): install the Debian packages "
        "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good",
        file=sys.stderr,
    )
    sys.exit(3)

VIDEO = (
    "( videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=5/1 "
    "! jpegenc ! rtpjpegpay name=pay0 pt=26 )"
)
AUDIO = "( audiotestsrc is-live=true ! audioconvert ! audioresample ! alawenc ! rtppcmapay name=pay0 )"
ROLE = "user"


def factory(launch, permissions=None):
    media_factory = GstRtspServer.RTSPMediaFactory()
    media_factory.set_launch(launch)
    media_factory.set_shared(True)
    if permissions is not None:
        media_factory.set_permissions(permissions)
    return media_factory


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth", choices=["none", "basic", "digest"], default="none")
    parser.add_argument("--user", default="")
    parser.add_argument("--password", default="")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()

    if args.auth == "none":
        mounts.add_factory("/cam", factory(VIDEO))
        mounts.add_factory("/audio-only", factory(AUDIO))
    else:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", ROLE)
        if args.auth == "basic":
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        else:
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(args.user, args.password, token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(ROLE, "media.factory.access", True)
        permissions.add_permission_for_role(ROLE, "media.factory.construct", True)
        mounts.add_factory("/secure", factory(VIDEO, permissions))

    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        sys.exit(2)
    print(f"ready {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
