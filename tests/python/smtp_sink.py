"""A real SMTP server for kiswatch's e-mail channel tests: aiosmtpd on a free loopback port.

Prints `READY <port>` once it listens, then one JSON line per message received
(`{"mail_from", "rcpt_tos", "subject", "message_id", "body", "data"}`: the subject and body decoded
as a mail reader shows them, `data` the raw message), and runs until stdin closes or it is killed.
Started by tests/python/smtp.sh inside a throwaway virtualenv.

The server is made with asyncio directly rather than aiosmtpd's Controller: the Controller checks
that it is up by connecting to the port it was given, which fails for port 0.
"""

import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP


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


async def serve():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(), hostname="kiswatch-test-smtp"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    # Until stdin closes (the test ended) or the process is killed.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(serve())
