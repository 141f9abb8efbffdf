"""The protocol file: shipped defaults, validation errors with file/line/field, overrides."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from monitor.clinical.protocol import (
    PROTOCOL_DIR,
    ObservationAnchor,
    ProtocolError,
    available_profiles,
    load_draft,
    load_protocol,
)

SHIPPED = (PROTOCOL_DIR / "iv_ketamine.toml").read_text(encoding="utf-8")

#: Every default of PRODUCT.md, as (section, key) → value.
PRODUCT_DEFAULTS: dict[tuple[str, str], object] = {
    ("baseline_bp", "advisory_sbp_at_or_above"): 140,
    ("baseline_bp", "advisory_dbp_at_or_above"): 90,
    ("baseline_bp", "warning_sbp_at_or_above"): 160,
    ("baseline_bp", "warning_dbp_at_or_above"): 100,
    ("bp", "high_warning_sbp_at_or_above"): 180,
    ("bp", "high_warning_dbp_at_or_above"): 110,
    ("bp", "repeat_window_min"): 10,
    ("bp", "high_critical_sbp_at_or_above"): 200,
    ("bp", "high_critical_dbp_at_or_above"): 120,
    ("bp", "rise_advisory_percent_at_or_above"): 30,
    ("bp", "low_warning_sbp_below"): 90,
    ("bp", "low_critical_sbp_below"): 80,
    ("hr", "high_warning_at_or_above"): 111,
    ("hr", "high_critical_at_or_above"): 131,
    ("hr", "low_advisory_at_or_below"): 50,
    ("hr", "low_critical_at_or_below"): 40,
    ("spo2", "low_warning_at_or_below"): 93,
    ("spo2", "low_critical_at_or_below"): 91,
    ("rr", "low_advisory_at_or_below"): 11,
    ("rr", "low_critical_at_or_below"): 8,
    ("rr", "high_warning_at_or_above"): 21,
    ("rr", "high_critical_at_or_above"): 25,
    ("moaas", "warning_at_or_below"): 3,
    ("moaas", "critical_at_or_below"): 1,
    ("cadss6", "advisory_at_or_above"): 16,
    ("nausea", "advisory_at_or_above"): 7,
    ("phq9", "item9_warning_above"): 0,
    ("intervals", "infusion_reading_every_min"): 10,
    ("intervals", "recovery_reading_every_min"): 15,
    ("intervals", "repeat_after_flag_min"): 5,
    ("intervals", "overdue_grace_min"): 2,
    ("discharge", "min_observation_min"): 30,
    ("discharge", "min_observation_from"): "infusion_stop",
    ("discharge", "vitals_within_percent_of_baseline"): 20,
    ("discharge", "spo2_at_or_above"): 94,
    ("discharge", "moaas_at_or_above"): 5,
    ("discharge", "cadss6_above_baseline_at_most"): 2,
    ("discharge", "nausea_at_or_below"): 3,
    ("discharge", "aldrete_passing_at_or_above"): 9,
    ("discharge", "padss_passing_at_or_above"): 7,
    ("dose", "mg_per_kg_default"): 0.5,
    ("dose", "mg_per_kg_min"): 0.5,
    ("dose", "mg_per_kg_max"): 1.0,
    ("dose", "minutes_default"): 40,
    ("dose", "minutes_min"): 40,
    ("dose", "minutes_max"): 60,
    ("dose", "bag_volume_ml_default"): 100,
    # Not in PRODUCT.md: the monitor feed's clinic setting and the infusion interval.
    ("feed", "auto_accept"): False,
    ("feed", "silence_advisory_min"): 10,
}


def line_of(text: str, fragment: str) -> int:
    """1-based number of the first line containing ``fragment``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


def write_variant(tmp_path: Path, old: str, new: str, name: str = "iv_ketamine.toml") -> Path:
    """The shipped file with ``old`` replaced by ``new``, written to ``tmp_path/name``."""
    assert old in SHIPPED
    path = tmp_path / name
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    return path


HR_WARNING_LINE = (
    'high_warning_at_or_above = { value = 111, unit = "/min", '
    'source = "NEWS2 band 111–130 (2 points: warning)" }'
)


