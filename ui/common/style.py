"""The app's look: one Qt style sheet built from a :class:`~ui.common.theme.Theme`, and the icons.

Widgets do not style themselves. They mark what they are with dynamic properties (``role``,
``banner``, ``segment``, ``key`` …) and this sheet gives each of those its size and colour,
so the dim and light themes differ in one place. Sizes follow the tablet rules: every
button and field at least :data:`~ui.common.theme.TOUCH_MIN` px, values at
:data:`~ui.common.theme.VALUE_PX`, ordinary text at :data:`~ui.common.theme.TEXT_PX`.

A checked segment (a chosen score, "On oxygen") differs from an unchosen one in fill, border
width and weight, not in hue alone. Icons are SVGs in ``resources/icons`` whose shape tells
the tier apart (octagon, triangle, circle); :func:`icon` recolours them for the theme.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from monitor.clinical.domain import Severity
from ui.common.theme import ICONS, SMALL_PX, TEXT_PX, TOUCH_MIN, VALUE_PX, Theme, tier_style

#: Keypad keys are bigger than the general touch minimum: they are hit many times in a row.
KEY_MIN = 64
#: Save buttons and other primary actions.
PRIMARY_MIN = 64
#: Scroll bars wide enough to drag with a fingertip.
SCROLLBAR_PX = 28
#: Text on keypad keys.
KEY_TEXT_PX = 30

# Qt's style-sheet min-height sizes the *content* box, so each minimum below is the touch
# size less padding and border. There is no min-width: Qt applies it as a fixed minimum
# that lets a layout squeeze a button below its text; widths come from :class:`TouchButton`.
# A checked button trades 2 px of padding for 2 px of border, keeping its size: a choice
# must not make the row jump.
_BORDER = 2
_PAD_Y, _PAD_X = 6, 14
_SEG_PAD_X = 4

_SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", _SVG_NS)


@cache
def stylesheet(theme: Theme) -> str:
    """The QSS for the whole app in ``theme``."""
    t = theme
    return f"""
QWidget {{
    color: {t.text};
    font-size: {TEXT_PX}px;
}}
QLabel {{ background: transparent; }}
QLabel[role="muted"] {{ color: {t.text_muted}; font-size: {SMALL_PX}px; }}
QLabel[role="field"] {{ font-weight: bold; }}
QLabel[role="value"] {{ font-size: {VALUE_PX}px; font-weight: bold; }}
QLabel[role="total"] {{ font-size: {VALUE_PX - 6}px; font-weight: bold; }}
QLabel[role="error"] {{ color: {t.critical}; font-weight: bold; }}
QLabel[role="confirm"] {{ color: {t.warning}; font-weight: bold; }}
QLabel[role="late"] {{ color: {t.advisory}; font-weight: bold; }}
QLabel[on_accent="true"] {{ color: {t.accent_text}; font-weight: bold; }}
QLabel#save-state {{ font-weight: bold; font-size: {TEXT_PX + 2}px; }}

QScrollArea, QScrollArea > QWidget, QScrollArea > QWidget > QWidget {{
    background: transparent;
    border: none;
}}

