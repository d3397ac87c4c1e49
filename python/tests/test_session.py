"""The session and reassembly on their own (no sockets): resend across streams, dedupe, limits."""

from __future__ import annotations

import asyncio
import dataclasses
import os

from roommesh import RoomError
from roommesh.assembler import Assembler, Limits
from roommesh.session import Session
from roommesh.wire import Chunk, Head, Hello, Record


def hello_from(peer: Session, delivered: tuple[int, int] = (0, 0)) -> Hello:
    own = peer.hello()
    return Hello(max_json_bytes=own.max_json_bytes, max_attachment_bytes=own.max_attachment_bytes, epoch=own.epoch, peer_epoch=own.peer_epoch, delivered=delivered, base=own.base)


def test_unreceipted_messages_are_written_again_on_a_new_stream_and_what_the_peer_delivered_settles() -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = Session(Limits()), Session(Limits())
        sends = [loop.create_future() for _ in range(3)]
        for i, future in enumerate(sends):
            ours.send(f'{{"t":"m","m":{{"i":{i}}}}}'.encode(), b"", future)
        ours.activate(hello_from(theirs))
        first: list[Record] = []
        ours.fill(first, 65_536)
        assert [r.id for r in first if isinstance(r, Head)] == [1, 2, 3]
        # A new stream: the peer's hello says it delivered message 1 (of our epoch); 2 and 3 go again.
        again = dataclasses.replace(hello_from(theirs), peer_epoch=ours.epoch, delivered=(1, 0))
        ours.activate(again)
        assert sends[0].done() and not sends[1].done()
        second: list[Record] = []
        ours.fill(second, 65_536)
        assert [r.id for r in second if isinstance(r, Head)] == [2, 3]
        assert ours.receipts(0, (2, 3, 9)) == 1  # 9 was never sent: one violation
        assert all(f.done() and f.exception() is None for f in sends)

    asyncio.run(run())


def test_a_resend_of_a_delivered_message_is_not_delivered_twice() -> None:
    session = Session(Limits())
    assert [session.incoming(0, 1), session.incoming(0, 1), session.incoming(0, 2), session.incoming(1, 1)] == [True, False, True, True]


def test_big_messages_are_chunked_to_the_room_given_and_reassembled() -> None:
    async def run() -> None:
        ours = Session(Limits())
        data = bytes(range(256)) * 1000
        ours.send(b'{"t":"f","m":{}}', data, asyncio.get_running_loop().create_future())
        ours.activate(hello_from(Session(Limits())))
        assembler, delivered = Assembler(Limits()), []
        while ours.has_output:
            records: list[Record] = []
            ours.fill(records, 16_384)
            for record in records:
                events = assembler.head(record, lambda _: None) if isinstance(record, Head) else assembler.chunk(record, lambda _: None) if isinstance(record, Chunk) else []
                delivered += [e.message for e in events if e.message is not None]
        assert len(delivered) == 1 and delivered[0].attachment == data and delivered[0].header == b'{"t":"f","m":{}}'

    asyncio.run(run())


def test_the_assembler_refuses_what_exceeds_its_limits_before_allocating_and_drops_its_chunks() -> None:
    assembler = Assembler(Limits(max_json_bytes=100, max_attachment_bytes=1000))
    [refusal] = assembler.head(Head(lane=0, id=1, json_length=10, attachment_length=5000, data=b"x"), lambda _: None)
    assert refusal.reject is not None and refusal.reject[2] == "MESSAGE_TOO_LARGE"
    assert assembler.chunk(Chunk(lane=0, id=1, offset=1, data=b"y"), lambda _: None) == []
    [bad] = assembler.head(Head(lane=0, id=2, json_length=2, attachment_length=0, data=b"{}"), lambda _: "message body is not a JSON object")
    assert bad.reject is not None and bad.reject[2] == "INVALID_MESSAGE"
    [late] = assembler.head(Head(lane=0, id=2, json_length=2, attachment_length=0, data=b"{}"), lambda _: None)
    assert late.violation is not None and "out of sequence" in late.violation


def test_a_failed_pair_fails_its_sends_and_every_later_one() -> None:
    async def run() -> None:
        session = Session(Limits())
        future = asyncio.get_running_loop().create_future()
        session.send(b'{"t":"m","m":{}}', b"", future)
        session.fail(RoomError("PARTICIPANT_LEFT", "gone"))
        assert isinstance(future.exception(), RoomError)
        try:
            session.send(b'{"t":"m","m":{}}', b"", None)
            raise AssertionError("a send after the pair failed was taken")
        except RoomError as error:
            assert error.code == "PARTICIPANT_LEFT"

    asyncio.run(run())


def test_a_hello_never_claims_past_a_refusal_the_peer_may_not_have_heard_of() -> None:
    ours, theirs = Session(Limits()), Session(Limits())
    ours.activate(hello_from(theirs))
    assert ours.incoming(0, 1)
    ours.refused(0, 2)
    assert ours.incoming(0, 3)
    assert ours.hello().delivered == (1, 0)  # the peer resends 2 and hears the refusal again
    ours.activate(dataclasses.replace(hello_from(theirs), base=(2, 0)))
    assert ours.hello().delivered == (3, 0)  # its base says it settled 2


def test_a_message_cut_off_by_a_path_change_is_resumed_from_where_the_receiver_holds_it() -> None:
    async def run() -> None:
        sender, receiver = Session(Limits()), Session(Limits())
        data = os.urandom(200_000)
        sent = asyncio.get_running_loop().create_future()
        sender.send(b'{"t":"f","m":{}}', data, sent)
        sender.activate(receiver.open_stream()[0])
        receiver.activate(sender.hello())
        first = Assembler(Limits())
        records: list[Record] = []
        sender.fill(records, 65_536)  # the first 64 KiB arrive, then the stream dies
        for record in records:
            assert isinstance(record, Head) and first.head(record, lambda _: None) == []
        receiver.park(first.park())
        HELD = 65_536 - 5 - 13  # a head record's header and fixed fields, then as much of the message as fits
        hello, partial = receiver.open_stream()
        assert hello.partial == ((0, 1, HELD),)
        second = Assembler(Limits())
        second.adopt(partial)
        sender.activate(dataclasses.replace(hello, peer_epoch=sender.epoch))
        rest: list[Record] = []
        while sender.has_output:
            sender.fill(rest, 65_536)
        assert isinstance(rest[0], Chunk) and rest[0].offset == HELD
        events = [e for r in rest if isinstance(r, Chunk) for e in second.chunk(r, lambda _: None)]
        [whole] = [e.message for e in events if e.message is not None]
        assert whole.attachment == data

    asyncio.run(run())
