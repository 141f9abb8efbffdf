"""Decoding, parsing, classifying and acknowledging HL7 v2 messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.clock import ManualClock
from monitor.feed import hl7msg
from monitor.feed.hl7msg import MessageError, ack_code, build_ack, parse, parse_dtm
from monitor.feed.interpret import FeedHandler, interpret

from .samples import MESSAGES, PARIS, RECEIVED, UTC_ZONE, load, one

NOW = datetime(2026, 3, 2, 9, 10, 30, tzinfo=UTC)


def msa(ack: bytes) -> list[str]:
    line = next(s for s in ack.split(b"\r") if s.startswith(b"MSA"))
    return line.decode("utf-8").split("|")


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"\n"])
def test_any_segment_ending_gives_the_same_message(ending):
    message = one("ge_carescape").replace(b"\r", ending)
    parsed = parse(message)
    assert len(parsed.segments("OBX")) == 15
    assert "\n" not in parsed.text


def test_utf8_declared_in_msh18_is_decoded_as_utf8():
    parsed = parse(one("mindray_cuff"))
    assert parsed.charset == "utf-8"
    assert "张^伟" in parsed.text


def test_8859_1_declared_in_msh18_is_decoded_as_latin1():
    parsed = parse(one("comen_latin1"))
    assert parsed.charset == "latin-1"
    assert "Müller^Renée" in parsed.text


def test_an_unknown_charset_is_read_as_latin1_and_never_fails():
    message = one("comen_latin1").replace(b"8859/1", b"KLINGON")
    text, codec = hl7msg.decode(message)
    assert codec == "latin-1"
    assert "Müller" in text


def test_ascii_declared_with_other_bytes_is_decoded_with_replacement():
    message = one("comen_latin1").replace(b"8859/1", b"ASCII")
    parsed = parse(message)
    assert "M\ufffdller" in parsed.text


def test_undeclared_charset_tries_utf8_then_latin1():
    assert hl7msg.decode("MSH|^~\\&|Zoë".encode())[1] == "utf-8"
    assert hl7msg.decode("MSH|^~\\&|Zoë".encode("latin-1"))[1] == "latin-1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"hello world", "does not start with an MSH segment"),
        (b"PID|1\rMSH|^~\\&|A", "does not start with an MSH segment"),
        (b"MSH|", "five distinct separators"),
        (b"MSH|^^^^|A|B", "five distinct separators"),
        (b"MSH\r|^~\\&|A|B|||2026||ORU^R01|1", "five distinct separators"),
        (b"MSH|^~\\A|B", "five distinct separators"),
        (b"MSH|^~\\&|A|B|||2026||", "MSH-9 (message type) is empty"),
    ],
)
def test_unparseable_input_is_a_message_error_with_a_reason(raw, reason):
    with pytest.raises(MessageError) as caught:
        parse(raw)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("message_id", "reason"),
    [
        ("AL1", "alarm report (ORU^R40)"),
        ("WV1", "waveform-only ORU^R01"),
        ("ADT1", "patient administration (ADT)"),
        ("Q1", "query (QBP)"),
        ("Q2", "query (QRY)"),
    ],
)
def test_messages_without_vital_signs_are_ignored_with_their_reason(message_id, reason):
    results = {r.message_id: r for r in (
        interpret(m, received_at=RECEIVED, zone=UTC_ZONE) for m in load("ignored"))}
    result = results[message_id]
    assert result.kind == "ignored"
    assert result.ack_code == "AA"
    assert reason in result.reason


def test_an_unknown_message_type_is_ignored_not_refused():
    message = one("nist_pcd01").replace(b"ORU^R01^ORU_R01", b"ZZZ^Z99")
    result = interpret(message, received_at=RECEIVED, zone=UTC_ZONE)
    assert (result.kind, result.ack_code) == ("ignored", "AA")
    assert "ZZZ^Z99 is not used" in result.reason


def test_the_ack_swaps_sender_and_receiver_and_echoes_the_message_id():
    handler = FeedHandler(ManualClock(NOW), UTC_ZONE)
    ack = handler(one("philips_picix"), "127.0.0.1:5000").ack
    msh = ack.split(b"\r")[0].decode().split("|")
    assert msh[2:6] == ["ChairSide", "", "PIC iX^00095CFFFE7A0C11^EUI-64", "Philips"]
    assert msh[6] == "20260302091030+0000"
    assert msh[8] == "ACK^R01^ACK"
    assert msh[9] == "CS1"
    assert msh[17] == "UNICODE UTF-8"
    assert msa(ack)[1:3] == ["AA", "PIX000001"]


def test_an_ignored_message_is_acknowledged_aa_with_the_reason():
    handler = FeedHandler(ManualClock(NOW), UTC_ZONE)
    result = handler(load("ignored")[0], "peer")
    assert msa(result.ack)[1:3] == ["AA", "AL1"]
    assert msa(result.ack)[3].startswith(r"alarm report (ORU\S\R40)")


def test_unparseable_input_gets_ae_echoing_what_id_can_be_found():
    handler = FeedHandler(ManualClock(NOW), UTC_ZONE)
    ack = handler.reject(b"MSH|^~\\&|A|B|||2026||ORU^R01|ID-77|P", "too large")
    assert msa(ack)[1:4] == ["AE", "ID-77", "too large"]
    garbage = handler(b"\x00\xff garbage", "peer")
    assert ack_code(garbage.ack) == "AE"
    assert msa(garbage.ack)[3] == "the message does not start with an MSH segment"


def test_ack_text_is_escaped_and_shortened():
    ack = build_ack("AE", now=NOW, control_id="1", message_id="A|B", text="x|y^z" * 40)
    fields = msa(ack)
    assert fields[2] == "A\\F\\B"
    assert len(fields[3]) <= hl7msg.ACK_TEXT_MAX


def test_the_ack_is_encoded_like_the_message():
    handler = FeedHandler(ManualClock(NOW), UTC_ZONE)
    message = one("comen_latin1").replace(b"|CM0001|", "|CMé1|".encode("latin-1"))
    ack = handler(message, "peer").ack
    assert b"|CM\xe91" in ack


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20260302091000", datetime(2026, 3, 2, 9, 10, tzinfo=UTC)),
        ("202603020910", datetime(2026, 3, 2, 9, 10, tzinfo=UTC)),
        ("20260302091000.1", datetime(2026, 3, 2, 9, 10, 0, 100000, tzinfo=UTC)),
        ("20260302091000.1234", datetime(2026, 3, 2, 9, 10, 0, 123400, tzinfo=UTC)),
        ("20260302091000123", datetime(2026, 3, 2, 9, 10, 0, 123000, tzinfo=UTC)),
        ("20260302101000+0100", datetime(2026, 3, 2, 9, 10, tzinfo=UTC)),
        ("20260302041000.12-0500", datetime(2026, 3, 2, 9, 10, 0, 120000, tzinfo=UTC)),
    ],
)
def test_device_times_in_their_many_forms(text, expected):
    parsed = parse_dtm(text, UTC_ZONE)
    assert parsed is not None
    assert parsed.utc == expected


def test_a_time_without_offset_is_read_in_the_clinic_zone():
    parsed = parse_dtm("20260302101000", PARIS)
    assert parsed is not None
    assert parsed.zone_assumed
    assert parsed.utc == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "2026", "20260302", "20261302091000", "2026030209100x",
                                  "20260302091000.12345", "٢٠٢٦٠٣٠٢٠٩١٠"])
def test_not_a_usable_time(text):
    assert parse_dtm(text, UTC_ZONE) is None


def test_a_file_splits_into_messages_at_each_msh_whatever_the_line_endings():
    data = (MESSAGES / "ignored.hl7").read_bytes()
    crlf = data.replace(b"\n", b"\r\n")
    framed = b"".join(b"\x0b" + m + b"\x1c\r" for m in hl7msg.split_messages(data))
    for variant in (data, crlf, data.replace(b"\n", b"\r"), framed):
        assert len(hl7msg.split_messages(variant)) == 5


def test_skew_over_two_minutes_is_noted():
    late = RECEIVED + timedelta(minutes=7)
    result = interpret(one("nist_pcd01"), received_at=late, zone=UTC_ZONE)
    assert result.skew == timedelta(minutes=17)
    assert any("0 h 17 min 00 s behind" in note for note in result.notes)
    near = interpret(one("ge_carescape"), received_at=RECEIVED, zone=UTC_ZONE)
    assert near.skew == timedelta(seconds=30)
    assert near.notes == ()


# --- fuzzing: any input is answered, nothing raises ------------------------------------

SAMPLES = [m for name in ("ge_carescape", "philips_picix", "mindray_cuff", "comen_latin1",
                          "not_real", "ignored") for m in load(name)]


def _check_never_raises(raw: bytes) -> None:
    handler = FeedHandler(ManualClock(NOW), PARIS)
    result = handler(raw, "fuzz")
    assert ack_code(result.ack) in {"AA", "AE"}
    assert result.outcome.kind in {"observations", "ignored", "error"}
    assert (ack_code(result.ack) == "AE") == (result.outcome.kind == "error")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_get_an_answer_never_an_exception(raw):
    _check_never_raises(raw)
    _check_never_raises(b"MSH|^~\\&|" + raw)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    message = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "separator"]))
        position = draw(st.integers(0, max(len(message) - 1, 0)))
        if action == "flip" and message:
            message[position] = draw(st.integers(0, 255))
        elif action == "insert":
            message[position:position] = draw(st.binary(min_size=1, max_size=12))
        elif action == "delete":
            del message[position:position + draw(st.integers(1, 40))]
        else:
            message[position:position] = draw(st.sampled_from(
                [b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"\\X00\\", b"\\E\\"]))
    return bytes(message)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_messages_get_ae_or_aa_never_an_exception(raw):
    _check_never_raises(raw)


def test_a_whole_hour_skew_is_named_as_a_wrong_offset():
    result = interpret(one("comen_latin1"), received_at=RECEIVED, zone=PARIS)
    assert result.skew == timedelta(hours=1, seconds=30)
    assert any("+1 h looks like a wrong UTC offset" in note for note in result.notes)


def test_an_oru_r01_with_only_structure_rows_is_ignored():
    message = (b"MSH|^~\\&|A||||20260302091000||ORU^R01|S1|P|2.6\r"
               b"OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X\r")
    result = interpret(message, received_at=RECEIVED, zone=UTC_ZONE)
    assert (result.kind, result.reason) == ("ignored", "ORU^R01 without observations")


def test_a_message_whose_values_are_all_missing_still_lists_each_refusal():
    message = (b"MSH|^~\\&|A||||20260302091000+0000||ORU^R01|S2|P|2.6\r"
               b"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1||262688|||||X\r")
    result = interpret(message, received_at=RECEIVED, zone=UTC_ZONE)
    assert result.kind == "observations"
    assert [r.measure for r in result.rejected] == ["spo2"]


def test_escaped_separators_in_fields_are_decoded():
    escaped = b"INFUSION\\T\\RECOVERY^^CHAIR\\F\\3"
    message = one("ge_carescape").replace(b"INFUSION^^CHAIR3", escaped)
    result = interpret(message, received_at=RECEIVED, zone=UTC_ZONE)
    assert result.location == "INFUSION&RECOVERY^^CHAIR|3"


def test_a_malformed_escape_sequence_is_kept_as_sent():
    message = one("ge_carescape").replace(b"INFUSION^^CHAIR3", b"INFU\\\\SION^^CHAIR3")
    result = interpret(message, received_at=RECEIVED, zone=UTC_ZONE)
    assert result.location == "INFU\\\\SION^^CHAIR3"


def test_the_ack_is_made_before_the_observations_are_mapped():
    from monitor.feed.interpret import Received  # noqa: PLC0415

    raw = one("philips_picix")
    quick = FeedHandler(ManualClock(NOW), UTC_ZONE).acknowledge(raw, "peer")
    full = FeedHandler(ManualClock(NOW), UTC_ZONE)(raw, "peer")
    assert isinstance(quick.outcome, Received)
    assert quick.outcome.parsed._whole == []  # the ACK needed the MSH alone
    assert quick.ack == full.ack
    assert quick.outcome.interpretation() == full.outcome
    assert full.outcome.observations  # the mapping the receiver does after the ACK
    ignored = FeedHandler(ManualClock(NOW), UTC_ZONE).acknowledge(load("ignored")[0], "peer")
    assert ignored.outcome.kind == "ignored"
