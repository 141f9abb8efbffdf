"""Inputs that fool ``int()``, ``float()``, ``Decimal()`` or ``str.isdigit``, for the fuzz tests
of the validation of typed values."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

#: ASCII whitespace that may surround a value, as a regular expression.
ASCII_WS = "[ \t\n\r\f\v]*"

# Characters that fool int(), float(), Decimal() or str.isdigit().
TRICKY_CHARS = (
    "0123456789"
    "٠١٢٣٤٥٦٧٨٩"  # Arabic-Indic digits
    "０１２３４５６７８９"  # fullwidth digits
    "𝟎𝟕²¹"  # mathematical and superscript digits
    "+-_.,eE:TZ"
    " \t\n\u00a0\u3000"  # ASCII and non-ASCII spaces
    "nainfx"
)
tricky_text = st.text(alphabet=TRICKY_CHARS, max_size=14)
huge_numbers = st.integers(min_value=0, max_value=10**40).map(str)
any_text = st.one_of(
    st.text(),
    tricky_text,
    huge_numbers,
    st.sampled_from(["nan", "inf", "-inf", "1e3", "+72", "-72", "7_2", "72.0", "9" * 5000]),
)
FUZZ = settings(max_examples=300, deadline=None)

raw_scalar = st.one_of(
    st.none(),
    any_text,
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.floats(),
    st.decimals(),
)