# --- the shipped files --------------------------------------------------------------------


def test_every_shipped_default_matches_product_brief() -> None:
    protocol = load_protocol("iv_ketamine")
    shipped = {(p.section, p.key): p.value for p in protocol.parameters}
    assert shipped == PRODUCT_DEFAULTS


def test_every_shipped_parameter_has_unit_source_and_its_line() -> None:
    protocol = load_protocol("iv_ketamine")
    for parameter in protocol.parameters:
        assert parameter.unit.strip()
        assert parameter.source.strip()
        assert parameter.origin == "iv_ketamine.toml"
        assert parameter.line is not None
        assert f"{parameter.key} = " in SHIPPED.splitlines()[parameter.line - 1]


def test_sources_name_where_defaults_come_from() -> None:
    protocol = load_protocol("iv_ketamine")
    assert "Spravato" in protocol.parameter("baseline_bp", "advisory_sbp_at_or_above").source
    assert "Yale" in protocol.parameter("bp", "rise_advisory_percent_at_or_above").source
    assert "NEWS2" in protocol.parameter("hr", "high_critical_at_or_above").source
    assert "NEWS2" in protocol.parameter("spo2", "low_warning_at_or_below").source
    assert "clinic-set" in protocol.parameter("cadss6", "advisory_at_or_above").source
    assert "clinic-set" in protocol.parameter("nausea", "advisory_at_or_above").source
    assert "clinic-set" in protocol.parameter("discharge", "padss_passing_at_or_above").source


#: "NEWS2 band 111–130 (2 points: warning)", "NEWS2 … band ≤ 91 (3 points: critical)".
NEWS2_BAND = re.compile(r"NEWS2 .*band (?:(\d+)–(\d+)|([≤≥]) (\d+)) \((\d) points?: (\w+)\)")
NEWS2_TIER = {"1": "advisory", "2": "warning", "3": "critical"}


def test_news2_defaults_sit_on_the_band_they_cite_at_the_tier_its_points_set() -> None:
    protocol = load_protocol("iv_ketamine")
    cited = 0
    for parameter in protocol.parameters:
        band = NEWS2_BAND.search(parameter.source)
        if band is None:
            continue
        cited += 1
        low, high, sign, edge, points, tier = band.groups()
        assert tier == NEWS2_TIER[points], parameter.field
        assert parameter.key.split("_")[1] == tier, parameter.field
        if parameter.key.endswith("_at_or_above"):
            assert parameter.value == int(low or edge), parameter.field
            assert sign in (None, "≥"), parameter.field
        else:
            assert parameter.key.endswith("_at_or_below"), parameter.field
            assert parameter.value == int(high or edge), parameter.field
            assert sign in (None, "≤"), parameter.field
    assert cited == 10  # HR ×4, SpO2 ×2, RR ×4


def test_repeat_after_a_flag_cites_the_clinic_rule() -> None:
    parameter = load_protocol("iv_ketamine").parameter("intervals", "repeat_after_flag_min")
    assert (parameter.value, parameter.unit) == (5, "min")
    assert "clinic rule: two readings > 180/110 five minutes apart" in parameter.source


def test_repeat_after_a_flag_later_than_the_usual_reading_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "repeat_after_flag_min = { value = 5,",
                         "repeat_after_flag_min = { value = 12,")
    line = line_of(SHIPPED, "repeat_after_flag_min = ")
    with pytest.raises(ProtocolError) as error:
        load_protocol(path)
    assert str(error.value) == (
        f"iv_ketamine.toml, line {line}, field intervals.repeat_after_flag_min: 12 must be at "
        "most intervals.infusion_reading_every_min (10): a repeat after a flag must not come "
        "later than the usual reading")


def test_repeat_after_a_flag_of_zero_minutes_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "repeat_after_flag_min = { value = 5,",
                         "repeat_after_flag_min = { value = 0,")
    with pytest.raises(ProtocolError, match=r"field intervals.repeat_after_flag_min: 0 is "
                                            r"outside the accepted range 1–480"):
        load_protocol(path)


