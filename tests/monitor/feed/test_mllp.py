"""The MLLP de-framer: frames out of bytes, whatever the read boundaries or the garbage."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.feed.mllp import (
    END_BLOCK,
    START_BLOCK,
    TLS_ALERT,
    Deframer,
    Discarded,
    Frame,
    Oversized,
    TlsHello,
    encode_frame,
)

MSG = b"MSH|^~\\&|A|B|||20260302091000||ORU^R01|1|P|2.6\rOBX|1|NM|150456^X^MDC||98\r"
#: The start of a real TLS 1.2 ClientHello record (content type 22, version 3.1, length 0x00c4)
#: with bytes inside that include a start block, as random bytes in a hello can.
CLIENT_HELLO = b"\x16\x03\x01\x00\xc4\x01\x00\x00\xc0\x03\x03" + b"\x0b" * 4 + b"\x42" * 186


def feed_in_chunks(data: bytes, sizes: list[int], deframer: Deframer | None = None) -> list:
    deframer = deframer or Deframer()
    events, position, index = [], 0, 0
    while position < len(data):
        size = sizes[index % len(sizes)] if sizes else len(data)
        events += deframer.feed(data[position:position + max(size, 1)])
        position += max(size, 1)
        index += 1
    return events


def frames(events: list) -> list[bytes]:
    return [e.payload for e in events if isinstance(e, Frame)]


def test_one_frame_in_one_read():
    assert frames(Deframer().feed(encode_frame(MSG))) == [MSG]


def test_a_frame_split_into_single_bytes_comes_out_whole():
    assert frames(feed_in_chunks(encode_frame(MSG), [1])) == [MSG]


def test_an_end_block_split_between_reads_is_found():
    data = encode_frame(MSG)
    deframer = Deframer()
    assert deframer.feed(data[:-1]) == []
    assert frames(deframer.feed(data[-1:])) == [MSG]


def test_several_frames_in_one_read_come_out_in_order():
    data = b"".join(encode_frame(MSG + str(n).encode()) for n in range(5))
    assert frames(Deframer().feed(data)) == [MSG + str(n).encode() for n in range(5)]


def test_garbage_between_frames_is_reported_and_skipped():
    data = encode_frame(MSG) + b"\r\nHELLO" + encode_frame(MSG)
    events = Deframer().feed(data)
    assert frames(events) == [MSG, MSG]
    assert Discarded(5, "bytes outside an MLLP frame") in events


def test_newlines_after_the_end_block_are_not_reported_as_garbage():
    events = Deframer().feed(encode_frame(MSG) + b"\r\n\n" + encode_frame(MSG))
    assert events == [Frame(MSG), Frame(MSG)]


def test_a_new_start_block_before_the_end_drops_the_cut_frame_and_keeps_the_next():
    events = Deframer().feed(START_BLOCK + b"MSH|cut" + encode_frame(MSG))
    assert frames(events) == [MSG]
    assert any(isinstance(e, Discarded) and "cut short" in e.reason for e in events)


def test_a_frame_over_the_limit_is_rejected_with_its_size_and_the_next_frame_is_read():
    deframer = Deframer(max_frame_bytes=1000)
    big = MSG + b"X" * 5000
    events = feed_in_chunks(encode_frame(big) + encode_frame(MSG), [700], deframer)
    oversized = [e for e in events if isinstance(e, Oversized)]
    assert len(oversized) == 1
    assert oversized[0].size == len(big)
    assert oversized[0].head.startswith(b"MSH|^~\\&|A|B")
    assert frames(events) == [MSG]


def test_a_tls_client_hello_is_recognised_and_skipped_whole():
    events = Deframer().feed(CLIENT_HELLO + encode_frame(MSG))
    assert events[0] == TlsHello(len(CLIENT_HELLO))
    assert frames(events) == [MSG]


def test_a_tls_hello_split_over_reads_is_skipped_whole():
    events = feed_in_chunks(CLIENT_HELLO + encode_frame(MSG), [7])
    assert [type(e) for e in events] == [TlsHello, Frame]


def test_tls_alert_is_a_fatal_handshake_failure():
    assert TLS_ALERT[0] == 0x15
    assert TLS_ALERT[-2:] == b"\x02\x28"


def test_flush_reports_a_frame_cut_by_the_end_of_the_connection():
    deframer = Deframer()
    deframer.feed(START_BLOCK + b"MSH|half")
    assert deframer.pending == 8
    assert deframer.flush() == [Discarded(8, "connection ended inside a frame")]
    assert deframer.pending == 0


@settings(max_examples=300, deadline=None)
@given(payloads=st.lists(st.binary(max_size=300).map(
    lambda b: b.replace(START_BLOCK, b"").replace(b"\x1c", b"")), max_size=6),
       sizes=st.lists(st.integers(1, 97), min_size=1, max_size=8))
def test_frames_survive_any_read_boundaries(payloads, sizes):
    data = b"".join(encode_frame(p) for p in payloads)
    assert frames(feed_in_chunks(data, sizes)) == payloads


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), sizes=st.lists(st.integers(1, 300), min_size=1))
def test_arbitrary_bytes_never_raise_and_never_hold_more_than_the_limit(data, sizes):
    deframer = Deframer(max_frame_bytes=512)
    events = feed_in_chunks(data + END_BLOCK + encode_frame(MSG), sizes, deframer)
    deframer.flush()
    assert all(len(p) <= 512 + 300 for p in frames(events))
    assert frames(events)[-1] == MSG or any(isinstance(e, TlsHello) for e in events)