QPushButton {{
    background-color: {t.surface_raised};
    color: {t.text};
    border: {_BORDER}px solid {t.border};
    border-radius: 8px;
    padding: {_PAD_Y}px {_PAD_X}px;
    min-height: {TOUCH_MIN - 2 * (_PAD_Y + _BORDER)}px;
}}
QPushButton:focus {{ border: {_BORDER}px dashed {t.accent}; }}
QPushButton:pressed {{ background-color: {t.accent}; color: {t.accent_text}; }}
QPushButton:disabled {{ color: {t.text_muted}; border-style: dotted; }}
QPushButton:checked {{
    background-color: {t.accent};
    color: {t.accent_text};
    border: {2 * _BORDER}px solid {t.text};
    padding: {_PAD_Y - _BORDER}px {_PAD_X - _BORDER}px;
    font-weight: bold;
}}
QPushButton[segment="true"] {{
    font-size: {TEXT_PX + 4}px;
    padding: {_PAD_Y}px {_SEG_PAD_X}px;
    border-radius: 6px;
}}
QPushButton[segment="true"]:checked {{ padding: {_PAD_Y - _BORDER}px {_SEG_PAD_X - _BORDER}px; }}
QPushButton[choice="true"] {{ text-align: left; }}
QPushButton[key="true"] {{
    min-height: {KEY_MIN - 2 * (_PAD_Y + _BORDER)}px;
    padding: {_PAD_Y}px;
    font-size: {KEY_TEXT_PX}px;
    font-weight: bold;
    background-color: {t.surface};
}}
QPushButton#key-clear, QPushButton#key-enter {{ font-size: {TEXT_PX + 4}px; }}
QPushButton[primary="true"] {{
    min-height: {PRIMARY_MIN - 2 * (_PAD_Y + _BORDER)}px;
    background-color: {t.accent};
    color: {t.accent_text};
    border-color: {t.accent};
    font-weight: bold;
}}
QPushButton[primary="true"]:disabled {{
    background-color: {t.surface_raised};
    color: {t.text_muted};
    border-color: {t.border};
}}
QPushButton[confirm="true"] {{ border-color: {t.warning}; font-weight: bold; }}

QLineEdit {{
    background-color: {t.surface};
    color: {t.text};
    border: {_BORDER}px solid {t.border};
    border-radius: 8px;
    padding: 2px 10px;
    min-height: {TOUCH_MIN - 2 * (2 + _BORDER)}px;
    selection-background-color: {t.accent};
    selection-color: {t.accent_text};
}}
QLineEdit:focus {{ border-color: {t.accent}; }}
QLineEdit[value="true"] {{
    border-color: {t.text_muted};
    font-size: {VALUE_PX}px;
    font-weight: bold;
    min-height: {KEY_MIN - 2 * (2 + _BORDER)}px;
}}
QLineEdit[active="true"] {{
    border: {2 * _BORDER}px solid {t.accent};
    padding: 0px {10 - _BORDER}px;
    background-color: {t.surface_raised};
}}
QLineEdit[problem="true"] {{
    border: {2 * _BORDER}px solid {t.critical};
    padding: 0px {10 - _BORDER}px;
}}

QFrame[role="card"] {{
    background-color: {t.surface};
    border-top: 1px solid {t.border};
}}
QFrame[banner] {{
    background-color: {t.surface_raised};
    border-radius: 8px;
}}
QFrame[banner="saving"] {{ border: 2px solid {t.border}; }}
QFrame[banner="saved"] {{ border: 3px solid {t.ok}; }}
QFrame[banner="held"] {{ border: 3px solid {t.warning}; }}
QFrame[banner="not_saved"] {{ border: 4px solid {t.critical}; }}