def test_sections_read_as_typed_attributes() -> None:
    protocol = load_protocol("iv_ketamine")
    assert protocol.hr.high_warning_at_or_above == 111
    assert protocol.discharge.min_observation_from is ObservationAnchor.INFUSION_STOP
    assert protocol.dose.mg_per_kg_max == 1.0
    assert (protocol.id, protocol.version, protocol.extends) == ("iv_ketamine", "1.1", None)


def test_medication_pick_list_is_loaded() -> None:
    labels = [m.label for m in load_protocol("iv_ketamine").medications]
    assert "Ondansetron 4 mg IV" in labels
    assert "Labetalol 10 mg IV" in labels
    assert "Midazolam 1 mg IV" in labels


def test_esketamine_profile_overrides_only_the_observation_rule() -> None:
    base = load_protocol("iv_ketamine")
    rems = load_protocol("esketamine_rems")
    assert rems.extends == "iv_ketamine"
    assert rems.discharge.min_observation_min == 120
    assert rems.discharge.min_observation_from is ObservationAnchor.INFUSION_START
    assert rems.parameter("discharge", "min_observation_min").origin == "esketamine_rems.toml"
    differing = {p.field for p, q in zip(rems.parameters, base.parameters, strict=True)
                 if p.value != q.value}
    assert differing == {"discharge.min_observation_min", "discharge.min_observation_from"}
    assert rems.hr == base.hr
    assert rems.medications == base.medications


def test_available_profiles_lists_base_protocol_first() -> None:
    assert available_profiles() == [
        ("iv_ketamine", "IV ketamine (default)"),
        ("esketamine_rems", "Esketamine (REMS)"),
    ]


def test_protocol_is_immutable() -> None:
    protocol = load_protocol("iv_ketamine")
    with pytest.raises(dataclasses.FrozenInstanceError):
        protocol.hr.high_warning_at_or_above = 1  # type: ignore[misc]


def test_unknown_protocol_name_is_refused_with_the_available_ones() -> None:
    with pytest.raises(ProtocolError, match=r"no protocol named 'nope'.*iv_ketamine"):
        load_protocol("nope")


def test_load_by_path(tmp_path: Path) -> None:
    path = write_variant(tmp_path, 'name = "IV ketamine (default)"', 'name = "Clinic B"',
                         name="clinic_b.toml")
    assert load_protocol(path).name == "Clinic B"
    assert load_protocol(str(path)).name == "Clinic B"


# --- file errors name file, line and field -------------------------------------------------


def test_wrong_type_names_file_line_and_field(tmp_path: Path) -> None:
    path = write_variant(tmp_path, HR_WARNING_LINE,
                         HR_WARNING_LINE.replace("value = 111", 'value = "111"'))
    line = line_of(SHIPPED, HR_WARNING_LINE)
    with pytest.raises(ProtocolError) as error:
        load_protocol(path)
    assert str(error.value).startswith(
        f"iv_ketamine.toml, line {line}, field hr.high_warning_at_or_above: "
        "expected a whole number"
    )
    assert (error.value.line, error.value.field) == (line, "hr.high_warning_at_or_above")


def test_fraction_for_whole_number_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, HR_WARNING_LINE,
                         HR_WARNING_LINE.replace("value = 111", "value = 111.5"))
    with pytest.raises(ProtocolError, match=r"field hr.high_warning_at_or_above: expected a whole"):
        load_protocol(path)


def test_whole_number_is_accepted_where_a_fraction_may_be(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "mg_per_kg_max = { value = 1.0,", "mg_per_kg_max = { value = 1,")
    assert load_protocol(path).dose.mg_per_kg_max == 1.0


def test_unknown_parameter_names_its_line(tmp_path: Path) -> None:
    extra = 'high_warning_at_or_abov = { value = 110, unit = "/min", source = "typo" }'
    path = write_variant(tmp_path, "[hr]\n", f"[hr]\n{extra}\n")
    line = line_of(SHIPPED, "[hr]") + 1
    with pytest.raises(ProtocolError, match=rf"iv_ketamine.toml, line {line}, field "
                                            r"hr.high_warning_at_or_abov: unknown parameter"):
        load_protocol(path)


