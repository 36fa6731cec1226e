"""A real SMTP server for kiswatch's e-mail channel tests: aiosmtpd on a free loopback port.

Prints `READY <port>` once it listens, then one JSON line per message received
(`{"mail_from", "rcpt_tos", "subject", "message_id", "body", "data"}`: the subject and body decoded
as a mail reader shows them, `data` the raw message), and runs until stdin closes or it is killed. Started by tests/python/smtp.sh inside a throwaway virtualenv.
"""

import email
import email.policy
import json
import sys

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        print(
            json.dumps(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "subject": str(msg["subject"]),
                    "message_id": str(msg["message-id"]),
                    "body": body.get_content() if body is not None else "",
                    "data": envelope.content.decode("utf-8", "replace"),
                }
            ),
            flush=True,
        )
        return "250 Message accepted for delivery"


def main():
    controller = Controller(Sink(), hostname="127.0.0.1", port=0)
    controller.start()
    port = controller.server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