QTabWidget::pane {{ border: {_BORDER}px solid {t.border}; border-radius: 6px; top: -2px; }}
QTabBar::tab {{
    background: {t.surface_raised};
    color: {t.text};
    border: {_BORDER}px solid {t.border};
    border-bottom: none;
    border-top-left-radius: 8px;
    border-top-right-radius: 8px;
    min-height: {TOUCH_MIN - 2 * _PAD_Y}px;
    min-width: 48px;
    padding: {_PAD_Y}px 10px;
    margin-right: 2px;
}}
QTabBar::tab:selected {{
    background: {t.accent};
    color: {t.accent_text};
    font-weight: bold;
    border: {2 * _BORDER}px solid {t.text};
    border-bottom: none;
}}
QScrollBar:vertical {{
    background: {t.surface};
    width: {SCROLLBAR_PX}px;
    margin: 0;
}}
QScrollBar:horizontal {{
    background: {t.surface};
    height: {SCROLLBAR_PX}px;
    margin: 0;
}}
QScrollBar::handle {{
    background: {t.border};
    border: 2px solid {t.text_muted};
    border-radius: 8px;
    min-height: {TOUCH_MIN}px;
    min-width: {TOUCH_MIN}px;
}}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
"""


class TouchButton(QPushButton):
    """A push button never smaller than a fingertip, with or without the style sheet.

    An explicit ``setMinimumSize`` would also stop the button growing to fit its text
    (Qt lets a set minimum override the text's size hint), so the minimum is folded into
    the size hints instead.
    """

    def __init__(
        self, text: str = "", *, min_size: int = TOUCH_MIN, min_height: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        self._min = QSize(min_size, min_height if min_height is not None else min_size)

    def sizeHint(self) -> QSize:
        return super().sizeHint().expandedTo(self._min)

    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint().expandedTo(self._min)


def palette(theme: Theme) -> QPalette:
    """A palette matching ``theme``, for what the style sheet does not reach (placeholder
    text, widgets drawn by pyqtgraph)."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.background,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.surface,
        QPalette.ColorRole.AlternateBase: theme.surface_raised,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.surface_raised,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text,
        QPalette.ColorRole.PlaceholderText: theme.text_muted,
        QPalette.ColorRole.ToolTipBase: theme.surface_raised,
        QPalette.ColorRole.ToolTipText: theme.text,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    return pal


def apply_theme(target: QApplication | QWidget, theme: Theme) -> None:
    """Style the whole app (or one top-level widget, as tests and previews do) in ``theme``."""
    target.setPalette(palette(theme))
    target.setStyleSheet(stylesheet(theme))


@contextmanager
def busy_cursor() -> Iterator[None]:
    """The wait cursor while something slow (a theme switch) runs on the GUI thread."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()


def glyph_colour(background: str) -> str:
    """Near-black or white, whichever contrasts more with ``background`` (WCAG ratio)."""
    def luminance(hex_colour: str) -> float:
        colour = QColor(hex_colour)
        channels = []
        for value in (colour.redF(), colour.greenF(), colour.blueF()):
            linear = value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
            channels.append(linear)
        red, green, blue = channels
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    lum = luminance(background)
    against_white = 1.05 / (lum + 0.05)
    against_dark = (lum + 0.05) / (luminance("#0d1117") + 0.05)
    return "#ffffff" if against_white >= against_dark else "#0d1117"


@cache
def _svg_tree_text(name: str) -> str:
    return (ICONS / f"{name}.svg").read_text(encoding="utf-8")


def _recoloured_svg(name: str, shape: str, glyph: str) -> bytes:
    root = ET.fromstring(_svg_tree_text(name))  # noqa: S314 - our own resource file
    for element in root.iter():
        colour = {"shape": shape, "glyph": glyph}.get(element.get("class", ""))
        if colour is None:
            continue
        for attribute in ("fill", "stroke"):
            if element.get(attribute) not in (None, "none"):
                element.set(attribute, colour)
    return ET.tostring(root, encoding="utf-8")


def _render(svg: bytes, px: int) -> QPixmap:
    pixmap = QPixmap(px, px)
    pixmap.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(svg))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return pixmap


#: The theme colour of each non-tier icon.
_ICON_COLOURS = {"ok": "ok", "overdue": "advisory"}


@cache
def icon(theme: Theme, name: str, px: int = 32) -> QIcon:
    """The icon ``name`` (``critical``, ``warning``, ``advisory``, ``ok``, ``overdue``) in
    the theme's colour, rendered sharp at ``px`` and at twice that for high-density screens.

    Cached: the same icon is drawn on every refresh of a screen."""
    if name in _ICON_COLOURS:
        shape = getattr(theme, _ICON_COLOURS[name])
    else:
        shape = theme.tier_colour(Severity[name.upper()])
    svg = _recoloured_svg(name, shape, glyph_colour(shape))
    result = QIcon()
    for size in (px, 2 * px):
        result.addPixmap(_render(svg, size))
    return result


def tier_icon(theme: Theme, severity: Severity, px: int = 32) -> QIcon:
    """The icon of a flag tier: octagon (critical), triangle (warning), circle (advisory)."""
    return icon(theme, tier_style(theme, severity).icon.stem, px)