def test_unknown_section_names_its_header_line(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "[hr]\n", '[heart]\nx = { value = 1, unit = "u", source = "s" }'
                                             "\n\n[hr]\n")
    line = line_of(SHIPPED, "[hr]")
    with pytest.raises(ProtocolError, match=rf"line {line}, field heart: unknown section"):
        load_protocol(path)


def test_missing_source_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, ', source = "NEWS2 band 111–130 (2 points: warning)" }', " }")
    line = line_of(SHIPPED, HR_WARNING_LINE)
    with pytest.raises(ProtocolError, match=rf"line {line}, field hr.high_warning_at_or_above: "
                                            "missing source"):
        load_protocol(path)


def test_empty_unit_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, 'value = 111, unit = "/min"', 'value = 111, unit = ""')
    with pytest.raises(ProtocolError, match=r"field hr.high_warning_at_or_above: unit must be"):
        load_protocol(path)


def test_bare_value_without_unit_and_source_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, HR_WARNING_LINE, "high_warning_at_or_above = 111")
    with pytest.raises(ProtocolError, match=r"field hr.high_warning_at_or_above: expected \{"):
        load_protocol(path)


def test_missing_parameter_is_refused_in_a_base_protocol(tmp_path: Path) -> None:
    path = write_variant(tmp_path, HR_WARNING_LINE + "\n", "")
    line = line_of(SHIPPED, "[hr]")
    with pytest.raises(ProtocolError, match=rf"line {line}, field hr.high_warning_at_or_above: "
                                            "missing parameter"):
        load_protocol(path)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_variant(tmp_path, HR_WARNING_LINE, "high_warning_at_or_above = { value = 111,")
    line = line_of(SHIPPED, HR_WARNING_LINE)
    with pytest.raises(ProtocolError, match=rf"^iv_ketamine.toml, line {line}: TOML syntax error"):
        load_protocol(path)


def test_inverted_thresholds_name_the_field(tmp_path: Path) -> None:
    path = write_variant(tmp_path, HR_WARNING_LINE,
                         HR_WARNING_LINE.replace("value = 111", "value = 140"))
    line = line_of(SHIPPED, HR_WARNING_LINE)
    with pytest.raises(ProtocolError) as error:
        load_protocol(path)
    assert str(error.value) == (
        f"iv_ketamine.toml, line {line}, field hr.high_warning_at_or_above: 140 must be below "
        "hr.high_critical_at_or_above (131): the warning tier must come before the critical tier"
    )


def test_inverted_low_thresholds_are_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "low_critical_at_or_below = { value = 91,",
                         "low_critical_at_or_below = { value = 93,")
    with pytest.raises(ProtocolError, match=r"field spo2.low_critical_at_or_below: 93 must be "
                                            r"below spo2.low_warning_at_or_below"):
        load_protocol(path)


def test_default_dose_outside_allowed_range_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "mg_per_kg_default = { value = 0.5,",
                         "mg_per_kg_default = { value = 1.5,")
    with pytest.raises(ProtocolError, match=r"field dose.mg_per_kg_default: 1.5 must be at most"):
        load_protocol(path)


def test_value_outside_sanity_range_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "low_warning_at_or_below = { value = 93,",
                         "low_warning_at_or_below = { value = 101,")
    with pytest.raises(ProtocolError, match=r"field spo2.low_warning_at_or_below: 101 is outside"):
        load_protocol(path)


def test_unknown_observation_anchor_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, 'value = "infusion_stop"', 'value = "arrival"')
    with pytest.raises(ProtocolError, match=r"field discharge.min_observation_from: expected one "
                                            r"of 'infusion_stop', 'infusion_start'"):
        load_protocol(path)


def test_missing_protocol_header_field_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, 'version = "1.1"\n', "")
    with pytest.raises(ProtocolError, match=r"field protocol.version: missing"):
        load_protocol(path)


def test_incomplete_medication_names_its_line(tmp_path: Path) -> None:
    path = write_variant(tmp_path, 'dose = "10 mg"\nroute = "IV"\n', 'dose = "10 mg"\n')
    line = line_of(SHIPPED, 'name = "Labetalol"') - 1
    with pytest.raises(ProtocolError, match=rf"line {line}, field medications\[2\].route"):
        load_protocol(path)


