#!/usr/bin/python3
"""A real SMTP server for the tests of vigie-notify: aiosmtpd on 127.0.0.1.

Run with Debian's /usr/bin/python3, which has the python3-aiosmtpd package (a pyenv python3
on PATH does not). Each message received is appended to --output as one JSON line:
{"mail_from", "rcpt_tos", "data" (the raw message), "tls", "authenticated", and what Python's
own MIME parser reads in it: "subject", "to", "message_id", "key" (X-Vigie-Key),
"content_type", "parts" [{"content_type", "content", "filename"}]}; a file's content is in base64.

Options:
  --port N                 port to listen on (127.0.0.1)
  --output FILE            where received messages are written
  --cert FILE --key FILE   certificate and key: STARTTLS is offered (or implicit TLS with
                           --implicit-tls)
  --implicit-tls           TLS from the first byte instead of STARTTLS
  --auth USER:PASSWORD     AUTH PLAIN/LOGIN required, with this only account, and only over TLS
  --reject ADDRESS         answers 550 to RCPT TO this address
  --defer ADDRESS          answers 451 to RCPT TO this address

Prints "ready <port>" once it accepts connections, then serves until killed.
"""

import argparse
import base64
import email
import email.policy
import json
import signal
import ssl
import sys
import threading

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:
    sys.exit("aiosmtpd is missing: install the Debian package python3-aiosmtpd")


class Recorder:
    """Writes each message as one JSON line; answers RCPT as the options say."""

    def __init__(self, output, reject, defer):
        self.output = output
        self.reject = reject
        self.defer = defer
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and address.lower() == self.reject.lower():
            return "550 5.1.1 No such user here"
        if self.defer and address.lower() == self.defer.lower():
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content, policy=email.policy.default
        )
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "tls": bool(session.ssl),
            "authenticated": bool(session.authenticated),
            "subject": str(message.get("Subject", "")),
            "to": str(message.get("To", "")),
            "message_id": str(message.get("Message-ID", "")),
            "key": str(message.get("X-Vigie-Key", "")),
            "content_type": message.get_content_type(),
            "parts": [
                {
                    "content_type": part.get_content_type(),
                    "content": content_of(part),
                    "filename": part.get_filename(),
                }
                for part in message.walk()
                if not part.is_multipart()
            ],
        }
        with self.lock, open(self.output, "a", encoding="utf-8") as output:
            output.write(json.dumps(record) + "\n")
        return "250 2.0.0 Ok: queued as VIGIE1"


def content_of(part):
    """A text part's text; a file's bytes in base64 (JSON carries no bytes)."""
    content = part.get_content()
    if isinstance(content, bytes):
        return base64.b64encode(content).decode("ascii")
    return content


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--reject")
    parser.add_argument("--defer")
    options = parser.parse_args()

    parameters = {}
    ssl_context = None
    if options.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options.cert, options.key)
        if options.implicit_tls:
            ssl_context = context
        else:
            parameters["tls_context"] = context
    if options.auth:
        user, password = options.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            valid = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()
            )
            # handled=False: aiosmtpd then answers 535 itself (the default, True, answers nothing).
            return AuthResult(success=valid, handled=False)

        parameters["authenticator"] = authenticator
        parameters["auth_required"] = True
        # aiosmtpd only counts STARTTLS as TLS here; implicit TLS is encrypted from the start.
        parameters["auth_require_tls"] = not options.implicit_tls

    handler = Recorder(options.output, options.reject, options.defer)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=options.port,
        ssl_context=ssl_context,
        **parameters,
    )
    controller.start()
    print(f"ready {options.port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