# --- profiles -----------------------------------------------------------------------------


def write_profile(tmp_path: Path, body: str, extends: str = "iv_ketamine") -> Path:
    (tmp_path / "iv_ketamine.toml").write_text(SHIPPED, encoding="utf-8")
    path = tmp_path / "child.toml"
    path.write_text(f'[protocol]\nid = "child"\nname = "Child"\nversion = "2"\n'
                    f'extends = "{extends}"\n\n{body}', encoding="utf-8")
    return path


def test_profile_inherits_everything_it_does_not_list(tmp_path: Path) -> None:
    path = write_profile(tmp_path, '[hr]\nhigh_warning_at_or_above = { value = 115, '
                                   'unit = "/min", source = "clinic B" }\n')
    child = load_protocol(path)
    assert child.hr.high_warning_at_or_above == 115
    assert child.parameter("hr", "high_warning_at_or_above").line == 8
    assert child.hr.high_critical_at_or_above == 131
    assert child.parameter("hr", "high_critical_at_or_above").origin == "iv_ketamine.toml"


def test_profile_inverting_an_inherited_tier_is_blamed_on_its_own_line(tmp_path: Path) -> None:
    path = write_profile(tmp_path, '[hr]\nhigh_critical_at_or_above = { value = 100, '
                                   'unit = "/min", source = "oops" }\n')
    with pytest.raises(ProtocolError, match=r"^child.toml, line 8, field "
                                            r"hr.high_critical_at_or_above: 100 must be above"):
        load_protocol(path)


def test_profile_extending_a_missing_protocol_is_refused(tmp_path: Path) -> None:
    path = write_profile(tmp_path, "", extends="nowhere")
    with pytest.raises(ProtocolError, match=r"child.toml, line 5, field protocol.extends"):
        load_protocol(path)


def test_profile_extending_itself_is_refused(tmp_path: Path) -> None:
    path = write_profile(tmp_path, "", extends="child")
    with pytest.raises(ProtocolError, match="loops back"):
        load_protocol(path)


# --- per-patient overrides ----------------------------------------------------------------


def test_override_changes_the_limit_and_says_where_it_comes_from() -> None:
    protocol = load_protocol("iv_ketamine").with_overrides({"hr.high_warning_at_or_above": 120})
    assert protocol.hr.high_warning_at_or_above == 120
    parameter = protocol.parameter("hr", "high_warning_at_or_above")
    assert parameter.origin == "per-patient override"
    assert parameter.line is None
    assert "protocol default 111" in parameter.source
    assert protocol.overrides == (("hr.high_warning_at_or_above", 120),)


def test_overrides_accumulate() -> None:
    protocol = (load_protocol("iv_ketamine")
                .with_overrides({"hr.high_warning_at_or_above": 120})
                .with_overrides({"spo2.low_warning_at_or_below": 92}))
    assert protocol.hr.high_warning_at_or_above == 120
    assert protocol.spo2.low_warning_at_or_below == 92
    again = protocol.with_overrides({"hr.high_warning_at_or_above": 125})
    assert again.parameter("hr", "high_warning_at_or_above").source == (
        "per-patient override (protocol default 111)"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hr.high_warning_at_or_above": 131},
         "per-patient override, field hr.high_warning_at_or_above: 131 must be below "
         "hr.high_critical_at_or_above (131)"),
        ({"hr.high_critical_at_or_above": 100},
         "per-patient override, field hr.high_critical_at_or_above: 100 must be above "
         "hr.high_warning_at_or_above (111)"),
        ({"hr.high_warning_at_or_above": 112.5},
         "per-patient override, field hr.high_warning_at_or_above: expected a whole number"),
        ({"hr.high_warning_at_or_above": True},
         "per-patient override, field hr.high_warning_at_or_above: expected a whole number"),
        ({"hr.high_warning_at_or_above": 400},
         "per-patient override, field hr.high_warning_at_or_above: 400 is outside"),
        ({"hr.top": 120}, "per-patient override, field hr.top: no such parameter"),
        ({"discharge.min_observation_from": 1},
         "per-patient override, field discharge.min_observation_from: cannot be overridden"),
    ],
)
def test_bad_override_is_refused_naming_the_field(overrides: dict[str, float],
                                                  message: str) -> None:
    with pytest.raises(ProtocolError) as error:
        load_protocol("iv_ketamine").with_overrides(overrides)
    assert str(error.value).startswith(message)


def test_discharge_at_a_sedation_level_that_raises_a_warning_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "moaas_at_or_above = { value = 5,",
                         "moaas_at_or_above = { value = 3,")
    line = line_of(SHIPPED, "warning_at_or_below = { value = 3,")
    with pytest.raises(ProtocolError) as error:
        load_protocol(path)
    assert str(error.value) == (
        f"iv_ketamine.toml, line {line}, field moaas.warning_at_or_below: 3 must be below "
        "discharge.moaas_at_or_above (3): discharge must not allow a MOAA/S level that raises "
        "a warning")


def test_discharge_at_a_nausea_score_that_raises_an_advisory_is_refused(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "nausea_at_or_below = { value = 3,",
                         "nausea_at_or_below = { value = 7,")
    line = line_of(SHIPPED, "nausea_at_or_below = ")
    with pytest.raises(ProtocolError, match=rf"line {line}, field discharge.nausea_at_or_below: "
                                            r"7 must be below nausea.advisory_at_or_above"):
        load_protocol(path)


# --- drafts -------------------------------------------------------------------------------

DRAFT_HEADER = ('[protocol]\nid = "iv_ketamine"\nname = "IV ketamine (draft)"\n'
                'version = "2.0-draft"\nextends = "iv_ketamine"\n')


def test_a_draft_kept_anywhere_extends_the_shipped_profile(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text(DRAFT_HEADER + '\n[bp]\nhigh_warning_sbp_at_or_above = '
                                   '{ value = 170, unit = "mmHg", source = "draft" }\n',
                    encoding="utf-8")
    draft = load_draft(path)
    shipped = load_protocol("iv_ketamine")
    assert draft.bp.high_warning_sbp_at_or_above == 170
    assert draft.hr == shipped.hr
    assert draft.medications == shipped.medications
    assert draft.parameter("bp", "high_warning_sbp_at_or_above").line == 8
    assert draft.parameter("hr", "high_warning_at_or_above").origin == "iv_ketamine.toml"


def test_a_malformed_draft_is_refused_with_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(DRAFT_HEADER + '\n[bp]\nhigh_warning_sbp_at_or_above = '
                                   '{ value = "high", unit = "mmHg", source = "x" }\n',
                    encoding="utf-8")
    with pytest.raises(ProtocolError) as refused:
        load_draft(path)
    assert (refused.value.line, refused.value.field) == (8, "bp.high_warning_sbp_at_or_above")


def test_a_draft_extending_an_unknown_profile_is_refused_at_its_extends_line(
        tmp_path: Path) -> None:
    path = tmp_path / "lost.toml"
    path.write_text(DRAFT_HEADER.replace('"iv_ketamine"\n', '"ivketamine"\n'), encoding="utf-8")
    with pytest.raises(ProtocolError) as refused:
        load_draft(path)
    assert (refused.value.line, refused.value.field) == (5, "protocol.extends")


def test_feed_auto_accept_must_be_true_or_false(tmp_path) -> None:
    old = 'auto_accept = { value = false,'
    path = tmp_path / "clinic.toml"
    path.write_text(SHIPPED.replace(old, 'auto_accept = { value = "yes",', 1), encoding="utf-8")
    with pytest.raises(ProtocolError) as refused:
        load_protocol(path)
    assert refused.value.field == "feed.auto_accept"
    assert refused.value.line == line_of(SHIPPED, "auto_accept = ")
    assert "expected true or false" in str(refused.value)
    path.write_text(SHIPPED.replace(old, "auto_accept = { value = true,", 1), encoding="utf-8")
    assert load_protocol(path).feed.auto_accept is True
